//! Routes one rectangle at a time to its decoder and keeps per-connection decoder state
//! (the pixel converter with its colour map, and the persistent zlib streams).

use core::fmt::Debug;

use crate::convert::PixelConverter;
use crate::cursor::{CursorDecoder, CursorImage};
use crate::draw::DrawTarget;
use crate::encoding::Encoding;
use crate::error::{DecodeError, DecodeErrorKind, PixelFormatError};
use crate::geometry::Rect;
use crate::inflate::ZlibStreams;
use crate::pixel_format::PixelFormat;
use crate::raw::RawDecoder;
use crate::stats::DecodeStats;

/// Limits on what a peer may make the decoders allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Largest cursor width or height accepted from the cursor pseudo-encodings.
    pub max_cursor_dimension: u16,
    /// Largest compressed payload accepted for one rectangle (zlib, JPEG, PNG data).
    pub max_compressed_len: u32,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        Self {
            // X cursors are at most a few hundred pixels; 1024 leaves room for HiDPI themes
            // while bounding the buffer at 4 MiB.
            max_cursor_dimension: 1024,
            // A 16384² rectangle of raw 32-bit pixels is 1 GiB; compressed data for anything a
            // client can show stays far below 64 MiB.
            max_compressed_len: 64 << 20,
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

/// Everything a decoder may use while it runs.
pub(crate) struct Cx<'a> {
    pub(crate) conv: &'a PixelConverter,
    pub(crate) target: &'a mut dyn DrawTarget,
    /// Reusable RGBA scratch space.
    pub(crate) scratch: &'a mut Vec<u8>,
    pub(crate) stats: &'a mut DecodeStats,
    pub(crate) zlib: &'a mut ZlibStreams,
    pub(crate) limits: &'a DecoderLimits,
    /// Framebuffer size, for checks such as CopyRect sources.
    pub(crate) fb_size: (u16, u16),
    /// The encoding being decoded (for sub-encoding statistics).
    pub(crate) encoding: Encoding,
}

impl Cx<'_> {
    /// Counts one use of a sub-encoding.
    pub(crate) fn sub(&mut self, name: &'static str) {
        self.stats.count_sub(self.encoding, name);
    }
}

/// Where a decoder stands after consuming what it could.
#[derive(Debug)]
pub(crate) enum Status {
    /// The rectangle is complete.
    Done(Decoded),
    /// At least this many bytes (counted from the first unconsumed byte) are needed before
    /// the decoder can progress. Units are small and bounded (a header, a tile), so the
    /// driver's leftover buffer stays small.
    Need(usize),
}

/// One rectangle's resumable decoder. `feed` consumes whole units from `input`, draws them,
/// and reports how far it got; unconsumed bytes are offered again with more appended.
pub(crate) trait RectDecoder: Debug + Send {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind>;
}

/// The decoders of one connection.
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
#[derive(Debug)]
pub struct Decoders {
    conv: PixelConverter,
    limits: DecoderLimits,
    scratch: Vec<u8>,
    zlib: ZlibStreams,
    active: Option<(Encoding, Box<dyn RectDecoder>)>,
    needed: usize,
    /// Framebuffer size given to the last `begin`.
    fb_size: (u16, u16),
    /// The Quality level the client offered: ZYWRLE's wavelet depth depends on it and is
    /// not on the wire.
    quality: Option<u8>,
    stats: DecodeStats,
}

/// Every encoding a decoder exists for, in the default preference order (fastest good
/// encodings first, as noVNC orders them); [`Decoders::can_decode`] filters by what is built.
const CANDIDATES: &[Encoding] = &[
    Encoding::CopyRect,
    Encoding::Tight,
    Encoding::TightPng,
    Encoding::Zrle,
    Encoding::Trle,
    Encoding::Zywrle,
    Encoding::Hextile,
    Encoding::ZlibHex,
    Encoding::Zlib,
    Encoding::Jpeg,
    Encoding::Rre,
    Encoding::CoRre,
    Encoding::Raw,
    Encoding::Cursor,
    Encoding::XCursor,
    Encoding::VmwareCursor,
];

