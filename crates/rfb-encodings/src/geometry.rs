//! Rectangles in framebuffer coordinates.

/// An axis-aligned rectangle in framebuffer pixels, as carried by RFB rectangle headers.
///
/// RFB coordinates are `U16`; the rectangle is stored as the wire sends it. Use
/// [`Rect::fits_within`] before drawing: a peer can send any value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Left edge.
    pub x: u16,
    /// Top edge.
    pub y: u16,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
}

impl Rect {
    /// Builds a rectangle.
    pub const fn new(x: u16, y: u16, width: u16, height: u16) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    /// Number of pixels covered, computed without overflow.
    pub const fn area(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// True when the rectangle covers no pixel.
    pub const fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// True when the whole rectangle lies inside a `width` × `height` framebuffer.
    ///
    /// Computed in `u32` so that `x + width` cannot wrap.
    pub const fn fits_within(&self, width: u16, height: u16) -> bool {
        self.x as u32 + self.width as u32 <= width as u32
            && self.y as u32 + self.height as u32 <= height as u32
    }

    /// Exclusive right edge as `u32` (never wraps).
    pub const fn right(&self) -> u32 {
        self.x as u32 + self.width as u32
    }

    /// Exclusive bottom edge as `u32` (never wraps).
    pub const fn bottom(&self) -> u32 {
        self.y as u32 + self.height as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_do_not_wrap() {
        let r = Rect::new(u16::MAX, 0, 2, 1);
        assert!(!r.fits_within(u16::MAX, 1));
        assert_eq!(r.right(), 65537);
        assert!(Rect::new(0, 0, 10, 10).fits_within(10, 10));
        assert!(!Rect::new(1, 0, 10, 10).fits_within(10, 10));
        assert!(Rect::new(5, 5, 0, 0).is_empty());
    }
}
