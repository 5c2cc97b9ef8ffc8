//! Hextile (5) and ZlibHex (8) vectors built from the spec's description of the tile format,
//! with a small encoder below so each vector reads as tiles rather than bytes. Every valid
//! vector is fed whole, one byte at a time and in odd chunks, and must give the same picture
//! as a model painter that works from the same tile descriptions.

use flate2::{Compress, Compression, FlushCompress};
use rfb_encodings::{
    DecodeErrorKind, Decoded, DecoderLimits, Decoders, DrawTarget, Encoding, Framebuffer,
    PixelFormat, Rect,
};

/// Feeds `payload` in chunks of `chunk` bytes (0 = all at once); returns the decoded outcome.
fn run(
    dec: &mut Decoders,
    fb: &mut Framebuffer,
    rect: Rect,
    enc: Encoding,
    payload: &[u8],
    chunk: usize,
) -> Decoded {
    let size = (fb.width(), fb.height());
    rfb_testkit::decode::feed_rect(dec, fb, size, rect, enc, payload, chunk).unwrap()
}

// ---- a small Hextile / ZlibHex encoder, straight from the spec's tables ----

const RAW: u8 = 1;
const BG: u8 = 2;
const FG: u8 = 4;
const ANY: u8 = 8;
const COLOURED: u8 = 16;
const ZLIB_RAW: u8 = 32;
const ZLIB: u8 = 64;

/// A sub-rectangle, tile-relative; `w` and `h` are 1..=16. `colour` is used only when the
/// tile is SubrectsColoured.
#[derive(Debug, Clone, Copy)]
struct Sub {
    colour: u32,
    x: u8,
    y: u8,
    w: u8,
    h: u8,
}

/// One tile as a server describes it.
#[derive(Debug, Clone)]
enum Tile {
    /// Raw pixel values, row-major, exactly the tile's size.
    Raw(Vec<u32>),
    /// `subs: None` leaves AnySubrects clear; `Some(v)` sets it with `v.len()` subrects.
    Hex {
        bg: Option<u32>,
        fg: Option<u32>,
        subs: Option<Vec<Sub>>,
        coloured: bool,
    },
}

/// How a ZlibHex tile travels.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wrap {
    /// Plain hextile bytes.
    Plain,
    /// Raw tiles with ZlibRaw (stream 0), other tiles with Zlib (stream 1).
    Z,
    /// Raw tiles as Zlib|Raw: the raw pixels through stream 1 (spec: the low five bits
    /// describe the inflated data).
    ZRawOnStream1,
}

fn pixel(bpp: usize, v: u32) -> Vec<u8> {
    // All formats used here are little-endian.
    v.to_le_bytes()[..bpp].to_vec()
}

/// The mask and the bytes after it for a tile (uncompressed).
fn body(t: &Tile, bpp: usize) -> (u8, Vec<u8>) {
    let mut b = Vec::new();
    match t {
        Tile::Raw(px) => {
            for &v in px {
                b.extend(pixel(bpp, v));
            }
            (RAW, b)
        }
        Tile::Hex {
            bg,
            fg,
            subs,
            coloured,
        } => {
            let mut mask = 0;
            if let Some(bg) = bg {
                mask |= BG;
                b.extend(pixel(bpp, *bg));
            }
            if let Some(fg) = fg {
                mask |= FG;
                b.extend(pixel(bpp, *fg));
            }
            if *coloured {
                mask |= COLOURED;
            }
            if let Some(subs) = subs {
                mask |= ANY;
                b.push(subs.len() as u8);
                for s in subs {
                    if *coloured {
                        b.extend(pixel(bpp, s.colour));
                    }
                    b.push(s.x << 4 | s.y);
                    b.push((s.w - 1) << 4 | (s.h - 1));
                }
            }
            (mask, b)
        }
    }
}

fn hextile(tiles: &[Tile], bpp: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for t in tiles {
        let (m, b) = body(t, bpp);
        out.push(m);
        out.extend(b);
    }
    out
}

/// The server's two ZlibHex streams: 0 for ZlibRaw tiles, 1 for Zlib tiles.
struct ZEnc([Compress; 2]);

impl ZEnc {
    fn new() -> Self {
        Self([
            Compress::new(Compression::default(), true),
            Compress::new(Compression::default(), true),
        ])
    }

