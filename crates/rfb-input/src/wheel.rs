//! Wheel deltas → whole wheel steps (RFB buttons 4–7).
//!
//! Browsers report wheel movement in pixels, lines or pages, and trackpads send many small
//! fractional pixel deltas. RFB only knows whole steps (a press and release of buttons
//! 4/5/6/7), so the deltas are accumulated per axis and a step is taken for every
//! [`STEP_PX`] pixels.

/// Pixels of accumulated delta per wheel step (noVNC's `WHEEL_STEP`, 50 px). A common mouse
/// notch is 100–120 px in Chrome/Firefox (two steps) and ~4 px per trackpad event.
pub const STEP_PX: f64 = 50.0;
/// Pixels per line for `DOM_DELTA_LINE` (noVNC's `WHEEL_LINE_HEIGHT`, 19 px: Firefox on
/// Linux reports 3 lines per notch, ≈ one step).
pub const LINE_PX: f64 = 19.0;
/// Pixels per page for `DOM_DELTA_PAGE` (sent for "scroll one screen per notch" settings).
/// noVNC treats pages as lines, so a page notch barely scrolls; a page here is 8 steps
/// (400 px), about one screenful in an X application that scrolls 3 lines per step.
pub const PAGE_PX: f64 = 8.0 * STEP_PX;
/// Most steps taken per axis for one wheel event. Larger deltas (a momentum fling, a
/// corrupt or hostile value such as 1e300) are cut to this many steps and the rest is
/// discarded, which bounds the output and the work per event.
pub const MAX_STEPS_PER_EVENT: u32 = 10;

/// `WheelEvent.deltaMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeltaMode {
    /// `DOM_DELTA_PIXEL` (0): deltas are CSS pixels.
    Pixel,
    /// `DOM_DELTA_LINE` (1): deltas are lines, [`LINE_PX`] each.
    Line,
    /// `DOM_DELTA_PAGE` (2): deltas are pages, [`PAGE_PX`] each.
    Page,
    /// Anything else; such wheel events are ignored.
    Unknown(u32),
}

impl DeltaMode {
    /// Classifies a DOM `deltaMode` value.
    pub fn from_dom(mode: u32) -> Self {
        match mode {
            0 => Self::Pixel,
            1 => Self::Line,
            2 => Self::Page,
            other => Self::Unknown(other),
        }
    }

    /// Pixels per delta unit, `None` for [`DeltaMode::Unknown`].
    pub fn pixels(self) -> Option<f64> {
        match self {
            Self::Pixel => Some(1.0),
            Self::Line => Some(LINE_PX),
            Self::Page => Some(PAGE_PX),
            Self::Unknown(_) => None,
        }
    }
}

/// One axis: the sub-step remainder carried between events.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Axis {
    acc: f64,
}

impl Axis {
    /// Adds a finite pixel delta and returns the whole steps taken, signed (positive = down
    /// or right), at most [`MAX_STEPS_PER_EVENT`] in magnitude.
    ///
    /// A delta against the accumulated direction first drops the remainder, so reversing a
    /// scroll takes effect at once instead of first paying back the old direction.
    pub(crate) fn add(&mut self, delta: f64, step: f64, max_steps: u32) -> i32 {
        if delta == 0.0 || !delta.is_finite() {
            return 0;
        }
        if self.acc != 0.0 && self.acc.signum() != delta.signum() {
            self.acc = 0.0;
        }
        self.acc += delta;
        let whole = (self.acc / step).trunc();
        let max = f64::from(max_steps);
        if whole.abs() > max {
            // Capped: keep only the sub-step remainder, the excess is discarded.
            self.acc %= step;
            return (max.copysign(whole)) as i32;
        }
        self.acc -= whole * step;
        whole as i32
    }

    /// Forgets the remainder.
    pub(crate) fn reset(&mut self) {
        self.acc = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_accumulates_caps_and_resets_on_reversal() {
        let mut a = Axis::default();
        assert_eq!(a.add(30.0, STEP_PX, 10), 0);
        assert_eq!(a.add(30.0, STEP_PX, 10), 1);
        assert_eq!(
            a.add(-10.0, STEP_PX, 10),
            0,
            "reversal drops the +10 remainder"
        );
        assert_eq!(a.add(-40.0, STEP_PX, 10), -1);
        assert_eq!(a.add(1e300, STEP_PX, 10), 10);
        assert!(a.acc.abs() < STEP_PX);
        assert_eq!(a.add(-f64::MAX, STEP_PX, 10), -10);
        assert_eq!(a.add(f64::NAN, STEP_PX, 10), 0);
    }
}
