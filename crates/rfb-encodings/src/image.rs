//! Embedded JPEG and PNG images (Tight and TightPNG sub-encodings, the JPEG encoding 21).
//!
//! Every image is offered to [`DrawTarget::draw_image`](crate::DrawTarget::draw_image) first
//! (a browser decodes it natively and faster); only when the target declines is it decoded
//! here, in pure Rust so that the crate still builds for `wasm32-unknown-unknown`, and drawn
//! with `put_rgba`.

use std::io::Cursor;

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use crate::decoders::Cx;
use crate::draw::ImageFormat;
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;
use crate::pixel_format::PixelFormat;

/// A length-prefixed image payload being collected. An image decoder needs the whole image,
/// so the bytes are kept, but only after the length was checked against the limit.
#[derive(Debug)]
pub(crate) struct ImageBuf {
    format: ImageFormat,
    len: usize,
    data: Vec<u8>,
}

impl ImageBuf {
    /// Starts collecting `len` bytes; `len` must already be checked against the limit.
    pub(crate) fn new(format: ImageFormat, len: usize) -> Self {
        Self {
            format,
            len,
            // Grow as bytes arrive rather than trusting the peer's length for the allocation.
            data: Vec::with_capacity(len.min(64 * 1024)),
        }
    }

    /// Takes what it can from `input`; returns bytes consumed and whether the image is whole.
    pub(crate) fn take(&mut self, input: &[u8]) -> (usize, bool) {
        let n = (self.len - self.data.len()).min(input.len());
        self.data.extend_from_slice(&input[..n]);
        (n, self.data.len() == self.len)
    }

    /// Bytes still missing.
    pub(crate) fn missing(&self) -> usize {
        self.len - self.data.len()
    }

    /// Draws the finished image into `rect`.
    pub(crate) fn draw(&self, rect: Rect, cx: &mut Cx<'_>) -> Result<(), DecodeErrorKind> {
        draw(rect, self.format, &self.data, cx)
    }
}

/// Checks that a JPEG may appear in this session. The spec allows JPEG data only when
/// *bits-per-pixel* is 16 or 32 (Tight, "JpegCompression"); a JPEG carries RGB, which has no
/// meaning for a colour-map session either.
pub(crate) fn check_jpeg_format(pf: &PixelFormat) -> Result<(), DecodeErrorKind> {
    if pf.true_colour && matches!(pf.bits_per_pixel, 16 | 32) {
        Ok(())
    } else {
        Err(DecodeErrorKind::InvalidValue {
            field: "bits-per-pixel for JPEG data (needs 16 or 32, true colour)",
            value: u64::from(pf.bits_per_pixel),
        })
    }
}

/// Offers `data` to the target, else decodes it and draws it with `put_rgba`. The image must
/// be exactly `rect`'s size.
pub(crate) fn draw(
    rect: Rect,
    format: ImageFormat,
    data: &[u8],
    cx: &mut Cx<'_>,
) -> Result<(), DecodeErrorKind> {
    // An empty rectangle has nothing to draw, and no JPEG or PNG can be 0 pixels wide.
    if rect.is_empty() {
        return Ok(());
    }
    if cx.target.draw_image(rect, format, data) {
        return Ok(());
    }
    let rgba = decode_image_rgba(format, data, rect)?;
    cx.target.put_rgba(rect, &rgba);
    Ok(())
}

/// Decodes a JPEG or PNG that must cover `rect` exactly to tightly packed RGBA, as the crate
/// does when a target declines [`crate::DrawTarget::draw_image`]. For targets that accepted an
/// image but cannot finish it themselves (a browser decoder that failed), so the fallback is
/// the same decoder, with the same size limits.
pub fn decode_image_rgba(
    format: ImageFormat,
    data: &[u8],
    rect: Rect,
) -> Result<Vec<u8>, DecodeErrorKind> {
    match format {
        ImageFormat::Png => decode_png(data, rect),
        _ => decode_jpeg(data, rect),
    }
}

fn image_err(format: &'static str, detail: impl ToString) -> DecodeErrorKind {
    DecodeErrorKind::Image {
        format,
        detail: detail.to_string(),
    }
}

fn check_size(format: &'static str, w: usize, h: usize, rect: Rect) -> Result<(), DecodeErrorKind> {
    if (w, h) == (usize::from(rect.width), usize::from(rect.height)) {
        Ok(())
    } else {
        Err(image_err(
            format,
            format!(
                "image is {w}x{h} but the rectangle is {}x{}",
                rect.width, rect.height
            ),
        ))
    }
}

/// Decodes a JPEG covering `rect` to RGBA.
pub(crate) fn decode_jpeg(data: &[u8], rect: Rect) -> Result<Vec<u8>, DecodeErrorKind> {
    let (w, h) = (usize::from(rect.width), usize::from(rect.height));
    // The size limits make the decoder refuse a larger image before allocating for it.
    let opts = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGBA)
        .set_max_width(w)
        .set_max_height(h);
    let mut dec = JpegDecoder::new_with_options(ZCursor::new(data), opts);
    dec.decode_headers().map_err(|e| image_err("jpeg", e))?;
    let (iw, ih) = dec
        .dimensions()
        .ok_or_else(|| image_err("jpeg", "no frame header"))?;
    check_size("jpeg", iw, ih, rect)?;
    let mut out = vec![0u8; w * h * 4];
    dec.decode_into(&mut out)
        .map_err(|e| image_err("jpeg", e))?;
    Ok(out)
}

/// Decodes a PNG covering `rect` to RGBA. Alpha is dropped (set to 255): the framebuffer is
/// opaque and RFB has no notion of a translucent rectangle.
pub(crate) fn decode_png(data: &[u8], rect: Rect) -> Result<Vec<u8>, DecodeErrorKind> {
    let (w, h) = (usize::from(rect.width), usize::from(rect.height));
    // 16-bit RGBA is 8 bytes a pixel: enough for any PNG of this size, and no more.
    let limits = png::Limits {
        bytes: w * h * 8 + (1 << 20),
    };
    let mut dec = png::Decoder::new_with_limits(Cursor::new(data), limits);
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().map_err(|e| image_err("png", e))?;
    let info = reader.info();
    check_size("png", info.width as usize, info.height as usize, rect)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| image_err("png", "image too large"))?;
    let mut buf = vec![0u8; size];
    let out = reader
        .next_frame(&mut buf)
        .map_err(|e| image_err("png", e))?;
    let channels = match out.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        // normalize_to_color8 expands palettes, so this is unreachable in practice.
        png::ColorType::Indexed => return Err(image_err("png", "unexpanded palette")),
    };
    if out.bit_depth != png::BitDepth::Eight {
        return Err(image_err("png", "unexpected bit depth after expansion"));
    }
    // An animated PNG's first frame may be smaller than the canvas: it must cover the rect.
    check_size("png", out.width as usize, out.height as usize, rect)?;
    if out.line_size < w * channels || buf.len() < out.line_size * (h - 1) + w * channels {
        return Err(image_err("png", "short frame buffer"));
    }
    let mut rgba = vec![0u8; w * h * 4];
    for y in 0..h {
        let row = &buf[y * out.line_size..][..w * channels];
        let dst = &mut rgba[y * w * 4..][..w * 4];
        for (s, d) in row.chunks_exact(channels).zip(dst.chunks_exact_mut(4)) {
            let (r, g, b) = if channels < 3 {
                (s[0], s[0], s[0])
            } else {
                (s[0], s[1], s[2])
            };
            d.copy_from_slice(&[r, g, b, 255]);
        }
    }
    Ok(rgba)
}
