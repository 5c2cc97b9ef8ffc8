//! Tight (7) and TightPNG (-260) vectors built by a small encoder written from the spec
//! (<https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#tight-encoding>), each fed
//! whole, one byte at a time and in odd chunks, which must give identical framebuffers.

use flate2::{Compress, Compression, FlushCompress};
use rfb_encodings::{
    DecodeError, DecodeErrorKind, Decoded, DecoderLimits, Decoders, DrawTarget, Encoding,
    Framebuffer, ImageFormat, PixelFormat, Rect,
};

// ---------------------------------------------------------------------------------------------
// Harness

/// Feeds `payload` in chunks of `chunk` bytes (0 = all at once); returns the decoded outcome.
fn run<T: DrawTarget>(
    dec: &mut Decoders,
    fb: &mut T,
    size: (u16, u16),
    rect: Rect,
    enc: Encoding,
    payload: &[u8],
    chunk: usize,
) -> Result<Decoded, DecodeError> {
    rfb_testkit::decode::feed_rect(dec, fb, size, rect, enc, payload, chunk)
}

const FB: (u16, u16) = (40, 30);
const CHUNKS: [usize; 4] = [0, 1, 7, 61];

/// Builds the payloads (fresh encoder state per chunking, as a new connection would have) and
/// checks that every chunking decodes to the same framebuffer, which it returns with the
/// decoders (for their statistics).
fn decode_all(
    pf: PixelFormat,
    enc: Encoding,
    rects: &[Rect],
    make: impl Fn(&mut TightEnc) -> Vec<Vec<u8>>,
) -> (Framebuffer, Decoders) {
    let mut reference: Option<(Framebuffer, Decoders)> = None;
    for chunk in CHUNKS {
        let mut e = TightEnc::new(pf);
        let payloads = make(&mut e);
        let mut fb = Framebuffer::new(FB.0, FB.1);
        let mut dec = decoders(pf, DecoderLimits::default());
        for (r, p) in rects.iter().zip(&payloads) {
            let d = run(&mut dec, &mut fb, FB, *r, enc, p, chunk).unwrap();
            assert_eq!(d, Decoded::Drawn);
        }
        match &reference {
            None => reference = Some((fb, dec)),
            Some((r, _)) => assert_eq!(r, &fb, "chunk {chunk} differs"),
        }
    }
    reference.unwrap()
}

fn decoders(pf: PixelFormat, limits: DecoderLimits) -> Decoders {
    let mut dec = Decoders::new(pf, limits).unwrap();
    // For COLOUR_MAP8 sessions: a map where index i is (i, 255 - i, 7).
    let map: Vec<[u16; 3]> = (0..256u16)
        .map(|i| [i * 257, (255 - i) * 257, 7 * 257])
        .collect();
    dec.set_colour_map_entries(0, &map).unwrap();
    dec
}

fn sub(dec: &Decoders, enc: Encoding, name: &'static str) -> u64 {
    dec.stats()
        .subencodings
        .get(&(enc, name))
        .copied()
        .unwrap_or(0)
}

