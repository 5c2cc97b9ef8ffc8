//! Zlib encoding (6): a `U32` length, then zlib data (one stream per connection) that inflates
//! to Raw pixels.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#zlib-encoding>

use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;
use crate::raw::RawDecoder;
use crate::zpayload::{INFLATE_CHUNK, ZPayload};

/// Reads the `U32` length prefix and checks it against the limit before anything is kept.
pub(crate) fn read_length(input: &[u8], cx: &Cx<'_>) -> Result<Option<usize>, DecodeErrorKind> {
    let Some(b) = input.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let limit = cx.limits.max_compressed_len;
    if len > limit {
        return Err(DecodeErrorKind::LimitExceeded {
            what: "compressed length",
            value: u64::from(len),
            limit: u64::from(limit),
        });
    }
    Ok(Some(len as usize))
}

#[derive(Debug)]
pub(crate) struct ZlibDecoder {
    raw: RawDecoder,
    /// The rectangle's inflated size at 32 bpp (sizes the inflate steps).
    expected: usize,
    payload: Option<ZPayload>,
}

impl ZlibDecoder {
    pub(crate) fn new(rect: Rect) -> Self {
        Self {
            raw: RawDecoder::new(rect),
            expected: rect.area() as usize * 4,
            payload: None,
        }
    }
}

impl RectDecoder for ZlibDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let mut consumed = 0;
        let payload = match self.payload.as_mut() {
            Some(p) => p,
            None => {
                let Some(len) = read_length(input, cx)? else {
                    return Ok((0, Status::Need(4)));
                };
                consumed = 4;
                self.payload.insert(ZPayload::new(len, self.expected))
            }
        };
        loop {
            if self.raw.is_done() {
                let (n, complete) = payload.finish(&input[consumed..], &mut cx.zlib.zlib)?;
                consumed += n;
                return Ok(if complete {
                    (consumed, Status::Done(Decoded::Drawn))
                } else {
                    (consumed, Status::Need(1))
                });
            }
            let n = payload.pump(&input[consumed..], &mut cx.zlib.zlib, INFLATE_CHUNK)?;
            consumed += n;
            let used = self
                .raw
                .feed_pixels(payload.available(), cx.conv, cx.scratch, cx.target);
            payload.advance(used);
            if used == 0 && n == 0 {
                if payload.remaining() == 0 {
                    // Every compressed byte is in, yet the pixels are incomplete.
                    return Err(DecodeErrorKind::InvalidValue {
                        field: "compressed length (too short for the rectangle)",
                        value: 0,
                    });
                }
                return Ok((consumed, Status::Need(1)));
            }
        }
    }
}
