//! An RGBA8 image with the comparison helpers pixel tests need, plus PNG input and output.

use std::fmt;
use std::fs;
use std::io::Cursor;
use std::path::Path;

/// Errors from reading or writing PNG files.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file could not be read or written.
    #[error("PNG file {path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The bytes are not a PNG the decoder accepts.
    #[error("PNG decode: {0}")]
    Decode(#[from] png::DecodingError),
    /// The encoder refused the image.
    #[error("PNG encode: {0}")]
    Encode(#[from] png::EncodingError),
    /// The PNG uses a layout this crate does not convert to RGBA8.
    #[error("PNG layout not supported: {0}")]
    Unsupported(String),
}

/// An RGBA8 image, rows top to bottom, 4 bytes a pixel, alpha always 255 for opaque content.
///
/// The fields are public so tests can build or inspect buffers directly; the helpers assume
/// `rgba.len() == width * height * 4`.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel bytes: R, G, B, A for each pixel, row-major, no padding.
    pub rgba: Vec<u8>,
}

/// Where two images first differ, as reported by [`Image::first_diff`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelDiff {
    /// Column of the differing pixel.
    pub x: u32,
    /// Row of the differing pixel.
    pub y: u32,
    /// The pixel in `self`, `None` when the position lies outside `self`.
    pub left: Option<[u8; 4]>,
    /// The pixel in the other image, `None` when the position lies outside it.
    pub right: Option<[u8; 4]>,
}

impl fmt::Display for PixelDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pixel ({}, {}): {:?} vs {:?}",
            self.x, self.y, self.left, self.right
        )
    }
}

impl fmt::Debug for Image {
    // A megabyte of bytes in an assertion message helps nobody; show the shape and a digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digest = self.rgba.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        write!(
            f,
            "Image {{ {}x{}, {} bytes, fnv1a {:016x} }}",
            self.width,
            self.height,
            self.rgba.len(),
            digest
        )
    }
}

impl Image {
    /// An opaque black image.
    pub fn new(width: u32, height: u32) -> Self {
        Self::solid(width, height, [0, 0, 0])
    }

    /// An image filled with one opaque colour.
    pub fn solid(width: u32, height: u32, rgb: [u8; 3]) -> Self {
        let px = [rgb[0], rgb[1], rgb[2], 255];
        let rgba = px.repeat(pixel_count(width, height));
        Self {
            width,
            height,
            rgba,
        }
    }

    /// An image whose pixel at `(x, y)` is `f(x, y)` (RGB, alpha 255).
    pub fn from_fn(width: u32, height: u32, mut f: impl FnMut(u32, u32) -> [u8; 3]) -> Self {
        let mut rgba = Vec::with_capacity(pixel_count(width, height) * 4);
        for y in 0..height {
            for x in 0..width {
                let [r, g, b] = f(x, y);
                rgba.extend_from_slice(&[r, g, b, 255]);
            }
        }
        Self {
            width,
            height,
            rgba,
        }
    }

