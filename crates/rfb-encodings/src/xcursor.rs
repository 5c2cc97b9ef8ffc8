//! XCursor (-240) and VMware cursor (0x574d5664): cursor shapes for the driver to draw locally.
//!
//! Both produce [`Decoded::Cursor`] with RGBA pixels. The rectangle's position is the hotspot;
//! its size was checked against [`crate::DecoderLimits::max_cursor_dimension`] in
//! `Decoders::begin`, and each decoder buffers exactly its payload and nothing more.
//!
//! Specs: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#x-cursor-pseudo-encoding>
//! and <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#vmware-cursor-pseudo-encoding>.
//!
//! # XCursor
//!
//! Without data when the width or height is 0 (the result is an empty, "no cursor" image).
//! Otherwise: primary r, g, b; secondary r, g, b; a bitmap and a bitmask, each
//! `floor((width + 7) / 8)` bytes per row, most significant bit leftmost. A bitmap 1 selects the
//! primary colour, 0 the secondary; a bitmask 0 makes the pixel transparent (alpha 0, RGB 0).
//!
//! # VMware cursor
//!
//! A cursor-type byte and a padding byte, then for type 0 ("classic") an AND mask and an XOR
//! mask of `width * height` pixels each in the session's pixel format, drawn by the server's
//! definition as `dst = (dst & and) ^ xor`; for type 1 ("alpha") `width * height` pixels of 4
//! bytes in the order red, green, blue, alpha. Any other type is
//! [`DecodeErrorKind::InvalidValue`] with field `cursor type`, reported as soon as the type byte
//! arrives. A zero-size rectangle still carries the two header bytes.
//!
//! The alpha bytes are taken as straight (not pre-multiplied) alpha, which is what
//! [`CursorImage`] holds; the spec says nothing about pre-multiplication for this encoding
//! (unlike Cursor With Alpha, -314).
//!
//! A classic cursor maps to RGBA pixel by pixel, looking at the pixel values restricted to the
//! format's colour bits ("all ones" meaning every colour bit set):
//!
//! | AND | XOR | on screen | RGBA |
//! |---|---|---|---|
//! | 0 | any | the XOR colour | XOR colour, opaque |
//! | all ones | 0 | the screen unchanged | transparent (0, 0, 0, 0) |
//! | anything else | | depends on the screen (e.g. inversion) | opaque, the colour the formula gives over a **white** screen: `(white & and) ^ xor` |
//!
//! An RGBA image cannot invert what lies under it, so the last row is an approximation: the
//! common "inverting" pixel (AND all ones, XOR all ones) becomes opaque black, which keeps the
//! shape visible on the light backgrounds such cursors are usually drawn over.

use crate::convert::PixelConverter;
use crate::cursor::CursorImage;
use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;
use crate::pixel_format::PixelFormat;

pub(crate) fn make_xcursor(rect: Rect) -> Option<Box<dyn RectDecoder>> {
    Some(Box::new(XCursorDecoder::new(rect)))
}

pub(crate) fn make_vmware(rect: Rect, bpp: usize) -> Option<Box<dyn RectDecoder>> {
    Some(Box::new(VmwareCursorDecoder::new(rect, bpp)))
}

/// Bytes of one bitmap or bitmask row.
fn mask_stride(width: u16) -> usize {
    usize::from(width).div_ceil(8)
}

/// Appends up to `total - buf.len()` bytes of `input` to `buf`; returns how many were taken.
fn take_into(buf: &mut Vec<u8>, total: usize, input: &[u8]) -> usize {
    let n = (total - buf.len()).min(input.len());
    buf.extend_from_slice(&input[..n]);
    n
}

fn empty_cursor(rect: Rect) -> CursorImage {
    CursorImage {
        hotspot_x: rect.x,
        hotspot_y: rect.y,
        width: rect.width,
        height: rect.height,
        rgba: Vec::new(),
    }
}

/// XCursor (-240): two colours, a bitmap and a bitmask.
#[derive(Debug)]
struct XCursorDecoder {
    rect: Rect,
    total: usize,
    buf: Vec<u8>,
}

impl XCursorDecoder {
    fn new(rect: Rect) -> Self {
        let total = if rect.width == 0 || rect.height == 0 {
            0
        } else {
            6 + 2 * mask_stride(rect.width) * usize::from(rect.height)
        };
        Self {
            rect,
            total,
            buf: Vec::new(),
        }
    }

    fn finish(&self) -> CursorImage {
        let mut image = empty_cursor(self.rect);
        if self.total == 0 {
            return image;
        }
        let (w, h) = (usize::from(self.rect.width), usize::from(self.rect.height));
        let stride = mask_stride(self.rect.width);
        let (colours, masks) = self.buf.split_at(6);
        let (bitmap, bitmask) = masks.split_at(stride * h);
        let primary = [colours[0], colours[1], colours[2], 255];
        let secondary = [colours[3], colours[4], colours[5], 255];
        image.rgba = vec![0; w * h * 4];
        for y in 0..h {
            for x in 0..w {
                let byte = y * stride + x / 8;
                let bit = 0x80 >> (x % 8);
                if bitmask[byte] & bit == 0 {
                    continue;
                }
                let colour = if bitmap[byte] & bit != 0 {
                    primary
                } else {
                    secondary
                };
                let i = (y * w + x) * 4;
                image.rgba[i..i + 4].copy_from_slice(&colour);
            }
        }
        image
    }
}

