//! Binary PPM (P6, maxval 255): the simplest lossless RGB format, read by most image tools.

use crate::image::Image;

/// Errors from [`read_ppm`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PpmError {
    /// The data does not start with `P6`.
    #[error("PPM: bad magic {0:?}, only binary P6 is supported")]
    Magic(String),
    /// A header field is missing, not a number or out of range.
    #[error("PPM: bad or missing {0} in header")]
    Header(&'static str),
    /// The maxval is not 255 (16-bit and odd ranges are not supported).
    #[error("PPM: maxval {0} not supported, only 255")]
    Maxval(u32),
    /// Fewer pixel bytes than width × height × 3.
    #[error("PPM: truncated pixel data, need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the header promises.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
}

/// Reads a binary P6 PPM with maxval 255 (comments in the header are allowed). Bytes after the
/// first image are ignored.
pub fn read_ppm(data: &[u8]) -> Result<Image, PpmError> {
    let mut pos = 0;
    let magic = data.get(..2).unwrap_or(data);
    if magic != b"P6" {
        return Err(PpmError::Magic(String::from_utf8_lossy(magic).into_owned()));
    }
    pos += 2;
    let width = header_number(data, &mut pos, "width")?;
    let height = header_number(data, &mut pos, "height")?;
    let maxval = header_number(data, &mut pos, "maxval")?;
    if maxval != 255 {
        return Err(PpmError::Maxval(maxval));
    }
    // Exactly one whitespace byte separates the header from the samples.
    match data.get(pos) {
        Some(b) if b.is_ascii_whitespace() => pos += 1,
        _ => return Err(PpmError::Header("separator after maxval")),
    }
    let needed = (width as usize)
        .checked_mul(height as usize)
        .and_then(|n| n.checked_mul(3))
        .ok_or(PpmError::Header("size"))?;
    let available = data.len() - pos;
    if available < needed {
        return Err(PpmError::Truncated { needed, available });
    }
    let rgba = data[pos..pos + needed]
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    Ok(Image {
        width,
        height,
        rgba,
    })
}

fn header_number(data: &[u8], pos: &mut usize, what: &'static str) -> Result<u32, PpmError> {
    // Skip whitespace and `#` comments, which may appear between any two header fields.
    loop {
        match data.get(*pos) {
            Some(b) if b.is_ascii_whitespace() => *pos += 1,
            Some(b'#') => {
                while data.get(*pos).is_some_and(|&b| b != b'\n') {
                    *pos += 1;
                }
            }
            _ => break,
        }
    }
    let start = *pos;
    while data.get(*pos).is_some_and(u8::is_ascii_digit) {
        *pos += 1;
    }
    std::str::from_utf8(&data[start..*pos])
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|&n| n > 0)
        .ok_or(PpmError::Header(what))
}

/// Writes `img` as binary P6 with maxval 255 (alpha is dropped).
pub fn write_ppm(img: &Image) -> Vec<u8> {
    let mut out = format!("P6\n{} {}\n255\n", img.width, img.height).into_bytes();
    out.reserve(img.rgba.len() / 4 * 3);
    for p in img.rgba.chunks_exact(4) {
        out.extend_from_slice(&p[..3]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern;

    #[test]
    fn round_trip() {
        let img = pattern::photo_like(17, 5, 2);
        assert_eq!(read_ppm(&write_ppm(&img)).unwrap(), img);
    }

    #[test]
    fn comments_and_whitespace() {
        let mut d = b"P6 # made by hand\n2\t1\n# max\n255\n".to_vec();
        d.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        let img = read_ppm(&d).unwrap();
        assert_eq!(img.rgba, vec![1, 2, 3, 255, 4, 5, 6, 255]);
    }

    #[test]
    fn rejects_other_variants() {
        assert_eq!(
            read_ppm(b"P3\n1 1\n255\n0 0 0").unwrap_err(),
            PpmError::Magic("P3".into())
        );
        assert_eq!(
            read_ppm(b"P6\n1 1\n65535\n").unwrap_err(),
            PpmError::Maxval(65535)
        );
        assert_eq!(
            read_ppm(b"P6\n1 1\n15\n").unwrap_err(),
            PpmError::Maxval(15)
        );
        assert_eq!(
            read_ppm(b"P6\nx 1\n255\n").unwrap_err(),
            PpmError::Header("width")
        );
        assert_eq!(read_ppm(b"P6\n1").unwrap_err(), PpmError::Header("height"));
        assert_eq!(read_ppm(b"P").unwrap_err(), PpmError::Magic("P".into()));
        assert_eq!(
            read_ppm(b"P6\n2 2\n255\n\x01\x02").unwrap_err(),
            PpmError::Truncated {
                needed: 12,
                available: 2
            }
        );
        assert_eq!(
            read_ppm(b"P6\n99999999999 2\n255\n").unwrap_err(),
            PpmError::Header("width")
        );
    }
}