    /// `U16` length, then the data compressed on `stream` with a sync flush (as servers do,
    /// so each tile inflates completely from its own bytes).
    fn block(&mut self, stream: usize, data: &[u8]) -> Vec<u8> {
        let mut z = Vec::with_capacity(data.len() * 2 + 64);
        self.0[stream]
            .compress_vec(data, &mut z, FlushCompress::Sync)
            .unwrap();
        let mut v = (z.len() as u16).to_be_bytes().to_vec();
        v.extend(z);
        v
    }
}

fn zlibhex(tiles: &[(Tile, Wrap)], bpp: usize, z: &mut ZEnc) -> Vec<u8> {
    let mut out = Vec::new();
    for (t, wrap) in tiles {
        let (m, b) = body(t, bpp);
        match (wrap, m & RAW != 0) {
            (Wrap::Plain, _) => {
                out.push(m);
                out.extend(b);
            }
            (Wrap::Z, true) => {
                out.push(ZLIB_RAW);
                out.extend(z.block(0, &b));
            }
            (Wrap::Z, false) | (Wrap::ZRawOnStream1, false) => {
                out.push(ZLIB | m);
                out.extend(z.block(1, &b));
            }
            (Wrap::ZRawOnStream1, true) => {
                out.push(ZLIB | RAW);
                out.extend(z.block(1, &b));
            }
        }
    }
    out
}

/// The tiles of `rect`, left to right, top to bottom, edge tiles smaller.
fn tile_rects(rect: Rect) -> Vec<Rect> {
    let mut v = Vec::new();
    for ty in (0..rect.height).step_by(16) {
        for tx in (0..rect.width).step_by(16) {
            v.push(Rect::new(
                rect.x + tx,
                rect.y + ty,
                (rect.width - tx).min(16),
                (rect.height - ty).min(16),
            ));
        }
    }
    v
}

/// Paints what `tiles` describe, from the descriptions (not the bytes).
fn paint(fb: &mut Framebuffer, dec: &Decoders, rect: Rect, tiles: &[Tile]) {
    let bpp = dec.pixel_format().bytes_per_pixel();
    let rgba = |v: u32| dec.converter().pixel_to_rgba(&pixel(bpp, v));
    let (mut bg, mut fg) = (None, None);
    let rects = tile_rects(rect);
    assert_eq!(rects.len(), tiles.len(), "one description per tile");
    for (r, t) in rects.into_iter().zip(tiles) {
        match t {
            Tile::Raw(px) => {
                assert_eq!(px.len(), usize::from(r.width) * usize::from(r.height));
                for (i, &v) in px.iter().enumerate() {
                    let (x, y) = (
                        (i % usize::from(r.width)) as u16,
                        (i / usize::from(r.width)) as u16,
                    );
                    fb.fill_rgba(Rect::new(r.x + x, r.y + y, 1, 1), rgba(v));
                }
            }
            Tile::Hex {
                bg: b,
                fg: f,
                subs,
                coloured,
            } => {
                bg = b.or(bg);
                fg = f.or(fg);
                fb.fill_rgba(r, rgba(bg.expect("vector gives a background")));
                for s in subs.iter().flatten() {
                    let c = if *coloured { s.colour } else { fg.unwrap() };
                    let sr = Rect::new(
                        r.x + u16::from(s.x),
                        r.y + u16::from(s.y),
                        u16::from(s.w),
                        u16::from(s.h),
                    );
                    fb.fill_rgba(sr, rgba(c));
                }
            }
        }
    }
}

/// A decoder for `pf`, with a colour map for COLOUR_MAP8.
fn decoders(pf: PixelFormat) -> Decoders {
    let mut dec = Decoders::new(pf, DecoderLimits::default()).unwrap();
    if !pf.true_colour {
        let map: Vec<[u16; 3]> = (0..256u32)
            .map(|i| {
                let i = i as u16;
                [
                    i.wrapping_mul(257),
                    i.wrapping_mul(4099),
                    i.wrapping_mul(12_345),
                ]
            })
            .collect();
        dec.set_colour_map_entries(0, &map).unwrap();
    }
    dec
}

const CHUNKS: [usize; 6] = [0, 1, 2, 3, 7, 61];

