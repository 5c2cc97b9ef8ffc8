//! ZRLE (16), TRLE (15) and ZYWRLE (17): tiles, palettes and run lengths.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#zrle-encoding>.
//! TRLE has no section of its own in the community spec (only its number in
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#encodings>); it is RFC 6143
//! §7.7.5: the ZRLE tile format, uncompressed, with 16×16 tiles and two extra sub-encodings,
//! 127 (packed palette reusing the previous palette) and 129 (palette RLE reusing it).
//!
//! Neither stream carries a per-tile length, so the decoder parses incrementally: one *unit*
//! at a time (a tile header with its palette, a raw or packed tile body, one RLE run), and
//! asks for more bytes when a unit is incomplete. TRLE units come straight from the wire;
//! ZRLE units come from the inflated stream of the connection's ZRLE zlib stream (shared with
//! ZYWRLE), pumped in bounded steps through [`ZPayload`]. Solid tiles go to the target with
//! one `fill_rgba`; raw and packed tiles are converted into the scratch buffer and drawn with
//! one `put_rgba`; RLE tiles are filled run by run into the tile's own buffer (where a run
//! that wraps across rows is one contiguous span) and drawn with one `put_rgba` at the end:
//! a text tile has hundreds of short runs, and one target call per run dominated decoding.
//!
//! ## TRLE palette reuse
//!
//! The palette that 127 and 129 reuse is the last one sent (by a 2–16 or 130–255 tile) in the
//! same rectangle; raw, solid and plain-RLE tiles leave it alone. Reuse before any palette, or
//! 127 with a palette of more than 16 entries (which has no packed index width), is an error.
//!
//! ## ZYWRLE
//!
//! ZYWRLE is ZRLE framing in which the server may replace a tile that would be raw: it writes
//! sub-encoding 0, then a complete ZRLE tile (any sub-encoding) whose pixel values are wavelet
//! coefficients; see [`zywrle`] for the inverse transform. The number of wavelet levels (1–3)
//! is not on the wire: servers derive it from the quality level the client sent (libvncserver:
//! none → 1, 0–2 → 3, 3–5 → 2, 6–9 → 1; [`zywrle_level_for_quality`]). 8 bpp formats never
//! use the transform. Sub-encoding statistics count the inner tile's sub-encoding.
//!
//! ZYWRLE is lossy, so compare its output with a tolerance. Against the reference decoder the
//! output is meant to be bit-exact (the same integer arithmetic on bytes, in the same order).
//! Against the *source* image at 32 bpp, a transform without the server's quantisation (as
//! the tests use, levels 1–3) loses only in the colour transform: at most 2 per 8-bit channel.
//! At 16 bpp the coefficients themselves are cut to 5/6/5 bits when packed into pixels, and
//! with the server's quantisation the error is whatever the quality level allows (no fixed
//! bound, large at level 3): compare real servers' output by PSNR, not per pixel.

mod cpixel;
mod zywrle;

use cpixel::CPixel;

use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::draw::fill4;
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;
use crate::zlib::read_length;
use crate::zpayload::ZPayload;

/// Which member of the family (ZYWRLE is made by [`make_zywrle`], which needs the level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    Zrle,
    Trle,
}

pub(crate) fn make(rect: Rect, variant: Variant) -> Option<Box<dyn RectDecoder>> {
    Some(match variant {
        Variant::Trle => Box::new(TrleDecoder(Tiles::new(rect, 16, true, 0))),
        Variant::Zrle => Box::new(ZrleDecoder::new(rect, 0)),
    })
}

/// A ZYWRLE decoder for `level` wavelet levels (0 decodes as plain ZRLE).
pub(crate) fn make_zywrle(rect: Rect, level: u8) -> Box<dyn RectDecoder> {
    Box::new(ZrleDecoder::new(rect, level.min(3)))
}

/// The wavelet levels a libvncserver-style server uses for a quality level (0–9) or none.
pub(crate) fn zywrle_level_for_quality(quality: Option<u8>) -> u8 {
    match quality {
        None => 1,
        Some(0..=2) => 3,
        Some(3..=5) => 2,
        Some(_) => 1,
    }
}

