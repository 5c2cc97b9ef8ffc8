//! The drawing interface decoders write into, and the RGBA framebuffer that implements it.

use crate::geometry::Rect;
use crate::h264::H264Rect;

/// Where decoded pixels go. The driver owns the implementation (a `Vec`, wasm linear memory
/// behind a canvas, a C buffer, a numpy array) and lends it to the decoders.
///
/// Decoders only call these methods with rectangles that lie inside the size last given to
/// [`DrawTarget::resize`] (they check before drawing), and `put_rgba` always gets exactly
/// `rect.width * rect.height * 4` bytes. Implementations should still clip rather than panic.
pub trait DrawTarget {
    /// The framebuffer is now `width` × `height`. Content in the overlap should be kept.
    fn resize(&mut self, width: u16, height: u16);
    /// Writes `rect` from tightly packed RGBA rows (`rect.width * 4` bytes per row).
    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]);
    /// Fills `rect` with one colour.
    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]);
    /// Copies the `dst.width` × `dst.height` area at (`src_x`, `src_y`) to `dst`, as CopyRect
    /// does. Source and destination may overlap; the result is as if the source were read first.
    fn copy_rect(&mut self, src_x: u16, src_y: u16, dst: Rect);
    /// Offers a compressed image (JPEG or PNG, as Tight, TightPNG and JPEG carry) covering
    /// `rect`. Return `true` if the target decodes and draws it itself (a browser's
    /// `ImageDecoder`), in which case it must be in the framebuffer before any later
    /// operation touches `rect`; the default `false` makes the crate decode it in Rust and
    /// call [`DrawTarget::put_rgba`].
    fn draw_image(&mut self, rect: Rect, format: ImageFormat, data: &[u8]) -> bool {
        let _ = (rect, format, data);
        false
    }
    /// Takes one Open H.264 rectangle (encoding 50): its flags and its H.264 data, in wire
    /// order with every other call. Return `true` if the target handles it (applies the flags,
    /// decodes the data with the context of `msg.rect`, e.g. with WebCodecs, and shows the
    /// result there before any later operation touches `msg.rect`). This crate has no H.264
    /// decoder, so the default `false` ends the rectangle with
    /// [`DecodeErrorKind::Unsupported`](crate::DecodeErrorKind::Unsupported): offer the
    /// encoding only when the target returns `true` (see [`Decoders::target_decoded`]).
    ///
    /// [`Decoders::target_decoded`]: crate::Decoders::target_decoded
    fn draw_h264(&mut self, msg: &H264Rect<'_>) -> bool {
        let _ = msg;
        false
    }
}

/// Fills `dst` (a whole number of pixels) with one RGBA colour: a few pixels one by one, then
/// doubling copies, so long spans cost a handful of memcpys instead of a store per pixel.
pub(crate) fn fill4(dst: &mut [u8], rgba: [u8; 4]) {
    let n = dst.len();
    let first = n.min(64);
    for px in dst[..first].chunks_exact_mut(4) {
        px.copy_from_slice(&rgba);
    }
    let mut filled = first;
    while filled < n {
        let k = filled.min(n - filled);
        let (done, rest) = dst.split_at_mut(filled);
        rest[..k].copy_from_slice(&done[..k]);
        filled += k;
    }
}

/// The compressed image formats RFB encodings embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// JPEG (Tight's JPEG sub-encoding, the JPEG encoding 21).
    Jpeg,
    /// PNG (TightPNG).
    Png,
}

/// A contiguous RGBA framebuffer (4 bytes a pixel, alpha 255, rows top to bottom, no padding).
///
/// ```
/// use rfb_encodings::{DrawTarget, Framebuffer, Rect};
/// let mut fb = Framebuffer::new(4, 2);
/// fb.fill_rgba(Rect::new(1, 0, 2, 2), [255, 0, 0, 255]);
/// assert_eq!(fb.pixel(1, 1), Some([255, 0, 0, 255]));
/// assert_eq!(fb.pixel(0, 0), Some([0, 0, 0, 255]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Framebuffer {
    width: u16,
    height: u16,
    data: Vec<u8>,
}

impl Framebuffer {
    /// An opaque black framebuffer of `width` × `height`.
    pub fn new(width: u16, height: u16) -> Self {
        let mut data = vec![0u8; usize::from(width) * usize::from(height) * 4];
        for px in data.chunks_exact_mut(4) {
            px[3] = 255;
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// The RGBA bytes, `width * 4` per row.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        usize::from(self.width) * 4
    }

    /// The pixel at (`x`, `y`), or `None` outside the framebuffer.
    pub fn pixel(&self, x: u16, y: u16) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (usize::from(y) * usize::from(self.width) + usize::from(x)) * 4;
        self.data.get(i..i + 4).map(|p| [p[0], p[1], p[2], p[3]])
    }

    /// Clips `rect` to the framebuffer; `None` if nothing is left.
    fn clip(&self, rect: Rect) -> Option<Rect> {
        if rect.x >= self.width || rect.y >= self.height || rect.is_empty() {
            return None;
        }
        let w = rect.width.min(self.width - rect.x);
        let h = rect.height.min(self.height - rect.y);
        Some(Rect::new(rect.x, rect.y, w, h))
    }