fn assert_rect(fb: &Framebuffer, rect: Rect, want: impl Fn(u16, u16) -> [u8; 4]) {
    for y in 0..rect.height {
        for x in 0..rect.width {
            assert_eq!(
                fb.pixel(rect.x + x, rect.y + y),
                Some(want(x, y)),
                "pixel ({x}, {y}) of {rect:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A Tight encoder, from the spec

/// Compact length: 7 bits a byte, least significant first, the third byte carries 8 bits.
fn compact(n: usize) -> Vec<u8> {
    assert!(n < 1 << 22);
    if n < 128 {
        vec![n as u8]
    } else if n < 1 << 14 {
        vec![(n as u8 & 0x7f) | 0x80, (n >> 7) as u8]
    } else {
        vec![
            (n as u8 & 0x7f) | 0x80,
            ((n >> 7) as u8 & 0x7f) | 0x80,
            (n >> 14) as u8,
        ]
    }
}

struct TightEnc {
    pf: PixelFormat,
    streams: [Compress; 4],
}

/// Filter choice with its header bytes.
enum F<'a> {
    /// No filter-id byte (implicit copy).
    Implicit,
    Copy,
    /// Palette of wire pixel values and the index of each pixel.
    Palette(&'a [u32], &'a [u8]),
    Gradient,
}

impl TightEnc {
    fn new(pf: PixelFormat) -> Self {
        Self {
            pf,
            streams: std::array::from_fn(|_| Compress::new(Compression::default(), true)),
        }
    }

    fn rgb24(&self) -> bool {
        let pf = &self.pf;
        pf.true_colour
            && pf.bits_per_pixel == 32
            && pf.depth == 24
            && pf.red_max == 255
            && pf.green_max == 255
            && pf.blue_max == 255
    }

    fn tpixel(&self, v: u32) -> Vec<u8> {
        let pf = &self.pf;
        if self.rgb24() {
            vec![
                (v >> pf.red_shift) as u8,
                (v >> pf.green_shift) as u8,
                (v >> pf.blue_shift) as u8,
            ]
        } else {
            v.to_le_bytes()[..pf.bytes_per_pixel()].to_vec()
        }
    }

    /// A sync-flushed chunk of stream `id` (persistent across rectangles).
    fn zlib(&mut self, id: usize, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() * 2 + 64);
        let c = &mut self.streams[id];
        let start = c.total_in();
        loop {
            let done = (c.total_in() - start) as usize;
            c.compress_vec(&data[done..], &mut out, FlushCompress::Sync)
                .unwrap();
            if (c.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
                return out;
            }
            out.reserve(out.capacity());
        }
    }

    /// Resets stream `id` as a server does before setting the matching control bit.
    fn reset(&mut self, id: usize) {
        self.streams[id] = Compress::new(Compression::default(), true);
    }

    fn fill(&self, v: u32) -> Vec<u8> {
        let mut out = vec![0x80];
        out.extend(self.tpixel(v));
        out
    }

    /// Filtered data for `pixels` (`w` wide) under `f`.
    fn filtered(&self, f: &F<'_>, pixels: &[u32], w: usize) -> Vec<u8> {
        match f {
            F::Implicit | F::Copy => pixels.iter().flat_map(|&v| self.tpixel(v)).collect(),
            F::Palette(pal, idx) if pal.len() == 2 => {
                let mut out = Vec::new();
                for row in idx.chunks(w) {
                    for byte in row.chunks(8) {
                        let mut b = 0u8;
                        for (i, &bit) in byte.iter().enumerate() {
                            b |= (bit & 1) << (7 - i);
                        }
                        out.push(b);
                    }
                }
                out
            }
            F::Palette(_, idx) => idx.to_vec(),
            F::Gradient => self.gradient(pixels, w),
        }
    }

    /// The spec's pseudo-code: D = V - clamp(left + above - above_left, 0, MAX), per component.
    fn gradient(&self, pixels: &[u32], w: usize) -> Vec<u8> {
        let pf = &self.pf;
        let (max, shift) = if self.rgb24() {
            ([255u32; 3], [pf.red_shift, pf.green_shift, pf.blue_shift])
        } else {
            (
                [pf.red_max, pf.green_max, pf.blue_max].map(u32::from),
                [pf.red_shift, pf.green_shift, pf.blue_shift],
            )
        };
        let comp = |v: u32, c: usize| ((v >> shift[c]) & max[c]) as i32;
        let at = |x: isize, y: isize, c: usize| -> i32 {
            if x < 0 || y < 0 {
                0
            } else {
                comp(pixels[y as usize * w + x as usize], c)
            }
        };
        let mut out = Vec::new();
        for (i, &v) in pixels.iter().enumerate() {
            let (x, y) = ((i % w) as isize, (i / w) as isize);
            let d: [u32; 3] = std::array::from_fn(|c| {
                let p = (at(x - 1, y, c) + at(x, y - 1, c) - at(x - 1, y - 1, c))
                    .clamp(0, max[c] as i32);
                ((comp(v, c) - p) as u32) & max[c]
            });
            if self.rgb24() {
                out.extend(d.iter().map(|&c| c as u8));
            } else {
                let val = (0..3).fold(0, |a, c| a | (d[c] << shift[c]));
                out.extend_from_slice(&val.to_le_bytes()[..pf.bytes_per_pixel()]);
            }
        }
        out
    }

    /// A BasicCompression rectangle on stream `id` (`reset`: extra low control bits).
    fn basic(&mut self, id: usize, reset: u8, f: F<'_>, pixels: &[u32], w: usize) -> Vec<u8> {
        let filter_id = match f {
            F::Implicit => None,
            F::Copy => Some(0),
            F::Palette(..) => Some(1),
            F::Gradient => Some(2),
        };
        let mut out = vec![((id as u8) << 4) | if filter_id.is_some() { 0x40 } else { 0 } | reset];
        out.extend(filter_id);
        if let F::Palette(pal, _) = f {
            out.push((pal.len() - 1) as u8);
            for &v in pal {
                out.extend(self.tpixel(v));
            }
        }
        let data = self.filtered(&f, pixels, w);
        if data.len() < 12 {
            out.extend(data);
        } else {
            let z = self.zlib(id, &data);
            out.extend(compact(z.len()));
            out.extend(z);
        }
        out
    }

    /// BasicCompression Without Zlib (control 1010 or, with a filter, 1110).
    fn no_zlib(&self, f: F<'_>, pixels: &[u32], w: usize) -> Vec<u8> {
        let mut out = match f {
            F::Implicit => vec![0xA0],
            F::Copy => vec![0xE0, 0],
            F::Palette(..) => vec![0xE0, 1],
            F::Gradient => vec![0xE0, 2],
        };
        if let F::Palette(pal, _) = f {
            out.push((pal.len() - 1) as u8);
            for &v in pal {
                out.extend(self.tpixel(v));
            }
        }
        out.extend(self.filtered(&f, pixels, w));
        out
    }
}

/// Wire pixel values of a `w`×`h` test picture for `pf` (smooth enough for the gradient
/// filter to matter, varied enough to exercise every component).
fn picture(pf: &PixelFormat, w: usize, h: usize, seed: u32) -> Vec<u32> {
    (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as u32, (i / w) as u32);
            let r = (x * 9 + seed) & u32::from(pf.red_max);
            let g = (y * 13 + x * seed) & u32::from(pf.green_max);
            let b = ((x ^ y) * 5 + seed * 3) & u32::from(pf.blue_max);
            if pf.true_colour {
                (r << pf.red_shift) | (g << pf.green_shift) | (b << pf.blue_shift)
            } else {
                (x * 7 + y * 3 + seed) & 255
            }
        })
        .collect()
}

