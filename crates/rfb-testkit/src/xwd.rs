//! X Window Dump (XWD, file version 7): the format `xwd` writes and `xwud` displays.
//!
//! Layout, all header and colour fields big-endian:
//!
//! ```text
//! 100-byte header: 25 × u32 (see XwdHeader, fields in file order)
//! window name:     header_size - 100 bytes, NUL-terminated
//! colours:         ncolors × 12 bytes: pixel u32, red u16, green u16, blue u16, flags u8, pad u8
//! image:           pixmap_height rows of bytes_per_line bytes, pixels in `byte_order`
//! ```
//!
//! [`parse`] reads ZPixmap dumps at 8, 16, 24 and 32 bits per pixel in either byte order.
//! TrueColor and DirectColor pixels are split with the masks and scaled to 8 bits with the
//! formula the X server uses for its own colormaps (so a decoded pixel equals what
//! `XQueryColors` would report); the colormap classes (StaticGray, GrayScale, StaticColor,
//! PseudoColor) are looked up in the dump's colour entries. [`write_xwd`] and
//! [`write_xwd_with`] produce TrueColor dumps that `xwud` can show.

use std::collections::HashMap;
use std::fmt;

use crate::image::Image;

/// Size of the fixed part of the header.
pub const HEADER_LEN: usize = 100;
/// The only XWD version in use since X11R4.
pub const FILE_VERSION: u32 = 7;
/// `pixmap_format` value for ZPixmap (whole pixels stored together).
pub const Z_PIXMAP: u32 = 2;
/// Size of one colour entry.
pub const COLOR_LEN: usize = 12;

/// X visual classes as stored in `visual_class`.
pub mod visual_class {
    /// Fixed grey ramp, through the colormap.
    pub const STATIC_GRAY: u32 = 0;
    /// Writable grey ramp, through the colormap.
    pub const GRAY_SCALE: u32 = 1;
    /// Fixed colours, through the colormap.
    pub const STATIC_COLOR: u32 = 2;
    /// Writable palette, through the colormap (what 8-bit X servers offer).
    pub const PSEUDO_COLOR: u32 = 3;
    /// Pixel bits are the colour, split by the masks.
    pub const TRUE_COLOR: u32 = 4;
    /// Like TrueColor with per-component writable maps; decoded here like TrueColor.
    pub const DIRECT_COLOR: u32 = 5;
}

/// Errors from [`parse`] and [`write_xwd_with`]; each names the field or part that was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XwdError {
    /// The data ends before a part the header promises.
    #[error(
        "XWD truncated: {what} needs {needed} bytes at offset {offset}, but the file has {len}"
    )]
    Truncated {
        /// Which part was cut short: "header", "window name", "colormap" or "image".
        what: &'static str,
        /// Where that part starts.
        offset: usize,
        /// How many bytes it needs.
        needed: usize,
        /// Total length of the input.
        len: usize,
    },
    /// `header_size` is smaller than the fixed header.
    #[error("XWD header_size {0} is smaller than the fixed 100-byte header")]
    HeaderSize(u32),
    /// `file_version` is not 7 (older versions, or not an XWD file at all).
    #[error("XWD file_version {0} is not 7 (not an X11 XWD file?)")]
    Version(u32),
    /// `pixmap_format` is not ZPixmap.
    #[error("XWD pixmap_format {0} not supported (only 2 = ZPixmap)")]
    PixmapFormat(u32),
    /// `byte_order` is neither LSBFirst nor MSBFirst.
    #[error("XWD byte_order {0} is neither 0 (LSBFirst) nor 1 (MSBFirst)")]
    ByteOrder(u32),
    /// `bits_per_pixel` is not 8, 16, 24 or 32.
    #[error("XWD bits_per_pixel {0} not supported (8, 16, 24 or 32)")]
    BitsPerPixel(u32),
    /// `pixmap_depth` is zero or larger than `bits_per_pixel`.
    #[error("XWD pixmap_depth {depth} does not fit in bits_per_pixel {bits_per_pixel}")]
    Depth {
        /// The header's depth.
        depth: u32,
        /// The header's bits per pixel.
        bits_per_pixel: u32,
    },
    /// `xoffset` is not zero (never written by `xwd` for ZPixmap).
    #[error("XWD xoffset {0} not supported (only 0)")]
    XOffset(u32),
    /// `visual_class` is not one of the six X classes.
    #[error("XWD visual_class {0} is not an X visual class (0..=5)")]
    VisualClass(u32),
    /// A TrueColor/DirectColor mask is empty, has holes or does not fit in the pixel.
    #[error(
        "XWD {channel} mask {mask:#x} is empty, not contiguous or wider than {bits_per_pixel} bits"
    )]
    Mask {
        /// "red", "green" or "blue".
        channel: &'static str,
        /// The offending mask.
        mask: u32,
        /// The pixel size it must fit in.
        bits_per_pixel: u32,
    },
    /// `bits_per_rgb` is outside 1..=16, so X's colour scaling is undefined.
    #[error("XWD bits_per_rgb {0} outside 1..=16")]
    BitsPerRgb(u32),
    /// `bytes_per_line` cannot hold a row of `pixmap_width` pixels.
    #[error(
        "XWD bytes_per_line {bytes_per_line} too small for {width} pixels at {bits_per_pixel} bpp"
    )]
    Stride {
        /// The header's stride.
        bytes_per_line: u32,
        /// The header's width.
        width: u32,
        /// The header's bits per pixel.
        bits_per_pixel: u32,
    },
    /// The sizes in the header overflow when multiplied out.
    #[error("XWD sizes overflow: {0}")]
    Overflow(&'static str),
    /// A colormap-class pixel value has no colour entry in the dump.
    #[error("XWD pixel value {pixel:#x} at ({x}, {y}) has no colour entry")]
    MissingColor {
        /// The pixel value.
        pixel: u32,
        /// Its column.
        x: u32,
        /// Its row.
        y: u32,
    },
}