impl RectDecoder for XCursorDecoder {
    fn feed(&mut self, input: &[u8], _cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let n = take_into(&mut self.buf, self.total, input);
        if self.buf.len() == self.total {
            Ok((n, Status::Done(Decoded::Cursor(self.finish()))))
        } else {
            Ok((n, Status::Need(self.total - self.buf.len())))
        }
    }
}

/// The two cursor types the VMware cursor pseudo-encoding defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VmwareType {
    /// AND and XOR masks in the session's pixel format.
    Classic,
    /// Straight RGBA, 4 bytes a pixel.
    Alpha,
}

/// VMware cursor (0x574d5664): a type byte, a padding byte, then the masks or RGBA pixels.
#[derive(Debug)]
struct VmwareCursorDecoder {
    rect: Rect,
    bpp: usize,
    /// Known once the two header bytes have been read.
    kind: Option<VmwareType>,
    total: usize,
    buf: Vec<u8>,
}

impl VmwareCursorDecoder {
    fn new(rect: Rect, bpp: usize) -> Self {
        Self {
            rect,
            bpp,
            kind: None,
            total: 0,
            buf: Vec::new(),
        }
    }

    fn finish(&self, kind: VmwareType, conv: &PixelConverter) -> CursorImage {
        let mut image = empty_cursor(self.rect);
        let n = usize::from(self.rect.width) * usize::from(self.rect.height);
        if n == 0 {
            return image;
        }
        image.rgba = match kind {
            VmwareType::Alpha => self.buf.clone(),
            VmwareType::Classic => classic_to_rgba(&self.buf, n, conv),
        };
        image
    }
}

/// Reads one pixel value of `format` from the start of `src` (`src` holds at least
/// `bytes_per_pixel` bytes).
fn pixel_value(format: &PixelFormat, src: &[u8]) -> u32 {
    match format.bytes_per_pixel() {
        1 => u32::from(src[0]),
        2 if format.big_endian => u32::from(u16::from_be_bytes([src[0], src[1]])),
        2 => u32::from(u16::from_le_bytes([src[0], src[1]])),
        _ if format.big_endian => u32::from_be_bytes([src[0], src[1], src[2], src[3]]),
        _ => u32::from_le_bytes([src[0], src[1], src[2], src[3]]),
    }
}

/// The value with every colour bit of `format` set: the components' maxima at their shifts
/// for true colour, every bit of the pixel for a colour map.
fn colour_bits(format: &PixelFormat) -> u32 {
    if format.true_colour {
        let at = |max: u16, shift: u8| u32::from(max).checked_shl(u32::from(shift)).unwrap_or(0);
        at(format.red_max, format.red_shift)
            | at(format.green_max, format.green_shift)
            | at(format.blue_max, format.blue_shift)
    } else {
        match format.bytes_per_pixel() {
            1 => 0xff,
            2 => 0xffff,
            _ => u32::MAX,
        }
    }
}

/// Maps a classic AND/XOR cursor of `n` pixels to RGBA (see the module documentation).
fn classic_to_rgba(masks: &[u8], n: usize, conv: &PixelConverter) -> Vec<u8> {
    let format = conv.format();
    let bpp = format.bytes_per_pixel();
    let white = colour_bits(format);
    let (and_mask, xor_mask) = masks.split_at(n * bpp);
    let mut rgba = vec![0u8; n * 4];
    for (i, out) in rgba.chunks_exact_mut(4).enumerate() {
        let and = pixel_value(format, &and_mask[i * bpp..]) & white;
        let xor = pixel_value(format, &xor_mask[i * bpp..]) & white;
        let colour = if and == 0 {
            conv.value_to_rgba(xor)
        } else if and == white && xor == 0 {
            continue;
        } else {
            conv.value_to_rgba((white & and) ^ xor)
        };
        out.copy_from_slice(&colour);
    }
    rgba
}

impl RectDecoder for VmwareCursorDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let mut used = 0;
        let kind = match self.kind {
            Some(kind) => kind,
            None => {
                let Some(&[ty, _padding]) = input.get(..2) else {
                    // The type byte alone already decides an error: report it at once.
                    if let Some(&ty) = input.first() {
                        check_type(ty)?;
                    }
                    return Ok((0, Status::Need(2)));
                };
                let kind = check_type(ty)?;
                let n = usize::from(self.rect.width) * usize::from(self.rect.height);
                self.total = match kind {
                    VmwareType::Classic => 2 * n * self.bpp,
                    VmwareType::Alpha => 4 * n,
                };
                cx.sub(match kind {
                    VmwareType::Classic => "classic",
                    VmwareType::Alpha => "alpha",
                });
                self.kind = Some(kind);
                used = 2;
                kind
            }
        };
        used += take_into(&mut self.buf, self.total, &input[used..]);
        if self.buf.len() == self.total {
            Ok((
                used,
                Status::Done(Decoded::Cursor(self.finish(kind, cx.conv))),
            ))
        } else {
            Ok((used, Status::Need(self.total - self.buf.len())))
        }
    }
}

fn check_type(ty: u8) -> Result<VmwareType, DecodeErrorKind> {
    match ty {
        0 => Ok(VmwareType::Classic),
        1 => Ok(VmwareType::Alpha),
        other => Err(DecodeErrorKind::InvalidValue {
            field: "cursor type",
            value: u64::from(other),
        }),
    }
}
