//! Raw encoding (0): `width * height` pixels in the session's pixel format, row by row.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#raw-encoding>
//!
//! The payload length is implied by the rectangle, so the decoder converts whatever whole
//! pixels have arrived and draws them straight away: a 3 MB rectangle is never buffered.

use crate::convert::PixelConverter;
use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::draw::DrawTarget;
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;

/// Draw in batches of at most this many RGBA bytes so the scratch buffer stays small.
const BATCH_BYTES: usize = 64 * 1024;

/// Resumable state of one Raw rectangle.
#[derive(Debug, Clone)]
pub(crate) struct RawDecoder {
    rect: Rect,
    row: u16,
    col: u16,
}

impl RawDecoder {
    pub(crate) fn new(rect: Rect) -> Self {
        Self {
            rect,
            row: 0,
            col: 0,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.rect.is_empty() || self.row >= self.rect.height
    }

    /// Consumes whole pixels from `input`, drawing them; returns the bytes consumed.
    pub(crate) fn feed_pixels(
        &mut self,
        input: &[u8],
        conv: &PixelConverter,
        scratch: &mut Vec<u8>,
        target: &mut dyn DrawTarget,
    ) -> usize {
        let bpp = conv.bytes_per_pixel();
        let w = usize::from(self.rect.width);
        let mut consumed = 0;
        while !self.is_done() {
            let avail = (input.len() - consumed) / bpp;
            if avail == 0 {
                break;
            }
            let src = &input[consumed..];
            if self.col > 0 || avail < w {
                // Part of one row: finish the row or use what has arrived.
                let n = (w - usize::from(self.col)).min(avail);
                scratch.resize(n * 4, 0);
                conv.convert_run(&src[..n * bpp], scratch);
                let r = Rect::new(self.rect.x + self.col, self.rect.y + self.row, n as u16, 1);
                target.put_rgba(r, scratch);
                consumed += n * bpp;
                self.col += n as u16;
                if usize::from(self.col) == w {
                    self.col = 0;
                    self.row += 1;
                }
            } else {
                // Whole rows, batched.
                let rows_left = usize::from(self.rect.height - self.row);
                let rows = (avail / w)
                    .min(rows_left)
                    .min((BATCH_BYTES / (w * 4)).max(1));
                let n = rows * w;
                scratch.resize(n * 4, 0);
                conv.convert_run(&src[..n * bpp], scratch);
                let r = Rect::new(
                    self.rect.x,
                    self.rect.y + self.row,
                    self.rect.width,
                    rows as u16,
                );
                target.put_rgba(r, scratch);
                consumed += n * bpp;
                self.row += rows as u16;
            }
        }
        consumed
    }
}

impl RectDecoder for RawDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let n = self.feed_pixels(input, cx.conv, cx.scratch, cx.target);
        let status = if self.is_done() {
            Status::Done(Decoded::Drawn)
        } else {
            Status::Need(cx.conv.bytes_per_pixel())
        };
        Ok((n, status))
    }
}
