//! Cursor pseudo-encoding (-239): cursor pixels in the session's pixel format and a 1-bit mask.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#cursor-pseudo-encoding>

use crate::convert::PixelConverter;
use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::error::DecodeErrorKind;

/// A cursor shape for the driver to draw locally: RGBA with alpha 0 where the mask is clear.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CursorImage {
    /// Hotspot x within the image (the rectangle's x-position).
    pub hotspot_x: u16,
    /// Hotspot y within the image.
    pub hotspot_y: u16,
    /// Width in pixels; 0 means "no cursor".
    pub width: u16,
    /// Height in pixels; 0 means "no cursor".
    pub height: u16,
    /// `width * height * 4` bytes of RGBA.
    pub rgba: Vec<u8>,
}

/// Accumulates one cursor rectangle; its size was checked against the limits before creation.
#[derive(Debug, Clone)]
pub(crate) struct CursorDecoder {
    hotspot: (u16, u16),
    width: u16,
    height: u16,
    total: usize,
    buf: Vec<u8>,
}

impl CursorDecoder {
    /// Payload size of a `width` × `height` cursor at `bpp` bytes a pixel.
    pub(crate) fn payload_len(width: u16, height: u16, bpp: usize) -> usize {
        let (w, h) = (usize::from(width), usize::from(height));
        w * h * bpp + w.div_ceil(8) * h
    }

    pub(crate) fn new(hotspot: (u16, u16), width: u16, height: u16, bpp: usize) -> Self {
        Self {
            hotspot,
            width,
            height,
            total: Self::payload_len(width, height, bpp),
            buf: Vec::new(),
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.total - self.buf.len()
    }

    pub(crate) fn feed_bytes(&mut self, input: &[u8]) -> usize {
        let n = self.remaining().min(input.len());
        self.buf.extend_from_slice(&input[..n]);
        n
    }

    /// Builds the image once every byte has arrived.
    pub(crate) fn finish(&self, conv: &PixelConverter) -> CursorImage {
        let (w, h) = (usize::from(self.width), usize::from(self.height));
        let bpp = conv.bytes_per_pixel();
        let (pixels, mask) = self.buf.split_at(w * h * bpp);
        let mask_stride = w.div_ceil(8);
        let mut rgba = vec![0u8; w * h * 4];
        for y in 0..h {
            for x in 0..w {
                let bit = mask[y * mask_stride + x / 8] & (0x80 >> (x % 8)) != 0;
                if bit {
                    let i = y * w + x;
                    let px = conv.pixel_to_rgba(&pixels[i * bpp..]);
                    rgba[i * 4..i * 4 + 4].copy_from_slice(&px);
                }
            }
        }
        CursorImage {
            hotspot_x: self.hotspot.0,
            hotspot_y: self.hotspot.1,
            width: self.width,
            height: self.height,
            rgba,
        }
    }
}

impl RectDecoder for CursorDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let n = self.feed_bytes(input);
        if self.remaining() == 0 {
            Ok((n, Status::Done(Decoded::Cursor(self.finish(cx.conv)))))
        } else {
            Ok((n, Status::Need(self.remaining())))
        }
    }
}
