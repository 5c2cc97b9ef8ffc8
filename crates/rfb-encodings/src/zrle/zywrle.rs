//! The inverse ZYWRLE transform: turns one tile of wavelet coefficients, carried as pixel
//! values, back into pixels.
//!
//! The spec only registers the number (17, "Hitachi ZYWRLE"); this follows the public
//! description of the reference codec (libvncserver's `zywrletemplate.c`, Hitachi Systems &
//! Services, 2006), re-implemented here:
//!
//! 1. The encoder works on the largest part of the tile whose sides are multiples of
//!    `2^level` (the *aligned* part); the rest of the tile (a right strip, a bottom strip and
//!    their corner) travels untransformed.
//! 2. Each aligned pixel becomes a reversible-colour-transform triple: `Y = (R + 2G + B) / 4
//!    - 128`, `U = (B - G) / 2`, `V = (R - G) / 2`, each a signed byte.
//! 3. `level` passes of a piecewise-linear Haar transform (PLHaar, Senecal et al. 2004, an
//!    n-bit to n-bit reversible transform) run along rows then columns, in the interleaved
//!    layout: at pass `l` the pair `(i·2^(l+1), i·2^(l+1) + 2^l)` becomes (low, high) in place.
//!    After each pass the server quantises the high bands (that is where the loss comes from;
//!    the decoder does not need to know how).
//! 4. The coefficients are packed into pixels: per level `l`, the bands at offsets
//!    `(2^l, 2^l)`, `(0, 2^l)`, `(2^l, 0)` of every `2^(l+1)` square, and after the last level
//!    the low band at `(0, 0)`, each in raster order; then the untransformed pixels. A
//!    coefficient triple sits in a pixel as the encoder's "R, G, B" of that pixel value:
//!    bytes 2, 1, 0 of a 32-bit value; the top 5, 6 and 5 bits of a 16-bit 5-6-5 value; the
//!    5-5-5 equivalent when green has 5 bits.
//!
//! Decoding undoes 4, 3 (columns then rows, last level first; PLHaar is its own inverse) and
//! 2, then puts the untransformed pixels back. All arithmetic is on bytes with wrap-around, as
//! in the reference, so the output is bit-exact with it.

/// How a coefficient triple is stored in a pixel value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// 32 bpp: bytes 2, 1, 0 of the value.
    Bits32,
    /// 16 bpp with 6 green bits.
    Rgb565,
    /// 16 bpp with 5 green bits.
    Rgb555,
}

impl Layout {
    /// The triple `[c0, c1, c2]` (the encoder's B, G, R slots) held in `v`.
    fn load(self, v: u32) -> [i8; 3] {
        let (r, g, b) = match self {
            Self::Bits32 => (v >> 16, v >> 8, v),
            Self::Rgb565 => ((v >> 8) & 0xF8, (v >> 3) & 0xFC, (v << 3) & 0xF8),
            Self::Rgb555 => ((v >> 7) & 0xF8, (v >> 2) & 0xF8, (v << 3) & 0xF8),
        };
        [b as u8 as i8, g as u8 as i8, r as u8 as i8]
    }

    /// A pixel value holding `r`, `g`, `b` (0–255); a 32-bit value keeps the top byte of `old`
    /// because the reference rewrites only the three colour bytes in place.
    fn store(self, r: u32, g: u32, b: u32, old: u32) -> u32 {
        match self {
            Self::Bits32 => (old & 0xFF00_0000) | (r << 16) | (g << 8) | b,
            Self::Rgb565 => ((r & 0xF8) << 8) | ((g & 0xFC) << 3) | ((b & 0xF8) >> 3),
            Self::Rgb555 => ((r & 0xF8) << 7) | ((g & 0xF8) << 2) | ((b & 0xF8) >> 3),
        }
    }
}

/// One piecewise-linear Haar step on a pair of signed bytes; applying it twice restores the
/// pair, which is why the same step serves both directions.
#[inline]
pub(super) fn plhaar(a: &mut i8, b: &mut i8) {
    let (x0, x1) = (*a, *b);
    let (lo, hi);
    if (x0 ^ x1) < 0 {
        // Opposite signs: the sum cannot overflow.
        let s = x1.wrapping_add(x0);
        lo = s;
        hi = if (s ^ x1) >= 0 {
            x0.wrapping_sub(s)
        } else {
            x0
        };
    } else {
        let d = x0.wrapping_sub(x1);
        hi = d;
        lo = if (d ^ x0) >= 0 {
            x1.wrapping_add(d)
        } else {
            x1
        };
    }
    *a = lo;
    *b = hi;
}

