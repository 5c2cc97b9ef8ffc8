//! Routes one rectangle at a time to its decoder and keeps per-connection decoder state.

use crate::convert::PixelConverter;
use crate::cursor::{CursorDecoder, CursorImage};
use crate::draw::DrawTarget;
use crate::encoding::Encoding;
use crate::error::{DecodeError, DecodeErrorKind, PixelFormatError};
use crate::geometry::Rect;
use crate::pixel_format::PixelFormat;
use crate::raw::RawDecoder;
use crate::stats::DecodeStats;

/// Limits on what a peer may make the decoders allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Largest cursor width or height accepted from the Cursor pseudo-encoding.
    pub max_cursor_dimension: u16,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        // X cursors are at most a few hundred pixels; 1024 leaves room for HiDPI themes while
        // bounding the buffer at 4 MiB.
        Self {
            max_cursor_dimension: 1024,
        }
    }
}

/// What a finished rectangle produced besides drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decoded {
    /// Pixels were drawn into the target.
    Drawn,
    /// A new cursor shape.
    Cursor(CursorImage),
}

/// Result of one [`Decoders::feed`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of input used.
    pub consumed: usize,
    /// `Some` once the rectangle is complete.
    pub done: Option<Decoded>,
}

#[derive(Debug, Clone)]
enum Active {
    Raw(RawDecoder),
    CopyRect(Rect),
    Cursor(CursorDecoder),
}

/// The decoders of one connection: the pixel converter (with its colour map), the rectangle
/// in progress and, for later encodings, the persistent zlib streams.
///
/// ```
/// use rfb_encodings::{Decoders, Encoding, Framebuffer, PixelFormat, Rect};
/// let mut fb = Framebuffer::new(2, 1);
/// let mut dec = Decoders::new(PixelFormat::RGBX8888, Default::default()).unwrap();
/// dec.begin(Rect::new(0, 0, 2, 1), Encoding::Raw, 2, 1).unwrap();
/// let p = dec.feed(&[9, 8, 7, 0, 1, 2, 3, 0], &mut fb).unwrap();
/// assert_eq!(p.consumed, 8);
/// assert!(p.done.is_some());
/// assert_eq!(fb.pixel(1, 0), Some([1, 2, 3, 255]));
/// ```
#[derive(Debug, Clone)]
pub struct Decoders {
    conv: PixelConverter,
    limits: DecoderLimits,
    scratch: Vec<u8>,
    active: Option<(Encoding, Active)>,
    /// Framebuffer size given to the last `begin`, for checking CopyRect sources.
    fb_size: (u16, u16),
    stats: DecodeStats,
}

impl Decoders {
    /// Pixel-carrying encodings (and pseudo-encodings) this crate decodes.
    pub const SUPPORTED: &'static [Encoding] =
        &[Encoding::Raw, Encoding::CopyRect, Encoding::Cursor];

    /// Decoders for a session whose pixels arrive in `format`.
    pub fn new(format: PixelFormat, limits: DecoderLimits) -> Result<Self, PixelFormatError> {
        Ok(Self {
            conv: PixelConverter::new(format)?,
            limits,
            scratch: Vec::new(),
            active: None,
            fb_size: (0, 0),
            stats: DecodeStats::default(),
        })
    }

    /// True when rectangles in `encoding` can be decoded.
    pub fn can_decode(encoding: Encoding) -> bool {
        Self::SUPPORTED.contains(&encoding)
    }

    /// The pixel format rectangles are decoded in.
    pub fn pixel_format(&self) -> &PixelFormat {
        self.conv.format()
    }

    /// Switches the pixel format (after the client sent SetPixelFormat).
    pub fn set_pixel_format(&mut self, format: PixelFormat) -> Result<(), PixelFormatError> {
        self.conv.set_format(format)
    }

    /// Applies a SetColourMapEntries message.
    pub fn set_colour_map_entries(
        &mut self,
        first: u16,
        rgb16: &[[u16; 3]],
    ) -> Result<(), PixelFormatError> {
        self.conv.set_colour_map_entries(first, rgb16)
    }

    /// The converter, for callers that turn single pixels into RGBA.
    pub fn converter(&self) -> &PixelConverter {
        &self.conv
    }

    /// Counters of everything decoded so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Counts a rectangle handled outside the decoders (DesktopSize, LastRect, …) so that the
    /// statistics cover every rectangle of an update.
    pub fn record_rect(&mut self, encoding: Encoding, pixels: u64) {
        self.stats.count_rect(encoding, pixels);
    }