/// Order of the bytes of one pixel in the image data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first (`byte_order` 0), what x86 X servers use.
    LsbFirst,
    /// Most significant byte first (`byte_order` 1).
    MsbFirst,
}

impl ByteOrder {
    fn from_field(v: u32) -> Result<Self, XwdError> {
        match v {
            0 => Ok(Self::LsbFirst),
            1 => Ok(Self::MsbFirst),
            other => Err(XwdError::ByteOrder(other)),
        }
    }

    fn field(self) -> u32 {
        match self {
            Self::LsbFirst => 0,
            Self::MsbFirst => 1,
        }
    }
}

/// The 25 header fields, in file order, named as in `XWDFileHeader` of `<X11/XWDFile.h>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XwdHeader {
    /// Bytes before the colour entries: 100 plus the NUL-terminated window name.
    pub header_size: u32,
    /// Always 7.
    pub file_version: u32,
    /// 2 = ZPixmap (0 = XYBitmap, 1 = XYPixmap are not supported).
    pub pixmap_format: u32,
    /// Significant bits per pixel.
    pub pixmap_depth: u32,
    /// Image width in pixels.
    pub pixmap_width: u32,
    /// Image height in pixels.
    pub pixmap_height: u32,
    /// Pixels to skip at the start of each row (0 for ZPixmap).
    pub xoffset: u32,
    /// 0 = LSBFirst, 1 = MSBFirst: byte order of stored pixels.
    pub byte_order: u32,
    /// Scanline unit in bits (only meaningful for XY formats).
    pub bitmap_unit: u32,
    /// Bit order within a unit (only meaningful for XY formats).
    pub bitmap_bit_order: u32,
    /// Row padding in bits (32 from xwd).
    pub bitmap_pad: u32,
    /// Storage bits per pixel.
    pub bits_per_pixel: u32,
    /// Row stride in bytes.
    pub bytes_per_line: u32,
    /// See [`visual_class`].
    pub visual_class: u32,
    /// Red bits of a TrueColor/DirectColor pixel.
    pub red_mask: u32,
    /// Green bits of a TrueColor/DirectColor pixel.
    pub green_mask: u32,
    /// Blue bits of a TrueColor/DirectColor pixel.
    pub blue_mask: u32,
    /// Significant bits per colour component in the colormap.
    pub bits_per_rgb: u32,
    /// Size of the visual's colormap.
    pub colormap_entries: u32,
    /// Number of colour entries stored after the header.
    pub ncolors: u32,
    /// Width of the dumped window.
    pub window_width: u32,
    /// Height of the dumped window.
    pub window_height: u32,
    /// X position of the dumped window.
    pub window_x: u32,
    /// Y position of the dumped window.
    pub window_y: u32,
    /// Border width of the dumped window.
    pub window_bdrwidth: u32,
}

impl XwdHeader {
    /// Decodes the fixed header from its 100 big-endian bytes.
    pub fn from_bytes(b: &[u8; HEADER_LEN]) -> Self {
        let f = |i: usize| u32::from_be_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
        Self {
            header_size: f(0),
            file_version: f(1),
            pixmap_format: f(2),
            pixmap_depth: f(3),
            pixmap_width: f(4),
            pixmap_height: f(5),
            xoffset: f(6),
            byte_order: f(7),
            bitmap_unit: f(8),
            bitmap_bit_order: f(9),
            bitmap_pad: f(10),
            bits_per_pixel: f(11),
            bytes_per_line: f(12),
            visual_class: f(13),
            red_mask: f(14),
            green_mask: f(15),
            blue_mask: f(16),
            bits_per_rgb: f(17),
            colormap_entries: f(18),
            ncolors: f(19),
            window_width: f(20),
            window_height: f(21),
            window_x: f(22),
            window_y: f(23),
            window_bdrwidth: f(24),
        }
    }