fn rgba(dec: &Decoders, v: u32) -> [u8; 4] {
    dec.converter().value_to_rgba(v)
}

const FORMATS: [PixelFormat; 4] = [
    PixelFormat::RGBX8888,
    PixelFormat::RGB565,
    PixelFormat::BGR233,
    PixelFormat::COLOUR_MAP8,
];

// ---------------------------------------------------------------------------------------------
// Encoder self-checks against the spec's examples

#[test]
fn compact_length_matches_the_spec_example() {
    // "decimal value 10000 should be represented as two bytes: ... hexadecimal 90 4E".
    assert_eq!(compact(10000), [0x90, 0x4E]);
    assert_eq!(compact(127), [0x7F]);
    assert_eq!(compact(4_194_303), [0xFF, 0xFF, 0xFF]);
}

// ---------------------------------------------------------------------------------------------
// Decoding

#[test]
fn fill_in_every_format() {
    for pf in FORMATS {
        let r = Rect::new(3, 2, 9, 5);
        let v = picture(&pf, 3, 1, 5)[2];
        let (fb, dec) = decode_all(pf, Encoding::Tight, &[r], |e| vec![e.fill(v)]);
        let want = rgba(&dec, v);
        assert_rect(&fb, r, |_, _| want);
        assert_eq!(fb.pixel(2, 2), Some([0, 0, 0, 255]));
        assert_eq!(sub(&dec, Encoding::Tight, "fill"), 1);
    }
}

#[test]
fn copy_filter_every_format_and_stream() {
    for pf in FORMATS {
        let (w, h) = (13usize, 7usize);
        let rects: Vec<Rect> = (0..4).map(|i| Rect::new(i * 2, i * 5, 13, 7)).collect();
        let pics: Vec<Vec<u32>> = (0..4).map(|s| picture(&pf, w, h, s)).collect();
        let (fb, dec) = decode_all(pf, Encoding::Tight, &rects, |e| {
            // Stream 0..3, implicit and explicit copy; the last two rects share stream 1 to
            // prove the stream persists.
            vec![
                e.basic(0, 0, F::Implicit, &pics[0], w),
                e.basic(1, 0, F::Copy, &pics[1], w),
                e.basic(2, 0, F::Copy, &pics[2], w),
                e.basic(1, 0, F::Implicit, &pics[3], w),
            ]
        });
        // Later rectangles overlap earlier ones; check the last one whole.
        assert_rect(&fb, rects[3], |x, y| {
            rgba(&dec, pics[3][usize::from(y) * w + usize::from(x)])
        });
        assert_eq!(sub(&dec, Encoding::Tight, "copy"), 4, "{pf:?}");
        assert_eq!(sub(&dec, Encoding::Tight, "uncompressed"), 0);
    }
}

#[test]
fn palette_filters_every_format() {
    for pf in FORMATS {
        let (w, h) = (11usize, 6usize);
        let full = picture(&pf, 16, 16, 1);
        let mono = [full[3], full[40]];
        let many: Vec<u32> = full[..5].to_vec();
        let idx2: Vec<u8> = (0..w * h).map(|i| ((i * 7 / 3) % 2) as u8).collect();
        let idx5: Vec<u8> = (0..w * h).map(|i| ((i * 3) % 5) as u8).collect();
        let full256: Vec<u32> = (0..256u32)
            .map(|i| full[i as usize % full.len()] ^ (i & 1))
            .collect();
        let idx256: Vec<u8> = (0..w * h).map(|i| (i * 37 % 256) as u8).collect();
        let r2 = Rect::new(0, 0, w as u16, h as u16);
        let r5 = Rect::new(12, 0, w as u16, h as u16);
        let r256 = Rect::new(24, 8, w as u16, h as u16);
        let (fb, dec) = decode_all(pf, Encoding::Tight, &[r2, r5, r256], |e| {
            vec![
                e.basic(0, 0, F::Palette(&mono, &idx2), &[], w),
                e.basic(3, 0, F::Palette(&many, &idx5), &[], w),
                e.basic(2, 0, F::Palette(&full256, &idx256), &[], w),
            ]
        });
        let at = |idx: &[u8], x: u16, y: u16| usize::from(idx[usize::from(y) * w + usize::from(x)]);
        assert_rect(&fb, r2, |x, y| rgba(&dec, mono[at(&idx2, x, y)]));
        assert_rect(&fb, r5, |x, y| rgba(&dec, many[at(&idx5, x, y)]));
        assert_rect(&fb, r256, |x, y| rgba(&dec, full256[at(&idx256, x, y)]));
        assert_eq!(sub(&dec, Encoding::Tight, "palette-mono"), 1);
        assert_eq!(sub(&dec, Encoding::Tight, "palette"), 2);
    }
}

