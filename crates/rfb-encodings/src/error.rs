//! Typed errors of the decoders. Each names the encoding and what was wrong.

use crate::encoding::Encoding;
use crate::geometry::Rect;

/// A pixel format that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PixelFormatError {
    /// Only 8, 16 and 32 bits per pixel exist in RFB.
    #[error("pixel format: bits-per-pixel {0} is not 8, 16 or 32")]
    BitsPerPixel(u8),
    /// A true-colour maximum that is zero or not `2^n - 1`.
    #[error("pixel format: {component}-max {max} is not of the form 2^n - 1")]
    ComponentMax {
        /// `red`, `green` or `blue`.
        component: &'static str,
        /// The value sent.
        max: u16,
    },
    /// A component whose bits lie outside the pixel.
    #[error(
        "pixel format: {component}-shift {shift} puts bits outside a {bits_per_pixel}-bit pixel"
    )]
    ComponentShift {
        /// `red`, `green` or `blue`.
        component: &'static str,
        /// The value sent.
        shift: u8,
        /// Bits per pixel of the format.
        bits_per_pixel: u8,
    },
    /// SetColourMapEntries addressing entries past 65535.
    #[error("SetColourMapEntries: first-colour {first} + number-of-colours {count} exceeds 65536")]
    ColourMapRange {
        /// first-colour.
        first: u16,
        /// number-of-colours.
        count: usize,
    },
}

/// What went wrong inside one rectangle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The rectangle (or a CopyRect source) does not fit in the framebuffer.
    #[error("rectangle {rect:?} lies outside the {fb_width}x{fb_height} framebuffer")]
    OutOfBounds {
        /// The offending rectangle.
        rect: Rect,
        /// Framebuffer width.
        fb_width: u16,
        /// Framebuffer height.
        fb_height: u16,
    },
    /// A size from the peer exceeds a configured limit.
    #[error("{what} of {value} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was measured.
        what: &'static str,
        /// The value the peer asked for.
        value: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The encoding was never offered, or this crate cannot decode it.
    #[error("no decoder for this encoding")]
    Unsupported,
    /// The pixel format cannot be decoded.
    #[error(transparent)]
    PixelFormat(#[from] PixelFormatError),
    /// The zlib stream is corrupt.
    #[error("zlib: {0}")]
    Zlib(String),
    /// The compressed data inflates to more than the rectangle can hold (a decompression bomb
    /// or a desynchronised stream).
    #[error("{bytes} inflated bytes left over after the rectangle was complete")]
    TrailingData {
        /// How many bytes were left.
        bytes: u64,
    },
    /// An embedded image (JPEG, PNG) failed to decode.
    #[error("{format} image: {detail}")]
    Image {
        /// `jpeg` or `png`.
        format: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// A value inside the payload that the encoding does not allow.
    #[error("invalid {field}: {value}")]
    InvalidValue {
        /// The field, e.g. `sub-encoding`.
        field: &'static str,
        /// The value received.
        value: u64,
    },
}

/// An error decoding a rectangle: the encoding plus what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{encoding} rectangle: {kind}")]
pub struct DecodeError {
    /// The rectangle's encoding.
    pub encoding: Encoding,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// Builds an error for `encoding`.
    pub fn new(encoding: Encoding, kind: DecodeErrorKind) -> Self {
        Self { encoding, kind }
    }
}