    /// Encodes the fixed header as 100 big-endian bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let fields = [
            self.header_size,
            self.file_version,
            self.pixmap_format,
            self.pixmap_depth,
            self.pixmap_width,
            self.pixmap_height,
            self.xoffset,
            self.byte_order,
            self.bitmap_unit,
            self.bitmap_bit_order,
            self.bitmap_pad,
            self.bits_per_pixel,
            self.bytes_per_line,
            self.visual_class,
            self.red_mask,
            self.green_mask,
            self.blue_mask,
            self.bits_per_rgb,
            self.colormap_entries,
            self.ncolors,
            self.window_width,
            self.window_height,
            self.window_x,
            self.window_y,
            self.window_bdrwidth,
        ];
        let mut out = [0; HEADER_LEN];
        for (chunk, v) in out.chunks_exact_mut(4).zip(fields) {
            chunk.copy_from_slice(&v.to_be_bytes());
        }
        out
    }
}

/// One colormap entry of a dump (16-bit components, as X stores them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XwdColor {
    /// The pixel value this entry describes.
    pub pixel: u32,
    /// Red, 0..=65535.
    pub red: u16,
    /// Green, 0..=65535.
    pub green: u16,
    /// Blue, 0..=65535.
    pub blue: u16,
    /// `DoRed | DoGreen | DoBlue` bits (7 when all are valid).
    pub flags: u8,
}

/// A parsed dump: the header as found, the window name, the colour entries and the pixels.
#[derive(Clone, Debug)]
pub struct Xwd {
    /// The fixed header.
    pub header: XwdHeader,
    /// The window name (bytes up to the first NUL, lossily decoded).
    pub window_name: String,
    /// The colour entries.
    pub colors: Vec<XwdColor>,
    /// The pixels converted to RGBA8.
    pub image: Image,
}

impl Xwd {
    /// The TrueColor pixel format of this dump, or `None` for the colormap classes.
    pub fn format(&self) -> Option<XwdFormat> {
        XwdFormat::from_header(&self.header)
    }
}

/// A TrueColor pixel layout: what [`write_xwd_with`] writes and what an X server displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XwdFormat {
    /// Significant bits per pixel (the X depth).
    pub depth: u32,
    /// Storage bits per pixel: 8, 16, 24 or 32.
    pub bits_per_pixel: u32,
    /// Byte order of stored pixels.
    pub byte_order: ByteOrder,
    /// Red bits of a pixel.
    pub red_mask: u32,
    /// Green bits of a pixel.
    pub green_mask: u32,
    /// Blue bits of a pixel.
    pub blue_mask: u32,
    /// Significant bits of each colour component in the X colormap (8 on every modern server).
    pub bits_per_rgb: u32,
}

impl XwdFormat {
    /// Depth 24 in 32-bit pixels, `0xff0000`/`0xff00`/`0xff`: TigerVNC Xvnc's default visual.
    pub const RGB888: Self = Self {
        depth: 24,
        bits_per_pixel: 32,
        byte_order: ByteOrder::LsbFirst,
        red_mask: 0xff_0000,
        green_mask: 0xff00,
        blue_mask: 0xff,
        bits_per_rgb: 8,
    };

    /// Depth 16 in 16-bit pixels, `0xf800`/`0x07e0`/`0x1f`: Xvnc's `-depth 16` visual.
    pub const RGB565: Self = Self {
        depth: 16,
        bits_per_pixel: 16,
        byte_order: ByteOrder::LsbFirst,
        red_mask: 0xf800,
        green_mask: 0x07e0,
        blue_mask: 0x1f,
        bits_per_rgb: 8,
    };

    /// The format of a TrueColor or DirectColor header, `None` for other classes or a header
    /// whose fields do not describe a usable TrueColor layout.
    pub fn from_header(h: &XwdHeader) -> Option<Self> {
        if h.visual_class != visual_class::TRUE_COLOR
            && h.visual_class != visual_class::DIRECT_COLOR
        {
            return None;
        }
        let f = Self {
            depth: h.pixmap_depth,
            bits_per_pixel: h.bits_per_pixel,
            byte_order: ByteOrder::from_field(h.byte_order).ok()?,
            red_mask: h.red_mask,
            green_mask: h.green_mask,
            blue_mask: h.blue_mask,
            bits_per_rgb: h.bits_per_rgb,
        };
        f.channels().ok().map(|_| f)
    }

    fn channels(&self) -> Result<[Channel; 3], XwdError> {
        check_bpp(self.bits_per_pixel)?;
        if self.depth == 0 || self.depth > self.bits_per_pixel {
            return Err(XwdError::Depth {
                depth: self.depth,
                bits_per_pixel: self.bits_per_pixel,
            });
        }
        if !(1..=16).contains(&self.bits_per_rgb) {
            return Err(XwdError::BitsPerRgb(self.bits_per_rgb));
        }
        Ok([
            Channel::new("red", self.red_mask, self.bits_per_pixel, self.bits_per_rgb)?,
            Channel::new(
                "green",
                self.green_mask,
                self.bits_per_pixel,
                self.bits_per_rgb,
            )?,
            Channel::new(
                "blue",
                self.blue_mask,
                self.bits_per_pixel,
                self.bits_per_rgb,
            )?,
        ])
    }

