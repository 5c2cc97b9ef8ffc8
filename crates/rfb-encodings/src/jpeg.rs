//! JPEG encoding (21): each rectangle is one JPEG image, with no length in front.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#jpeg-encoding>.
//!
//! The image ends at its EOI marker, so the decoder walks the JPEG structure as bytes arrive:
//! marker segments are skipped by their length, and entropy-coded data after SOS is scanned
//! for a marker, where `FF 00` (a stuffed `FF` data byte), `FF D0`–`FF D7` (restart markers)
//! and `FF FF` (fill) do not end the scan. The bytes up to EOI are kept, because a JPEG
//! decoder needs the whole image, and their count is held to the compressed-length limit.
//!
//! An image may omit its quantization (DQT) or Huffman (DHT) tables; the spec says to reuse
//! the previous ones. The table segments of the last image that had them are kept per
//! connection ([`ZlibStreams::jpeg_tables`](crate::inflate::ZlibStreams)) and inserted right
//! after SOI of an image that lacks them, which is where a JPEG decoder accepts tables.

use std::borrow::Cow;

use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::draw::ImageFormat;
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;
use crate::image::{check_jpeg_format, draw};

/// Define Quantization Table(s).
const DQT: u8 = 0xDB;
/// Define Huffman Table(s).
const DHT: u8 = 0xC4;
/// Start Of Scan: entropy-coded data follows its header.
const SOS: u8 = 0xDA;
/// End Of Image.
const EOI: u8 = 0xD9;
/// Start Of Image.
const SOI: u8 = 0xD8;

