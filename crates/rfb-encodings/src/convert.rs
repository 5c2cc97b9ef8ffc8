//! Conversion from the server's pixel format (true colour or colour map) to RGBA.

use crate::error::PixelFormatError;
use crate::pixel_format::PixelFormat;

/// Largest colour map a `U16` first-colour plus count can address.
pub const MAX_COLOUR_MAP_ENTRIES: usize = 65536;

/// Turns wire pixels into RGBA (alpha 255), holding the per-connection colour map.
///
/// Component scaling uses per-channel lookup tables built once per pixel format, so the per-pixel
/// work is a load, a shift and three table look-ups; the common RGBX8888 format is a plain copy.
#[derive(Debug, Clone)]
pub struct PixelConverter {
    format: PixelFormat,
    kind: Kind,
    red: Vec<u8>,
    green: Vec<u8>,
    blue: Vec<u8>,
    /// Colour map as RGB8, grown on demand up to [`MAX_COLOUR_MAP_ENTRIES`].
    colour_map: Vec<[u8; 3]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Little-endian 32 bpp with R, G, B in bytes 0, 1, 2: copy and set alpha.
    Rgbx,
    TrueColour,
    ColourMap,
}

/// Scales a component in `0..=max` to `0..=255`, rounding to nearest.
pub const fn expand_component(value: u32, max: u32) -> u8 {
    if max == 0 {
        return 0;
    }
    let v = if value > max { max } else { value };
    ((v * 255 + max / 2) / max) as u8
}

fn table(max: u16) -> Vec<u8> {
    (0..=u32::from(max))
        .map(|v| expand_component(v, u32::from(max)))
        .collect()
}