/// What the next unit is. Inside a ZYWRLE tile (`Tiles::nested`) units fill the coefficient
/// buffer instead of drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Next: a tile's sub-encoding byte (and its palette or solid colour).
    Header,
    Raw,
    Packed {
        bits: u8,
    },
    /// `done` pixels of the tile are drawn; next: one run.
    Rle {
        indexed: bool,
        done: usize,
    },
    Done,
}

/// Outcome of one unit.
enum Unit {
    Used(usize),
    Need(usize),
}

/// Parse state of one rectangle's tiles.
#[derive(Debug)]
struct Tiles {
    rect: Rect,
    size: u16,
    trle: bool,
    /// ZYWRLE wavelet levels (0 for ZRLE and TRLE).
    level: u8,
    /// Origin of the current tile, relative to the rectangle.
    tx: u16,
    ty: u16,
    step: Step,
    /// Inside the coefficient tile of a ZYWRLE tile.
    nested: bool,
    pal_val: [u32; 127],
    pal_rgba: [[u8; 4]; 127],
    /// Entries of the last palette (0 before the first).
    pal_len: usize,
    /// RGBA of the RLE tile being filled (drawn when its last run is in).
    tilebuf: Vec<u8>,
    /// ZYWRLE: the coefficient tile in wire order, and the synthesised pixels.
    coeff: Vec<u32>,
    out: Vec<u32>,
    work: zywrle::Work,
}

impl Tiles {
    fn new(rect: Rect, size: u16, trle: bool, level: u8) -> Self {
        Self {
            rect,
            size,
            trle,
            level,
            tx: 0,
            ty: 0,
            step: if rect.is_empty() {
                Step::Done
            } else {
                Step::Header
            },
            nested: false,
            pal_val: [0; 127],
            pal_rgba: [[0; 4]; 127],
            pal_len: 0,
            tilebuf: Vec::new(),
            coeff: Vec::new(),
            out: Vec::new(),
            work: zywrle::Work::default(),
        }
    }

    fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// The current tile in absolute coordinates.
    fn tile(&self) -> Rect {
        Rect::new(
            self.rect.x + self.tx,
            self.rect.y + self.ty,
            self.size.min(self.rect.width - self.tx),
            self.size.min(self.rect.height - self.ty),
        )
    }

    /// Parses whole units of `input`. Returns the bytes used and `Some(n)` when the next unit
    /// needs `n` bytes (counted from the first unused one), `None` once the rectangle is done.
    fn parse(
        &mut self,
        input: &[u8],
        cx: &mut Cx<'_>,
    ) -> Result<(usize, Option<usize>), DecodeErrorKind> {
        let cp = CPixel::of(cx.conv.format());
        let mut pos = 0;
        loop {
            let inp = &input[pos..];
            let unit = match self.step {
                Step::Done => return Ok((pos, None)),
                Step::Header => self.header(inp, cp, cx)?,
                Step::Raw => self.raw(inp, cp, cx),
                Step::Packed { bits } => self.packed(inp, bits, cx)?,
                Step::Rle { indexed, done } => self.run(inp, cp, indexed, done, cx)?,
            };
            match unit {
                Unit::Used(n) => pos += n,
                Unit::Need(n) => return Ok((pos, Some(n))),
            }
        }
    }

