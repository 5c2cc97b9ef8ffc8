//! `CPIXEL`, ZRLE's compressed pixel.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#zrle-encoding>

use crate::pixel_format::PixelFormat;

/// The size of a `CPIXEL` and how to widen it to a pixel value.
///
/// Spec: "a `CPIXEL` is only 3 bytes long" when the format is true colour, 32 bpp, depth ≤ 24
/// and every colour bit lies in the least (preferred) or the most significant 3 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CPixel {
    /// Bytes on the wire: 1, 2, 3 or 4.
    pub(super) len: usize,
    big_endian: bool,
    /// 8 when the 3 bytes are the most significant ones.
    shift: u32,
}

impl CPixel {
    pub(super) fn of(f: &PixelFormat) -> Self {
        let mask = (u64::from(f.red_max) << f.red_shift)
            | (u64::from(f.green_max) << f.green_shift)
            | (u64::from(f.blue_max) << f.blue_shift);
        let compact = f.true_colour && f.bits_per_pixel == 32 && f.depth <= 24;
        let (len, shift) = if compact && mask & !0x00FF_FFFF == 0 {
            (3, 0)
        } else if compact && mask & !0xFFFF_FF00 == 0 {
            (3, 8)
        } else {
            (f.bytes_per_pixel(), 0)
        };
        Self {
            len,
            big_endian: f.big_endian,
            shift,
        }
    }

    /// True when the `CPIXEL` is the low 3 bytes of a little-endian pixel, so that with the
    /// RGBX layout its bytes are R, G, B in order.
    pub(super) fn is_rgb_bytes(self) -> bool {
        self.len == 3 && !self.big_endian && self.shift == 0
    }

    /// The pixel value of the `CPIXEL` at the start of `b` (which holds at least `len` bytes):
    /// the bytes keep the pixel format's byte order, so little-endian puts the first byte
    /// lowest and big-endian highest.
    #[inline]
    pub(super) fn value(self, b: &[u8]) -> u32 {
        let b = &b[..self.len];
        let v = if self.big_endian {
            b.iter().fold(0u32, |v, &x| (v << 8) | u32::from(x))
        } else {
            b.iter().rev().fold(0u32, |v, &x| (v << 8) | u32::from(x))
        };
        v << self.shift
    }
}