/// Decodes `payload` with every chunking and compares with the model picture.
fn check(
    pf: PixelFormat,
    fb_size: (u16, u16),
    rect: Rect,
    enc: Encoding,
    payload: &[u8],
    tiles: &[Tile],
) {
    let mut want = Framebuffer::new(fb_size.0, fb_size.1);
    paint(&mut want, &decoders(pf), rect, tiles);
    for chunk in CHUNKS {
        let mut fb = Framebuffer::new(fb_size.0, fb_size.1);
        let mut dec = decoders(pf);
        assert_eq!(
            run(&mut dec, &mut fb, rect, enc, payload, chunk),
            Decoded::Drawn
        );
        assert!(
            fb == want,
            "{pf:?} {enc} chunk {chunk}: picture differs from the model"
        );
    }
}

/// A deterministic value that fits `bpp` bytes.
fn val(bpp: usize, i: u32) -> u32 {
    let h = i.wrapping_mul(2_654_435_761).rotate_left(7) ^ 0x5a5a_5a5a;
    match bpp {
        1 => h & 0xff,
        2 => h & 0xffff,
        _ => h,
    }
}

/// `n` subrects inside a `w` × `h` tile, varied by `seed`.
fn subs(n: usize, w: u16, h: u16, seed: u32, bpp: usize) -> Vec<Sub> {
    (0..n as u32)
        .map(|i| {
            let k = seed.wrapping_mul(31).wrapping_add(i * 7);
            let x = (k % u32::from(w)) as u8;
            let y = (k * 3 % u32::from(h)) as u8;
            let sw = 1 + (k * 5 % (u32::from(w) - u32::from(x))) as u8;
            let sh = 1 + (k * 11 % (u32::from(h) - u32::from(y))) as u8;
            Sub {
                colour: val(bpp, k + 1000),
                x,
                y,
                w: sw,
                h: sh,
            }
        })
        .collect()
}

/// Tiles for `rect` that go through every mask combination the spec allows (Raw, and each
/// of BackgroundSpecified, ForegroundSpecified, AnySubrects, SubrectsColoured except
/// Foreground together with SubrectsColoured), each tile relying only on carry-over the spec
/// permits.
fn every_combination(rect: Rect, bpp: usize) -> Vec<Tile> {
    let rects = tile_rects(rect);
    let mut combos: Vec<u8> = Vec::new();
    for m in 0..16u8 {
        let (fg, coloured) = (m & 2 != 0, m & 8 != 0);
        if !(fg && coloured) {
            combos.push(m);
        }
    }
    let mut tiles = Vec::new();
    // Whether the current foreground may be carried into the next tile (spec rules).
    let mut fg_valid = false;
    let mut bg_valid = false;
    let mut next = combos.into_iter().cycle();
    for (i, r) in rects.iter().enumerate() {
        let i = i as u32;
        if i % 7 == 6 {
            let px = (0..u32::from(r.width) * u32::from(r.height))
                .map(|k| val(bpp, i * 1000 + k))
                .collect();
            tiles.push(Tile::Raw(px));
            bg_valid = false;
            fg_valid = false;
            continue;
        }
        let m = next.next().unwrap();
        let (mut bg, mut fg, any, coloured) = (m & 1 != 0, m & 2 != 0, m & 4 != 0, m & 8 != 0);
        // The spec's preconditions: a background must be known, and plain subrects need a
        // foreground that may be carried over.
        bg |= !bg_valid;
        if any && !coloured && !fg_valid {
            fg = true;
        }
        let n = (i as usize * 5) % 12;
        tiles.push(Tile::Hex {
            bg: bg.then(|| val(bpp, i + 1)),
            fg: fg.then(|| val(bpp, i + 2)),
            subs: any.then(|| subs(n, r.width, r.height, i, bpp)),
            coloured,
        });
        bg_valid = true;
        fg_valid = if coloured { false } else { fg || fg_valid };
    }
    tiles
}

fn formats() -> [PixelFormat; 4] {
    [
        PixelFormat::RGBX8888,
        PixelFormat::RGB565,
        PixelFormat::BGR233,
        PixelFormat::COLOUR_MAP8,
    ]
}

#[test]
fn hextile_every_combination_all_formats() {
    // 75 × 58 at (3, 5): 5 × 4 tiles, the last column 11 wide, the last row 10 tall.
    let rect = Rect::new(3, 5, 75, 58);
    for pf in formats() {
        let bpp = pf.bytes_per_pixel();
        let tiles = every_combination(rect, bpp);
        let payload = hextile(&tiles, bpp);
        check(pf, (96, 80), rect, Encoding::Hextile, &payload, &tiles);
    }
}

