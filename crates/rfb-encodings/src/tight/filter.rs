//! Tight's BasicCompression filters, undone row by row: copy, palette and gradient.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#tight-encoding>
//! ("BasicCompression"). The filtered data of a rectangle has an exact size
//! ([`Rows::total_bytes`]), which is what makes the uncompressed path and the bomb check
//! possible.

use crate::convert::PixelConverter;
use crate::decoders::Cx;
use crate::error::DecodeErrorKind;
use crate::geometry::Rect;
use crate::pixel_format::PixelFormat;

/// Draw in batches of at most this many RGBA bytes so the scratch buffer stays small.
const BATCH_BYTES: usize = 64 * 1024;

/// How the session's pixels travel as `TPIXEL`s.
#[derive(Debug, Clone, Copy)]
pub(super) struct TPixel {
    /// Bytes per `TPIXEL`.
    pub(super) size: usize,
    /// True for the 3-byte R, G, B form.
    pub(super) rgb24: bool,
}

impl TPixel {
    /// The spec's rule: a `TPIXEL` is 3 bytes (R, G, B) when the format is true colour,
    /// 32 bits per pixel, depth 24 and each of red, green and blue is exactly 8 bits wide;
    /// otherwise it is a `PIXEL`.
    pub(super) fn of(pf: &PixelFormat) -> Self {
        let rgb24 = pf.true_colour
            && pf.bits_per_pixel == 32
            && pf.depth == 24
            && pf.red_max == 255
            && pf.green_max == 255
            && pf.blue_max == 255;
        Self {
            size: if rgb24 { 3 } else { pf.bytes_per_pixel() },
            rgb24,
        }
    }

    /// One `TPIXEL` (the first `size` bytes of `src`) as RGBA.
    pub(super) fn to_rgba(self, src: &[u8], conv: &PixelConverter) -> [u8; 4] {
        if self.rgb24 {
            [src[0], src[1], src[2], 255]
        } else {
            conv.pixel_to_rgba(src)
        }
    }
}

/// The filter of one BasicCompression rectangle.
#[derive(Debug)]
pub(super) enum Filter {
    /// Raw `TPIXEL`s.
    Copy,
    /// Indices into a palette of RGBA colours: 1 bit a pixel for two colours (rows padded to
    /// a byte), 8 bits otherwise.
    Palette(Vec<[u8; 4]>),
    /// Per-component differences from a prediction; keeps the previous row of components.
    Gradient {
        prev: Vec<[u16; 3]>,
        cur: Vec<[u16; 3]>,
    },
}

/// Undoes a filter row by row and draws the rows.
#[derive(Debug)]
pub(super) struct Rows {
    rect: Rect,
    tpx: TPixel,
    filter: Filter,
    /// Rows drawn so far.
    row: u16,
}

impl Rows {
    pub(super) fn new(rect: Rect, tpx: TPixel, filter: Filter) -> Self {
        let filter = match filter {
            Filter::Gradient { .. } => {
                // Pixels above the first row are zero, as the spec says.
                let w = usize::from(rect.width);
                Filter::Gradient {
                    prev: vec![[0; 3]; w],
                    cur: vec![[0; 3]; w],
                }
            }
            f => f,
        };
        Self {
            rect,
            tpx,
            filter,
            row: 0,
        }
    }

    /// Filtered bytes of one row.
    pub(super) fn row_bytes(&self) -> usize {
        let w = usize::from(self.rect.width);
        match &self.filter {
            Filter::Palette(p) if p.len() == 2 => w.div_ceil(8),
            Filter::Palette(_) => w,
            Filter::Copy | Filter::Gradient { .. } => w * self.tpx.size,
        }
    }

    /// Filtered bytes of the whole rectangle.
    pub(super) fn total_bytes(&self) -> usize {
        if self.rect.is_empty() {
            0
        } else {
            self.row_bytes() * usize::from(self.rect.height)
        }
    }

    /// Bytes worth inflating before drawing: a batch of whole rows.
    pub(super) fn batch_bytes(&self) -> usize {
        let rows = (BATCH_BYTES / (usize::from(self.rect.width) * 4).max(1)).max(1);
        self.row_bytes().max(1) * rows
    }

    pub(super) fn is_done(&self) -> bool {
        self.rect.is_empty() || self.row >= self.rect.height
    }

    /// Consumes whole rows from `data` and draws them; returns the bytes consumed.
    pub(super) fn feed(&mut self, data: &[u8], cx: &mut Cx<'_>) -> Result<usize, DecodeErrorKind> {
        let rb = self.row_bytes();
        let w = usize::from(self.rect.width);
        let per_batch = (BATCH_BYTES / (w * 4).max(1)).max(1);
        let mut consumed = 0;
        while !self.is_done() {
            let rows = ((data.len() - consumed) / rb)
                .min(usize::from(self.rect.height - self.row))
                .min(per_batch);
            if rows == 0 {
                break;
            }
            cx.scratch.resize(rows * w * 4, 0);
            for r in 0..rows {
                let src = &data[consumed + r * rb..][..rb];
                let dst = &mut cx.scratch[r * w * 4..][..w * 4];
                self.unfilter_row(src, dst, cx.conv)?;
            }
            let r = Rect::new(
                self.rect.x,
                self.rect.y + self.row,
                self.rect.width,
                rows as u16,
            );
            cx.target.put_rgba(r, cx.scratch);
            consumed += rows * rb;
            self.row += rows as u16;
        }
        Ok(consumed)
    }

