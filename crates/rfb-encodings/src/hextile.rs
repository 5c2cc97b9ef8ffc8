//! Hextile (5) and ZlibHex (8): the rectangle is cut into 16×16 tiles, each raw pixels or a
//! background with RRE-like sub-rectangles whose geometry fits in two nibble-packed bytes.
//! ZlibHex adds two mask bits that carry a tile's bytes through one of two persistent zlib
//! streams.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#hextile-encoding> and
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#zlibhex-encoding>
//!
//! A tile's wire length follows from its header (mask, optional pixels, subrect count), and a
//! tile is small: at most 16×16 raw pixels, or 255 sub-rectangles, or a `U16`-prefixed zlib
//! block. So the decoder parses one *whole* tile at a time and, when its bytes are not all
//! there, reports the tile's length with [`Status::Need`] and consumes nothing of it. No
//! partial-tile state exists, which keeps resumption trivial and zlib streams untouched until
//! a tile's compressed bytes are complete.
//!
//! Background and foreground carry over from tile to tile within one rectangle. The spec
//! forbids a server to rely on them after a Raw tile (and on the foreground after a
//! SubrectsColoured tile); such tiles leave both values unchanged here, as widespread clients
//! do, so a server breaking that rule still gets a defined colour. Only a tile that relies on
//! a value never specified in the rectangle is an error: there is no colour to draw.
//!
//! Sub-encoding statistics (`cx.sub`), once per tile for each flag that takes effect: `raw`,
//! `background`, `foreground`, `anysubrects`, `subrectscoloured`, plus `zlibraw` and `zlib`
//! for ZlibHex, and `solid` for a non-raw tile without sub-rectangles.

use crate::decoders::{Cx, Decoded, RectDecoder, Status};
use crate::draw::fill4;
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;
use crate::inflate::Inflater;

/// Tile edge in pixels.
const TILE: u32 = 16;

// Sub-encoding mask bits.
const RAW: u8 = 1;
const BACKGROUND: u8 = 2;
const FOREGROUND: u8 = 4;
const ANY_SUBRECTS: u8 = 8;
const SUBRECTS_COLOURED: u8 = 16;
/// ZlibHex only: the raw tile pixels come through zlib stream 0; cancels every other bit.
const ZLIB_RAW: u8 = 32;
/// ZlibHex only: the tile's data after the mask (per the low five bits) comes through zlib
/// stream 1.
const ZLIB: u8 = 64;
/// The bits plain hextile data may carry.
const HEXTILE_BITS: u8 = 0x1f;

pub(crate) fn make(rect: Rect, zlib: bool) -> Option<Box<dyn RectDecoder>> {
    Some(Box::new(HextileDecoder {
        rect,
        zlib,
        tx: 0,
        ty: 0,
        carry: Carry::default(),
        inflated: Vec::new(),
    }))
}

/// Colours that carry over from one tile to the next (RGBA, already converted).
#[derive(Debug, Default)]
struct Carry {
    bg: Option<[u8; 4]>,
    fg: Option<[u8; 4]>,
}

#[derive(Debug)]
struct HextileDecoder {
    rect: Rect,
    zlib: bool,
    /// Offset of the next tile inside the rectangle. `u32` so that stepping past a
    /// 65535-wide rectangle cannot wrap.
    tx: u32,
    ty: u32,
    carry: Carry,
    /// Inflated bytes of one ZlibHex tile, reused for every tile of the rectangle.
    inflated: Vec<u8>,
}

/// What one tile attempt came to.
enum Step {
    /// The tile was drawn from this many input bytes.
    Used(usize),
    /// The tile needs this many bytes (from its first byte) before it can be parsed.
    Need(usize),
}

impl RectDecoder for HextileDecoder {
    fn feed(&mut self, input: &[u8], cx: &mut Cx<'_>) -> Result<(usize, Status), DecodeErrorKind> {
        let (w, h) = (u32::from(self.rect.width), u32::from(self.rect.height));
        let mut pos = 0;
        while w > 0 && self.ty < h {
            // Both fit in u16: the offsets are below the rectangle's u16 size.
            let tile = Rect::new(
                self.rect.x + self.tx as u16,
                self.rect.y + self.ty as u16,
                (w - self.tx).min(TILE) as u16,
                (h - self.ty).min(TILE) as u16,
            );
            match self.tile(&input[pos..], tile, cx)? {
                Step::Need(n) => return Ok((pos, Status::Need(n))),
                Step::Used(n) => pos += n,
            }
            self.tx += TILE;
            if self.tx >= w {
                self.tx = 0;
                self.ty += TILE;
            }
        }
        Ok((pos, Status::Done(Decoded::Drawn)))
    }
}