    fn header(&mut self, inp: &[u8], cp: CPixel, cx: &mut Cx<'_>) -> Result<Unit, DecodeErrorKind> {
        let Some(&sub) = inp.first() else {
            return Ok(Unit::Need(1));
        };
        let c = cp.len;
        let palette = |n: usize| 1 + n * c;
        match sub {
            // ZYWRLE: a "raw" tile is a coefficient tile, itself a whole tile (8 bpp excepted).
            0 if self.level > 0 && !self.nested && cx.conv.bytes_per_pixel() > 1 => {
                self.nested = true;
                let n = usize::from(self.size) * usize::from(self.size);
                if self.coeff.len() < n {
                    self.coeff.resize(n, 0);
                    self.out.resize(n, 0);
                }
                Ok(Unit::Used(1))
            }
            0 => {
                cx.sub("raw");
                self.step = Step::Raw;
                Ok(Unit::Used(1))
            }
            1 => {
                let Some(b) = inp.get(1..1 + c) else {
                    return Ok(Unit::Need(1 + c));
                };
                cx.sub("solid");
                let v = cp.value(b);
                let t = self.tile();
                if self.nested {
                    self.coeff[..tile_len(t)].fill(v);
                } else {
                    cx.target.fill_rgba(t, cx.conv.value_to_rgba(v));
                }
                self.end_tile(cx);
                Ok(Unit::Used(1 + c))
            }
            2..=16 => {
                let n = usize::from(sub);
                if inp.len() < palette(n) {
                    return Ok(Unit::Need(palette(n)));
                }
                cx.sub("packed-palette");
                self.read_palette(&inp[1..], n, cp, cx);
                self.step = Step::Packed {
                    bits: index_bits(n),
                };
                Ok(Unit::Used(palette(n)))
            }
            127 if self.trle => {
                if !(2..=16).contains(&self.pal_len) {
                    return Err(DecodeErrorKind::InvalidValue {
                        field: "reused palette size (none yet, or too big to pack)",
                        value: self.pal_len as u64,
                    });
                }
                cx.sub("reused-palette");
                self.step = Step::Packed {
                    bits: index_bits(self.pal_len),
                };
                Ok(Unit::Used(1))
            }
            128 => {
                cx.sub("plain-rle");
                self.start_rle();
                self.step = Step::Rle {
                    indexed: false,
                    done: 0,
                };
                Ok(Unit::Used(1))
            }
            129 if self.trle => {
                if self.pal_len == 0 {
                    return Err(DecodeErrorKind::InvalidValue {
                        field: "reused palette size (none yet)",
                        value: 0,
                    });
                }
                cx.sub("reused-palette-rle");
                self.start_rle();
                self.step = Step::Rle {
                    indexed: true,
                    done: 0,
                };
                Ok(Unit::Used(1))
            }
            130..=255 => {
                let n = usize::from(sub - 128);
                if inp.len() < palette(n) {
                    return Ok(Unit::Need(palette(n)));
                }
                cx.sub("palette-rle");
                self.read_palette(&inp[1..], n, cp, cx);
                self.start_rle();
                self.step = Step::Rle {
                    indexed: true,
                    done: 0,
                };
                Ok(Unit::Used(palette(n)))
            }
            _ => Err(DecodeErrorKind::InvalidValue {
                field: "sub-encoding",
                value: u64::from(sub),
            }),
        }
    }

    /// Sizes the tile buffer an RLE tile is filled into (coefficients go to `coeff`).
    fn start_rle(&mut self) {
        if !self.nested {
            self.tilebuf.resize(tile_len(self.tile()) * 4, 0);
        }
    }

    fn read_palette(&mut self, b: &[u8], n: usize, cp: CPixel, cx: &Cx<'_>) {
        for (i, px) in b.chunks_exact(cp.len).take(n).enumerate() {
            let v = cp.value(px);
            self.pal_val[i] = v;
            self.pal_rgba[i] = cx.conv.value_to_rgba(v);
        }
        self.pal_len = n;
    }

    fn raw(&mut self, inp: &[u8], cp: CPixel, cx: &mut Cx<'_>) -> Unit {
        let t = self.tile();
        let n = tile_len(t);
        let Some(body) = inp.get(..n * cp.len) else {
            return Unit::Need(n * cp.len);
        };
        if self.nested {
            for (d, px) in self.coeff.iter_mut().zip(body.chunks_exact(cp.len)) {
                *d = cp.value(px);
            }
        } else {
            cx.scratch.resize(n * 4, 0);
            if cp.len == cx.conv.bytes_per_pixel() {
                // A full-size CPIXEL is a PIXEL: the converter's fast path applies.
                cx.conv.convert_run(body, cx.scratch);
            } else if cp.is_rgb_bytes() && cx.conv.is_rgbx() {
                // The usual 32 bpp little-endian format: the 3 bytes are R, G, B.
                for (d, px) in cx.scratch.chunks_exact_mut(4).zip(body.chunks_exact(3)) {
                    d.copy_from_slice(&[px[0], px[1], px[2], 255]);
                }
            } else {
                for (d, px) in cx
                    .scratch
                    .chunks_exact_mut(4)
                    .zip(body.chunks_exact(cp.len))
                {
                    d.copy_from_slice(&cx.conv.value_to_rgba(cp.value(px)));
                }
            }
            cx.target.put_rgba(t, cx.scratch);
        }
        self.end_tile(cx);
        Unit::Used(n * cp.len)
    }