    fn offset(&self, x: u32, y: u32) -> usize {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside {}x{} image",
            self.width,
            self.height
        );
        (y as usize * self.width as usize + x as usize) * 4
    }

    /// The RGBA value at `(x, y)`.
    ///
    /// # Panics
    /// If `(x, y)` lies outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let o = self.offset(x, y);
        [
            self.rgba[o],
            self.rgba[o + 1],
            self.rgba[o + 2],
            self.rgba[o + 3],
        ]
    }

    /// Sets the RGBA value at `(x, y)`.
    ///
    /// # Panics
    /// If `(x, y)` lies outside the image.
    pub fn set_pixel(&mut self, x: u32, y: u32, rgba: [u8; 4]) {
        let o = self.offset(x, y);
        self.rgba[o..o + 4].copy_from_slice(&rgba);
    }

    /// A copy of the `w`×`h` rectangle whose top-left corner is `(x, y)`.
    ///
    /// # Panics
    /// If the rectangle does not lie entirely inside the image: a test asking for pixels that
    /// do not exist has a bug, and silently clamping would hide it.
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Self {
        let fits = x.checked_add(w).is_some_and(|r| r <= self.width)
            && y.checked_add(h).is_some_and(|b| b <= self.height);
        assert!(
            fits,
            "crop {w}x{h}+{x}+{y} outside {}x{} image",
            self.width, self.height
        );
        let mut rgba = Vec::with_capacity(pixel_count(w, h) * 4);
        let stride = self.width as usize * 4;
        for row in y..y + h {
            let start = row as usize * stride + x as usize * 4;
            rgba.extend_from_slice(&self.rgba[start..start + w as usize * 4]);
        }
        Self {
            width: w,
            height: h,
            rgba,
        }
    }

    /// Copies `src` into this image with its top-left corner at `(x, y)`, clipping whatever
    /// falls outside (so a window partly off screen can be modelled).
    pub fn blit(&mut self, src: &Self, x: i64, y: i64) {
        for sy in 0..src.height {
            let dy = y + i64::from(sy);
            if dy < 0 || dy >= i64::from(self.height) {
                continue;
            }
            for sx in 0..src.width {
                let dx = x + i64::from(sx);
                if dx < 0 || dx >= i64::from(self.width) {
                    continue;
                }
                // Both coordinates were range-checked against u32 sizes just above.
                self.set_pixel(dx as u32, dy as u32, src.pixel(sx, sy));
            }
        }
    }

    /// Mean absolute error per RGB channel and the largest channel error, for lossy
    /// encodings (JPEG). The images must be the same size.
    ///
    /// # Panics
    /// If the sizes differ.
    pub fn error_stats(&self, other: &Self) -> (f64, u8) {
        assert_eq!(
            (self.width, self.height),
            (other.width, other.height),
            "error_stats: sizes differ"
        );
        let mut sum = 0u64;
        let mut max = 0u8;
        for (g, w) in self.rgba.chunks_exact(4).zip(other.rgba.chunks_exact(4)) {
            for c in 0..3 {
                let d = g[c].abs_diff(w[c]);
                sum += u64::from(d);
                max = max.max(d);
            }
        }
        let n = (u64::from(self.width) * u64::from(self.height) * 3).max(1);
        (sum as f64 / n as f64, max)
    }

    /// Number of pixels whose RGB differs (alpha is ignored: the X side has none).
    ///
    /// When the sizes differ, the overlapping area is compared and every pixel of either image
    /// outside it counts as different, so equal-looking crops of the wrong size never pass.
    pub fn diff_count(&self, other: &Self) -> usize {
        let w = self.width.min(other.width);
        let h = self.height.min(other.height);
        let mut count = 0;
        for y in 0..h {
            for x in 0..w {
                if !same_rgb(self.pixel(x, y), other.pixel(x, y)) {
                    count += 1;
                }
            }
        }
        let overlap = pixel_count(w, h);
        count
            + (pixel_count(self.width, self.height) - overlap)
            + (pixel_count(other.width, other.height) - overlap)
    }

    /// The first differing pixel in row-major order (RGB only), or `None` if the images match.
    ///
    /// With different sizes and a matching overlap, the first position covered by only one of
    /// the two images is reported.
    pub fn first_diff(&self, other: &Self) -> Option<PixelDiff> {
        let w = self.width.max(other.width);
        let h = self.height.max(other.height);
        for y in 0..h {
            for x in 0..w {
                let left = self.get(x, y);
                let right = other.get(x, y);
                let differs = match (left, right) {
                    (Some(a), Some(b)) => !same_rgb(a, b),
                    (None, None) => false,
                    _ => true,
                };
                if differs {
                    return Some(PixelDiff { x, y, left, right });
                }
            }
        }
        None
    }

    /// The pixel at `(x, y)`, or `None` outside the image.
    pub fn get(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        (x < self.width && y < self.height).then(|| self.pixel(x, y))
    }

    /// Number of distinct RGB colours, a cheap "does this image have real variety" check.
    pub fn distinct_colors(&self) -> usize {
        let mut seen: Vec<u32> = self
            .rgba
            .chunks_exact(4)
            .map(|p| u32::from_be_bytes([0, p[0], p[1], p[2]]))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// Encodes the image as an 8-bit RGBA PNG.
    pub fn to_png_bytes(&self) -> Result<Vec<u8>, ImageError> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.rgba)?;
        writer.finish()?;
        Ok(out)
    }

    /// Writes the image as an 8-bit RGBA PNG file (handy for looking at a failing test).
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<(), ImageError> {
        let path = path.as_ref();
        let bytes = self.to_png_bytes()?;
        fs::write(path, bytes).map_err(|source| ImageError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a PNG file of any colour type and bit depth into RGBA8.
    pub fn read_png(path: impl AsRef<Path>) -> Result<Self, ImageError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| ImageError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_png_bytes(&bytes)
    }

    /// Decodes PNG bytes of any colour type and bit depth into RGBA8.
    pub fn from_png_bytes(bytes: &[u8]) -> Result<Self, ImageError> {
        let mut decoder = png::Decoder::new(Cursor::new(bytes));
        // Expand palettes and low bit depths and strip 16-bit samples so only 8-bit gray,
        // gray+alpha, RGB and RGBA remain to convert below.
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info()?;
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| ImageError::Unsupported("image too large".into()))?;
        let mut buf = vec![0; size];
        let info = reader.next_frame(&mut buf)?;
        buf.truncate(info.buffer_size());
        if info.bit_depth != png::BitDepth::Eight {
            return Err(ImageError::Unsupported(format!(
                "bit depth {:?}",
                info.bit_depth
            )));
        }
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::Rgb => buf
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            png::ColorType::GrayscaleAlpha => buf
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
            other => return Err(ImageError::Unsupported(format!("colour type {other:?}"))),
        };
        Ok(Self {
            width: info.width,
            height: info.height,
            rgba,
        })
    }
}