#[test]
fn gradient_filter_16_and_32_bpp() {
    let rgb24_bgr = PixelFormat {
        big_endian: false,
        red_shift: 16,
        green_shift: 8,
        blue_shift: 0,
        ..PixelFormat::RGBX8888
    };
    // 32 bpp depth 30 is not a 3-byte TPIXEL: exercises the generic component path at 32 bpp.
    let rgb30 = PixelFormat {
        depth: 30,
        red_max: 1023,
        green_max: 1023,
        blue_max: 1023,
        red_shift: 20,
        green_shift: 10,
        blue_shift: 0,
        ..PixelFormat::RGBX8888
    };
    for pf in [PixelFormat::RGBX8888, rgb24_bgr, rgb30, PixelFormat::RGB565] {
        let (w, h) = (17usize, 9usize);
        let pic = picture(&pf, w, h, 3);
        let r = Rect::new(5, 4, w as u16, h as u16);
        let (fb, dec) = decode_all(pf, Encoding::Tight, &[r], |e| {
            vec![e.basic(2, 0, F::Gradient, &pic, w)]
        });
        assert_rect(&fb, r, |x, y| {
            rgba(&dec, pic[usize::from(y) * w + usize::from(x)])
        });
        assert_eq!(sub(&dec, Encoding::Tight, "gradient"), 1, "{pf:?}");
    }
}

#[test]
fn gradient_at_8_bpp_is_rejected() {
    for pf in [PixelFormat::BGR233, PixelFormat::COLOUR_MAP8] {
        let mut e = TightEnc::new(pf);
        let pic = picture(&pf, 8, 8, 1);
        let p = e.basic(0, 0, F::Gradient, &pic, 8);
        let err = decode_err(pf, Encoding::Tight, Rect::new(0, 0, 8, 8), &p);
        assert!(matches!(err, DecodeErrorKind::InvalidValue { .. }), "{err}");
    }
}

#[test]
fn short_data_is_sent_uncompressed() {
    for pf in FORMATS {
        // Under 12 bytes after filtering: 3 pixels at ≤ 3 bytes, an 11×1 mono palette (2
        // bytes) and a 2×2 8-bit palette (4 bytes).
        let pic = picture(&pf, 3, 1, 9);
        let mono = [pic[0], pic[1]];
        let idx: Vec<u8> = vec![1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1];
        let many = [pic[0], pic[1], pic[2]];
        let idx4 = [2u8, 1, 0, 2];
        let r1 = Rect::new(0, 0, 3, 1);
        let r2 = Rect::new(0, 2, 11, 1);
        let r3 = Rect::new(0, 4, 2, 2);
        let (fb, dec) = decode_all(pf, Encoding::Tight, &[r1, r2, r3], |e| {
            vec![
                e.basic(0, 0, F::Copy, &pic, 3),
                e.basic(1, 0, F::Palette(&mono, &idx), &[], 11),
                e.basic(1, 0, F::Palette(&many, &idx4), &[], 2),
            ]
        });
        assert_rect(&fb, r1, |x, _| rgba(&dec, pic[usize::from(x)]));
        assert_rect(&fb, r2, |x, _| {
            rgba(&dec, mono[usize::from(idx[usize::from(x)])])
        });
        assert_rect(&fb, r3, |x, y| {
            rgba(&dec, many[usize::from(idx4[usize::from(y * 2 + x)])])
        });
        assert_eq!(sub(&dec, Encoding::Tight, "uncompressed"), 3);
    }
}

#[test]
fn basic_without_zlib() {
    for pf in [
        PixelFormat::RGBX8888,
        PixelFormat::RGB565,
        PixelFormat::BGR233,
    ] {
        let (w, h) = (9usize, 5usize);
        let pic = picture(&pf, w, h, 4);
        let pal = [pic[0], pic[1], pic[7]];
        let idx: Vec<u8> = (0..w * h).map(|i| (i % 3) as u8).collect();
        let r1 = Rect::new(0, 0, 9, 5);
        let r2 = Rect::new(10, 0, 9, 5);
        let (fb, dec) = decode_all(pf, Encoding::Tight, &[r1, r2], |e| {
            vec![
                e.no_zlib(F::Implicit, &pic, w),
                e.no_zlib(F::Palette(&pal, &idx), &[], w),
            ]
        });
        assert_rect(&fb, r1, |x, y| {
            rgba(&dec, pic[usize::from(y) * w + usize::from(x)])
        });
        assert_rect(&fb, r2, |x, y| {
            rgba(
                &dec,
                pal[usize::from(idx[usize::from(y) * w + usize::from(x)])],
            )
        });
        assert_eq!(sub(&dec, Encoding::Tight, "uncompressed"), 2);
    }
}