    /// One row of filtered bytes to RGBA.
    fn unfilter_row(
        &mut self,
        src: &[u8],
        dst: &mut [u8],
        conv: &PixelConverter,
    ) -> Result<(), DecodeErrorKind> {
        let tpx = self.tpx;
        match &mut self.filter {
            Filter::Copy => {
                if tpx.rgb24 {
                    for (s, d) in src.chunks_exact(3).zip(dst.chunks_exact_mut(4)) {
                        d.copy_from_slice(&[s[0], s[1], s[2], 255]);
                    }
                } else {
                    conv.convert_run(src, dst);
                }
            }
            Filter::Palette(p) if p.len() == 2 => {
                // Most significant bit first: bit 7 of the first byte is the leftmost pixel.
                // A nibble stands for 4 pixels: 16 entries of 16 RGBA bytes, two copies a
                // byte instead of a shift and a bounds check per pixel.
                let mut table = [[0u8; 16]; 16];
                for (n, entry) in table.iter_mut().enumerate() {
                    for (k, px) in entry.chunks_exact_mut(4).enumerate() {
                        px.copy_from_slice(&p[(n >> (3 - k)) & 1]);
                    }
                }
                let whole = dst.len() / 32;
                let (main, rest) = dst.split_at_mut(whole * 32);
                for (&b, d) in src.iter().zip(main.chunks_exact_mut(32)) {
                    d[..16].copy_from_slice(&table[usize::from(b >> 4)]);
                    d[16..].copy_from_slice(&table[usize::from(b & 15)]);
                }
                if let Some(&b) = src.get(whole) {
                    for (k, d) in rest.chunks_exact_mut(4).enumerate() {
                        d.copy_from_slice(&p[usize::from((b >> (7 - k)) & 1)]);
                    }
                }
            }
            Filter::Palette(p) => {
                // One check per row (the largest index), then plain lookups.
                let max = src.iter().copied().max().unwrap_or(0);
                if usize::from(max) >= p.len() {
                    return Err(DecodeErrorKind::InvalidValue {
                        field: "Tight palette index (past the palette)",
                        value: u64::from(max),
                    });
                }
                for (&i, d) in src.iter().zip(dst.chunks_exact_mut(4)) {
                    d.copy_from_slice(&p[usize::from(i)]);
                }
            }
            Filter::Gradient { prev, cur } => {
                gradient_row(src, dst, prev, cur, tpx, conv);
                core::mem::swap(prev, cur);
            }
        }
        Ok(())
    }
}

/// Undoes the gradient filter for one row. The encoder sent, per component,
/// `D = V - P` (modulo the component's range) with the prediction
/// `P = clamp(left + above - above_left, 0, max)`, where neighbours outside the rectangle
/// count as zero; so `V = (P + D) mod (max + 1)`, and `max + 1` is a power of two.
fn gradient_row(
    src: &[u8],
    dst: &mut [u8],
    prev: &[[u16; 3]],
    cur: &mut [[u16; 3]],
    tpx: TPixel,
    conv: &PixelConverter,
) {
    let pf = conv.format();
    let (max, shift) = if tpx.rgb24 {
        ([255u16; 3], [0u8; 3])
    } else {
        (
            [pf.red_max, pf.green_max, pf.blue_max],
            [pf.red_shift, pf.green_shift, pf.blue_shift],
        )
    };
    for (x, (s, d)) in src
        .chunks_exact(tpx.size)
        .zip(dst.chunks_exact_mut(4))
        .enumerate()
    {
        let diff: [u16; 3] = if tpx.rgb24 {
            [u16::from(s[0]), u16::from(s[1]), u16::from(s[2])]
        } else {
            let v = read_value(s, pf);
            core::array::from_fn(|c| ((v >> shift[c]) as u16) & max[c])
        };
        let mut px = [0u16; 3];
        for c in 0..3 {
            let left = if x > 0 { i32::from(cur[x - 1][c]) } else { 0 };
            let up = i32::from(prev[x][c]);
            let up_left = if x > 0 { i32::from(prev[x - 1][c]) } else { 0 };
            let m = i32::from(max[c]);
            let p = (left + up - up_left).clamp(0, m);
            px[c] = ((p + i32::from(diff[c])) & m) as u16;
        }
        cur[x] = px;
        if tpx.rgb24 {
            d.copy_from_slice(&[px[0] as u8, px[1] as u8, px[2] as u8, 255]);
        } else {
            let v = (0..3).fold(0u32, |v, c| v | (u32::from(px[c]) << shift[c]));
            d.copy_from_slice(&conv.value_to_rgba(v));
        }
    }
}

/// A wire pixel value in the session's byte order.
fn read_value(s: &[u8], pf: &PixelFormat) -> u32 {
    match (s.len(), pf.big_endian) {
        (1, _) => u32::from(s[0]),
        (2, false) => u32::from(u16::from_le_bytes([s[0], s[1]])),
        (2, true) => u32::from(u16::from_be_bytes([s[0], s[1]])),
        (_, false) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        (_, true) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
    }
}
