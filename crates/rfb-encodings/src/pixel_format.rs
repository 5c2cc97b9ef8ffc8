//! The RFB `PIXEL_FORMAT` structure and common formats.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#serverinit>
//! (the pixel format data structure is described with ServerInit).

use crate::error::PixelFormatError;

/// Size of a `PIXEL_FORMAT` on the wire.
pub const PIXEL_FORMAT_LEN: usize = 16;

/// How pixel values are laid out on the wire (rfbproto `PIXEL_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelFormat {
    /// Bits per pixel on the wire: 8, 16 or 32.
    pub bits_per_pixel: u8,
    /// Number of useful bits in a pixel value.
    pub depth: u8,
    /// Multi-byte pixels are big-endian when true.
    pub big_endian: bool,
    /// True colour (components by shift and max) when true; colour map indices otherwise.
    pub true_colour: bool,
    /// Maximum red value (`2^N - 1`).
    pub red_max: u16,
    /// Maximum green value.
    pub green_max: u16,
    /// Maximum blue value.
    pub blue_max: u16,
    /// Shift of red within the pixel value.
    pub red_shift: u8,
    /// Shift of green within the pixel value.
    pub green_shift: u8,
    /// Shift of blue within the pixel value.
    pub blue_shift: u8,
}

impl PixelFormat {
    /// 32 bpp, depth 24, little-endian, red in the lowest byte: the bytes of each pixel on the
    /// wire are R, G, B, X, which is the cheapest format to turn into RGBA. This is the default
    /// format the client requests, as noVNC does.
    pub const RGBX8888: Self = Self {
        bits_per_pixel: 32,
        depth: 24,
        big_endian: false,
        true_colour: true,
        red_max: 255,
        green_max: 255,
        blue_max: 255,
        red_shift: 0,
        green_shift: 8,
        blue_shift: 16,
    };

    /// 16 bpp, depth 16, little-endian RGB 5-6-5.
    pub const RGB565: Self = Self {
        bits_per_pixel: 16,
        depth: 16,
        big_endian: false,
        true_colour: true,
        red_max: 31,
        green_max: 63,
        blue_max: 31,
        red_shift: 11,
        green_shift: 5,
        blue_shift: 0,
    };

    /// 8 bpp true colour, 3 bits red, 3 bits green, 2 bits blue (blue in the top bits, the
    /// layout TigerVNC and noVNC call BGR233).
    pub const BGR233: Self = Self {
        bits_per_pixel: 8,
        depth: 8,
        big_endian: false,
        true_colour: true,
        red_max: 7,
        green_max: 7,
        blue_max: 3,
        red_shift: 0,
        green_shift: 3,
        blue_shift: 6,
    };

    /// 8 bpp colour-mapped: pixel values index a colour map set by `SetColourMapEntries`.
    pub const COLOUR_MAP8: Self = Self {
        bits_per_pixel: 8,
        depth: 8,
        big_endian: false,
        true_colour: false,
        red_max: 0,
        green_max: 0,
        blue_max: 0,
        red_shift: 0,
        green_shift: 0,
        blue_shift: 0,
    };

    /// Bytes per pixel on the wire (1, 2 or 4 for a valid format).
    pub const fn bytes_per_pixel(&self) -> usize {
        (self.bits_per_pixel / 8) as usize
    }

    /// Parses the 16-byte wire form. Any non-zero flag byte counts as true (x11vnc sends 255).
    pub fn from_bytes(b: &[u8; PIXEL_FORMAT_LEN]) -> Self {
        Self {
            bits_per_pixel: b[0],
            depth: b[1],
            big_endian: b[2] != 0,
            true_colour: b[3] != 0,
            red_max: u16::from_be_bytes([b[4], b[5]]),
            green_max: u16::from_be_bytes([b[6], b[7]]),
            blue_max: u16::from_be_bytes([b[8], b[9]]),
            red_shift: b[10],
            green_shift: b[11],
            blue_shift: b[12],
        }
    }

    /// Serialises to the 16-byte wire form (three bytes of zero padding at the end).
    pub fn to_bytes(&self) -> [u8; PIXEL_FORMAT_LEN] {
        let r = self.red_max.to_be_bytes();
        let g = self.green_max.to_be_bytes();
        let bl = self.blue_max.to_be_bytes();
        [
            self.bits_per_pixel,
            self.depth,
            u8::from(self.big_endian),
            u8::from(self.true_colour),
            r[0],
            r[1],
            g[0],
            g[1],
            bl[0],
            bl[1],
            self.red_shift,
            self.green_shift,
            self.blue_shift,
            0,
            0,
            0,
        ]
    }

    /// Checks that pixels in this format can be decoded: 8/16/32 bpp, and for true colour
    /// non-zero maxima of the form `2^n - 1` whose bits fit inside the pixel.
    pub fn validate(&self) -> Result<(), PixelFormatError> {
        if !matches!(self.bits_per_pixel, 8 | 16 | 32) {
            return Err(PixelFormatError::BitsPerPixel(self.bits_per_pixel));
        }
        if !self.true_colour {
            return Ok(());
        }
        for (name, max, shift) in [
            ("red", self.red_max, self.red_shift),
            ("green", self.green_max, self.green_shift),
            ("blue", self.blue_max, self.blue_shift),
        ] {
            // A max of 2^n - 1 has all low bits set, so max & (max + 1) == 0.
            let m = u32::from(max);
            if m == 0 || m & (m + 1) != 0 {
                return Err(PixelFormatError::ComponentMax {
                    component: name,
                    max,
                });
            }
            let bits = 32 - m.leading_zeros();
            if u32::from(shift) + bits > u32::from(self.bits_per_pixel) {
                return Err(PixelFormatError::ComponentShift {
                    component: name,
                    shift,
                    bits_per_pixel: self.bits_per_pixel,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_golden_bytes() {
        // Re-derived from the spec's table: bpp, depth, big-endian, true-colour, 3×U16 max,
        // 3×U8 shift, 3 padding.
        let b = PixelFormat::RGBX8888.to_bytes();
        assert_eq!(b, [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0]);
        assert_eq!(PixelFormat::from_bytes(&b), PixelFormat::RGBX8888);
        for pf in [
            PixelFormat::RGB565,
            PixelFormat::BGR233,
            PixelFormat::COLOUR_MAP8,
        ] {
            assert_eq!(PixelFormat::from_bytes(&pf.to_bytes()), pf);
            pf.validate().unwrap();
        }
    }

    #[test]
    fn non_zero_flags_are_true() {
        let mut b = PixelFormat::RGBX8888.to_bytes();
        b[3] = 255;
        b[2] = 7;
        let pf = PixelFormat::from_bytes(&b);
        assert!(pf.true_colour && pf.big_endian);
    }

    #[test]
    fn invalid_formats_are_named() {
        let mut pf = PixelFormat::RGBX8888;
        pf.bits_per_pixel = 24;
        assert_eq!(pf.validate(), Err(PixelFormatError::BitsPerPixel(24)));
        let mut pf = PixelFormat::RGBX8888;
        pf.green_max = 0;
        assert!(matches!(
            pf.validate(),
            Err(PixelFormatError::ComponentMax {
                component: "green",
                ..
            })
        ));
        let mut pf = PixelFormat::RGB565;
        pf.red_shift = 12;
        assert!(matches!(
            pf.validate(),
            Err(PixelFormatError::ComponentShift {
                component: "red",
                ..
            })
        ));
        let mut pf = PixelFormat::RGBX8888;
        pf.blue_max = 100;
        assert!(pf.validate().is_err());
    }
}
