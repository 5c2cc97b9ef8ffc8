//! Tight (7) and TightPNG (-260).
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#tight-encoding> and
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#tight-png-encoding>.
//!
//! A rectangle starts with a *compression-control* byte whose low four bits reset the four
//! persistent zlib streams and whose high four bits choose FillCompression, JpegCompression,
//! BasicCompression (with a stream id and optional filter), BasicCompression Without Zlib,
//! or, in TightPNG only, PngCompression. Basic data is inflated in bounded steps and drawn
//! row by row as it arrives; JPEG and PNG images are collected whole (after their length is
//! checked against the limit) because an image decoder needs all of it.

mod filter;

use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::draw::ImageFormat;
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;
use crate::image::{ImageBuf, check_jpeg_format};
use crate::zpayload::ZPayload;

use filter::{Filter, Rows, TPixel};

/// Filtered data shorter than this is sent as is: no length, no zlib (spec, BasicCompression).
const MIN_TO_COMPRESS: usize = 12;

/// The Tight (or, with `png`, TightPNG) decoder for one rectangle.
pub(crate) fn make(rect: Rect, png: bool) -> Option<Box<dyn RectDecoder>> {
    Some(Box::new(TightDecoder {
        rect,
        png,
        state: State::Control,
        rows: None,
    }))
}

#[derive(Debug)]
struct TightDecoder {
    rect: Rect,
    /// TightPNG: BasicCompression is replaced by PngCompression.
    png: bool,
    state: State,
    /// The filter being undone, once BasicCompression's header is read.
    rows: Option<Rows>,
}

/// Where the rectangle's parse stands. `stream` is the zlib stream of BasicCompression, or
/// `None` for BasicCompression Without Zlib.
#[derive(Debug)]
enum State {
    Control,
    Fill,
    /// Compact length of a JPEG or PNG image.
    ImageLength(ImageFormat),
    Image(ImageBuf),
    FilterId {
        stream: Option<usize>,
    },
    PaletteSize {
        stream: Option<usize>,
    },
    Palette {
        stream: Option<usize>,
        colours: usize,
    },
    /// Filtered data sent as is.
    Plain,
    /// Compact length of zlib data.
    ZlibLength {
        stream: usize,
    },
    Zlib {
        stream: usize,
        payload: ZPayload,
    },
    Done,
}

