//! RRE (2) and CoRRE (4): a background colour and solid sub-rectangles.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#rre-encoding> and
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#corre-encoding>

use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;

#[derive(Debug)]
pub(crate) struct RreDecoder {
    rect: Rect,
    compact: bool,
    /// Sub-rectangles still to read, once the header has been read.
    left: Option<u32>,
}

impl RreDecoder {
    pub(crate) fn new(rect: Rect, compact: bool) -> Self {
        Self {
            rect,
            compact,
            left: None,
        }
    }
}

impl RectDecoder for RreDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let bpp = cx.conv.bytes_per_pixel();
        let mut pos = 0;
        let mut left = match self.left {
            Some(l) => l,
            None => {
                let Some(h) = input.get(..4 + bpp) else {
                    return Ok((0, Status::Need(4 + bpp)));
                };
                let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                let bg = cx.conv.pixel_to_rgba(&h[4..]);
                if !self.rect.is_empty() {
                    cx.target.fill_rgba(self.rect, bg);
                }
                cx.sub("background");
                pos = 4 + bpp;
                n
            }
        };
        let unit = bpp + if self.compact { 4 } else { 8 };
        while left > 0 {
            let Some(s) = input.get(pos..pos + unit) else {
                self.left = Some(left);
                return Ok((pos, Status::Need(unit)));
            };
            let colour = cx.conv.pixel_to_rgba(s);
            let g = &s[bpp..];
            let sub = if self.compact {
                Rect::new(
                    u16::from(g[0]),
                    u16::from(g[1]),
                    u16::from(g[2]),
                    u16::from(g[3]),
                )
            } else {
                let v = |i: usize| u16::from_be_bytes([g[i], g[i + 1]]);
                Rect::new(v(0), v(2), v(4), v(6))
            };
            // Sub-rectangles are relative to the rectangle and must stay inside it.
            if !sub.fits_within(self.rect.width, self.rect.height) {
                return Err(DecodeErrorKind::OutOfBounds {
                    rect: sub,
                    fb_width: self.rect.width,
                    fb_height: self.rect.height,
                });
            }
            if !sub.is_empty() {
                let abs = Rect::new(
                    self.rect.x + sub.x,
                    self.rect.y + sub.y,
                    sub.width,
                    sub.height,
                );
                cx.target.fill_rgba(abs, colour);
            }
            cx.sub("subrect");
            pos += unit;
            left -= 1;
        }
        self.left = Some(0);
        Ok((pos, Status::Done(Decoded::Drawn)))
    }
}