    fn packed(&mut self, inp: &[u8], bits: u8, cx: &mut Cx<'_>) -> Result<Unit, DecodeErrorKind> {
        let t = self.tile();
        let (w, h) = (usize::from(t.width), usize::from(t.height));
        let bits = usize::from(bits);
        // Rows are padded to whole bytes.
        let row = (w * bits).div_ceil(8);
        let Some(body) = inp.get(..row * h) else {
            return Ok(Unit::Need(row * h));
        };
        let mask = (1u8 << bits) - 1;
        if !self.nested {
            cx.scratch.resize(w * h * 4, 0);
            let (pal, n) = (&self.pal_rgba, self.pal_len);
            let ok = match bits {
                1 => unpack::<1>(body, row, w, pal, n, cx.scratch),
                2 => unpack::<2>(body, row, w, pal, n, cx.scratch),
                _ => unpack::<4>(body, row, w, pal, n, cx.scratch),
            };
            if !ok {
                // Rare (a broken server): find the first offending index to report it.
                for y in 0..h {
                    for x in 0..w {
                        let bit = x * bits;
                        let idx = (body[y * row + bit / 8] >> (8 - bits - bit % 8)) & mask;
                        self.check_index(usize::from(idx))?;
                    }
                }
            }
            cx.target.put_rgba(t, cx.scratch);
            self.end_tile(cx);
            return Ok(Unit::Used(row * h));
        }
        for y in 0..h {
            for x in 0..w {
                let bit = x * bits;
                let shift = 8 - bits - bit % 8;
                let idx = usize::from((body[y * row + bit / 8] >> shift) & mask);
                self.check_index(idx)?;
                self.coeff[y * w + x] = self.pal_val[idx];
            }
        }
        self.end_tile(cx);
        Ok(Unit::Used(row * h))
    }

    fn check_index(&self, idx: usize) -> Result<(), DecodeErrorKind> {
        if idx >= self.pal_len {
            return Err(DecodeErrorKind::InvalidValue {
                field: "palette index",
                value: idx as u64,
            });
        }
        Ok(())
    }

    /// One run: a colour (CPIXEL or palette index) and, unless it is a single-pixel palette
    /// run, a length of `1 + sum of bytes` where 255 means "more follows".
    fn run(
        &mut self,
        inp: &[u8],
        cp: CPixel,
        indexed: bool,
        done: usize,
        cx: &mut Cx<'_>,
    ) -> Result<Unit, DecodeErrorKind> {
        let t = self.tile();
        let total = tile_len(t);
        let left = total - done;
        let (value, rgba, mut i, long) = if indexed {
            let Some(&b) = inp.first() else {
                return Ok(Unit::Need(1));
            };
            let idx = usize::from(b & 0x7f);
            self.check_index(idx)?;
            (self.pal_val[idx], self.pal_rgba[idx], 1, b & 0x80 != 0)
        } else {
            let Some(px) = inp.get(..cp.len) else {
                return Ok(Unit::Need(cp.len + 1));
            };
            let v = cp.value(px);
            (v, cx.conv.value_to_rgba(v), cp.len, true)
        };
        let mut len = 1usize;
        if long {
            loop {
                let Some(&b) = inp.get(i) else {
                    return Ok(Unit::Need(i + 1));
                };
                i += 1;
                len += usize::from(b);
                // Checked while summing so a stream of 255s cannot grow the unit unbounded.
                if len > left {
                    return Err(DecodeErrorKind::InvalidValue {
                        field: "run length (past the end of the tile)",
                        value: len as u64,
                    });
                }
                if b != 255 {
                    break;
                }
            }
        }
        if len > left {
            return Err(DecodeErrorKind::InvalidValue {
                field: "run length (past the end of the tile)",
                value: len as u64,
            });
        }
        if self.nested {
            self.coeff[done..done + len].fill(value);
        } else {
            fill4(&mut self.tilebuf[done * 4..(done + len) * 4], rgba);
        }
        if done + len == total {
            if !self.nested {
                cx.target.put_rgba(t, &self.tilebuf[..total * 4]);
            }
            self.end_tile(cx);
        } else {
            self.step = Step::Rle {
                indexed,
                done: done + len,
            };
        }
        Ok(Unit::Used(i))
    }