/// Reads a compact length (1–3 bytes, 7 bits each except 8 in the third byte, least
/// significant first). `Err(n)`: at least `n` bytes are needed.
fn compact_length(input: &[u8]) -> Result<(usize, usize), usize> {
    let mut value = 0usize;
    for i in 0..3 {
        let &b = input.get(i).ok_or(i + 1)?;
        if i == 2 {
            // The third byte carries bits 14–21 whole; there is no continuation bit.
            return Ok((value | usize::from(b) << 14, 3));
        }
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    unreachable!("the third byte always ends the length")
}

/// Checks a compact length against the limit before anything is buffered.
fn check_length(len: usize, cx: &Cx<'_>) -> Result<usize, DecodeErrorKind> {
    let limit = cx.limits.max_compressed_len;
    if len as u64 > u64::from(limit) {
        return Err(DecodeErrorKind::LimitExceeded {
            what: "compressed length",
            value: len as u64,
            limit: u64::from(limit),
        });
    }
    Ok(len)
}

impl TightDecoder {
    /// Parses the control byte: resets the streams it names and picks the next state.
    fn control(&mut self, c: u8, cx: &mut Cx<'_>) -> Result<State, DecodeErrorKind> {
        // NOTE1 of the spec: reset even when the method is Fill or JPEG.
        for (i, inf) in cx.zlib.tight.iter_mut().enumerate() {
            if c & (1 << i) != 0 {
                inf.reset();
            }
        }
        let invalid = || DecodeErrorKind::InvalidValue {
            field: "Tight compression-control",
            value: u64::from(c),
        };
        Ok(match (c >> 4, self.png) {
            (0x8, _) => State::Fill,
            (0x9, _) => {
                check_jpeg_format(cx.conv.format())?;
                State::ImageLength(ImageFormat::Jpeg)
            }
            (0xA, true) => State::ImageLength(ImageFormat::Png),
            (_, true) => return Err(invalid()),
            // BasicCompression: bits 5–4 are the stream, bit 6 says a filter-id follows.
            (m, false) if m & 0x8 == 0 => {
                let stream = Some(usize::from(m & 3));
                if m & 0x4 != 0 {
                    State::FilterId { stream }
                } else {
                    self.start_rows(Filter::Copy, stream, cx)
                }
            }
            // BasicCompression Without Zlib, without and with a filter-id.
            (0xA, false) => self.start_rows(Filter::Copy, None, cx),
            (0xE, false) => State::FilterId { stream: None },
            _ => return Err(invalid()),
        })
    }

    /// BasicCompression's filter is known: decide between plain and zlib data.
    fn start_rows(&mut self, filter: Filter, stream: Option<usize>, cx: &mut Cx<'_>) -> State {
        cx.sub(match &filter {
            Filter::Copy => "copy",
            Filter::Palette(p) if p.len() == 2 => "palette-mono",
            Filter::Palette(_) => "palette",
            Filter::Gradient { .. } => "gradient",
        });
        let tpx = TPixel::of(cx.conv.format());
        let rows = Rows::new(self.rect, tpx, filter);
        let small = rows.total_bytes() < MIN_TO_COMPRESS;
        self.rows = Some(rows);
        match stream {
            Some(stream) if !small => State::ZlibLength { stream },
            _ => {
                cx.sub("uncompressed");
                State::Plain
            }
        }
    }

    /// One step of the state machine over `input`; returns bytes consumed and, when it cannot
    /// go on, what it needs.
    fn step(
        &mut self,
        input: &[u8],
        cx: &mut Cx<'_>,
    ) -> Result<(usize, Option<Status>), DecodeErrorKind> {
        let tpx = TPixel::of(cx.conv.format());
        let need = |n| Ok((0, Some(Status::Need(n))));
        match &mut self.state {
            State::Control => {
                let Some(&c) = input.first() else {
                    return need(1);
                };
                self.state = self.control(c, cx)?;
                Ok((1, None))
            }
            State::Fill => {
                let Some(px) = input.get(..tpx.size) else {
                    return need(tpx.size);
                };
                if !self.rect.is_empty() {
                    cx.target.fill_rgba(self.rect, tpx.to_rgba(px, cx.conv));
                }
                cx.sub("fill");
                self.state = State::Done;
                Ok((tpx.size, None))
            }
            State::ImageLength(format) => {
                let format = *format;
                let (len, n) = match compact_length(input) {
                    Ok(v) => v,
                    Err(n) => return need(n),
                };
                let len = check_length(len, cx)?;
                cx.sub(match format {
                    ImageFormat::Png => "png",
                    _ => "jpeg",
                });
                self.state = State::Image(ImageBuf::new(format, len));
                Ok((n, None))
            }
            State::Image(buf) => {
                let (n, whole) = buf.take(input);
                if !whole {
                    return Ok((n, Some(Status::Need(buf.missing().min(64 * 1024)))));
                }
                buf.draw(self.rect, cx)?;
                self.state = State::Done;
                Ok((n, None))
            }
            State::FilterId { stream } => {
                let stream = *stream;
                let Some(&id) = input.first() else {
                    return need(1);
                };
                self.state = match id {
                    0 => self.start_rows(Filter::Copy, stream, cx),
                    1 => State::PaletteSize { stream },
                    2 => {
                        // The spec allows the gradient filter at 16 and 32 bpp only; it works
                        // on true-colour components.
                        let pf = cx.conv.format();
                        if !pf.true_colour || pf.bits_per_pixel == 8 {
                            return Err(DecodeErrorKind::InvalidValue {
                                field: "bits-per-pixel for the Tight gradient filter",
                                value: u64::from(pf.bits_per_pixel),
                            });
                        }
                        let g = Filter::Gradient {
                            prev: Vec::new(),
                            cur: Vec::new(),
                        };
                        self.start_rows(g, stream, cx)
                    }
                    _ => {
                        return Err(DecodeErrorKind::InvalidValue {
                            field: "Tight filter-id",
                            value: u64::from(id),
                        });
                    }
                };
                Ok((1, None))
            }
            State::PaletteSize { stream } => {
                let Some(&n) = input.first() else {
                    return need(1);
                };
                // The byte is the number of colours minus one. The spec speaks of 2..256
                // colours; a one-colour palette (8-bit indices, all 0) is harmless, so it is
                // accepted rather than rejected.
                self.state = State::Palette {
                    stream: *stream,
                    colours: usize::from(n) + 1,
                };
                Ok((1, None))
            }
            State::Palette { stream, colours } => {
                let (stream, colours) = (*stream, *colours);
                let Some(bytes) = input.get(..colours * tpx.size) else {
                    return need(colours * tpx.size);
                };
                let palette = bytes
                    .chunks_exact(tpx.size)
                    .map(|px| tpx.to_rgba(px, cx.conv))
                    .collect();
                self.state = self.start_rows(Filter::Palette(palette), stream, cx);
                Ok((colours * tpx.size, None))
            }
            State::Plain => {
                let rows = self.rows.as_mut().expect("rows exist in Plain");
                let n = rows.feed(input, cx)?;
                if rows.is_done() {
                    self.state = State::Done;
                    Ok((n, None))
                } else {
                    Ok((n, Some(Status::Need(rows.row_bytes()))))
                }
            }
            State::ZlibLength { stream } => {
                let stream = *stream;
                let (len, n) = match compact_length(input) {
                    Ok(v) => v,
                    Err(n) => return need(n),
                };
                let len = check_length(len, cx)?;
                self.state = State::Zlib {
                    stream,
                    payload: ZPayload::new(
                        len,
                        self.rows
                            .as_ref()
                            .map_or(0, |r| r.row_bytes() * usize::from(self.rect.height)),
                    ),
                };
                Ok((n, None))
            }
            State::Zlib { stream, payload } => {
                let rows = self.rows.as_mut().expect("rows exist in Zlib");
                let (consumed, status) = pump_rows(input, rows, payload, *stream, cx)?;
                if status.is_none() {
                    self.state = State::Done;
                }
                Ok((consumed, status))
            }
            State::Done => Ok((0, Some(Status::Done(Decoded::Drawn)))),
        }
    }
}

/// Inflates BasicCompression data in bounded steps and draws whole rows as they appear.
/// Returns `None` as status once every row is drawn and every compressed byte is read.
fn pump_rows(
    input: &[u8],
    rows: &mut Rows,
    payload: &mut ZPayload,
    stream: usize,
    cx: &mut Cx<'_>,
) -> Result<(usize, Option<Status>), DecodeErrorKind> {
    let mut consumed = 0;
    loop {
        if rows.is_done() {
            // The inflated size is exact, so any further output is a bomb or a desynchronised
            // stream. Pump one byte at a time: a bomb is caught after one bounded step
            // instead of being inflated whole.
            let n = payload.pump(&input[consumed..], &mut cx.zlib.tight[stream], 1)?;
            consumed += n;
            if !payload.available().is_empty() {
                return Err(DecodeErrorKind::TrailingData {
                    bytes: payload.available().len() as u64,
                });
            }
            if payload.remaining() == 0 {
                return Ok((consumed, None));
            }
            if n == 0 {
                return Ok((consumed, Some(Status::Need(1))));
            }
            continue;
        }
        let want = rows.batch_bytes();
        let n = payload.pump(&input[consumed..], &mut cx.zlib.tight[stream], want)?;
        consumed += n;
        let used = rows.feed(payload.available(), cx)?;
        payload.advance(used);
        if used == 0 && n == 0 {
            if payload.remaining() == 0 {
                return Err(DecodeErrorKind::InvalidValue {
                    field: "Tight zlib length (too short for the rectangle)",
                    value: 0,
                });
            }
            return Ok((consumed, Some(Status::Need(1))));
        }
    }
}

impl RectDecoder for TightDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let mut pos = 0;
        loop {
            let (n, status) = self.step(&input[pos..], cx)?;
            pos += n;
            if let Some(s) = status {
                return Ok((pos, s));
            }
        }
    }
}