/// The JPEG (21) decoder for one rectangle.
pub(crate) fn make(rect: Rect) -> Option<Box<dyn RectDecoder>> {
    Some(Box::new(JpegDecoder {
        rect,
        buf: Vec::new(),
        pos: 0,
        phase: Phase::Soi,
        tables: Vec::new(),
        has_dqt: false,
        has_dht: false,
        has_sos: false,
        checked: false,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Expecting `FF D8`.
    Soi,
    /// Expecting a marker at `pos`.
    Marker,
    /// Inside the segment of `marker` that began at `start` and ends at `end`.
    Segment {
        marker: u8,
        start: usize,
        end: usize,
    },
    /// Scanning entropy-coded data from `pos`.
    Entropy,
}

#[derive(Debug)]
struct JpegDecoder {
    rect: Rect,
    /// The image so far.
    buf: Vec<u8>,
    /// Parse position in `buf`.
    pos: usize,
    phase: Phase,
    /// Ranges in `buf` of this image's DQT and DHT segments.
    tables: Vec<(u8, usize, usize)>,
    has_dqt: bool,
    has_dht: bool,
    has_sos: bool,
    /// The pixel format was checked (once, before buffering anything).
    checked: bool,
}

fn structure_err(detail: &str) -> DecodeErrorKind {
    DecodeErrorKind::Image {
        format: "jpeg",
        detail: detail.to_string(),
    }
}

impl JpegDecoder {
    /// Advances the parse through `buf`. Returns the end of the image (just past EOI) once
    /// it is found, or `None` when more bytes are needed.
    fn parse(&mut self) -> Result<Option<usize>, DecodeErrorKind> {
        let b = &self.buf;
        loop {
            match self.phase {
                Phase::Soi => {
                    if b.len() < 2 {
                        return Ok(None);
                    }
                    if b[..2] != [0xFF, SOI] {
                        return Err(structure_err("does not start with SOI"));
                    }
                    self.pos = 2;
                    self.phase = Phase::Marker;
                }
                Phase::Marker => {
                    let Some(&ff) = b.get(self.pos) else {
                        return Ok(None);
                    };
                    if ff != 0xFF {
                        return Err(structure_err("expected a marker"));
                    }
                    // Any number of FF fill bytes may precede the marker code.
                    let Some(&m) = b.get(self.pos + 1) else {
                        return Ok(None);
                    };
                    match m {
                        0xFF => self.pos += 1,
                        EOI => return Ok(Some(self.pos + 2)),
                        // Standalone markers carry no length.
                        0x01 | 0xD0..=0xD7 => self.pos += 2,
                        0x00 | SOI => return Err(structure_err("unexpected marker")),
                        _ => {
                            let Some(l) = b.get(self.pos + 2..self.pos + 4) else {
                                return Ok(None);
                            };
                            let len = usize::from(u16::from_be_bytes([l[0], l[1]]));
                            if len < 2 {
                                return Err(structure_err("segment length below 2"));
                            }
                            self.phase = Phase::Segment {
                                marker: m,
                                start: self.pos,
                                end: self.pos + 2 + len,
                            };
                        }
                    }
                }
                Phase::Segment { marker, start, end } => {
                    if b.len() < end {
                        return Ok(None);
                    }
                    // Only tables before the first scan count: those are the ones every
                    // scan may use, so the ones worth carrying to the next image. (A
                    // progressive image may redefine Huffman tables between its scans.)
                    if !self.has_sos && matches!(marker, DQT | DHT) {
                        self.has_dqt |= marker == DQT;
                        self.has_dht |= marker == DHT;
                        self.tables.push((marker, start, end));
                    }
                    self.has_sos |= marker == SOS;
                    self.pos = end;
                    self.phase = if marker == SOS {
                        Phase::Entropy
                    } else {
                        Phase::Marker
                    };
                }
                Phase::Entropy => {
                    let Some(i) = b[self.pos..].iter().position(|&x| x == 0xFF) else {
                        self.pos = b.len();
                        return Ok(None);
                    };
                    let i = self.pos + i;
                    let Some(&next) = b.get(i + 1) else {
                        self.pos = i;
                        return Ok(None);
                    };
                    match next {
                        // Stuffed data byte, or a restart marker inside the scan.
                        0x00 | 0xD0..=0xD7 => self.pos = i + 2,
                        // A fill byte: the marker (or more fill) follows.
                        0xFF => self.pos = i + 1,
                        _ => {
                            self.pos = i;
                            self.phase = Phase::Marker;
                        }
                    }
                }
            }
        }
    }

    /// Updates the per-connection table cache and returns the image to decode (with cached
    /// tables spliced in when it lacks its own), or `None` for a tables-only image.
    fn finish(&self, cx: &mut Cx<'_>) -> Option<Cow<'_, [u8]>> {
        let cache = &mut cx.zlib.jpeg_tables;
        if self.has_dqt || self.has_dht {
            // Keep the cached kind this image does not redefine; replace the kind it does.
            let mut next: Vec<u8> = segments(cache)
                .filter(|&(m, _)| (m == DQT && !self.has_dqt) || (m == DHT && !self.has_dht))
                .flat_map(|(_, s)| s.iter().copied())
                .collect();
            for &(_, s, e) in &self.tables {
                next.extend_from_slice(&self.buf[s..e]);
            }
            *cache = next;
            cx.sub("jpeg-tables");
        }
        if !self.has_sos {
            // An abbreviated "tables only" image: nothing to draw.
            return None;
        }
        let missing: Vec<u8> = segments(&cx.zlib.jpeg_tables)
            .filter(|&(m, _)| (m == DQT && !self.has_dqt) || (m == DHT && !self.has_dht))
            .flat_map(|(_, s)| s.iter().copied())
            .collect();
        if missing.is_empty() {
            return Some(Cow::Borrowed(&self.buf));
        }
        cx.sub("jpeg-cached-tables");
        let mut out = Vec::with_capacity(self.buf.len() + missing.len());
        out.extend_from_slice(&self.buf[..2]);
        out.extend_from_slice(&missing);
        out.extend_from_slice(&self.buf[2..]);
        Some(Cow::Owned(out))
    }
}

/// The marker segments of a table cache (which only ever holds whole segments).
fn segments(cache: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut rest = cache;
    core::iter::from_fn(move || {
        let len = usize::from(u16::from_be_bytes([*rest.get(2)?, *rest.get(3)?]));
        let seg = rest.get(..2 + len)?;
        rest = &rest[2 + len..];
        Some((seg[1], seg))
    })
}

impl RectDecoder for JpegDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        if !self.checked {
            // Check before buffering anything: a JPEG carries RGB.
            check_jpeg_format(cx.conv.format())?;
            self.checked = true;
        }
        let before = self.buf.len();
        self.buf.extend_from_slice(input);
        let end = self.parse()?;
        let limit = u64::from(cx.limits.max_compressed_len);
        let len = end.unwrap_or(self.buf.len());
        if len as u64 > limit {
            return Err(DecodeErrorKind::LimitExceeded {
                what: "JPEG image length",
                value: len as u64,
                limit,
            });
        }
        let Some(end) = end else {
            return Ok((input.len(), Status::Need(1)));
        };
        // Bytes after EOI belong to whatever follows the rectangle.
        self.buf.truncate(end);
        let consumed = end - before;
        if let Some(image) = self.finish(cx) {
            draw(self.rect, ImageFormat::Jpeg, &image, cx)?;
        }
        Ok((consumed, Status::Done(Decoded::Drawn)))
    }
}