#[test]
fn zlibhex_every_combination_all_formats_and_wraps() {
    let rect = Rect::new(3, 5, 75, 58);
    for pf in formats() {
        let bpp = pf.bytes_per_pixel();
        let tiles = every_combination(rect, bpp);
        for wraps in [
            [Wrap::Plain, Wrap::Plain, Wrap::Plain],
            [Wrap::Z, Wrap::Z, Wrap::Z],
            [Wrap::Z, Wrap::Plain, Wrap::ZRawOnStream1],
            [Wrap::ZRawOnStream1, Wrap::Z, Wrap::Plain],
        ] {
            let wrapped: Vec<(Tile, Wrap)> = tiles
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), wraps[i % 3]))
                .collect();
            let payload = zlibhex(&wrapped, bpp, &mut ZEnc::new());
            check(pf, (96, 80), rect, Encoding::ZlibHex, &payload, &tiles);
        }
    }
}

/// RGBX8888 pixel value for RGB.
fn rgb(r: u8, g: u8, b: u8) -> u32 {
    u32::from_le_bytes([r, g, b, 0])
}

#[test]
fn background_and_foreground_carry_over() {
    let (red, green, blue) = (rgb(255, 0, 0), rgb(0, 255, 0), rgb(0, 0, 255));
    let one = |x, y| Sub {
        colour: 0,
        x,
        y,
        w: 1,
        h: 1,
    };
    // 64 × 16: four tiles in one row.
    let rect = Rect::new(0, 0, 64, 16);
    let tiles = vec![
        // Both colours given.
        Tile::Hex {
            bg: Some(red),
            fg: Some(green),
            subs: Some(vec![one(0, 0)]),
            coloured: false,
        },
        // Nothing given and no subrects: solid in the carried background; the foreground
        // still carries on past it (spec: AnySubrects clear, valid foreground carried).
        Tile::Hex {
            bg: None,
            fg: None,
            subs: None,
            coloured: false,
        },
        // Only a new background; subrects in the foreground carried over two tiles.
        Tile::Hex {
            bg: Some(blue),
            fg: None,
            subs: Some(vec![one(1, 1)]),
            coloured: false,
        },
        // Everything carried.
        Tile::Hex {
            bg: None,
            fg: None,
            subs: Some(vec![one(2, 2)]),
            coloured: false,
        },
    ];
    let payload = hextile(&tiles, 4);
    // mask 0x0e: bg, fg, count 1, subrect (0,0) 1×1, then mask 0, mask 0x0a, mask 0x08.
    assert_eq!(payload[0], BG | FG | ANY);
    assert_eq!(&payload[9..12], &[1, 0x00, 0x00]);
    assert_eq!(payload[12], 0);
    check(
        PixelFormat::RGBX8888,
        (64, 16),
        rect,
        Encoding::Hextile,
        &payload,
        &tiles,
    );
    let mut fb = Framebuffer::new(64, 16);
    let mut dec = decoders(PixelFormat::RGBX8888);
    run(&mut dec, &mut fb, rect, Encoding::Hextile, &payload, 0);
    let (r, g, b) = ([255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]);
    assert_eq!(fb.pixel(0, 0), Some(g));
    assert_eq!(fb.pixel(1, 0), Some(r));
    assert_eq!(fb.pixel(16, 0), Some(r));
    assert_eq!(fb.pixel(31, 15), Some(r));
    assert_eq!(fb.pixel(32, 0), Some(b));
    assert_eq!(fb.pixel(33, 1), Some(g));
    assert_eq!(fb.pixel(48, 0), Some(b));
    assert_eq!(fb.pixel(50, 2), Some(g));
}

#[test]
fn raw_tile_leaves_the_carried_colours_unchanged() {
    // The spec forbids a server to rely on carry-over after a Raw tile; this decoder keeps
    // the last specified colours rather than failing, as widespread clients do.
    let rect = Rect::new(0, 0, 48, 1);
    let mut payload = hextile(
        &[
            Tile::Hex {
                bg: Some(rgb(1, 2, 3)),
                fg: Some(rgb(4, 5, 6)),
                subs: None,
                coloured: false,
            },
            Tile::Raw(vec![rgb(9, 9, 9); 16]),
        ],
        4,
    );
    payload.extend([ANY, 1, 0x00, 0x00]);
    for chunk in CHUNKS {
        let mut fb = Framebuffer::new(48, 1);
        let mut dec = decoders(PixelFormat::RGBX8888);
        run(&mut dec, &mut fb, rect, Encoding::Hextile, &payload, chunk);
        assert_eq!(fb.pixel(20, 0), Some([9, 9, 9, 255]));
        assert_eq!(fb.pixel(32, 0), Some([4, 5, 6, 255]));
        assert_eq!(fb.pixel(33, 0), Some([1, 2, 3, 255]));
    }
}

