//! Encoders: RGBA → the client's pixel format, Raw, and ZRLE.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#raw-encoding> and
//! `#zrle-encoding`.

use flate2::{Compress, Compression, FlushCompress};
use rfb_encodings::{Framebuffer, PixelFormat, Rect};

/// Converts RGBA pixels into wire pixel values of one pixel format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PixelWriter {
    pf: PixelFormat,
    /// The ZRLE `CPIXEL` length and whether it is the upper 3 bytes of a 32-bit pixel.
    cpixel_len: usize,
    cpixel_shift: u32,
}

impl PixelWriter {
    /// `pf` must be valid true colour (a colour-mapped client is served as BGR233 indices).
    pub(crate) fn new(pf: PixelFormat) -> Self {
        let mask = (u64::from(pf.red_max) << pf.red_shift)
            | (u64::from(pf.green_max) << pf.green_shift)
            | (u64::from(pf.blue_max) << pf.blue_shift);
        let compact = pf.true_colour && pf.bits_per_pixel == 32 && pf.depth <= 24;
        let (cpixel_len, cpixel_shift) = if compact && mask & !0x00FF_FFFF == 0 {
            (3, 0)
        } else if compact && mask & !0xFFFF_FF00 == 0 {
            (3, 8)
        } else {
            (pf.bytes_per_pixel(), 0)
        };
        Self {
            pf,
            cpixel_len,
            cpixel_shift,
        }
    }

    /// The pixel value of an RGBA colour: each component scaled to its maximum, rounded.
    #[inline]
    pub(crate) fn value(&self, px: &[u8]) -> u32 {
        let c = |v: u8, max: u16, shift: u8| -> u32 {
            let m = u32::from(max);
            ((u32::from(v) * m + 127) / 255) << shift
        };
        c(px[0], self.pf.red_max, self.pf.red_shift)
            | c(px[1], self.pf.green_max, self.pf.green_shift)
            | c(px[2], self.pf.blue_max, self.pf.blue_shift)
    }

    /// Appends a full PIXEL (bytes per pixel, the format's byte order).
    #[inline]
    pub(crate) fn put_pixel(&self, out: &mut Vec<u8>, v: u32) {
        put_sized(out, v, self.pf.bytes_per_pixel(), self.pf.big_endian);
    }

    /// Appends a ZRLE CPIXEL.
    #[inline]
    pub(crate) fn put_cpixel(&self, out: &mut Vec<u8>, v: u32) {
        put_sized(
            out,
            v >> self.cpixel_shift,
            self.cpixel_len,
            self.pf.big_endian,
        );
    }

    pub(crate) fn cpixel_len(&self) -> usize {
        self.cpixel_len
    }

    /// Appends the Raw encoding of `r` (which lies inside `fb`).
    pub(crate) fn raw(&self, fb: &Framebuffer, r: Rect, out: &mut Vec<u8>) {
        out.reserve(r.area() as usize * self.pf.bytes_per_pixel());
        let data = fb.data();
        let stride = fb.stride();
        for y in r.y..r.y + r.height {
            let start = usize::from(y) * stride + usize::from(r.x) * 4;
            for px in data[start..start + usize::from(r.width) * 4].chunks_exact(4) {
                self.put_pixel(out, self.value(px));
            }
        }
    }
}

fn put_sized(out: &mut Vec<u8>, v: u32, len: usize, big_endian: bool) {
    let b = v.to_le_bytes();
    if big_endian {
        out.extend(b[..len].iter().rev());
    } else {
        out.extend_from_slice(&b[..len]);
    }
}

/// ZRLE's per-connection state: one zlib stream for the whole connection.
pub(crate) struct ZrleEncoder {
    z: Compress,
    tile: Vec<u8>,
}

impl core::fmt::Debug for ZrleEncoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ZrleEncoder").finish_non_exhaustive()
    }
}

impl Default for ZrleEncoder {
    fn default() -> Self {
        Self {
            z: Compress::new(Compression::new(6), true),
            tile: Vec::new(),
        }
    }
}

/// ZRLE tile size.
const TILE: u16 = 64;