impl HextileDecoder {
    /// Parses and draws one tile if all its bytes are in `input`.
    fn tile(&mut self, input: &[u8], tile: Rect, cx: &mut Cx<'_>) -> Result<Step, DecodeErrorKind> {
        let Some(&mask) = input.first() else {
            return Ok(Step::Need(1));
        };
        let bpp = cx.conv.bytes_per_pixel();
        let raw_len = usize::from(tile.width) * usize::from(tile.height) * bpp;
        if self.zlib && mask & (ZLIB_RAW | ZLIB) != 0 {
            let Some(l) = input.get(1..3) else {
                return Ok(Step::Need(3));
            };
            let len = u16::from_be_bytes([l[0], l[1]]);
            let limit = cx.limits.max_compressed_len;
            if u32::from(len) > limit {
                return Err(DecodeErrorKind::LimitExceeded {
                    what: "compressed length",
                    value: u64::from(len),
                    limit: u64::from(limit),
                });
            }
            let total = 3 + usize::from(len);
            let Some(z) = input.get(3..total) else {
                return Ok(Step::Need(total));
            };
            // The whole block is here, so the stream can be advanced exactly once per tile.
            let mut out = std::mem::take(&mut self.inflated);
            let result = if mask & ZLIB_RAW != 0 {
                cx.sub("zlibraw");
                inflate_tile(&mut cx.zlib.zlibhex[0], z, &mut out, raw_len)
                    .and_then(|()| draw_raw(&out, tile, cx))
            } else {
                cx.sub("zlib");
                let inner = mask & HEXTILE_BITS;
                if inner & RAW != 0 {
                    // The low bits describe the inflated data, so Raw here means the tile's
                    // pixels came through the second stream.
                    cx.sub("raw");
                    inflate_tile(&mut cx.zlib.zlibhex[1], z, &mut out, raw_len)
                        .and_then(|()| draw_raw(&out, tile, cx))
                } else {
                    // Largest plain body: both colours, a count, 255 coloured subrects.
                    let max = 2 * bpp + 1 + 255 * (bpp + 2);
                    inflate_tile(&mut cx.zlib.zlibhex[1], z, &mut out, max).and_then(|()| {
                        match body_len(inner, &out, bpp) {
                            Ok(n) if n == out.len() => {
                                draw_body(inner, &out, tile, &mut self.carry, cx)
                            }
                            Ok(n) => Err(DecodeErrorKind::TrailingData {
                                bytes: (out.len() - n) as u64,
                            }),
                            Err(n) => Err(DecodeErrorKind::InvalidValue {
                                field: "ZlibHex tile data length (too short for its mask)",
                                value: n as u64,
                            }),
                        }
                    })
                }
            };
            self.inflated = out;
            result?;
            return Ok(Step::Used(total));
        }
        if mask & RAW != 0 {
            // "If the Raw bit is set then the other bits are irrelevant."
            let Some(px) = input.get(1..1 + raw_len) else {
                return Ok(Step::Need(1 + raw_len));
            };
            cx.sub("raw");
            draw_raw(px, tile, cx)?;
            return Ok(Step::Used(1 + raw_len));
        }
        if mask & !HEXTILE_BITS != 0 {
            // Undefined bits: the stream is more likely desynchronised than extended.
            return Err(DecodeErrorKind::InvalidValue {
                field: "hextile sub-encoding mask",
                value: u64::from(mask),
            });
        }
        match body_len(mask, &input[1..], bpp) {
            Err(n) => Ok(Step::Need(1 + n)),
            Ok(n) => {
                draw_body(mask, &input[1..1 + n], tile, &mut self.carry, cx)?;
                Ok(Step::Used(1 + n))
            }
        }
    }
}

/// Length of a non-raw tile body (after the mask) described by `mask`: `Ok(len)` when `data`
/// holds all of it, `Err(n)` with the length known so far when it does not.
fn body_len(mask: u8, data: &[u8], bpp: usize) -> Result<usize, usize> {
    let mut n = 0;
    if mask & BACKGROUND != 0 {
        n += bpp;
    }
    if mask & FOREGROUND != 0 {
        n += bpp;
    }
    if mask & ANY_SUBRECTS != 0 {
        let Some(&count) = data.get(n) else {
            return Err(n + 1);
        };
        let each = if mask & SUBRECTS_COLOURED != 0 {
            bpp + 2
        } else {
            2
        };
        n += 1 + usize::from(count) * each;
    }
    if data.len() < n { Err(n) } else { Ok(n) }
}