#[test]
fn edge_tiles_smaller_on_both_axes() {
    // 17 × 17: tiles 16×16, 1×16, 16×1, 1×1.
    let rect = Rect::new(2, 3, 17, 17);
    let full = |x, y, w, h| Sub {
        colour: rgb(7, 7, 7),
        x,
        y,
        w,
        h,
    };
    let tiles = vec![
        Tile::Hex {
            bg: Some(rgb(10, 0, 0)),
            fg: Some(rgb(0, 10, 0)),
            subs: Some(vec![full(15, 15, 1, 1), full(0, 0, 16, 1)]),
            coloured: false,
        },
        Tile::Hex {
            bg: None,
            fg: None,
            subs: Some(vec![full(0, 15, 1, 1), full(0, 3, 1, 4)]),
            coloured: true,
        },
        Tile::Raw((0..16).map(|i| rgb(i, i, i)).collect()),
        Tile::Hex {
            bg: Some(rgb(0, 0, 10)),
            fg: None,
            subs: None,
            coloured: false,
        },
    ];
    let pf = PixelFormat::RGBX8888;
    let payload = hextile(&tiles, 4);
    check(pf, (20, 20), rect, Encoding::Hextile, &payload, &tiles);
    let wrapped: Vec<_> = tiles.iter().map(|t| (t.clone(), Wrap::Z)).collect();
    let z = zlibhex(&wrapped, 4, &mut ZEnc::new());
    check(pf, (20, 20), rect, Encoding::ZlibHex, &z, &tiles);
    let mut fb = Framebuffer::new(20, 20);
    let mut dec = decoders(PixelFormat::RGBX8888);
    run(
        &mut dec,
        &mut fb,
        rect,
        Encoding::Hextile,
        &hextile(&tiles, 4),
        0,
    );
    assert_eq!(fb.pixel(17, 18), Some([0, 10, 0, 255]));
    assert_eq!(fb.pixel(18, 18), Some([7, 7, 7, 255]));
    assert_eq!(fb.pixel(18, 17), Some([10, 0, 0, 255]));
    assert_eq!(fb.pixel(2 + 5, 3 + 16), Some([5, 5, 5, 255]));
    assert_eq!(fb.pixel(18, 19), Some([0, 0, 10, 255]));
    assert_eq!(fb.pixel(19, 19), Some([0, 0, 0, 255]), "outside untouched");
}

#[test]
fn empty_rectangle_needs_no_bytes() {
    for enc in [Encoding::Hextile, Encoding::ZlibHex] {
        let mut fb = Framebuffer::new(4, 4);
        let mut dec = decoders(PixelFormat::RGBX8888);
        dec.begin(Rect::new(4, 1, 0, 3), enc, 4, 4).unwrap();
        let p = dec.feed(&[], &mut fb).unwrap();
        assert_eq!((p.consumed, p.done), (0, Some(Decoded::Drawn)));
    }
}

#[test]
fn zlibhex_two_rectangles_share_the_streams() {
    for pf in [PixelFormat::RGBX8888, PixelFormat::RGB565] {
        let bpp = pf.bytes_per_pixel();
        for chunk in CHUNKS {
            let mut z = ZEnc::new();
            let mut fb = Framebuffer::new(96, 80);
            let mut want = Framebuffer::new(96, 80);
            let mut dec = decoders(pf);
            for (k, rect) in [Rect::new(0, 0, 40, 20), Rect::new(50, 30, 33, 40)]
                .into_iter()
                .enumerate()
            {
                let tiles = every_combination(rect, bpp);
                // The same tiles twice: the second rectangle's blocks refer back to the
                // first's data in both dictionaries.
                let wrapped: Vec<_> = tiles.iter().map(|t| (t.clone(), Wrap::Z)).collect();
                let payload = zlibhex(&wrapped, bpp, &mut z);
                paint(&mut want, &dec, rect, &tiles);
                run(&mut dec, &mut fb, rect, Encoding::ZlibHex, &payload, chunk);
                assert!(fb == want, "{pf:?} chunk {chunk} rect {k}");
            }
            let s = dec.stats();
            assert_eq!(s.rects_of(Encoding::ZlibHex), 2);
            assert!(s.subencodings[&(Encoding::ZlibHex, "zlibraw")] > 0);
            assert!(s.subencodings[&(Encoding::ZlibHex, "zlib")] > 0);
        }
    }
}