impl Decoders {
    /// Decoders for a session whose pixels arrive in `format`.
    pub fn new(format: PixelFormat, limits: DecoderLimits) -> Result<Self, PixelFormatError> {
        Ok(Self {
            conv: PixelConverter::new(format)?,
            limits,
            scratch: Vec::new(),
            zlib: ZlibStreams::default(),
            active: None,
            needed: 0,
            fb_size: (0, 0),
            quality: None,
            stats: DecodeStats::default(),
        })
    }

    /// Encodings (pixel and pixel-carrying pseudo-encodings) this build decodes, in the
    /// default preference order.
    pub fn supported() -> Vec<Encoding> {
        CANDIDATES
            .iter()
            .copied()
            .filter(|&e| Self::can_decode(e))
            .collect()
    }

    /// Encodings this crate frames but only the [`DrawTarget`] can decode, so they are never
    /// in [`Decoders::supported`]: Open H.264, which needs
    /// [`DrawTarget::draw_h264`]. A driver whose target implements it opts in by putting
    /// these in front of the encodings it offers:
    ///
    /// ```
    /// use rfb_encodings::{Decoders, Encoding};
    /// let mut offer = Decoders::target_decoded().to_vec();
    /// offer.extend(Decoders::supported_pixel_encodings());
    /// assert_eq!(offer[0], Encoding::OpenH264);
    /// assert!(!Decoders::supported().contains(&Encoding::OpenH264));
    /// assert!(Decoders::can_decode(Encoding::OpenH264));
    /// ```
    pub fn target_decoded() -> &'static [Encoding] {
        &[Encoding::OpenH264]
    }

    /// Pixel encodings only (no pseudo-encodings), in the default preference order.
    pub fn supported_pixel_encodings() -> Vec<Encoding> {
        Self::supported()
            .into_iter()
            .filter(|e| !e.is_pseudo())
            .collect()
    }

    /// True when rectangles in `encoding` can be decoded (for
    /// [`Decoders::target_decoded`] ones: framed, provided the target decodes them).
    pub fn can_decode(encoding: Encoding) -> bool {
        make(encoding, Rect::default(), 4, None).is_some()
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

    /// Records the Quality level pseudo-encoding the client offered (call whenever the
    /// encodings sent change). Lossy decoders whose parameters are implied by it (ZYWRLE)
    /// need it.
    pub fn set_quality_level(&mut self, quality: Option<u8>) {
        self.quality = quality;
    }

    /// Counts a rectangle handled outside the decoders (DesktopSize, LastRect, …) so that the
    /// statistics cover every rectangle of an update.
    pub fn record_rect(&mut self, encoding: Encoding, pixels: u64) {
        self.stats.count_rect(encoding, pixels);
    }

    /// Benchmarks only: starts (or stops) keeping the compressed input of every zlib stream,
    /// so that inflating the same payloads alone can be timed as the physical ceiling of the
    /// zlib-based encodings. Memory grows with the session; never turn it on in a client.
    pub fn capture_compressed(&mut self, on: bool) {
        self.zlib.set_capture(on);
    }

    /// Benchmarks only: the compressed bytes captured since the last call (see
    /// [`Decoders::capture_compressed`]), one entry per zlib stream segment (a Tight stream
    /// reset starts a new one), each inflatable from a fresh stream.
    pub fn take_compressed(&mut self) -> Vec<Vec<u8>> {
        self.zlib.take_captured()
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
        let Some(decoder) = make(encoding, rect, self.conv.bytes_per_pixel(), self.quality) else {
            return Err(err(DecodeErrorKind::Unsupported));
        };
        if is_cursor(encoding) {
            let max = self.limits.max_cursor_dimension;
            let dim = rect.width.max(rect.height);
            if dim > max {
                return Err(err(DecodeErrorKind::LimitExceeded {
                    what: "cursor dimension",
                    value: u64::from(dim),
                    limit: u64::from(max),
                }));
            }
        } else if !rect.fits_within(fb_width, fb_height) {
            return Err(err(DecodeErrorKind::OutOfBounds {
                rect,
                fb_width,
                fb_height,
            }));
        }
        self.stats.count_rect(encoding, rect.area());
        self.fb_size = (fb_width, fb_height);
        self.active = Some((encoding, decoder));
        self.needed = 0;
        Ok(())
    }

    /// The fewest bytes that let the rectangle in progress make progress (0 when idle or
    /// when the decoder can progress without input).
    pub fn bytes_needed(&self) -> usize {
        if self.active.is_some() {
            self.needed
        } else {
            0
        }
    }

    /// Feeds payload bytes of the rectangle in progress. Call it even with empty input right
    /// after [`Decoders::begin`]: empty rectangles complete without bytes.
    pub fn feed(
        &mut self,
        input: &[u8],
        target: &mut dyn DrawTarget,
    ) -> Result<Progress, DecodeError> {
        let Some((encoding, decoder)) = self.active.as_mut() else {
            return Ok(Progress {
                consumed: 0,
                done: None,
            });
        };
        let encoding = *encoding;
        let mut cx = Cx {
            conv: &self.conv,
            target,
            scratch: &mut self.scratch,
            stats: &mut self.stats,
            zlib: &mut self.zlib,
            limits: &self.limits,
            fb_size: self.fb_size,
            encoding,
        };
        match decoder.feed(input, &mut cx) {
            Err(kind) => {
                self.active = None;
                Err(DecodeError::new(encoding, kind))
            }
            Ok((consumed, Status::Need(n))) => {
                self.needed = n;
                Ok(Progress {
                    consumed,
                    done: None,
                })
            }
            Ok((consumed, Status::Done(d))) => {
                self.active = None;
                self.needed = 0;
                Ok(Progress {
                    consumed,
                    done: Some(d),
                })
            }
        }
    }

    /// Aborts the rectangle in progress (after a fatal error elsewhere).
    pub fn reset(&mut self) {
        self.active = None;
    }
}