/// Reusable buffers, so a tile costs no allocation after the first.
#[derive(Debug, Default)]
pub(super) struct Work {
    coef: Vec<[i8; 3]>,
}

/// Inverse transform of a `w` × `h` tile: `stream` holds the decoded tile's pixel values in
/// wire (raster) order, `out` receives the pixels at their positions (`w * h` each).
pub(super) fn synthesize(
    stream: &[u32],
    out: &mut [u32],
    w: usize,
    h: usize,
    level: u8,
    layout: Layout,
    work: &mut Work,
) {
    let n = w * h;
    let mask = !((1usize << level) - 1);
    let (aw, ah) = (w & mask, h & mask);
    if aw == 0 || ah == 0 || level == 0 {
        // Too small to transform: the encoder sent the pixels as they are.
        out[..n].copy_from_slice(&stream[..n]);
        return;
    }
    let coef = &mut work.coef;
    coef.clear();
    coef.resize(aw * ah, [0; 3]);

    // Unpack the bands in the order the encoder packed them.
    let mut k = 0;
    for l in 0..level {
        let s = 2usize << l;
        let half = s / 2;
        let bands: &[(usize, usize)] = if l + 1 == level {
            &[(half, half), (0, half), (half, 0), (0, 0)]
        } else {
            &[(half, half), (0, half), (half, 0)]
        };
        for &(xo, yo) in bands {
            for y in (yo..ah).step_by(s) {
                for x in (xo..aw).step_by(s) {
                    coef[y * aw + x] = layout.load(stream[k]);
                    k += 1;
                }
            }
        }
    }

    // Inverse wavelet, last level first: columns, then rows.
    for l in (0..level).rev() {
        let step = 1usize << l;
        let pair = step * 2;
        for x in (0..aw).step_by(step) {
            for i in 0..ah / pair {
                let (ya, yb) = (i * pair, i * pair + step);
                haar_pair(coef, ya * aw + x, yb * aw + x);
            }
        }
        for y in (0..ah).step_by(step) {
            for i in 0..aw / pair {
                let (xa, xb) = (i * pair, i * pair + step);
                haar_pair(coef, y * aw + xa, y * aw + xb);
            }
        }
    }

    // Colour transform back to RGB, clamped as the reference does.
    for y in 0..ah {
        for x in 0..aw {
            let [u, yy, v] = coef[y * aw + x].map(i32::from);
            let yy = yy + 128;
            let (u, v) = (u << 1, v << 1);
            let g = yy - ((u + v) >> 2);
            let b = u + g;
            let r = v + g;
            let c = |t: i32| t.clamp(0, 255) as u32;
            let i = y * w + x;
            out[i] = layout.store(c(r), c(g), c(b), stream[i]);
        }
    }

    // The untransformed remainder: right strip, bottom strip, then the corner.
    let mut put = |ys: core::ops::Range<usize>, xs: core::ops::Range<usize>| {
        for y in ys {
            for x in xs.clone() {
                out[y * w + x] = stream[k];
                k += 1;
            }
        }
    };
    put(0..ah, aw..w);
    put(ah..h, 0..aw);
    put(ah..h, aw..w);
}