#[test]
fn sub_encoding_counters() {
    let rect = Rect::new(0, 0, 64, 1);
    let tiles = vec![
        Tile::Hex {
            bg: Some(1),
            fg: Some(2),
            subs: Some(vec![Sub {
                colour: 0,
                x: 0,
                y: 0,
                w: 2,
                h: 1,
            }]),
            coloured: false,
        },
        Tile::Raw(vec![3; 16]),
        Tile::Hex {
            bg: Some(4),
            fg: None,
            subs: Some(vec![Sub {
                colour: 5,
                x: 1,
                y: 0,
                w: 1,
                h: 1,
            }]),
            coloured: true,
        },
        Tile::Hex {
            bg: None,
            fg: None,
            subs: None,
            coloured: false,
        },
    ];
    let mut fb = Framebuffer::new(64, 1);
    let mut dec = decoders(PixelFormat::RGBX8888);
    run(
        &mut dec,
        &mut fb,
        rect,
        Encoding::Hextile,
        &hextile(&tiles, 4),
        0,
    );
    let mut z = ZEnc::new();
    let wrapped = [
        (tiles[0].clone(), Wrap::Z),
        (tiles[1].clone(), Wrap::Z),
        (tiles[2].clone(), Wrap::Plain),
        (tiles[3].clone(), Wrap::Plain),
    ];
    run(
        &mut dec,
        &mut fb,
        rect,
        Encoding::ZlibHex,
        &zlibhex(&wrapped, 4, &mut z),
        0,
    );
    let got: Vec<(Encoding, &str, u64)> = dec
        .stats()
        .subencodings
        .iter()
        .map(|(&(e, n), &c)| (e, n, c))
        .collect();
    let mut want = vec![
        (Encoding::Hextile, "anysubrects", 2),
        (Encoding::Hextile, "background", 2),
        (Encoding::Hextile, "foreground", 1),
        (Encoding::Hextile, "raw", 1),
        (Encoding::Hextile, "solid", 1),
        (Encoding::Hextile, "subrectscoloured", 1),
        (Encoding::ZlibHex, "anysubrects", 2),
        (Encoding::ZlibHex, "background", 2),
        (Encoding::ZlibHex, "foreground", 1),
        (Encoding::ZlibHex, "solid", 1),
        (Encoding::ZlibHex, "subrectscoloured", 1),
        (Encoding::ZlibHex, "zlib", 1),
        (Encoding::ZlibHex, "zlibraw", 1),
    ];
    want.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want);
}

// ---- bad input ----

/// Feeds `payload` whole to a fresh decoder and returns the error.
fn fails(pf: PixelFormat, rect: Rect, enc: Encoding, payload: &[u8]) -> DecodeErrorKind {
    let mut fb = Framebuffer::new(96, 80);
    let mut dec = decoders(pf);
    dec.begin(rect, enc, 96, 80).unwrap();
    let e = dec.feed(payload, &mut fb).unwrap_err();
    assert_eq!(e.encoding, enc);
    assert!(!dec.is_busy(), "an error ends the rectangle");
    e.kind
}

#[test]
fn subrect_outside_the_tile_is_an_error() {
    for enc in [Encoding::Hextile, Encoding::ZlibHex] {
        // Full tile: x 15, width 2.
        let p = [BG | FG | ANY, 1, 2, 1, 0xf0, 0x10];
        let e = fails(PixelFormat::BGR233, Rect::new(0, 0, 16, 16), enc, &p);
        assert!(
            matches!(e, DecodeErrorKind::OutOfBounds { rect, fb_width: 16, fb_height: 16 }
                if rect == Rect::new(15, 0, 2, 1)),
            "{e}"
        );
        // Edge tile 5 × 3: y 2, height 2.
        let p = [BG | ANY | COLOURED, 1, 1, 9, 0x02, 0x01];
        let e = fails(PixelFormat::BGR233, Rect::new(0, 0, 5, 3), enc, &p);
        assert!(
            matches!(
                e,
                DecodeErrorKind::OutOfBounds {
                    fb_width: 5,
                    fb_height: 3,
                    ..
                }
            ),
            "{e}"
        );
    }
    // The same inside a Zlib tile.
    let mut z = ZEnc::new();
    let mut p = vec![ZLIB | BG | FG | ANY];
    p.extend(z.block(1, &[1, 2, 1, 0xf0, 0x10]));
    let e = fails(
        PixelFormat::BGR233,
        Rect::new(0, 0, 16, 16),
        Encoding::ZlibHex,
        &p,
    );
    assert!(matches!(e, DecodeErrorKind::OutOfBounds { .. }), "{e}");
}