    /// The pixel value for an 8-bit colour: each component rounded to the nearest level.
    ///
    /// # Panics
    /// If the format is invalid (see [`write_xwd_with`] for the checked path).
    pub fn pixel_of(&self, rgb: [u8; 3]) -> u32 {
        let ch = self.channels().expect("valid XwdFormat");
        ch[0].quantize(rgb[0]) | ch[1].quantize(rgb[1]) | ch[2].quantize(rgb[2])
    }

    /// The 8-bit colour an X server with this visual reports for `pixel`.
    ///
    /// # Panics
    /// If the format is invalid.
    pub fn rgb_of(&self, pixel: u32) -> [u8; 3] {
        let ch = self.channels().expect("valid XwdFormat");
        [
            ch[0].expand(pixel),
            ch[1].expand(pixel),
            ch[2].expand(pixel),
        ]
    }

    /// What `img` looks like once stored in this format and read back: the exact pixels an X
    /// server with this visual holds after showing an image written by [`write_xwd_with`].
    ///
    /// # Panics
    /// If the format is invalid.
    pub fn displayed(&self, img: &Image) -> Image {
        let ch = self.channels().expect("valid XwdFormat");
        let mut out = img.clone();
        for px in out.rgba.chunks_exact_mut(4) {
            for (c, v) in ch.iter().zip(px.iter_mut()) {
                *v = c.expand(c.quantize(*v));
            }
            px[3] = 255;
        }
        out
    }
}

/// One TrueColor component: where its bits are and how X scales them to 8 bits.
#[derive(Clone, Debug)]
struct Channel {
    shift: u32,
    max: u32,
    /// Precomputed scaling for masks of up to 16 bits, the only ones real servers use.
    lut: Option<Vec<u8>>,
    bits_per_rgb: u32,
}

impl Channel {
    fn new(
        name: &'static str,
        mask: u32,
        bits_per_pixel: u32,
        bits_per_rgb: u32,
    ) -> Result<Self, XwdError> {
        let bad = XwdError::Mask {
            channel: name,
            mask,
            bits_per_pixel,
        };
        if mask == 0 || (bits_per_pixel < 32 && mask >> bits_per_pixel != 0) {
            return Err(bad);
        }
        let shift = mask.trailing_zeros();
        let max = mask >> shift;
        // Contiguous means max is all ones: max + 1 is a power of two (checked in u64 so a full
        // 32-bit mask does not overflow).
        if !(u64::from(max) + 1).is_power_of_two() {
            return Err(bad);
        }
        let mut ch = Self {
            shift,
            max,
            lut: None,
            bits_per_rgb,
        };
        if max <= 0xffff {
            ch.lut = Some((0..=max).map(|c| ch.scale(c)).collect());
        }
        Ok(ch)
    }

    /// X's colormap formula (xserver `miInitializeColormap`, TrueColor branch): the component
    /// goes to 16 bits, is cut to `bits_per_rgb` significant bits and re-spread to 16 bits; the
    /// top byte of that is the 8-bit value. For 8-bit masks it is the identity.
    fn scale(&self, c: u32) -> u8 {
        let b = self.bits_per_rgb;
        let lim = (1_u64 << b) - 1;
        let v16 = (((u64::from(c) * 65535) / u64::from(self.max)) >> (16 - b)) * 65535 / lim;
        // v16 <= 65535 because every step stays within [0, 65535]; the shift keeps 8 bits.
        (v16 >> 8) as u8
    }

    fn expand(&self, pixel: u32) -> u8 {
        let c = (pixel >> self.shift) & self.max;
        match &self.lut {
            Some(lut) => lut[c as usize],
            None => self.scale(c),
        }
    }

    fn quantize(&self, v: u8) -> u32 {
        // Round to the nearest of the max+1 levels; u64 because max may be 32 bits wide.
        let level = (u64::from(v) * u64::from(self.max) + 127) / 255;
        (level as u32) << self.shift
    }
}

fn check_bpp(bpp: u32) -> Result<(), XwdError> {
    match bpp {
        8 | 16 | 24 | 32 => Ok(()),
        other => Err(XwdError::BitsPerPixel(other)),
    }
}

fn take<'a>(
    data: &'a [u8],
    offset: usize,
    needed: usize,
    what: &'static str,
) -> Result<&'a [u8], XwdError> {
    offset
        .checked_add(needed)
        .and_then(|end| data.get(offset..end))
        .ok_or(XwdError::Truncated {
            what,
            offset,
            needed,
            len: data.len(),
        })
}