impl PixelConverter {
    /// Builds a converter for `format`, which is validated first.
    pub fn new(format: PixelFormat) -> Result<Self, PixelFormatError> {
        format.validate()?;
        let kind = if !format.true_colour {
            Kind::ColourMap
        } else if format == PixelFormat::RGBX8888
            || (format.bits_per_pixel == 32
                && !format.big_endian
                && format.red_max == 255
                && format.green_max == 255
                && format.blue_max == 255
                && format.red_shift == 0
                && format.green_shift == 8
                && format.blue_shift == 16)
        {
            Kind::Rgbx
        } else {
            Kind::TrueColour
        };
        let (red, green, blue) = if kind == Kind::TrueColour {
            (
                table(format.red_max),
                table(format.green_max),
                table(format.blue_max),
            )
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
        Ok(Self {
            format,
            kind,
            red,
            green,
            blue,
            colour_map: Vec::new(),
        })
    }

    /// The pixel format being converted.
    pub fn format(&self) -> &PixelFormat {
        &self.format
    }

    /// True for the RGBX layout (32 bpp little-endian, red in the lowest byte), where a
    /// pixel's first three bytes are already R, G, B.
    pub(crate) fn is_rgbx(&self) -> bool {
        self.kind == Kind::Rgbx
    }

    /// Bytes per wire pixel.
    pub fn bytes_per_pixel(&self) -> usize {
        self.format.bytes_per_pixel()
    }

    /// Replaces the pixel format, keeping the colour map (the server may keep using it).
    pub fn set_format(&mut self, format: PixelFormat) -> Result<(), PixelFormatError> {
        let map = core::mem::take(&mut self.colour_map);
        *self = Self::new(format)?;
        self.colour_map = map;
        Ok(())
    }

    /// Applies `SetColourMapEntries`: `rgb16` holds `(red, green, blue)` in 16-bit intensities
    /// for entries `first..first + rgb16.len()`. Entries past the addressable range are an error.
    pub fn set_colour_map_entries(
        &mut self,
        first: u16,
        rgb16: &[[u16; 3]],
    ) -> Result<(), PixelFormatError> {
        let end = usize::from(first) + rgb16.len();
        if end > MAX_COLOUR_MAP_ENTRIES {
            return Err(PixelFormatError::ColourMapRange {
                first,
                count: rgb16.len(),
            });
        }
        if self.colour_map.len() < end {
            self.colour_map.resize(end, [0, 0, 0]);
        }
        for (slot, c) in self.colour_map[usize::from(first)..end]
            .iter_mut()
            .zip(rgb16)
        {
            // 16-bit intensities to 8 bits by rounding: 0xFFFF → 255, 0x8080 → 128.
            *slot = c.map(|v| expand_component(u32::from(v), 65535));
        }
        Ok(())
    }

    /// Reads one wire pixel value from the start of `src` (which holds at least one pixel).
    #[inline]
    fn read_value(&self, src: &[u8]) -> u32 {
        match (self.format.bits_per_pixel, self.format.big_endian) {
            (8, _) => u32::from(src[0]),
            (16, false) => u32::from(u16::from_le_bytes([src[0], src[1]])),
            (16, true) => u32::from(u16::from_be_bytes([src[0], src[1]])),
            (_, false) => u32::from_le_bytes([src[0], src[1], src[2], src[3]]),
            (_, true) => u32::from_be_bytes([src[0], src[1], src[2], src[3]]),
        }
    }

    /// Converts one pixel value (already read from the wire) to RGBA.
    #[inline]
    pub fn value_to_rgba(&self, value: u32) -> [u8; 4] {
        match self.kind {
            Kind::ColourMap => match self.colour_map.get(value as usize) {
                Some(&[r, g, b]) => [r, g, b, 255],
                // An index the server never defined draws black, as X does for unset cells.
                None => [0, 0, 0, 255],
            },
            Kind::Rgbx => {
                let b = value.to_le_bytes();
                [b[0], b[1], b[2], 255]
            }
            Kind::TrueColour => {
                let f = &self.format;
                let r = (value >> f.red_shift) & u32::from(f.red_max);
                let g = (value >> f.green_shift) & u32::from(f.green_max);
                let b = (value >> f.blue_shift) & u32::from(f.blue_max);
                // Masked by max, so the index is inside the table built from the same max.
                [
                    self.red[r as usize],
                    self.green[g as usize],
                    self.blue[b as usize],
                    255,
                ]
            }
        }
    }

    /// Converts one wire pixel (the first `bytes_per_pixel` bytes of `src`) to RGBA.
    #[inline]
    pub fn pixel_to_rgba(&self, src: &[u8]) -> [u8; 4] {
        self.value_to_rgba(self.read_value(src))
    }

    /// Converts whole pixels from `src` into `dst` (4 bytes each). Converts
    /// `min(src.len() / bpp, dst.len() / 4)` pixels and returns that count.
    pub fn convert_run(&self, src: &[u8], dst: &mut [u8]) -> usize {
        let bpp = self.bytes_per_pixel();
        let n = (src.len() / bpp).min(dst.len() / 4);
        if self.kind == Kind::Rgbx {
            for (s, d) in src.chunks_exact(4).zip(dst.chunks_exact_mut(4)).take(n) {
                d[..3].copy_from_slice(&s[..3]);
                d[3] = 255;
            }
        } else {
            for (s, d) in src.chunks_exact(bpp).zip(dst.chunks_exact_mut(4)).take(n) {
                d.copy_from_slice(&self.pixel_to_rgba(s));
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgbx_is_a_copy() {
        let c = PixelConverter::new(PixelFormat::RGBX8888).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(c.convert_run(&[1, 2, 3, 99, 4, 5, 6, 0, 7], &mut out), 2);
        assert_eq!(out, [1, 2, 3, 255, 4, 5, 6, 255]);
    }

    #[test]
    fn big_endian_bgr() {
        // Xvnc's native format on a big-endian host: 32 bpp, red at shift 16.
        let pf = PixelFormat {
            big_endian: true,
            red_shift: 16,
            green_shift: 8,
            blue_shift: 0,
            ..PixelFormat::RGBX8888
        };
        let c = PixelConverter::new(pf).unwrap();
        assert_eq!(
            c.pixel_to_rgba(&[0, 0x11, 0x22, 0x33]),
            [0x11, 0x22, 0x33, 255]
        );
    }

    #[test]
    fn rgb565_expands_to_full_range() {
        let c = PixelConverter::new(PixelFormat::RGB565).unwrap();
        assert_eq!(
            c.pixel_to_rgba(&0xFFFFu16.to_le_bytes()),
            [255, 255, 255, 255]
        );
        assert_eq!(c.pixel_to_rgba(&0xF800u16.to_le_bytes()), [255, 0, 0, 255]);
        assert_eq!(c.pixel_to_rgba(&0x07E0u16.to_le_bytes()), [0, 255, 0, 255]);
        // 16 of 31 rounds to 132.
        assert_eq!(c.pixel_to_rgba(&(16u16 << 11).to_le_bytes())[0], 132);
    }

    #[test]
    fn bgr233() {
        let c = PixelConverter::new(PixelFormat::BGR233).unwrap();
        assert_eq!(c.pixel_to_rgba(&[0b11_000_111]), [255, 0, 255, 255]);
        assert_eq!(c.pixel_to_rgba(&[0b00_111_000]), [0, 255, 0, 255]);
    }

    #[test]
    fn colour_map_lookup_and_range() {
        let mut c = PixelConverter::new(PixelFormat::COLOUR_MAP8).unwrap();
        c.set_colour_map_entries(10, &[[0xFFFF, 0, 0x8080]])
            .unwrap();
        assert_eq!(c.pixel_to_rgba(&[10]), [255, 0, 128, 255]);
        assert_eq!(c.pixel_to_rgba(&[11]), [0, 0, 0, 255]);
        assert!(c.set_colour_map_entries(65535, &[[0; 3], [0; 3]]).is_err());
        // The map survives a format change.
        c.set_format(PixelFormat::COLOUR_MAP8).unwrap();
        assert_eq!(c.pixel_to_rgba(&[10]), [255, 0, 128, 255]);
    }
}
