//! Open H.264 encoding (50): framing only. Each rectangle carries a 4-byte *length*, 4-byte
//! *flags* and *length* bytes of H.264 Annex B data; the decoded pictures replace the
//! rectangle.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#open-h264-encoding>.
//!
//! This crate does not decode H.264: the driver does, through
//! [`DrawTarget::draw_h264`](crate::DrawTarget::draw_h264) (a browser with WebCodecs, or the
//! optional native adapter). The decoder here checks *length* against
//! [`DecoderLimits::max_compressed_len`](crate::DecoderLimits) before buffering anything,
//! collects the data (the spec wants all frames of a rectangle decoded before the result is
//! shown, so a target needs them together) and hands the target one [`H264Rect`] per
//! rectangle, in wire order with all other drawing. A target that declines ends the rectangle
//! with [`DecodeErrorKind::Unsupported`]; that is why the encoding is never in
//! [`Decoders::supported`](crate::Decoders::supported) and must be offered explicitly.
//!
//! Decoder contexts, keyed by the rectangle, live with whoever decodes; [`H264Contexts`] keeps
//! them with the spec's reset flags and its 64-context rule.

mod annexb;
mod contexts;
#[cfg(feature = "h264-openh264")]
mod native;
mod sps;

pub use annexb::{
    AccessUnit, NAL_AUD, NAL_IDR, NAL_PPS, NAL_SEI, NAL_SLICE, NAL_SPS, NalUnit, access_units,
    nal_units,
};
pub use contexts::{H264Contexts, MAX_H264_CONTEXTS};
#[cfg(feature = "h264-openh264")]
pub use native::OpenH264Target;
pub use sps::{SpsInfo, parse_sps};

use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;

/// The *flags* word of an Open H.264 rectangle. Bits the spec does not define are kept (see
/// [`H264Flags::bits`]) and otherwise ignored, as the spec says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct H264Flags(pub u32);

impl H264Flags {
    /// Bit 0, **ResetContext**: drop the context of this rectangle and start a new one.
    pub const RESET_CONTEXT: u32 = 1;
    /// Bit 1, **ResetAllContexts**: drop every context.
    pub const RESET_ALL_CONTEXTS: u32 = 2;

    /// The raw word.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// True when **ResetContext** is set.
    pub const fn reset_context(self) -> bool {
        self.0 & Self::RESET_CONTEXT != 0
    }

    /// True when **ResetAllContexts** is set.
    pub const fn reset_all_contexts(self) -> bool {
        self.0 & Self::RESET_ALL_CONTEXTS != 0
    }
}

/// One Open H.264 rectangle, as handed to [`DrawTarget::draw_h264`](crate::DrawTarget::draw_h264).
///
/// Apply the flags first (all of them, before decoding), then decode every access unit of
/// `data` with the context of `rect`, then show the last picture cropped to `rect` (a picture
/// may be larger than the rectangle; the right and bottom are trimmed). Empty `data` is a
/// control message: only the flags apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct H264Rect<'a> {
    /// The rectangle: where the pictures go and the key of the decoder context.
    pub rect: Rect,
    /// The flags.
    pub flags: H264Flags,
    /// The H.264 Annex B data, zero or more whole frames.
    pub data: &'a [u8],
}

impl<'a> H264Rect<'a> {
    /// A rectangle message (for targets' own tests and for replaying recorded sessions).
    pub const fn new(rect: Rect, flags: H264Flags, data: &'a [u8]) -> Self {
        Self { rect, flags, data }
    }

    /// `data` split into access units (one coded picture each), in order.
    pub fn access_units(&self) -> impl Iterator<Item = AccessUnit<'a>> + use<'a> {
        access_units(self.data)
    }
}

/// Resumable state of one Open H.264 rectangle.
#[derive(Debug)]
struct H264Decoder {
    rect: Rect,
    /// `Some((flags, length))` once the 8-byte header was read.
    header: Option<(H264Flags, usize)>,
    data: Vec<u8>,
}

/// The Open H.264 (50) decoder for one rectangle.
pub(crate) fn make(rect: Rect) -> Option<Box<dyn RectDecoder>> {
    Some(Box::new(H264Decoder {
        rect,
        header: None,
        data: Vec::new(),
    }))
}

/// Initial buffer size: the data grows as it arrives rather than by the peer's word.
const INITIAL_CAPACITY: usize = 64 * 1024;

impl RectDecoder for H264Decoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let mut consumed = 0;
        let (flags, len) = match self.header {
            Some(h) => h,
            None => {
                let Some(h) = input.get(..8) else {
                    return Ok((0, Status::Need(8)));
                };
                let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                let flags = H264Flags(u32::from_be_bytes([h[4], h[5], h[6], h[7]]));
                let limit = cx.limits.max_compressed_len;
                if len > limit {
                    return Err(DecodeErrorKind::LimitExceeded {
                        what: "H.264 data length",
                        value: u64::from(len),
                        limit: u64::from(limit),
                    });
                }
                // u32 fits usize on every target this crate builds for (32 and 64 bit).
                let len = len as usize;
                self.data = Vec::with_capacity(len.min(INITIAL_CAPACITY));
                self.header = Some((flags, len));
                consumed = 8;
                (flags, len)
            }
        };
        let n = (len - self.data.len()).min(input.len() - consumed);
        self.data.extend_from_slice(&input[consumed..consumed + n]);
        consumed += n;
        if self.data.len() < len {
            return Ok((consumed, Status::Need(1)));
        }
        if flags.reset_all_contexts() {
            cx.sub("reset-all-contexts");
        } else if flags.reset_context() {
            cx.sub("reset-context");
        }
        if len == 0 {
            cx.sub("control");
        }
        let msg = H264Rect::new(self.rect, flags, &self.data);
        if !cx.target.draw_h264(&msg) {
            return Err(DecodeErrorKind::Unsupported);
        }
        Ok((consumed, Status::Done(Decoded::Drawn)))
    }
}