/// Parses a whole XWD file.
///
/// Every length is checked against the input before anything is allocated, so a hostile or
/// truncated file yields an [`XwdError`], never a panic or a huge allocation.
pub fn parse(data: &[u8]) -> Result<Xwd, XwdError> {
    let fixed: &[u8; HEADER_LEN] = take(data, 0, HEADER_LEN, "header")?
        .try_into()
        .map_err(|_| XwdError::Overflow("header"))?;
    let h = XwdHeader::from_bytes(fixed);
    if h.file_version != FILE_VERSION {
        return Err(XwdError::Version(h.file_version));
    }
    let header_size = h.header_size as usize;
    if header_size < HEADER_LEN {
        return Err(XwdError::HeaderSize(h.header_size));
    }
    if h.pixmap_format != Z_PIXMAP {
        return Err(XwdError::PixmapFormat(h.pixmap_format));
    }
    let order = ByteOrder::from_field(h.byte_order)?;
    check_bpp(h.bits_per_pixel)?;
    if h.pixmap_depth == 0 || h.pixmap_depth > h.bits_per_pixel {
        return Err(XwdError::Depth {
            depth: h.pixmap_depth,
            bits_per_pixel: h.bits_per_pixel,
        });
    }
    if h.xoffset != 0 {
        return Err(XwdError::XOffset(h.xoffset));
    }
    if h.visual_class > visual_class::DIRECT_COLOR {
        return Err(XwdError::VisualClass(h.visual_class));
    }

    let name_bytes = take(data, HEADER_LEN, header_size - HEADER_LEN, "window name")?;
    let name_end = name_bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(name_bytes.len());
    let window_name = String::from_utf8_lossy(&name_bytes[..name_end]).into_owned();

    let ncolors = h.ncolors as usize;
    let colors_len = ncolors
        .checked_mul(COLOR_LEN)
        .ok_or(XwdError::Overflow("ncolors"))?;
    let color_bytes = take(data, header_size, colors_len, "colormap")?;
    let colors: Vec<XwdColor> = color_bytes
        .chunks_exact(COLOR_LEN)
        .map(|c| XwdColor {
            pixel: u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
            red: u16::from_be_bytes([c[4], c[5]]),
            green: u16::from_be_bytes([c[6], c[7]]),
            blue: u16::from_be_bytes([c[8], c[9]]),
            flags: c[10],
        })
        .collect();

    let width = h.pixmap_width;
    let height = h.pixmap_height;
    let bytes_pp = (h.bits_per_pixel / 8) as usize;
    let row_len = (width as usize)
        .checked_mul(bytes_pp)
        .ok_or(XwdError::Overflow("row length"))?;
    let stride = h.bytes_per_line as usize;
    if stride < row_len {
        return Err(XwdError::Stride {
            bytes_per_line: h.bytes_per_line,
            width,
            bits_per_pixel: h.bits_per_pixel,
        });
    }
    let image_len = stride
        .checked_mul(height as usize)
        .ok_or(XwdError::Overflow("image size"))?;
    let image_offset = header_size + colors_len;
    let pixels = take(data, image_offset, image_len, "image")?;

    // The output is at most 4 bytes per stored byte (8 bpp -> RGBA), so after the length check
    // above this allocation is bounded by the input size.
    let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
    let rows = pixels.chunks_exact(stride.max(1)).take(height as usize);
    let is_true_color = h.visual_class >= visual_class::TRUE_COLOR;
    if is_true_color {
        let fmt = XwdFormat {
            depth: h.pixmap_depth,
            bits_per_pixel: h.bits_per_pixel,
            byte_order: order,
            red_mask: h.red_mask,
            green_mask: h.green_mask,
            blue_mask: h.blue_mask,
            bits_per_rgb: h.bits_per_rgb,
        };
        let [r, g, b] = fmt.channels()?;
        for row in rows {
            for px in row[..row_len].chunks_exact(bytes_pp) {
                let p = read_pixel(px, order);
                rgba.extend_from_slice(&[r.expand(p), g.expand(p), b.expand(p), 255]);
            }
        }
    } else {
        // X colour entries are 16-bit; the top byte is the 8-bit value (65535 -> 255).
        let map: HashMap<u32, [u8; 3]> = colors
            .iter()
            .map(|c| {
                (
                    c.pixel,
                    [
                        (c.red >> 8) as u8,
                        (c.green >> 8) as u8,
                        (c.blue >> 8) as u8,
                    ],
                )
            })
            .collect();
        for (y, row) in rows.enumerate() {
            for (x, px) in row[..row_len].chunks_exact(bytes_pp).enumerate() {
                let p = read_pixel(px, order);
                let [r, g, b] = *map.get(&p).ok_or(XwdError::MissingColor {
                    pixel: p,
                    x: x as u32,
                    y: y as u32,
                })?;
                rgba.extend_from_slice(&[r, g, b, 255]);
            }
        }
    }
    // A zero stride with a non-zero height only happens for width 0; rows then add nothing.
    Ok(Xwd {
        header: h,
        window_name,
        colors,
        image: Image {
            width,
            height,
            rgba,
        },
    })
}

fn read_pixel(bytes: &[u8], order: ByteOrder) -> u32 {
    match order {
        ByteOrder::LsbFirst => bytes
            .iter()
            .rev()
            .fold(0, |acc, &b| (acc << 8) | u32::from(b)),
        ByteOrder::MsbFirst => bytes.iter().fold(0, |acc, &b| (acc << 8) | u32::from(b)),
    }
}

/// Parses an XWD file and returns only its pixels.
pub fn read_xwd(data: &[u8]) -> Result<Image, XwdError> {
    parse(data).map(|x| x.image)
}