    /// True while a rectangle is in progress.
    pub fn is_busy(&self) -> bool {
        self.active.is_some()
    }

    /// Starts a rectangle with the header `rect`/`encoding`, for a `fb_width` × `fb_height`
    /// framebuffer. Bounds and limits are checked here, before any byte is read or allocated.
    pub fn begin(
        &mut self,
        rect: Rect,
        encoding: Encoding,
        fb_width: u16,
        fb_height: u16,
    ) -> Result<(), DecodeError> {
        let err = |kind| DecodeError::new(encoding, kind);
        let out_of_bounds = |r: Rect| {
            err(DecodeErrorKind::OutOfBounds {
                rect: r,
                fb_width,
                fb_height,
            })
        };
        let active = match encoding {
            Encoding::Raw | Encoding::CopyRect => {
                if !rect.fits_within(fb_width, fb_height) {
                    return Err(out_of_bounds(rect));
                }
                if encoding == Encoding::Raw {
                    Active::Raw(RawDecoder::new(rect))
                } else {
                    Active::CopyRect(rect)
                }
            }
            Encoding::Cursor => {
                let max = self.limits.max_cursor_dimension;
                let dim = rect.width.max(rect.height);
                if dim > max {
                    return Err(err(DecodeErrorKind::LimitExceeded {
                        what: "cursor dimension",
                        value: u64::from(dim),
                        limit: u64::from(max),
                    }));
                }
                Active::Cursor(CursorDecoder::new(
                    (rect.x, rect.y),
                    rect.width,
                    rect.height,
                    self.conv.bytes_per_pixel(),
                ))
            }
            _ => return Err(err(DecodeErrorKind::Unsupported)),
        };
        self.stats.count_rect(encoding, rect.area());
        self.fb_size = (fb_width, fb_height);
        self.active = Some((encoding, active));
        Ok(())
    }

    /// The fewest bytes that let the rectangle in progress make progress (0 when idle).
    pub fn bytes_needed(&self) -> usize {
        match &self.active {
            None => 0,
            Some((_, Active::Raw(r))) if r.is_done() => 0,
            Some((_, Active::Raw(_))) => self.conv.bytes_per_pixel(),
            Some((_, Active::CopyRect(_))) => 4,
            Some((_, Active::Cursor(c))) => c.remaining(),
        }
    }

    /// Feeds payload bytes of the rectangle in progress. Call it even with empty input right
    /// after [`Decoders::begin`]: empty rectangles complete without bytes.
    pub fn feed(
        &mut self,
        input: &[u8],
        target: &mut dyn DrawTarget,
    ) -> Result<Progress, DecodeError> {
        let Some((encoding, active)) = self.active.as_mut() else {
            return Ok(Progress {
                consumed: 0,
                done: None,
            });
        };
        let encoding = *encoding;
        let (consumed, done) = match active {
            Active::Raw(r) => {
                let n = r.feed(input, &self.conv, &mut self.scratch, target);
                (n, r.is_done().then_some(Decoded::Drawn))
            }
            Active::CopyRect(dst) => match input.get(..4) {
                None => (0, None),
                Some(b) => {
                    let (sx, sy) = (
                        u16::from_be_bytes([b[0], b[1]]),
                        u16::from_be_bytes([b[2], b[3]]),
                    );
                    // The destination was checked in begin(); the source is checked here.
                    let (fw, fh) = self.fb_size;
                    let src = Rect::new(sx, sy, dst.width, dst.height);
                    if !src.fits_within(fw, fh) {
                        let e = DecodeError::new(
                            encoding,
                            DecodeErrorKind::OutOfBounds {
                                rect: src,
                                fb_width: fw,
                                fb_height: fh,
                            },
                        );
                        self.active = None;
                        return Err(e);
                    }
                    if !dst.is_empty() {
                        target.copy_rect(sx, sy, *dst);
                    }
                    (4, Some(Decoded::Drawn))
                }
            },
            Active::Cursor(c) => {
                let n = c.feed(input);
                let done = (c.remaining() == 0).then(|| Decoded::Cursor(c.finish(&self.conv)));
                (n, done)
            }
        };
        if done.is_some() {
            self.active = None;
        }
        Ok(Progress { consumed, done })
    }

    /// Aborts the rectangle in progress (after a fatal error elsewhere).
    pub fn reset(&mut self) {
        self.active = None;
    }
}