    /// Finishes the current tile (synthesising a ZYWRLE tile) and moves to the next.
    fn end_tile(&mut self, cx: &mut Cx<'_>) {
        let t = self.tile();
        if self.nested {
            self.nested = false;
            let (w, h) = (usize::from(t.width), usize::from(t.height));
            let f = cx.conv.format();
            let layout = match (f.bytes_per_pixel(), f.green_max > 31) {
                (4, _) => zywrle::Layout::Bits32,
                (_, true) => zywrle::Layout::Rgb565,
                (_, false) => zywrle::Layout::Rgb555,
            };
            zywrle::synthesize(
                &self.coeff,
                &mut self.out,
                w,
                h,
                self.level,
                layout,
                &mut self.work,
            );
            cx.scratch.resize(w * h * 4, 0);
            for (d, &v) in cx.scratch.chunks_exact_mut(4).zip(&self.out[..w * h]) {
                d.copy_from_slice(&cx.conv.value_to_rgba(v));
            }
            cx.target.put_rgba(t, cx.scratch);
        }
        self.tx += t.width;
        if self.tx >= self.rect.width {
            self.tx = 0;
            self.ty += t.height;
        }
        self.step = if self.ty >= self.rect.height {
            Step::Done
        } else {
            Step::Header
        };
    }
}

/// Index width for a packed palette of `n` entries (spec: 1 bit for 2, 2 for 3–4, else 4).
fn index_bits(n: usize) -> u8 {
    match n {
        0..=2 => 1,
        3..=4 => 2,
        _ => 4,
    }
}

fn tile_len(t: Rect) -> usize {
    usize::from(t.width) * usize::from(t.height)
}

/// Unpacks `BITS`-bit palette indices (rows of `row` bytes, leftmost pixel in the most
/// significant bits, rows padded to whole bytes) of a palette of `pal_len` entries into
/// `w`-pixel RGBA rows of `out`. Returns false if an index is past the palette (the array
/// has room for any index, so nothing reads out of bounds meanwhile; the caller fails the
/// rectangle before drawing).
///
/// Works a nibble at a time through a 16-entry table of the RGBA bytes each nibble stands
/// for (1, 2 or 4 pixels): two table copies per byte instead of a shift, mask, bounds check
/// and 4-byte copy per pixel.
fn unpack<const BITS: usize>(
    body: &[u8],
    row: usize,
    w: usize,
    pal: &[[u8; 4]; 127],
    pal_len: usize,
    out: &mut [u8],
) -> bool {
    let mask = (1u8 << BITS) - 1;
    // Pixels per nibble and table bytes per entry.
    let ppn = 4 / BITS;
    let e = ppn * 4;
    let mut table = [[0u8; 16]; 16];
    let mut bad = [false; 16];
    for (n, (entry, bad)) in table.iter_mut().zip(&mut bad).enumerate() {
        for (k, px) in entry[..e].chunks_exact_mut(4).enumerate() {
            let idx = usize::from((n as u8 >> (4 - BITS * (k + 1))) & mask);
            px.copy_from_slice(&pal[idx]);
            *bad |= idx >= pal_len;
        }
    }
    let whole = w / (2 * ppn);
    let mut any_bad = false;
    for (src, dst) in body.chunks_exact(row).zip(out.chunks_exact_mut(w * 4)) {
        let (main, rest) = dst.split_at_mut(whole * 2 * e);
        for (&b, d) in src.iter().zip(main.chunks_exact_mut(2 * e)) {
            let (hi, lo) = (usize::from(b >> 4), usize::from(b & 15));
            d[..e].copy_from_slice(&table[hi][..e]);
            d[e..].copy_from_slice(&table[lo][..e]);
            any_bad |= bad[hi] | bad[lo];
        }
        // The pixels of a last, partly used byte (its padding bits are ignored).
        if let Some(&b) = src.get(whole) {
            for (k, px) in rest.chunks_exact_mut(4).enumerate() {
                let idx = usize::from((b >> (8 - BITS * (k + 1))) & mask);
                px.copy_from_slice(&pal[idx]);
                any_bad |= idx >= pal_len;
            }
        }
    }
    !any_bad
}