/// Incompressible wire pixels, so the zlib length is about the data length.
fn noise(n: usize, seed: u32) -> Vec<u32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s & 0x00ff_ffff
        })
        .collect()
}

#[test]
fn compact_lengths_of_one_two_and_three_bytes() {
    let pf = PixelFormat::RGBX8888;
    // 1 byte: a flat picture compresses under 128 bytes.
    let flat = vec![0x0010_2030u32; 40 * 10];
    // 2 bytes: 200 noise pixels are about 600 bytes compressed.
    let n2 = noise(20 * 10, 1);
    let cases: [(&[u32], usize, usize); 2] = [(&flat, 40, 1), (&n2, 20, 2)];
    for (pix, w, len_bytes) in cases {
        let h = pix.len() / w;
        let r = Rect::new(0, 0, w as u16, h as u16);
        let mut e = TightEnc::new(pf);
        let p = e.basic(0, 0, F::Copy, pix, w);
        assert_eq!(p[1], 0, "filter-id copy");
        // Control, filter-id, then the compact length's continuation bits tell its size.
        let used = if p[2] & 0x80 == 0 {
            1
        } else if p[3] & 0x80 == 0 {
            2
        } else {
            3
        };
        assert_eq!(used, len_bytes);
        let (fb, dec) = decode_all(pf, Encoding::Tight, &[r], |e| {
            vec![e.basic(0, 0, F::Copy, pix, w)]
        });
        assert_rect(&fb, r, |x, y| {
            rgba(&dec, pix[usize::from(y) * w + usize::from(x)])
        });
    }
    // 3 bytes: 96×80 noise pixels are 23040 bytes of TPIXELs.
    let (w, h) = (96usize, 80usize);
    let pix = noise(w * h, 7);
    let r = Rect::new(0, 0, 96, 80);
    let mut e = TightEnc::new(pf);
    let p = e.basic(0, 0, F::Copy, &pix, w);
    assert!(p[2] & 0x80 != 0 && p[3] & 0x80 != 0, "3-byte length");
    let mut reference = None;
    for chunk in CHUNKS {
        let mut fb = Framebuffer::new(96, 80);
        let mut dec = decoders(pf, DecoderLimits::default());
        run(&mut dec, &mut fb, (96, 80), r, Encoding::Tight, &p, chunk).unwrap();
        assert_rect(&fb, r, |x, y| {
            rgba(&dec, pix[usize::from(y) * w + usize::from(x)])
        });
        match &reference {
            None => reference = Some(fb),
            Some(f) => assert_eq!(f, &fb),
        }
    }
}

#[test]
fn reset_bits_restart_the_streams() {
    let pf = PixelFormat::RGBX8888;
    let (w, h) = (8usize, 4usize);
    let a = picture(&pf, w, h, 1);
    let b = picture(&pf, w, h, 2);
    let c = picture(&pf, w, h, 3);
    let r = Rect::new(0, 0, 8, 4);
    let (fb, _) = decode_all(pf, Encoding::Tight, &[r, r, r], |e| {
        let first = e.basic(2, 0, F::Copy, &a, w);
        // The server resets stream 2 and says so with bit 2; a fill on another rect also
        // carries a reset of stream 0 (the spec: reset even for Fill and JPEG).
        e.reset(2);
        let second = e.basic(2, 1 << 2, F::Copy, &b, w);
        let third = e.basic(2, 0, F::Copy, &c, w);
        vec![first, second, third]
    });
    assert_rect(&fb, r, |x, y| {
        let v = c[usize::from(y) * w + usize::from(x)];
        [v as u8, (v >> 8) as u8, (v >> 16) as u8, 255]
    });

    // A reset bit on a Fill rectangle resets too: the next rectangle on that stream starts a
    // fresh zlib stream.
    let (fb, _) = decode_all(pf, Encoding::Tight, &[r, r, r], |e| {
        let first = e.basic(0, 0, F::Copy, &a, w);
        e.reset(0);
        let mut fill = e.fill(0x00ff_0000);
        fill[0] |= 1;
        let third = e.basic(0, 0, F::Copy, &c, w);
        vec![first, fill, third]
    });
    assert_eq!(
        fb.pixel(1, 1),
        Some([c[9] as u8, (c[9] >> 8) as u8, (c[9] >> 16) as u8, 255])
    );

    // Without the reset on the decoder side, a fresh stream's header is garbage mid-stream;
    // with the reset bit but a continued stream, the missing header is an error too.
    for reset_bit in [0u8, 1] {
        let mut e = TightEnc::new(pf);
        let first = e.basic(0, 0, F::Copy, &a, w);
        if reset_bit == 0 {
            e.reset(0);
        }
        let second = e.basic(0, reset_bit, F::Copy, &b, w);
        let mut fb = Framebuffer::new(FB.0, FB.1);
        let mut dec = decoders(pf, DecoderLimits::default());
        run(&mut dec, &mut fb, FB, r, Encoding::Tight, &first, 0).unwrap();
        let e = run(&mut dec, &mut fb, FB, r, Encoding::Tight, &second, 0).unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::Zlib(_)), "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// JPEG and PNG inside Tight and TightPNG

/// A smooth RGB test picture (JPEG-friendly).
fn smooth_rgb(w: usize, h: usize) -> Vec<u8> {
    (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [(x * 255 / w) as u8, (y * 255 / h) as u8, 128]
        })
        .collect()
}