impl ZrleEncoder {
    /// Appends the ZRLE payload of `r` (U32 length, then zlib data) to `out`.
    pub(crate) fn encode(&mut self, w: &PixelWriter, fb: &Framebuffer, r: Rect, out: &mut Vec<u8>) {
        self.tile.clear();
        let mut values = Vec::with_capacity(usize::from(TILE) * usize::from(TILE));
        let mut ty = r.y;
        while ty < r.y + r.height {
            let th = TILE.min(r.y + r.height - ty);
            let mut tx = r.x;
            while tx < r.x + r.width {
                let tw = TILE.min(r.x + r.width - tx);
                values.clear();
                let stride = fb.stride();
                for y in ty..ty + th {
                    let s = usize::from(y) * stride + usize::from(tx) * 4;
                    for px in fb.data()[s..s + usize::from(tw) * 4].chunks_exact(4) {
                        values.push(w.value(px));
                    }
                }
                encode_tile(w, &values, usize::from(tw), &mut self.tile);
                tx += tw;
            }
            ty += th;
        }
        let len_at = out.len();
        out.extend_from_slice(&[0; 4]);
        let start = out.len();
        // Compress with a sync flush so the client can inflate this rectangle now.
        let mut input = &self.tile[..];
        loop {
            out.reserve(input.len() / 2 + 4096);
            let before_in = self.z.total_in();
            // compress_vec writes only into the spare capacity reserved above.
            self.z
                .compress_vec(input, out, FlushCompress::Sync)
                .expect("deflate into memory cannot fail");
            input = &input[(self.z.total_in() - before_in) as usize..];
            // zlib's rule: the flush is complete once it stopped with output space left.
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        let n = (out.len() - start) as u32;
        out[len_at..len_at + 4].copy_from_slice(&n.to_be_bytes());
    }
}

/// Encodes one tile's pixel values, choosing the smallest of raw, solid, packed palette,
/// plain RLE and palette RLE.
fn encode_tile(w: &PixelWriter, v: &[u32], width: usize, out: &mut Vec<u8>) {
    let cp = w.cpixel_len();
    // Distinct colours, up to 127 (the palette RLE limit).
    let mut palette: Vec<u32> = Vec::new();
    for &p in v {
        if !palette.contains(&p) {
            if palette.len() == 127 {
                palette.push(p); // marks "too many"
                break;
            }
            palette.push(p);
        }
    }
    if palette.len() == 1 {
        out.push(1);
        w.put_cpixel(out, palette[0]);
        return;
    }
    // Runs.
    let mut runs: Vec<(u32, usize)> = Vec::new();
    for &p in v {
        match runs.last_mut() {
            Some((c, n)) if *c == p => *n += 1,
            _ => runs.push((p, 1)),
        }
    }
    let run_len_bytes = |n: usize| (n - 1) / 255 + 1;
    let raw_size = v.len() * cp;
    let plain_rle: usize = runs.iter().map(|&(_, n)| cp + run_len_bytes(n)).sum();
    let mut best = (raw_size, 0u8);
    if plain_rle < best.0 {
        best = (plain_rle, 128);
    }
    let np = palette.len();
    if np <= 127 {
        let pal_rle: usize = np * cp
            + runs
                .iter()
                .map(|&(_, n)| if n == 1 { 1 } else { 1 + run_len_bytes(n) })
                .sum::<usize>();
        if pal_rle < best.0 {
            best = (pal_rle, 128 + np as u8);
        }
    }
    if np <= 16 {
        let bits = packed_bits(np);
        let rows = v.len() / width;
        let packed = np * cp + rows * (width * bits).div_ceil(8);
        if packed < best.0 {
            best = (packed, np as u8);
        }
    }
    let index = |p: u32| palette.iter().position(|&c| c == p).unwrap_or(0) as u8;
    let sub = best.1;
    out.push(sub);
    match sub {
        0 => {
            for &p in v {
                w.put_cpixel(out, p);
            }
        }
        128 => {
            for &(p, n) in &runs {
                w.put_cpixel(out, p);
                put_run(out, n);
            }
        }
        2..=16 => {
            for &p in &palette {
                w.put_cpixel(out, p);
            }
            let bits = packed_bits(np);
            for row in v.chunks(width) {
                let mut byte = 0u8;
                let mut used = 0;
                for &p in row {
                    byte |= index(p) << (8 - bits - used);
                    used += bits;
                    if used == 8 {
                        out.push(byte);
                        byte = 0;
                        used = 0;
                    }
                }
                if used > 0 {
                    out.push(byte);
                }
            }
        }
        _ => {
            for &p in &palette {
                w.put_cpixel(out, p);
            }
            for &(p, n) in &runs {
                let i = index(p);
                if n == 1 {
                    out.push(i);
                } else {
                    out.push(i | 128);
                    put_run(out, n);
                }
            }
        }
    }
}

fn packed_bits(n: usize) -> usize {
    match n {
        0..=2 => 1,
        3..=4 => 2,
        _ => 4,
    }
}

/// A run length as ZRLE writes it: `n - 1` as 255s and a final byte below 255.
fn put_run(out: &mut Vec<u8>, n: usize) {
    let mut r = n - 1;
    while r >= 255 {
        out.push(255);
        r -= 255;
    }
    out.push(r as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_lengths() {
        let mut o = Vec::new();
        put_run(&mut o, 1);
        put_run(&mut o, 255);
        put_run(&mut o, 256);
        put_run(&mut o, 511);
        assert_eq!(o, [0, 254, 255, 0, 255, 255, 0]);
    }

    #[test]
    fn tiles_pick_the_smallest_form() {
        let w = PixelWriter::new(PixelFormat::RGBX8888);
        let mut o = Vec::new();
        encode_tile(&w, &[7; 16], 4, &mut o);
        assert_eq!(o, [1, 7, 0, 0]);
        // Two colours alternating in a 4×1 row: packed palette, 1 bit a pixel.
        let mut o = Vec::new();
        encode_tile(&w, &[1, 2, 1, 2, 1, 2, 1, 2], 8, &mut o);
        assert_eq!(o, [2, 1, 0, 0, 2, 0, 0, 0b0101_0101]);
        // Two long runs: plain RLE beats a palette.
        let mut v = vec![1u32; 40];
        v.extend([2u32; 24]);
        let mut o = Vec::new();
        encode_tile(&w, &v, 64, &mut o);
        assert_eq!(o, [128, 1, 0, 0, 39, 2, 0, 0, 23]);
        // Six long runs of two colours: palette RLE (indices instead of CPIXELs).
        let v: Vec<u32> = (0..4096u32).map(|i| (i / 683) % 2 + 1).collect();
        let mut o = Vec::new();
        encode_tile(&w, &v, 64, &mut o);
        assert_eq!(&o[..7], &[130, 1, 0, 0, 2, 0, 0]);
        assert_eq!(&o[7..11], &[128, 255, 255, 172]);
    }
}