/// TRLE (15): tiles straight from the wire.
#[derive(Debug)]
struct TrleDecoder(Tiles);

impl RectDecoder for TrleDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let (used, need) = self.0.parse(input, cx)?;
        Ok(match need {
            None => (used, Status::Done(Decoded::Drawn)),
            Some(n) => (used, Status::Need(n)),
        })
    }
}

/// ZRLE (16) and ZYWRLE (17): a `U32` length, then zlib data of the connection's ZRLE stream
/// that inflates to tiles.
#[derive(Debug)]
struct ZrleDecoder {
    tiles: Tiles,
    payload: Option<ZPayload>,
    /// Inflated bytes the next unit needs.
    need: usize,
}

impl ZrleDecoder {
    fn new(rect: Rect, level: u8) -> Self {
        Self {
            tiles: Tiles::new(rect, 64, false, level),
            payload: None,
            need: 1,
        }
    }
}

impl RectDecoder for ZrleDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let mut consumed = 0;
        let payload = match self.payload.as_mut() {
            Some(p) => p,
            None => {
                let Some(len) = read_length(input, cx)? else {
                    return Ok((0, Status::Need(4)));
                };
                consumed = 4;
                // Tiles inflate to at most about 4 bytes a pixel plus their headers.
                let expected = self.tiles.rect.area() as usize * 4 + 1024;
                self.payload.insert(ZPayload::new(len, expected))
            }
        };
        loop {
            if self.tiles.is_done() {
                // Ask for one inflated byte first: any byte now is trailing data, and this
                // bounds what a decompression bomb can make us inflate before we notice.
                consumed += payload.pump(&input[consumed..], &mut cx.zlib.zrle, 1)?;
                if !payload.available().is_empty() {
                    return Err(DecodeErrorKind::TrailingData {
                        bytes: payload.available().len() as u64,
                    });
                }
                let (n, complete) = payload.finish(&input[consumed..], &mut cx.zlib.zrle)?;
                consumed += n;
                return Ok(if complete {
                    (consumed, Status::Done(Decoded::Drawn))
                } else {
                    (consumed, Status::Need(1))
                });
            }
            let n = payload.pump(&input[consumed..], &mut cx.zlib.zrle, self.need)?;
            consumed += n;
            let (used, need) = self.tiles.parse(payload.available(), cx)?;
            payload.advance(used);
            if let Some(need) = need {
                self.need = need;
                if used == 0 && n == 0 {
                    if payload.remaining() == 0 {
                        // Every compressed byte is in, yet the tiles are incomplete.
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nibble-table unpacking against the definition, for every index width, widths
    /// that end mid-byte, and palettes smaller than the index range.
    #[test]
    fn unpack_matches_the_definition() {
        let mut pal = [[0u8; 4]; 127];
        for (i, p) in pal.iter_mut().enumerate() {
            *p = [i as u8, 100 + i as u8, 7, 255];
        }
        let mut seed = 12345u32;
        for bits in [1usize, 2, 4] {
            for w in 1..=19usize {
                let h = 3;
                let row = (w * bits).div_ceil(8);
                let body: Vec<u8> = (0..row * h)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (seed >> 16) as u8
                    })
                    .collect();
                let mut want = vec![0u8; w * h * 4];
                let mut max = 0;
                for y in 0..h {
                    for x in 0..w {
                        let bit = x * bits;
                        let idx =
                            (body[y * row + bit / 8] >> (8 - bits - bit % 8)) & ((1u8 << bits) - 1);
                        max = max.max(usize::from(idx));
                        want[(y * w + x) * 4..][..4].copy_from_slice(&pal[usize::from(idx)]);
                    }
                }
                for pal_len in [1usize << bits, max.max(1), max + 1] {
                    let mut got = vec![0u8; w * h * 4];
                    let ok = match bits {
                        1 => unpack::<1>(&body, row, w, &pal, pal_len, &mut got),
                        2 => unpack::<2>(&body, row, w, &pal, pal_len, &mut got),
                        _ => unpack::<4>(&body, row, w, &pal, pal_len, &mut got),
                    };
                    assert_eq!(ok, max < pal_len, "bits {bits} w {w} pal {pal_len}");
                    assert_eq!(got, want, "bits {bits} w {w}");
                }
            }
        }
    }
}