fn is_cursor(e: Encoding) -> bool {
    matches!(
        e,
        Encoding::Cursor | Encoding::XCursor | Encoding::VmwareCursor
    )
}

/// The decoder for `encoding`, or `None` when this build has none.
fn make(
    encoding: Encoding,
    rect: Rect,
    bpp: usize,
    quality: Option<u8>,
) -> Option<Box<dyn RectDecoder>> {
    Some(match encoding {
        Encoding::Raw => Box::new(RawDecoder::new(rect)),
        Encoding::CopyRect => Box::new(CopyRectDecoder(rect)),
        Encoding::Cursor => Box::new(CursorDecoder::new(
            (rect.x, rect.y),
            rect.width,
            rect.height,
            bpp,
        )),
        Encoding::Zlib => Box::new(crate::zlib::ZlibDecoder::new(rect)),
        Encoding::Rre => Box::new(crate::rre::RreDecoder::new(rect, false)),
        Encoding::CoRre => Box::new(crate::rre::RreDecoder::new(rect, true)),
        other => return crate::extra::make(other, rect, bpp, quality),
    })
}

/// CopyRect (1): the source position; the destination was checked in `begin`.
///
/// Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#copyrect-encoding>
#[derive(Debug)]
struct CopyRectDecoder(Rect);

impl RectDecoder for CopyRectDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let Some(b) = input.get(..4) else {
            return Ok((0, Status::Need(4)));
        };
        let dst = self.0;
        let (sx, sy) = (
            u16::from_be_bytes([b[0], b[1]]),
            u16::from_be_bytes([b[2], b[3]]),
        );
        let src = Rect::new(sx, sy, dst.width, dst.height);
        let (fw, fh) = cx.fb_size;
        if !src.fits_within(fw, fh) {
            return Err(DecodeErrorKind::OutOfBounds {
                rect: src,
                fb_width: fw,
                fb_height: fh,
            });
        }
        if !dst.is_empty() {
            cx.target.copy_rect(sx, sy, dst);
        }
        Ok((4, Status::Done(Decoded::Drawn)))
    }
}