#[test]
fn missing_colours_and_unknown_bits_are_errors() {
    let r = Rect::new(0, 0, 16, 16);
    // First non-raw tile without a background.
    let e = fails(PixelFormat::BGR233, r, Encoding::Hextile, &[0]);
    assert!(matches!(e, DecodeErrorKind::InvalidValue { .. }), "{e}");
    // Plain subrects with no foreground ever given.
    let e = fails(
        PixelFormat::BGR233,
        r,
        Encoding::Hextile,
        &[BG | ANY, 1, 1, 0, 0],
    );
    assert!(matches!(e, DecodeErrorKind::InvalidValue { .. }), "{e}");
    // Bits Hextile does not define (ZlibHex's bits included), and bit 7 in ZlibHex.
    for (enc, mask) in [
        (Encoding::Hextile, BG | 32),
        (Encoding::Hextile, BG | ZLIB),
        (Encoding::Hextile, BG | 128),
        (Encoding::ZlibHex, BG | 128),
    ] {
        let e = fails(PixelFormat::BGR233, r, enc, &[mask, 1]);
        assert!(
            matches!(e, DecodeErrorKind::InvalidValue { value, .. } if value == u64::from(mask)),
            "{enc} {mask:#x}: {e}"
        );
    }
}

#[test]
fn truncated_input_only_asks_for_more() {
    let rect = Rect::new(0, 0, 40, 20);
    let tiles = every_combination(rect, 2);
    let plain = hextile(&tiles, 2);
    let wrapped: Vec<_> = tiles.iter().map(|t| (t.clone(), Wrap::Z)).collect();
    let z = zlibhex(&wrapped, 2, &mut ZEnc::new());
    for (enc, payload) in [(Encoding::Hextile, plain), (Encoding::ZlibHex, z)] {
        for cut in [1, 2, payload.len() / 2, payload.len() - 1] {
            for chunk in [0, 1, 3] {
                let mut fb = Framebuffer::new(96, 80);
                let mut dec = decoders(PixelFormat::RGB565);
                dec.begin(rect, enc, 96, 80).unwrap();
                let mut pending = Vec::new();
                let part = &payload[..cut];
                let chunks: Vec<&[u8]> = if chunk == 0 {
                    vec![part]
                } else {
                    part.chunks(chunk).collect()
                };
                for c in chunks {
                    pending.extend_from_slice(c);
                    let p = dec.feed(&pending, &mut fb).unwrap();
                    pending.drain(..p.consumed);
                    assert!(p.done.is_none(), "{enc} cut {cut}: completed early");
                }
                assert!(dec.is_busy());
                // The leftover never exceeds one tile: whole tiles are consumed as they come.
                assert!(dec.bytes_needed() > pending.len(), "{enc} cut {cut}");
            }
        }
    }
}

#[test]
fn zlib_garbage_is_an_error() {
    let r = Rect::new(0, 0, 4, 4);
    for mask in [ZLIB_RAW, ZLIB | BG] {
        let e = fails(
            PixelFormat::RGBX8888,
            r,
            Encoding::ZlibHex,
            &[mask, 0, 4, 0xde, 0xad, 0xbe, 0xef],
        );
        assert!(matches!(e, DecodeErrorKind::Zlib(_)), "{mask:#x}: {e}");
    }
}

#[test]
fn zlib_bomb_is_an_error() {
    let r = Rect::new(0, 0, 16, 16);
    // 64 KiB of zeros compresses to a few hundred bytes: far more than any tile holds.
    let big = vec![0u8; 64 * 1024];
    for (mask, stream) in [(ZLIB_RAW, 0), (ZLIB | BG, 1), (ZLIB | RAW, 1)] {
        let mut z = ZEnc::new();
        let mut p = vec![mask];
        p.extend(z.block(stream, &big));
        let e = fails(PixelFormat::RGBX8888, r, Encoding::ZlibHex, &p);
        assert!(
            matches!(e, DecodeErrorKind::LimitExceeded { .. }),
            "{mask:#x}: {e}"
        );
    }
}

