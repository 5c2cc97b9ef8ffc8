//! Sans-IO RFB (VNC) pixel decoding: pixel formats, the draw interface, an RGBA framebuffer
//! and resumable rectangle decoders.
//!
//! This crate never touches sockets, clocks or threads. A driver (or `rfb-core`) hands it the
//! header of each rectangle and then the payload bytes in whatever chunks they arrived; the
//! decoders draw into a [`DrawTarget`] the driver owns.
//!
//! ```text
//!  payload bytes ──► Decoders::feed ──► PixelConverter ──► DrawTarget (driver's framebuffer)
//!                      │  (per-rect state,                  put_rgba / fill_rgba / copy_rect
//!                      │   zlib streams)
//!                      └──► Decoded::Cursor(CursorImage)
//! ```
//!
//! Spec: the community RFB protocol document,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst>.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod convert;
mod cursor;
mod decoders;
mod draw;
mod encoding;
mod error;
mod extra;
mod geometry;
mod h264;
mod hextile;
mod image;
mod inflate;
mod jpeg;
mod pixel_format;
mod raw;
mod rre;
mod stats;
mod tight;
mod xcursor;
mod zlib;
mod zpayload;
mod zrle;

pub use convert::{MAX_COLOUR_MAP_ENTRIES, PixelConverter, expand_component};
pub use cursor::CursorImage;
pub use decoders::{Decoded, DecoderLimits, Decoders, Progress};
pub use draw::{DrawTarget, Framebuffer, ImageFormat};
pub use encoding::Encoding;
pub use error::{DecodeError, DecodeErrorKind, PixelFormatError};
pub use geometry::Rect;
#[cfg(feature = "h264-openh264")]
pub use h264::OpenH264Target;
pub use h264::{
    AccessUnit, H264Contexts, H264Flags, H264Rect, MAX_H264_CONTEXTS, NAL_AUD, NAL_IDR, NAL_PPS,
    NAL_SEI, NAL_SLICE, NAL_SPS, NalUnit, SpsInfo, access_units, nal_units, parse_sps,
};
pub use image::decode_image_rgba;
pub use pixel_format::{PIXEL_FORMAT_LEN, PixelFormat};
pub use stats::DecodeStats;
