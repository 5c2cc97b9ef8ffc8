//! Native H.264 decoding with Cisco's OpenH264 (feature `h264-openh264`, off by default).
//!
//! [`OpenH264Target`] wraps any [`DrawTarget`]: every call is passed through, and Open H.264
//! rectangles are decoded here, one OpenH264 decoder per context ([`H264Contexts`], at most
//! [`MAX_H264_CONTEXTS`]), the last picture of each rectangle converted to RGBA, cropped to
//! the rectangle and drawn with `put_rgba`. This is for drivers without a platform decoder
//! (the CLI, tests, Python); a browser uses WebCodecs through
//! [`DrawTarget::draw_h264`] instead.
//!
//! The feature builds OpenH264's C sources (the `openh264` crate bundles them) and so needs a
//! C compiler; it is kept out of the default build, which stays pure Rust and wasm-ready.

use openh264::decoder::Decoder;
use openh264::formats::YUVSource;

use super::{H264Contexts, H264Rect, MAX_H264_CONTEXTS, NAL_SPS, parse_sps};
use crate::draw::{DrawTarget, ImageFormat};
use crate::geometry::Rect;

/// A [`DrawTarget`] that decodes Open H.264 rectangles itself and draws them into `inner`.
///
/// Decoding errors are counted ([`OpenH264Target::decode_errors`]) and the rectangle is
/// left as it was: the spec recommends ignoring them and waiting for the server's next
/// I-frame.
///
/// Memory: the spec lets a picture be larger than its rectangle, but a decoder allocates its
/// pictures (and up to 16 reference pictures) from the size in the SPS, so a 16×16 rectangle
/// could otherwise make each of the 64 contexts hold 4K pictures. An access unit whose SPS
/// declares a coded picture wider or taller than twice the rectangle (rounded up to whole
/// 16-pixel macroblocks) is not decoded and counts as an error; the context's memory is then
/// bounded by its rectangle.
pub struct OpenH264Target<T> {
    inner: T,
    contexts: H264Contexts<Decoder>,
    rgba: Vec<u8>,
    cropped: Vec<u8>,
    errors: u64,
    pictures: u64,
}

impl<T: core::fmt::Debug> core::fmt::Debug for OpenH264Target<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenH264Target")
            .field("inner", &self.inner)
            .field("contexts", &self.contexts.len())
            .field("errors", &self.errors)
            .field("pictures", &self.pictures)
            .finish()
    }
}

impl<T: DrawTarget> OpenH264Target<T> {
    /// Wraps `inner`, with the spec's 64 contexts.
    pub fn new(inner: T) -> Self {
        Self::with_max_contexts(inner, MAX_H264_CONTEXTS)
    }

    /// Wraps `inner`, keeping at most `max` decoder contexts (at least 1).
    pub fn with_max_contexts(inner: T, max: usize) -> Self {
        Self {
            inner,
            contexts: H264Contexts::new(max),
            rgba: Vec::new(),
            cropped: Vec::new(),
            errors: 0,
            pictures: 0,
        }
    }

    /// The wrapped target.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped target, mutably.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the target.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Access units OpenH264 rejected (or decoders it failed to create) so far.
    pub fn decode_errors(&self) -> u64 {
        self.errors
    }

    /// Pictures drawn so far.
    pub fn pictures(&self) -> u64 {
        self.pictures
    }

    /// Live decoder contexts.
    pub fn contexts(&self) -> usize {
        self.contexts.len()
    }
}

impl<T: DrawTarget> DrawTarget for OpenH264Target<T> {
    fn resize(&mut self, width: u16, height: u16) {
        self.inner.resize(width, height);
    }

    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]) {
        self.inner.put_rgba(rect, rgba);
    }

    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]) {
        self.inner.fill_rgba(rect, rgba);
    }

    fn copy_rect(&mut self, src_x: u16, src_y: u16, dst: Rect) {
        self.inner.copy_rect(src_x, src_y, dst);
    }

    fn draw_image(&mut self, rect: Rect, format: ImageFormat, data: &[u8]) -> bool {
        self.inner.draw_image(rect, format, data)
    }

    fn draw_h264(&mut self, msg: &H264Rect<'_>) -> bool {
        let decoder = match self.contexts.prepare(msg, Decoder::new) {
            Ok(Some(d)) => d,
            // A control message: the flags were applied, nothing to draw.
            Ok(None) => return true,
            Err(_) => {
                self.errors += 1;
                return true;
            }
        };
        // Every access unit is decoded (later pictures refer to earlier ones); only the last
        // picture is shown, as the spec asks.
        let mut shown: Option<(usize, usize)> = None;
        for au in msg.access_units() {
            if !picture_fits(
                au.nal_units().filter(|n| n.nal_type == Some(NAL_SPS)),
                msg.rect,
            ) {
                self.errors += 1;
                continue;
            }
            match decoder.decode(au.data) {
                Ok(Some(pic)) => {
                    let (w, h) = pic.dimensions();
                    self.rgba.resize(w * h * 4, 0);
                    pic.write_rgba8(&mut self.rgba);
                    shown = Some((w, h));
                }
                Ok(None) => {}
                Err(_) => self.errors += 1,
            }
        }
        if let Some((w, h)) = shown {
            self.pictures += 1;
            let rect = msg.rect;
            // Oversized pictures are cropped at the right and bottom; an undersized one (which
            // the spec forbids) covers what it can.
            let cw = usize::from(rect.width).min(w);
            let ch = usize::from(rect.height).min(h);
            self.cropped.clear();
            for row in self.rgba.chunks_exact(w * 4).take(ch) {
                self.cropped.extend_from_slice(&row[..cw * 4]);
            }
            // cw and ch are at most the rectangle's u16 sides.
            let area = Rect::new(rect.x, rect.y, cw as u16, ch as u16);
            if !area.is_empty() {
                self.inner.put_rgba(area, &self.cropped);
            }
        }
        true
    }
}

/// True when every SPS among `sps` declares a coded picture at most twice the rectangle
/// (rounded up to whole macroblocks) in each dimension. An SPS this crate cannot read is left
/// to OpenH264, which bounds pictures by the H.264 level limits.
fn picture_fits<'a>(sps: impl Iterator<Item = super::NalUnit<'a>>, rect: Rect) -> bool {
    let max = |side: u16| (u32::from(side).div_ceil(16) * 16).max(16) * 2;
    sps.filter_map(|n| parse_sps(n.data))
        .all(|s| s.coded_width <= max(rect.width) && s.coded_height <= max(rect.height))
}