#[test]
fn zlib_tile_of_the_wrong_length_is_an_error() {
    let r = Rect::new(0, 0, 2, 2);
    // Raw pixels one byte short.
    let mut z = ZEnc::new();
    let mut p = vec![ZLIB_RAW];
    p.extend(z.block(0, &[0; 15]));
    let e = fails(PixelFormat::RGBX8888, r, Encoding::ZlibHex, &p);
    assert!(matches!(e, DecodeErrorKind::InvalidValue { .. }), "{e}");
    // Background plus a stray byte.
    let mut p = vec![ZLIB | BG];
    p.extend(z.block(1, &[1, 2, 3, 4, 5]));
    let e = fails(PixelFormat::RGBX8888, r, Encoding::ZlibHex, &p);
    assert_eq!(e, DecodeErrorKind::TrailingData { bytes: 1 });
    // Mask promises a background, the data holds none.
    let mut z = ZEnc::new();
    let mut p = vec![ZLIB | BG];
    p.extend(z.block(1, &[1, 2]));
    let e = fails(PixelFormat::RGBX8888, r, Encoding::ZlibHex, &p);
    assert!(matches!(e, DecodeErrorKind::InvalidValue { .. }), "{e}");
}

#[test]
fn compressed_length_over_the_limit_is_refused() {
    let mut fb = Framebuffer::new(16, 16);
    let limits = DecoderLimits {
        max_compressed_len: 100,
        ..DecoderLimits::default()
    };
    let mut dec = Decoders::new(PixelFormat::RGBX8888, limits).unwrap();
    dec.begin(Rect::new(0, 0, 16, 16), Encoding::ZlibHex, 16, 16)
        .unwrap();
    let e = dec.feed(&[ZLIB_RAW, 0xff, 0xff], &mut fb).unwrap_err();
    assert!(
        matches!(e.kind, DecodeErrorKind::LimitExceeded { .. }),
        "{e}"
    );
}

/// (file name, pixel format selector, encoding index, rectangle, chunk size, ZlibHex wraps).
type Seed = (&'static str, u8, u8, Rect, u8, Option<[Wrap; 3]>);

/// Writes the fuzz seeds for these encodings (`fuzz/corpus/decoders/hextile-*`,
/// `zlibhex-*`). Run with `cargo test -p rfb-encodings --test hextile -- --ignored` after
/// changing the encoder above. Layout: see `fuzz/fuzz_targets/decoders.rs`.
#[test]
#[ignore = "writes files; run by hand to regenerate the fuzz seeds"]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/decoders");
    let seeds: [Seed; 6] = [
        ("hextile-rgbx8888", 0, 4, Rect::new(3, 5, 35, 35), 7, None),
        ("hextile-rgb565", 1, 4, Rect::new(0, 0, 40, 20), 1, None),
        (
            "hextile-colourmap8",
            3,
            4,
            Rect::new(60, 50, 33, 17),
            13,
            None,
        ),
        (
            "zlibhex-rgbx8888",
            0,
            7,
            Rect::new(3, 5, 35, 35),
            5,
            Some([Wrap::Z; 3]),
        ),
        (
            "zlibhex-bgr233-mixed",
            2,
            7,
            Rect::new(10, 2, 40, 20),
            1,
            Some([Wrap::Z, Wrap::Plain, Wrap::ZRawOnStream1]),
        ),
        (
            "zlibhex-rgb565-mixed",
            1,
            7,
            Rect::new(0, 0, 33, 33),
            64,
            Some([Wrap::ZRawOnStream1, Wrap::Z, Wrap::Plain]),
        ),
    ];
    for (name, pf, enc, rect, chunk, wraps) in seeds {
        let bpp = formats()[usize::from(pf)].bytes_per_pixel();
        let tiles = every_combination(rect, bpp);
        let payload = match wraps {
            None => hextile(&tiles, bpp),
            Some(w) => {
                let wrapped: Vec<_> = tiles
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.clone(), w[i % 3]))
                    .collect();
                zlibhex(&wrapped, bpp, &mut ZEnc::new())
            }
        };
        let mut seed = vec![
            pf,
            enc,
            rect.x as u8,
            rect.y as u8,
            rect.width as u8,
            rect.height as u8,
            chunk,
            0,
        ];
        seed.extend(payload);
        std::fs::write(dir.join(name), seed).unwrap();
    }
}
