//! Element coordinates (what the DOM reports, in CSS pixels) → framebuffer pixels.

/// How element coordinates map to framebuffer pixels:
/// `fb = element * scale + offset`, then clamped to the framebuffer.
///
/// The driver keeps it in sync with how the canvas is scaled and which part of the remote
/// screen a clipped viewport shows. The identity (the default) means the driver already
/// passes framebuffer coordinates. Gesture thresholds are measured in element pixels,
/// before this transform, so they feel the same at any zoom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    /// Framebuffer pixels per element pixel (finite, > 0).
    pub scale: f64,
    /// Framebuffer x of the element's left edge (finite).
    pub offset_x: f64,
    /// Framebuffer y of the element's top edge (finite).
    pub offset_y: f64,
}

impl Default for Transform {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl Transform {
    /// Element pixels are framebuffer pixels.
    pub const IDENTITY: Self = Self {
        scale: 1.0,
        offset_x: 0.0,
        offset_y: 0.0,
    };

    /// True when every field is finite and the scale is positive.
    pub fn is_valid(&self) -> bool {
        self.scale.is_finite()
            && self.scale > 0.0
            && self.offset_x.is_finite()
            && self.offset_y.is_finite()
    }
}

/// The framebuffer size plus the transform; turns element positions into clamped pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Mapping {
    pub(crate) width: u16,
    pub(crate) height: u16,
    pub(crate) transform: Transform,
}

impl Mapping {
    /// `None` when a coordinate is not finite (NaN, ±inf), before or after the transform;
    /// otherwise the pixel containing the point (floor), clamped to `0..width` × `0..height`
    /// (a 0×0 framebuffer maps everything to (0, 0)).
    pub(crate) fn map(&self, x: f64, y: f64) -> Option<(u16, u16)> {
        let t = &self.transform;
        let fx = x * t.scale + t.offset_x;
        let fy = y * t.scale + t.offset_y;
        if !(x.is_finite() && y.is_finite() && fx.is_finite() && fy.is_finite()) {
            return None;
        }
        Some((clamp_axis(fx, self.width), clamp_axis(fy, self.height)))
    }

    /// Re-clamps an already mapped pixel (after the framebuffer shrank).
    pub(crate) fn clamp(&self, (x, y): (u16, u16)) -> (u16, u16) {
        (
            x.min(self.width.saturating_sub(1)),
            y.min(self.height.saturating_sub(1)),
        )
    }
}

fn clamp_axis(v: f64, size: u16) -> u16 {
    let max = f64::from(size.saturating_sub(1));
    // `as` saturates and the value is already in 0..=65534 here.
    v.floor().clamp(0.0, max) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_rejects_non_finite() {
        let m = Mapping {
            width: 100,
            height: 50,
            transform: Transform::IDENTITY,
        };
        assert_eq!(m.map(10.7, 20.2), Some((10, 20)));
        assert_eq!(m.map(-5.0, 1e300), Some((0, 49)));
        assert_eq!(m.map(f64::NAN, 0.0), None);
        assert_eq!(m.map(0.0, f64::INFINITY), None);
        let big = Mapping {
            transform: Transform {
                scale: 1e308,
                ..Transform::IDENTITY
            },
            ..m
        };
        assert_eq!(big.map(1e10, 0.0), None, "overflow to inf after scaling");
        let empty = Mapping {
            width: 0,
            height: 0,
            transform: Transform::IDENTITY,
        };
        assert_eq!(empty.map(7.0, 7.0), Some((0, 0)));
        let t = Transform {
            scale: 2.0,
            offset_x: 10.0,
            offset_y: 0.0,
        };
        assert_eq!(Mapping { transform: t, ..m }.map(5.0, 5.0), Some((20, 10)));
    }
}