/// Draws a tile of raw pixels; `px` must be exactly the tile's pixels.
fn draw_raw(px: &[u8], tile: Rect, cx: &mut Cx<'_>) -> Result<(), DecodeErrorKind> {
    let n = usize::from(tile.width) * usize::from(tile.height);
    if px.len() != n * cx.conv.bytes_per_pixel() {
        // Only inflated data can disagree; wire data was sliced to size.
        return Err(DecodeErrorKind::InvalidValue {
            field: "ZlibHex raw tile length",
            value: px.len() as u64,
        });
    }
    cx.scratch.resize(n * 4, 0);
    cx.conv.convert_run(px, cx.scratch);
    cx.target.put_rgba(tile, &cx.scratch[..n * 4]);
    Ok(())
}

/// Draws a non-raw tile from its body (`data` holds exactly what `body_len` measured).
fn draw_body(
    mask: u8,
    data: &[u8],
    tile: Rect,
    carry: &mut Carry,
    cx: &mut Cx<'_>,
) -> Result<(), DecodeErrorKind> {
    let bpp = cx.conv.bytes_per_pixel();
    let mut p = 0;
    if mask & BACKGROUND != 0 {
        cx.sub("background");
        carry.bg = Some(cx.conv.pixel_to_rgba(&data[p..]));
        p += bpp;
    }
    let Some(bg) = carry.bg else {
        return Err(DecodeErrorKind::InvalidValue {
            field: "hextile mask (first non-raw tile lacks BackgroundSpecified)",
            value: u64::from(mask),
        });
    };
    if mask & FOREGROUND != 0 {
        cx.sub("foreground");
        carry.fg = Some(cx.conv.pixel_to_rgba(&data[p..]));
        p += bpp;
    }
    let coloured = mask & SUBRECTS_COLOURED != 0;
    let count = if mask & ANY_SUBRECTS != 0 {
        cx.sub("anysubrects");
        p += 1;
        data[p - 1]
    } else {
        0
    };
    if coloured {
        cx.sub("subrectscoloured");
    }
    if count == 0 {
        cx.sub("solid");
        cx.target.fill_rgba(tile, bg);
        return Ok(());
    }
    // Subrects are painted into a tile buffer drawn with one `put_rgba`: text tiles carry
    // dozens of tiny subrects, and a target call (with its clipping) per subrect cost more
    // than the pixels.
    let (tw, th) = (usize::from(tile.width), usize::from(tile.height));
    cx.scratch.resize(tw * th * 4, 0);
    fill4(&mut cx.scratch[..tw * th * 4], bg);
    let fg = match (coloured, carry.fg) {
        (true, _) => None,
        (false, Some(fg)) => Some(fg),
        (false, None) => {
            return Err(DecodeErrorKind::InvalidValue {
                field: "hextile mask (subrects without any foreground specified)",
                value: u64::from(mask),
            });
        }
    };
    for _ in 0..count {
        let colour = match fg {
            Some(fg) => fg,
            None => {
                let c = cx.conv.pixel_to_rgba(&data[p..]);
                p += bpp;
                c
            }
        };
        let (xy, wh) = (data[p], data[p + 1]);
        p += 2;
        // Position in the high/low nibbles; sizes are stored minus one, so never empty.
        let sub = Rect::new(
            u16::from(xy >> 4),
            u16::from(xy & 15),
            u16::from(wh >> 4) + 1,
            u16::from(wh & 15) + 1,
        );
        // The nibbles can reach past a smaller edge tile (or past 16 for x + width).
        if !sub.fits_within(tile.width, tile.height) {
            return Err(DecodeErrorKind::OutOfBounds {
                rect: sub,
                fb_width: tile.width,
                fb_height: tile.height,
            });
        }
        let (sx, sw) = (usize::from(sub.x), usize::from(sub.width));
        for y in usize::from(sub.y)..usize::from(sub.y + sub.height) {
            let start = (y * tw + sx) * 4;
            fill4(&mut cx.scratch[start..start + sw * 4], colour);
        }
    }
    cx.target.put_rgba(tile, &cx.scratch[..tw * th * 4]);
    Ok(())
}

/// Inflates one tile's complete zlib block into `out` (cleared first). More than `limit`
/// bytes is a decompression bomb or a desynchronised stream; it stops at `limit + 1`.
fn inflate_tile(
    inf: &mut Inflater,
    z: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), DecodeErrorKind> {
    out.clear();
    let mut pos = 0;
    while pos < z.len() {
        // One byte of room beyond the limit tells "exactly full" from "more to come".
        let room = limit + 1 - out.len();
        let (c, p) = inf.inflate(&z[pos..], out, room)?;
        pos += c;
        if out.len() > limit {
            return Err(DecodeErrorKind::LimitExceeded {
                what: "inflated ZlibHex tile size",
                value: out.len() as u64,
                limit: limit as u64,
            });
        }
        if c == 0 && p == 0 {
            return Err(DecodeErrorKind::Zlib(
                "zlib made no progress on a ZlibHex tile".into(),
            ));
        }
    }
    Ok(())
}