fn same_rgb(a: [u8; 4], b: [u8; 4]) -> bool {
    a[..3] == b[..3]
}

fn pixel_count(width: u32, height: u32) -> usize {
    width as usize * height as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Image {
        Image::from_fn(5, 4, |x, y| [x as u8 * 40, y as u8 * 60, (x + y) as u8])
    }

    #[test]
    fn pixel_and_crop() {
        let img = sample();
        assert_eq!(img.pixel(3, 2), [120, 120, 5, 255]);
        let c = img.crop(1, 1, 3, 2);
        assert_eq!((c.width, c.height), (3, 2));
        assert_eq!(c.pixel(0, 0), img.pixel(1, 1));
        assert_eq!(c.pixel(2, 1), img.pixel(3, 2));
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn crop_outside_panics() {
        let _ = sample().crop(3, 0, 3, 1);
    }

    #[test]
    fn diff_ignores_alpha_and_counts() {
        let a = sample();
        let mut b = a.clone();
        assert_eq!(a.diff_count(&b), 0);
        assert_eq!(a.first_diff(&b), None);
        b.set_pixel(0, 0, [0, 0, 0, 7]);
        assert_eq!(a.diff_count(&b), 0, "alpha must not count");
        b.set_pixel(4, 3, [1, 2, 3, 255]);
        b.set_pixel(2, 1, [9, 9, 9, 255]);
        assert_eq!(a.diff_count(&b), 2);
        let d = a.first_diff(&b).unwrap();
        assert_eq!((d.x, d.y), (2, 1));
        assert_eq!(d.right, Some([9, 9, 9, 255]));
    }

    #[test]
    fn diff_of_different_sizes() {
        let a = sample();
        let b = a.crop(0, 0, 5, 3);
        assert_eq!(a.diff_count(&b), 5);
        let d = a.first_diff(&b).unwrap();
        assert_eq!((d.x, d.y, d.right), (0, 3, None));
    }

    #[test]
    fn blit_clips() {
        let mut dst = Image::new(4, 4);
        dst.blit(&Image::solid(3, 3, [1, 2, 3]), 2, -1);
        assert_eq!(dst.pixel(2, 0), [1, 2, 3, 255]);
        assert_eq!(dst.pixel(3, 1), [1, 2, 3, 255]);
        assert_eq!(dst.pixel(3, 2), [0, 0, 0, 255]);
        assert_eq!(dst.pixel(1, 0), [0, 0, 0, 255]);
    }

    #[test]
    fn png_round_trip() {
        let img = sample();
        let bytes = img.to_png_bytes().unwrap();
        assert_eq!(Image::from_png_bytes(&bytes).unwrap(), img);
        let dir = crate::tempdir::TempDir::new("testkit-png");
        let path = dir.join("a.png");
        img.write_png(&path).unwrap();
        assert_eq!(Image::read_png(&path).unwrap(), img);
    }

    #[test]
    fn png_rgb_and_gray_expand() {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, 2, 1);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().unwrap();
            w.write_image_data(&[10, 200]).unwrap();
        }
        let img = Image::from_png_bytes(&out).unwrap();
        assert_eq!(img.rgba, vec![10, 10, 10, 255, 200, 200, 200, 255]);
        assert!(Image::from_png_bytes(b"not a png").is_err());
    }

    #[test]
    fn distinct() {
        assert_eq!(Image::solid(3, 3, [1, 1, 1]).distinct_colors(), 1);
        assert_eq!(sample().distinct_colors(), 20);
    }
}