fn jpeg(rgb: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

fn png_rgb(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    e.write_header().unwrap().write_image_data(rgb).unwrap();
    out
}

fn image_rect(control: u8, data: &[u8]) -> Vec<u8> {
    let mut p = vec![control];
    p.extend(compact(data.len()));
    p.extend_from_slice(data);
    p
}

/// JPEG is lossy: at quality 95 on a smooth picture every component stays within this.
const JPEG_TOLERANCE: u8 = 12;

fn assert_close(fb: &Framebuffer, r: Rect, rgb: &[u8], tol: u8) {
    for y in 0..r.height {
        for x in 0..r.width {
            let i = (usize::from(y) * usize::from(r.width) + usize::from(x)) * 3;
            let got = fb.pixel(r.x + x, r.y + y).unwrap();
            for c in 0..3 {
                assert!(
                    got[c].abs_diff(rgb[i + c]) <= tol,
                    "({x}, {y}) component {c}: got {} want {}",
                    got[c],
                    rgb[i + c]
                );
            }
            assert_eq!(got[3], 255);
        }
    }
}

#[test]
fn jpeg_in_tight_and_tightpng_at_16_and_32_bpp() {
    let (w, h) = (24u16, 16u16);
    let rgb = smooth_rgb(24, 16);
    let j = jpeg(&rgb, w, h);
    // Over 127 bytes, so the compact length takes two bytes.
    assert!(j.len() > 127);
    let r = Rect::new(4, 3, w, h);
    for pf in [PixelFormat::RGBX8888, PixelFormat::RGB565] {
        for enc in [Encoding::Tight, Encoding::TightPng] {
            let (fb, dec) = decode_all(pf, enc, &[r], |_| vec![image_rect(0x90, &j)]);
            assert_close(&fb, r, &rgb, JPEG_TOLERANCE);
            assert_eq!(sub(&dec, enc, "jpeg"), 1);
        }
    }
}

#[test]
fn tightpng_png_and_fill() {
    let (w, h) = (10u16, 7u16);
    let rgb: Vec<u8> = (0..70 * 3).map(|i| (i * 29 % 256) as u8).collect();
    let p = png_rgb(&rgb, 10, 7);
    let r1 = Rect::new(1, 1, w, h);
    let r2 = Rect::new(20, 10, 5, 5);
    for pf in FORMATS {
        let (fb, dec) = decode_all(pf, Encoding::TightPng, &[r1, r2], |e| {
            vec![image_rect(0xA0, &p), e.fill(picture(&pf, 1, 1, 6)[0])]
        });
        assert_close(&fb, r1, &rgb, 0);
        let want = rgba(&dec, picture(&pf, 1, 1, 6)[0]);
        assert_rect(&fb, r2, |_, _| want);
        assert_eq!(sub(&dec, Encoding::TightPng, "png"), 1);
        assert_eq!(sub(&dec, Encoding::TightPng, "fill"), 1);
    }
}

use rfb_testkit::decode::RecordingTarget as Recorder;

#[test]
fn images_are_offered_to_the_target_first() {
    let rgb = smooth_rgb(8, 8);
    let j = jpeg(&rgb, 8, 8);
    let p = png_rgb(&rgb, 8, 8);
    let r = Rect::new(0, 0, 8, 8);
    for take in [true, false] {
        for (enc, control, data, format) in [
            (Encoding::Tight, 0x90, &j, ImageFormat::Jpeg),
            (Encoding::TightPng, 0x90, &j, ImageFormat::Jpeg),
            (Encoding::TightPng, 0xA0, &p, ImageFormat::Png),
        ] {
            for chunk in [0, 1] {
                let mut t = Recorder {
                    fb: Framebuffer::new(8, 8),
                    take_images: take,
                    ..Default::default()
                };
                let mut dec = decoders(PixelFormat::RGBX8888, DecoderLimits::default());
                let payload = image_rect(control, data);
                run(&mut dec, &mut t, (8, 8), r, enc, &payload, chunk).unwrap();
                assert_eq!(t.images, vec![(r, format, data.clone())]);
                if take {
                    assert_eq!(t.puts, 0, "put_rgba after the target took the image");
                    assert_eq!(t.fb, Framebuffer::new(8, 8));
                } else {
                    assert!(t.puts > 0);
                    assert_close(&t.fb, r, &rgb, JPEG_TOLERANCE);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input

fn decode_err_with(
    pf: PixelFormat,
    limits: DecoderLimits,
    enc: Encoding,
    r: Rect,
    payload: &[u8],
) -> DecodeErrorKind {
    for chunk in [0, 1] {
        let mut fb = Framebuffer::new(FB.0, FB.1);
        let mut dec = decoders(pf, limits);
        dec.begin(r, enc, FB.0, FB.1).unwrap();
        let mut pending = Vec::new();
        let mut chunks = payload.chunks(if chunk == 0 { payload.len().max(1) } else { 1 });
        let err = loop {
            match dec.feed(&pending, &mut fb) {
                Err(e) => break e,
                Ok(p) => {
                    assert!(p.done.is_none(), "bad input accepted: {payload:02x?}");
                    pending.drain(..p.consumed);
                }
            }
            match chunks.next() {
                Some(c) => pending.extend_from_slice(c),
                None => panic!("no error, decoder wants more"),
            }
        };
        assert_eq!(err.encoding, enc);
        assert!(!dec.is_busy());
        if chunk == 1 {
            return err.kind;
        }
    }
    unreachable!()
}

fn decode_err(pf: PixelFormat, enc: Encoding, r: Rect, payload: &[u8]) -> DecodeErrorKind {
    decode_err_with(pf, DecoderLimits::default(), enc, r, payload)
}

#[test]
fn invalid_control_values() {
    let r = Rect::new(0, 0, 4, 4);
    for c in [0xB0u8, 0xC0, 0xD0, 0xF0, 0xBF] {
        let e = decode_err(PixelFormat::RGBX8888, Encoding::Tight, r, &[c, 0, 0, 0]);
        assert!(
            matches!(e, DecodeErrorKind::InvalidValue { field, .. } if field.contains("compression-control")),
            "{c:#x}: {e}"
        );
    }
    // TightPNG has no BasicCompression and no 1110.
    for c in [0x00u8, 0x40, 0x70, 0xE0, 0xB0] {
        let e = decode_err(PixelFormat::RGBX8888, Encoding::TightPng, r, &[c, 0, 0, 0]);
        assert!(
            matches!(e, DecodeErrorKind::InvalidValue { .. }),
            "{c:#x}: {e}"
        );
    }
    // filter-id 3.
    let e = decode_err(PixelFormat::RGBX8888, Encoding::Tight, r, &[0x40, 3]);
    assert!(
        matches!(e, DecodeErrorKind::InvalidValue { field, value: 3 } if field.contains("filter"))
    );
}

#[test]
fn palette_index_past_the_palette() {
    let pf = PixelFormat::RGBX8888;
    let mut e = TightEnc::new(pf);
    let idx: Vec<u8> = (0..16).map(|i| if i == 9 { 3 } else { i % 3 }).collect();
    let p = e.basic(0, 0, F::Palette(&[1, 2, 3], &idx), &[], 4);
    let err = decode_err(pf, Encoding::Tight, Rect::new(0, 0, 4, 4), &p);
    assert!(
        matches!(err, DecodeErrorKind::InvalidValue { value: 3, .. }),
        "{err}"
    );
    // Uncompressed too (under 12 bytes).
    let p = e.basic(0, 0, F::Palette(&[1, 2, 3], &[0, 1, 2, 7]), &[], 2);
    let err = decode_err(pf, Encoding::Tight, Rect::new(0, 0, 2, 2), &p);
    assert!(
        matches!(err, DecodeErrorKind::InvalidValue { value: 7, .. }),
        "{err}"
    );
}

#[test]
fn compact_length_over_the_limit() {
    let limits = DecoderLimits {
        max_compressed_len: 100,
        ..DecoderLimits::default()
    };
    let r = Rect::new(0, 0, 8, 8);
    for (enc, head) in [
        (Encoding::Tight, vec![0x00]),
        (Encoding::Tight, vec![0x90]),
        (Encoding::TightPng, vec![0xA0]),
    ] {
        let mut p = head;
        p.extend(compact(101));
        let e = decode_err_with(PixelFormat::RGBX8888, limits, enc, r, &p);
        assert!(
            matches!(
                e,
                DecodeErrorKind::LimitExceeded {
                    value: 101,
                    limit: 100,
                    ..
                }
            ),
            "{e}"
        );
    }
}

#[test]
fn zlib_garbage_bomb_and_short_data() {
    let pf = PixelFormat::RGBX8888;
    let r = Rect::new(0, 0, 8, 8);
    // Garbage.
    let mut p = vec![0x00];
    p.extend(compact(20));
    p.extend([0xFFu8; 20]);
    let e = decode_err(pf, Encoding::Tight, r, &p);
    assert!(matches!(e, DecodeErrorKind::Zlib(_)), "{e}");

    // Bomb: 1 MiB of zeros for an 8×8 rectangle (192 bytes of TPIXELs).
    let mut enc = TightEnc::new(pf);
    let z = enc.zlib(0, &vec![0u8; 1 << 20]);
    let mut p = vec![0x00];
    p.extend(compact(z.len()));
    p.extend(&z);
    let e = decode_err(pf, Encoding::Tight, r, &p);
    assert!(matches!(e, DecodeErrorKind::TrailingData { .. }), "{e}");

    // Too little data for the rectangle.
    let mut enc = TightEnc::new(pf);
    let z = enc.zlib(0, &[0u8; 100]);
    let mut p = vec![0x00];
    p.extend(compact(z.len()));
    p.extend(&z);
    let e = decode_err(pf, Encoding::Tight, r, &p);
    assert!(matches!(e, DecodeErrorKind::InvalidValue { .. }), "{e}");
}

#[test]
fn corrupt_or_mis_sized_images() {
    let rgb = smooth_rgb(8, 8);
    let j = jpeg(&rgb, 8, 8);
    let p = png_rgb(&rgb, 8, 8);
    let r8 = Rect::new(0, 0, 8, 8);
    let r9 = Rect::new(0, 0, 9, 8);
    // No SOI: not a JPEG at all.
    let mut bad_j = j.clone();
    bad_j[1] = 0;
    let mut bad_p = p.clone();
    let mid = p.len() / 2;
    bad_p[mid] ^= 0x55;
    for (enc, control, data, r) in [
        (Encoding::Tight, 0x90, &bad_j, r8),
        (Encoding::Tight, 0x90, &j, r9),
        (Encoding::TightPng, 0xA0, &bad_p, r8),
        (Encoding::TightPng, 0xA0, &p, r9),
        (Encoding::TightPng, 0xA0, &j, r8),
    ] {
        let e = decode_err(PixelFormat::RGBX8888, enc, r, &image_rect(control, data));
        assert!(matches!(e, DecodeErrorKind::Image { .. }), "{e}");
    }
    // JPEG in an 8 bpp session is not allowed.
    let e = decode_err(
        PixelFormat::BGR233,
        Encoding::Tight,
        r8,
        &image_rect(0x90, &j),
    );
    assert!(
        matches!(e, DecodeErrorKind::InvalidValue { value: 8, .. }),
        "{e}"
    );
}

#[test]
fn grey_jpeg_and_other_png_colour_types() {
    let (w, h) = (8u16, 8u16);
    let r = Rect::new(0, 0, w, h);
    let grey: Vec<u8> = (0..64).map(|i| (i * 4) as u8).collect();
    let grey_rgb: Vec<u8> = grey.iter().flat_map(|&g| [g, g, g]).collect();
    let mut j = Vec::new();
    jpeg_encoder::Encoder::new(&mut j, 95)
        .encode(&grey, w, h, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let (fb, _) = decode_all(PixelFormat::RGBX8888, Encoding::Tight, &[r], |_| {
        vec![image_rect(0x90, &j)]
    });
    assert_close(&fb, r, &grey_rgb, JPEG_TOLERANCE);

    // 16-bit greyscale with alpha, and a palette PNG: both come out as opaque RGB.
    let mut g16 = Vec::new();
    {
        let mut e = png::Encoder::new(&mut g16, 8, 8);
        e.set_color(png::ColorType::GrayscaleAlpha);
        e.set_depth(png::BitDepth::Sixteen);
        let data: Vec<u8> = grey.iter().flat_map(|&g| [g, g, 0, 0]).collect();
        e.write_header().unwrap().write_image_data(&data).unwrap();
    }
    let mut pal = Vec::new();
    {
        let mut e = png::Encoder::new(&mut pal, 8, 8);
        e.set_color(png::ColorType::Indexed);
        e.set_depth(png::BitDepth::Eight);
        e.set_palette(vec![10, 20, 30, 200, 100, 50]);
        let idx: Vec<u8> = (0..64).map(|i| (i % 2) as u8).collect();
        e.write_header().unwrap().write_image_data(&idx).unwrap();
    }
    let pal_rgb: Vec<u8> = (0..64)
        .flat_map(|i| {
            if i % 2 == 0 {
                [10, 20, 30]
            } else {
                [200, 100, 50]
            }
        })
        .collect();
    let r2 = Rect::new(10, 0, w, h);
    let (fb, _) = decode_all(PixelFormat::RGB565, Encoding::TightPng, &[r, r2], |_| {
        vec![image_rect(0xA0, &g16), image_rect(0xA0, &pal)]
    });
    assert_close(&fb, r, &grey_rgb, 0);
    assert_close(&fb, r2, &pal_rgb, 0);
}