/// Writes `img` as a 32-bpp ZPixmap TrueColor dump, depth 24, masks `ff0000`/`ff00`/`ff`,
/// LSBFirst, window name "rfb-testkit": the layout `xwd` itself produces on a 24-bit server.
pub fn write_xwd(img: &Image) -> Vec<u8> {
    // RGB888 is a valid constant format, so the checked writer cannot fail here.
    write_xwd_with(img, &XwdFormat::RGB888, "rfb-testkit").expect("RGB888 is a valid format")
}

/// Writes `img` as a ZPixmap TrueColor dump in `format`, with `window_name` in the header
/// (`xwud` titles its window "xwud: NAME"; NUL bytes are dropped). Colours are rounded to the
/// nearest level the masks can hold.
pub fn write_xwd_with(
    img: &Image,
    format: &XwdFormat,
    window_name: &str,
) -> Result<Vec<u8>, XwdError> {
    let ch = format.channels()?;
    let bytes_pp = (format.bits_per_pixel / 8) as usize;
    // X pads rows to 32 bits (bitmap_pad 32), as xwd does.
    let bits_per_row = u64::from(img.width) * u64::from(format.bits_per_pixel);
    let stride = u32::try_from(bits_per_row.div_ceil(32) * 4)
        .map_err(|_| XwdError::Overflow("row length"))?;
    let mut name: Vec<u8> = window_name.bytes().filter(|&b| b != 0).collect();
    name.push(0);
    let header_size =
        u32::try_from(HEADER_LEN + name.len()).map_err(|_| XwdError::Overflow("window name"))?;
    let widest = ch
        .iter()
        .map(|c| 32 - c.max.leading_zeros())
        .max()
        .unwrap_or(8);
    let header = XwdHeader {
        header_size,
        file_version: FILE_VERSION,
        pixmap_format: Z_PIXMAP,
        pixmap_depth: format.depth,
        pixmap_width: img.width,
        pixmap_height: img.height,
        xoffset: 0,
        byte_order: format.byte_order.field(),
        bitmap_unit: 32,
        bitmap_bit_order: format.byte_order.field(),
        bitmap_pad: 32,
        bits_per_pixel: format.bits_per_pixel,
        bytes_per_line: stride,
        visual_class: visual_class::TRUE_COLOR,
        red_mask: format.red_mask,
        green_mask: format.green_mask,
        blue_mask: format.blue_mask,
        bits_per_rgb: format.bits_per_rgb,
        colormap_entries: 1 << widest.min(31),
        // TrueColor needs no colour entries: the masks say everything (xwud accepts this).
        ncolors: 0,
        window_width: img.width,
        window_height: img.height,
        window_x: 0,
        window_y: 0,
        window_bdrwidth: 0,
    };
    let stride = stride as usize;
    let mut out = Vec::with_capacity(HEADER_LEN + name.len() + stride * img.height as usize);
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(&name);
    for y in 0..img.height {
        let row_start = out.len();
        for x in 0..img.width {
            let [r, g, b, _] = img.pixel(x, y);
            let p = ch[0].quantize(r) | ch[1].quantize(g) | ch[2].quantize(b);
            let bytes = match format.byte_order {
                ByteOrder::LsbFirst => p.to_le_bytes(),
                ByteOrder::MsbFirst => p.to_be_bytes(),
            };
            match format.byte_order {
                ByteOrder::LsbFirst => out.extend_from_slice(&bytes[..bytes_pp]),
                ByteOrder::MsbFirst => out.extend_from_slice(&bytes[4 - bytes_pp..]),
            }
        }
        out.resize(row_start + stride, 0);
    }
    Ok(out)
}