#[inline]
fn haar_pair(coef: &mut [[i8; 3]], a: usize, b: usize) {
    let (mut p, mut q) = (coef[a], coef[b]);
    for c in 0..3 {
        plhaar(&mut p[c], &mut q[c]);
    }
    coef[a] = p;
    coef[b] = q;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plhaar_is_an_involution() {
        // On -127..=127, the range the encoder keeps to (it moves -128 to -127 for this
        // reason); -128 is where the piecewise-linear pieces meet and does not survive.
        for a in -127..=i8::MAX {
            for b in -127..=i8::MAX {
                let (mut x, mut y) = (a, b);
                plhaar(&mut x, &mut y);
                plhaar(&mut x, &mut y);
                assert_eq!((x, y), (a, b));
            }
        }
    }

    /// The encoder's side without quantisation: colour transform, `level` Haar passes (rows
    /// then columns), band packing, then the untransformed remainder.
    fn analyze(px: &[u32], w: usize, h: usize, level: u8) -> Vec<u32> {
        let m = !((1usize << level) - 1);
        let (aw, ah) = (w & m, h & m);
        let mut c: Vec<[i8; 3]> = Vec::new();
        for y in 0..ah {
            for x in 0..aw {
                let v = px[y * w + x];
                let [r, g, b] = [v >> 16, v >> 8, v].map(|t| i32::from(t as u8));
                let yy = (((r + 2 * g + b) >> 2) - 128).max(-127);
                c.push([((b - g) >> 1) as i8, yy as i8, ((r - g) >> 1) as i8]);
            }
        }
        for l in 0..level {
            let (st, pr) = (1usize << l, 2usize << l);
            for y in (0..ah).step_by(st) {
                for i in 0..aw / pr {
                    haar_pair(&mut c, y * aw + i * pr, y * aw + i * pr + st);
                }
            }
            for x in (0..aw).step_by(st) {
                for i in 0..ah / pr {
                    haar_pair(&mut c, i * pr * aw + x, (i * pr + st) * aw + x);
                }
            }
        }
        let mut out = Vec::new();
        for l in 0..level {
            let s = 2usize << l;
            let hf = s / 2;
            let last = if l + 1 == level { 4 } else { 3 };
            for &(xo, yo) in &[(hf, hf), (0, hf), (hf, 0), (0, 0)][..last] {
                for y in (yo..ah).step_by(s) {
                    for x in (xo..aw).step_by(s) {
                        let [u, yy, v] = c[y * aw + x].map(|t| u32::from(t as u8));
                        out.push((v << 16) | (yy << 8) | u);
                    }
                }
            }
        }
        for (ys, xs) in [(0..ah, aw..w), (ah..h, 0..aw), (ah..h, aw..w)] {
            for y in ys {
                for x in xs.clone() {
                    out.push(px[y * w + x]);
                }
            }
        }
        out
    }

    #[test]
    fn round_trip_every_level() {
        // Without quantisation only the colour transform loses: at most 2 per channel.
        for (w, h) in [(64, 64), (37, 29), (3, 64), (64, 1)] {
            let px: Vec<u32> = (0..w * h)
                .map(|i| {
                    let (x, y) = ((i % w) as u32, (i / w) as u32);
                    ((x * 4 + y) & 0xFF) << 16 | (if x > 20 { 230 } else { 9 + y }) << 8 | (x ^ y)
                })
                .collect();
            for level in 1..=3 {
                let stream = analyze(&px, w, h, level);
                assert_eq!(stream.len(), w * h);
                let mut out = vec![0; w * h];
                synthesize(
                    &stream,
                    &mut out,
                    w,
                    h,
                    level,
                    Layout::Bits32,
                    &mut Work::default(),
                );
                for (i, (&a, &b)) in px.iter().zip(&out).enumerate() {
                    for s in [0, 8, 16] {
                        let d = ((a >> s) & 0xFF).abs_diff((b >> s) & 0xFF);
                        assert!(
                            d <= 2,
                            "{w}x{h} level {level} pixel {i}: {a:06x} vs {b:06x}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn flat_low_band_gives_grey() {
        // 2×2, one level: Hxy, Hy, Hx are zero; the low band has Y = 0x10 (so 0x90 grey).
        let stream = [0, 0, 0, 0x10 << 8];
        let mut out = [0u32; 4];
        synthesize(
            &stream,
            &mut out,
            2,
            2,
            1,
            Layout::Bits32,
            &mut Work::default(),
        );
        assert_eq!(out, [0x90_90_90; 4]);
    }

    #[test]
    fn layouts_round_trip_their_bits() {
        for (layout, v) in [
            (Layout::Rgb565, 0xABCDu32),
            (Layout::Rgb555, 0x7BCD),
            (Layout::Bits32, 0x12_34_56_78),
        ] {
            let [b, g, r] = layout.load(v).map(|c| c as u8 as u32);
            assert_eq!(layout.store(r, g, b, v), v, "{layout:?}");
        }
    }
}
