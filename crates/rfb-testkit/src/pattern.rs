//! Deterministic test images.
//!
//! Encoders behave differently on flat areas, sharp edges and noisy gradients, so tests need
//! all three. Everything here is integer arithmetic driven by a tiny xorshift generator: the
//! same arguments give the same pixels on every platform and run.

use crate::image::Image;

/// A tiny xorshift64 generator: deterministic, dependency-free, good enough for test noise.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        // Xorshift must never hold zero; mixing in a constant also decorrelates nearby seeds.
        let s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xd1b5_4a32_d192_ed03;
        Self(if s == 0 { 1 } else { s })
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..n` (`n` must be non-zero; the slight modulo bias does not matter here).
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % u64::from(n.max(1))) as u32
    }
}

/// Something like a photograph: smooth gradients in all three channels, a soft bright blob
/// and a little noise, so nearly every pixel differs from its neighbours while the image still
/// compresses like natural content. Thousands of distinct colours at 64×64 and up.
pub fn photo_like(width: u32, height: u32, seed: u64) -> Image {
    let mut rng = XorShift::new(seed);
    let w = i64::from(width.max(2) - 1);
    let h = i64::from(height.max(2) - 1);
    let cx = i64::from(rng.below(width.max(1)));
    let cy = i64::from(rng.below(height.max(1)));
    let radius2 = (w * w + h * h) / 4 + 1;
    let tint = i64::from(rng.below(96));
    Image::from_fn(width, height, |x, y| {
        let (x, y) = (i64::from(x), i64::from(y));
        let dx = x - cx;
        let dy = y - cy;
        // 0..=255, bright at the blob centre, fading with squared distance.
        let blob = (255 - (dx * dx + dy * dy) * 255 / radius2).max(0);
        let r = x * 200 / w + blob / 5;
        let g = y * 180 / h + blob / 4 + tint / 3;
        let b = (w - x + y) * 140 / (w + h) + 60 + blob / 6 - tint / 4;
        let mut noise = || i64::from(rng.below(9)) - 4;
        [
            (r + noise()).clamp(0, 255) as u8,
            (g + noise()).clamp(0, 255) as u8,
            (b + noise()).clamp(0, 255) as u8,
        ]
    })
}

/// Vertical stripes `stripe_width` pixels wide cycling through `colors` (sharp edges, few
/// colours: what RRE, Hextile and palette modes are made for).
///
/// # Panics
/// If `colors` is empty or `stripe_width` is zero.
pub fn stripes(width: u32, height: u32, stripe_width: u32, colors: &[[u8; 3]]) -> Image {
    assert!(
        !colors.is_empty() && stripe_width > 0,
        "stripes need colours and a width"
    );
    Image::from_fn(width, height, |x, _| {
        colors[(x / stripe_width) as usize % colors.len()]
    })
}

/// A checkerboard of `cell`×`cell` squares, `a` at the top-left corner.
///
/// # Panics
/// If `cell` is zero.
pub fn checker(width: u32, height: u32, cell: u32, a: [u8; 3], b: [u8; 3]) -> Image {
    assert!(cell > 0, "checker cell size must be non-zero");
    Image::from_fn(width, height, |x, y| {
        if (x / cell + y / cell) % 2 == 0 { a } else { b }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_varied() {
        let a = photo_like(64, 48, 7);
        assert_eq!(a, photo_like(64, 48, 7));
        assert_ne!(a, photo_like(64, 48, 8));
        assert!(a.distinct_colors() > 1500, "{}", a.distinct_colors());
        // Smooth: neighbours rarely differ by much.
        let p = a.pixel(10, 10);
        let q = a.pixel(11, 10);
        assert!((i16::from(p[0]) - i16::from(q[0])).abs() < 20);
    }

    #[test]
    fn tiny_sizes_do_not_panic() {
        for (w, h) in [(0, 0), (1, 1), (1, 5), (5, 1)] {
            let img = photo_like(w, h, 1);
            assert_eq!(img.rgba.len(), (w * h * 4) as usize);
        }
    }

    #[test]
    fn stripes_and_checker() {
        let s = stripes(6, 2, 2, &[[1, 1, 1], [2, 2, 2]]);
        assert_eq!(s.pixel(1, 1), [1, 1, 1, 255]);
        assert_eq!(s.pixel(2, 0), [2, 2, 2, 255]);
        assert_eq!(s.pixel(4, 0), [1, 1, 1, 255]);
        let c = checker(4, 4, 2, [0, 0, 0], [9, 9, 9]);
        assert_eq!(c.pixel(0, 0), [0, 0, 0, 255]);
        assert_eq!(c.pixel(2, 0), [9, 9, 9, 255]);
        assert_eq!(c.pixel(2, 2), [0, 0, 0, 255]);
        assert_eq!(c.distinct_colors(), 2);
    }

    #[test]
    fn xorshift_is_stable() {
        let mut r = XorShift::new(0);
        let first = r.next_u64();
        assert_ne!(first, 0);
        assert_eq!(XorShift::new(0).next_u64(), first);
        assert!((0..100).all(|_| r.below(10) < 10));
    }
}