impl fmt::Display for XwdFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "depth {} in {} bpp {:?}, masks {:#x}/{:#x}/{:#x}",
            self.depth,
            self.bits_per_pixel,
            self.byte_order,
            self.red_mask,
            self.green_mask,
            self.blue_mask
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern;

    fn bgr_msb_32() -> XwdFormat {
        XwdFormat {
            depth: 24,
            bits_per_pixel: 32,
            byte_order: ByteOrder::MsbFirst,
            red_mask: 0xff,
            green_mask: 0xff00,
            blue_mask: 0xff_0000,
            bits_per_rgb: 8,
        }
    }

    #[test]
    fn round_trip_rgb888_is_exact() {
        let img = pattern::photo_like(37, 21, 5);
        let bytes = write_xwd(&img);
        let x = parse(&bytes).unwrap();
        assert_eq!(x.image, img);
        assert_eq!(x.window_name, "rfb-testkit");
        assert_eq!(x.header.bytes_per_line, 37 * 4);
        assert_eq!(x.format(), Some(XwdFormat::RGB888));
    }

    #[test]
    fn round_trip_both_byte_orders_and_bpps() {
        let img = pattern::photo_like(13, 7, 9);
        let formats = [
            XwdFormat::RGB888,
            XwdFormat {
                byte_order: ByteOrder::MsbFirst,
                ..XwdFormat::RGB888
            },
            bgr_msb_32(),
            XwdFormat {
                bits_per_pixel: 24,
                ..XwdFormat::RGB888
            },
            XwdFormat {
                bits_per_pixel: 24,
                byte_order: ByteOrder::MsbFirst,
                ..XwdFormat::RGB888
            },
        ];
        for f in formats {
            let x = parse(&write_xwd_with(&img, &f, "t").unwrap()).unwrap();
            assert_eq!(x.image, img, "{f}");
        }
    }

    #[test]
    fn byte_orders_store_different_bytes() {
        let img = Image::solid(1, 1, [0x11, 0x22, 0x33]);
        let lsb = write_xwd_with(&img, &XwdFormat::RGB888, "").unwrap();
        let msb = write_xwd_with(
            &img,
            &XwdFormat {
                byte_order: ByteOrder::MsbFirst,
                ..XwdFormat::RGB888
            },
            "",
        )
        .unwrap();
        assert_eq!(&lsb[101..105], &[0x33, 0x22, 0x11, 0]);
        assert_eq!(&msb[101..105], &[0, 0x11, 0x22, 0x33]);
    }

    #[test]
    fn rgb565_uses_x_scaling() {
        let f = XwdFormat::RGB565;
        // Full scale must stay full scale and zero zero.
        assert_eq!(f.rgb_of(0xffff), [255, 255, 255]);
        assert_eq!(f.rgb_of(0), [0, 0, 0]);
        // #336699 as Xvnc -depth 16 stores it (pixel 0x3333, measured with xsetroot + xwd);
        // X reports red 6/31 -> 49, green 25/63 -> 101, blue 19/31 -> 156.
        assert_eq!(f.pixel_of([0x33, 0x66, 0x99]), 0x3333);
        assert_eq!(f.rgb_of(0x3333), [49, 101, 156]);
        // The colour entry xwd wrote for pixel 0x0821 on that server: red 2056, green 1028,
        // blue 2056 (of 65535), i.e. 8, 4, 8.
        assert_eq!(f.rgb_of(0x0821), [8, 4, 8]);
        let img = pattern::photo_like(16, 9, 1);
        let x = parse(&write_xwd_with(&img, &f, "q").unwrap()).unwrap();
        assert_eq!(x.image, f.displayed(&img));
        assert_eq!(x.header.bytes_per_line, 32);
        let msb = XwdFormat {
            byte_order: ByteOrder::MsbFirst,
            ..f
        };
        let y = parse(&write_xwd_with(&img, &msb, "q").unwrap()).unwrap();
        assert_eq!(y.image, x.image);
    }

    #[test]
    fn odd_width_16bpp_rows_are_padded() {
        let img = pattern::stripes(3, 2, 1, &[[255, 0, 0], [0, 255, 0], [0, 0, 255]]);
        let bytes = write_xwd_with(&img, &XwdFormat::RGB565, "").unwrap();
        let x = parse(&bytes).unwrap();
        assert_eq!(x.header.bytes_per_line, 8);
        assert_eq!(x.image, img);
    }

    fn pseudo_color_dump(order: ByteOrder) -> Vec<u8> {
        let name = b"pc\0";
        let colors = [
            (0_u32, [0_u16, 0, 0]),
            (1, [0xffff, 0, 0]),
            (7, [0x1234, 0x8000, 0xffff]),
        ];
        let h = XwdHeader {
            header_size: (HEADER_LEN + name.len()) as u32,
            file_version: 7,
            pixmap_format: 2,
            pixmap_depth: 8,
            pixmap_width: 3,
            pixmap_height: 2,
            byte_order: order.field(),
            bitmap_unit: 32,
            bitmap_pad: 32,
            bits_per_pixel: 8,
            bytes_per_line: 4,
            visual_class: visual_class::PSEUDO_COLOR,
            bits_per_rgb: 8,
            colormap_entries: 256,
            ncolors: colors.len() as u32,
            window_width: 3,
            window_height: 2,
            ..XwdHeader::default()
        };
        let mut out = h.to_bytes().to_vec();
        out.extend_from_slice(name);
        for (pixel, [r, g, b]) in colors {
            out.extend_from_slice(&pixel.to_be_bytes());
            for c in [r, g, b] {
                out.extend_from_slice(&c.to_be_bytes());
            }
            out.extend_from_slice(&[7, 0]);
        }
        out.extend_from_slice(&[0, 1, 7, 0xee, 7, 7, 1, 0xee]);
        out
    }

    #[test]
    fn pseudo_color_through_colormap() {
        for order in [ByteOrder::LsbFirst, ByteOrder::MsbFirst] {
            let x = parse(&pseudo_color_dump(order)).unwrap();
            assert_eq!(x.colors.len(), 3);
            assert_eq!(x.image.pixel(0, 0), [0, 0, 0, 255]);
            assert_eq!(x.image.pixel(1, 0), [255, 0, 0, 255]);
            assert_eq!(x.image.pixel(2, 0), [0x12, 0x80, 0xff, 255]);
            assert_eq!(x.image.pixel(2, 1), [255, 0, 0, 255]);
        }
    }

    #[test]
    fn pseudo_color_missing_entry_is_an_error() {
        let mut d = pseudo_color_dump(ByteOrder::LsbFirst);
        let n = d.len();
        d[n - 2] = 9;
        assert_eq!(
            parse(&d).unwrap_err(),
            XwdError::MissingColor {
                pixel: 9,
                x: 2,
                y: 1
            }
        );
    }

    #[test]
    fn true_color_8bpp_rgb332() {
        let f = XwdFormat {
            depth: 8,
            bits_per_pixel: 8,
            byte_order: ByteOrder::LsbFirst,
            red_mask: 0xe0,
            green_mask: 0x1c,
            blue_mask: 0x03,
            bits_per_rgb: 8,
        };
        let img = pattern::photo_like(9, 4, 3);
        let x = parse(&write_xwd_with(&img, &f, "").unwrap()).unwrap();
        assert_eq!(x.image, f.displayed(&img));
        assert_eq!(f.rgb_of(0xff), [255, 255, 255]);
    }

    #[test]
    fn truncated_files_are_errors() {
        let bytes = write_xwd(&pattern::checker(8, 8, 2, [0, 0, 0], [255, 255, 255]));
        for cut in [0, 50, 99, 100, 105, bytes.len() - 1] {
            let err = parse(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(err, XwdError::Truncated { .. }),
                "cut {cut}: {err}"
            );
        }
        let err = parse(&bytes[..bytes.len() - 1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "XWD truncated: image needs 256 bytes at offset 112, but the file has {}",
                bytes.len() - 1
            )
        );
    }

    fn with_header(edit: impl FnOnce(&mut XwdHeader)) -> Result<Xwd, XwdError> {
        let mut bytes = write_xwd(&Image::new(4, 2));
        let mut h = XwdHeader::from_bytes(bytes[..HEADER_LEN].try_into().unwrap());
        edit(&mut h);
        bytes[..HEADER_LEN].copy_from_slice(&h.to_bytes());
        parse(&bytes)
    }

    #[test]
    fn bad_headers_are_typed_errors() {
        assert_eq!(
            with_header(|h| h.file_version = 6).unwrap_err(),
            XwdError::Version(6)
        );
        assert_eq!(
            with_header(|h| h.header_size = 99).unwrap_err(),
            XwdError::HeaderSize(99)
        );
        assert_eq!(
            with_header(|h| h.pixmap_format = 1).unwrap_err(),
            XwdError::PixmapFormat(1)
        );
        assert_eq!(
            with_header(|h| h.byte_order = 2).unwrap_err(),
            XwdError::ByteOrder(2)
        );
        assert_eq!(
            with_header(|h| h.bits_per_pixel = 4).unwrap_err(),
            XwdError::BitsPerPixel(4)
        );
        assert_eq!(
            with_header(|h| h.visual_class = 6).unwrap_err(),
            XwdError::VisualClass(6)
        );
        assert_eq!(
            with_header(|h| h.xoffset = 3).unwrap_err(),
            XwdError::XOffset(3)
        );
        assert!(matches!(
            with_header(|h| h.pixmap_depth = 33).unwrap_err(),
            XwdError::Depth { depth: 33, .. }
        ));
        assert!(matches!(
            with_header(|h| h.green_mask = 0xf0f0).unwrap_err(),
            XwdError::Mask {
                channel: "green",
                ..
            }
        ));
        assert!(matches!(
            with_header(|h| h.red_mask = 0).unwrap_err(),
            XwdError::Mask { channel: "red", .. }
        ));
        assert!(matches!(
            with_header(|h| h.bytes_per_line = 15).unwrap_err(),
            XwdError::Stride {
                bytes_per_line: 15,
                ..
            }
        ));
        assert_eq!(
            with_header(|h| h.bits_per_rgb = 0).unwrap_err(),
            XwdError::BitsPerRgb(0)
        );
        // Huge sizes must be rejected by the length checks, not by an allocation failure.
        assert!(matches!(
            with_header(|h| {
                h.pixmap_width = u32::MAX / 4;
                h.pixmap_height = u32::MAX;
                h.bytes_per_line = u32::MAX;
            })
            .unwrap_err(),
            XwdError::Truncated { .. } | XwdError::Overflow(_)
        ));
        assert!(matches!(
            with_header(|h| h.ncolors = u32::MAX).unwrap_err(),
            XwdError::Truncated {
                what: "colormap",
                ..
            }
        ));
        assert!(matches!(
            with_header(|h| h.header_size = u32::MAX).unwrap_err(),
            XwdError::Truncated {
                what: "window name",
                ..
            }
        ));
    }

    #[test]
    fn garbage_never_panics() {
        // A cheap fuzz pass: random bytes behind a plausible header prefix.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..400 {
            let mut bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            if len >= 8 {
                bytes[4..8].copy_from_slice(&7_u32.to_be_bytes());
            }
            let _ = parse(&bytes);
        }
    }

    #[test]
    fn zero_sized_image() {
        let x = parse(&write_xwd(&Image::new(0, 3))).unwrap();
        assert_eq!(
            (x.image.width, x.image.height, x.image.rgba.len()),
            (0, 3, 0)
        );
    }
}