    fn offset(&self, x: u16, y: u16) -> usize {
        (usize::from(y) * usize::from(self.width) + usize::from(x)) * 4
    }
}

impl DrawTarget for Framebuffer {
    fn resize(&mut self, width: u16, height: u16) {
        if width == self.width && height == self.height {
            return;
        }
        let mut next = Self::new(width, height);
        let w = usize::from(width.min(self.width)) * 4;
        for y in 0..height.min(self.height) {
            let s = self.offset(0, y);
            let d = next.offset(0, y);
            next.data[d..d + w].copy_from_slice(&self.data[s..s + w]);
        }
        *self = next;
    }

    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]) {
        let Some(c) = self.clip(rect) else { return };
        let src_stride = usize::from(rect.width) * 4;
        let n = usize::from(c.width) * 4;
        for row in 0..usize::from(c.height) {
            let s = row * src_stride;
            let Some(src) = rgba.get(s..s + n) else {
                return;
            };
            let d = self.offset(c.x, c.y + row as u16);
            self.data[d..d + n].copy_from_slice(src);
        }
    }

    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]) {
        let Some(c) = self.clip(rect) else { return };
        let n = usize::from(c.width) * 4;
        if c.width <= 16 {
            // Narrow (hextile subrects, glyph-sized runs): a memcpy per row costs more.
            for row in 0..c.height {
                let d = self.offset(c.x, c.y + row);
                fill4(&mut self.data[d..d + n], rgba);
            }
            return;
        }
        let first = self.offset(c.x, c.y);
        fill4(&mut self.data[first..first + n], rgba);
        // The other rows are copies of the first: one memcpy each.
        for row in 1..c.height {
            let d = self.offset(c.x, c.y + row);
            self.data.copy_within(first..first + n, d);
        }
    }

    fn copy_rect(&mut self, src_x: u16, src_y: u16, dst: Rect) {
        // Clip both source and destination so that neither reads nor writes outside.
        let Some(d) = self.clip(dst) else { return };
        if src_x >= self.width || src_y >= self.height {
            return;
        }
        let w = d.width.min(self.width - src_x);
        let h = d.height.min(self.height - src_y);
        let n = usize::from(w) * 4;
        // Rows are copied bottom-up when moving down, so an overlapping source row is read
        // before it is overwritten; copy_within handles overlap inside a row.
        let rows: Box<dyn Iterator<Item = u16>> = if d.y > src_y {
            Box::new((0..h).rev())
        } else {
            Box::new(0..h)
        };
        for row in rows {
            let s = self.offset(src_x, src_y + row);
            let t = self.offset(d.x, d.y + row);
            self.data.copy_within(s..s + n, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(w: u16, h: u16) -> Framebuffer {
        let mut fb = Framebuffer::new(w, h);
        for y in 0..h {
            for x in 0..w {
                fb.fill_rgba(Rect::new(x, y, 1, 1), [x as u8, y as u8, 0, 255]);
            }
        }
        fb
    }

    #[test]
    fn overlapping_copy_down_right() {
        let mut fb = numbered(6, 6);
        let before = fb.clone();
        fb.copy_rect(0, 0, Rect::new(1, 1, 4, 4));
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(fb.pixel(x + 1, y + 1), before.pixel(x, y));
            }
        }
    }

    #[test]
    fn overlapping_copy_up_left() {
        let mut fb = numbered(6, 6);
        let before = fb.clone();
        fb.copy_rect(2, 2, Rect::new(1, 1, 4, 4));
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(fb.pixel(x + 1, y + 1), before.pixel(x + 2, y + 2));
            }
        }
    }

    #[test]
    fn clipping_never_panics() {
        let mut fb = Framebuffer::new(4, 4);
        fb.put_rgba(Rect::new(3, 3, 4, 4), &[7; 64]);
        fb.put_rgba(Rect::new(0, 0, 4, 4), &[7; 5]);
        fb.fill_rgba(Rect::new(65535, 0, 1, 1), [1; 4]);
        fb.copy_rect(65535, 65535, Rect::new(0, 0, 4, 4));
        fb.copy_rect(3, 3, Rect::new(0, 0, 4, 4));
        assert_eq!(fb.pixel(3, 3), Some([7, 7, 7, 7]));
        assert_eq!(fb.pixel(0, 0), Some([7, 7, 7, 7]));
    }

    #[test]
    fn fill4_any_length() {
        for px in [0usize, 1, 2, 15, 16, 17, 33, 100, 1000] {
            let mut v = vec![0u8; px * 4 + 4];
            fill4(&mut v[..px * 4], [1, 2, 3, 4]);
            assert!(
                v[..px * 4].chunks_exact(4).all(|p| p == [1, 2, 3, 4]),
                "{px}"
            );
            assert_eq!(v[px * 4..], [0; 4], "{px}: wrote past the end");
        }
    }

    #[test]
    fn resize_keeps_overlap() {
        let mut fb = numbered(4, 4);
        fb.resize(2, 6);
        assert_eq!(fb.pixel(1, 3), Some([1, 3, 0, 255]));
        assert_eq!(fb.pixel(1, 5), Some([0, 0, 0, 255]));
        assert_eq!(fb.data().len(), 2 * 6 * 4);
    }
}
