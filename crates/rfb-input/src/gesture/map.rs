//! Recognised gestures → RFB pointer buttons, wheel steps and (for pinch) the Control key.

use core::time::Duration;

use super::recognise::{GestureEvent, GestureKind, Phase};
use crate::buttons::{LEFT, MIDDLE, RIGHT, WHEEL_DOWN, WHEEL_LEFT, WHEEL_RIGHT, WHEEL_UP};
use crate::output::KeyAction;
use crate::pointer::Pointer;

/// A tap within this time of the previous one…
pub const DOUBLE_TAP_TIMEOUT: Duration = Duration::from_millis(1000);
/// …and within this distance (element px) lands exactly on the previous tap's position, so
/// the server sees a double click on one pixel even though fingers are imprecise.
pub const DOUBLE_TAP_DISTANCE: f64 = 50.0;
/// Two-finger movement (element px, mean of both fingers) per wheel step.
pub const SCROLL_STEP_PX: f64 = 50.0;
/// Change of distance between two fingers (element px) per Control+wheel step.
pub const PINCH_STEP_PX: f64 = 75.0;
/// Most wheel steps per axis for one touch event; the excess is discarded.
pub const MAX_STEPS_PER_EVENT: u32 = 10;
/// `Control_L`, held around pinch wheel steps (Control+wheel zooms in most applications).
pub const KEYSYM_CONTROL_L: u32 = 0xffe3;
/// XT scancode of ControlLeft, for the QEMU Extended Key Event.
pub const SCANCODE_CONTROL_L: u16 = 0x1d;

/// Mapping state between gesture events.
#[derive(Debug, Default)]
pub(crate) struct Mapper {
    /// When and where (element px) the last one-finger tap clicked.
    last_tap: Option<(Duration, (f64, f64))>,
    /// Where the current tap clicks.
    tap_at: (f64, f64),
    /// Two-finger movement already turned into steps.
    scroll_used: (f64, f64),
    /// Finger distance already turned into zoom steps.
    pinch_used: f64,
}

/// Whole steps in `delta` (signed, capped) and the part of `delta` they consume.
fn steps(delta: f64, step: f64) -> (i32, f64) {
    let n = (delta / step).trunc();
    let max = f64::from(MAX_STEPS_PER_EVENT);
    if n.abs() > max {
        // Consume every whole step, but send only the cap.
        (max.copysign(n) as i32, n * step)
    } else {
        (n as i32, n * step)
    }
}

fn button_of(kind: GestureKind) -> Option<u16> {
    match kind {
        GestureKind::OneTap | GestureKind::Drag => Some(LEFT),
        GestureKind::TwoTap | GestureKind::LongPress => Some(RIGHT),
        GestureKind::ThreeTap => Some(MIDDLE),
        GestureKind::TwoDrag | GestureKind::Pinch => None,
    }
}

impl Mapper {
    pub(super) fn apply(&mut self, ev: &GestureEvent, pointer: &mut Pointer, now: Duration) {
        let now = pointer.advance(now);
        let mut at = (ev.x, ev.y);
        if ev.kind == GestureKind::OneTap && ev.phase == Phase::Start {
            if let Some((t, prev)) = self.last_tap {
                let close = (prev.0 - at.0).hypot(prev.1 - at.1) <= DOUBLE_TAP_DISTANCE;
                if close && now.saturating_sub(t) <= DOUBLE_TAP_TIMEOUT {
                    at = prev;
                }
            }
            self.last_tap = Some((now, at));
        }
        if matches!(
            ev.kind,
            GestureKind::OneTap | GestureKind::TwoTap | GestureKind::ThreeTap
        ) {
            match ev.phase {
                Phase::Start => self.tap_at = at,
                _ => at = self.tap_at,
            }
        }
        let p = pointer
            .mapping()
            .map(at.0, at.1)
            .unwrap_or_else(|| pointer.position().unwrap_or((0, 0)));
        if let Some(bit) = button_of(ev.kind) {
            let mask = pointer.mask();
            match ev.phase {
                Phase::Start => pointer.set_mask(mask | bit, p, now),
                Phase::Move => pointer.move_px(p, now),
                Phase::End => pointer.set_mask(mask & !bit, p, now),
            }
            return;
        }
        match (ev.kind, ev.phase) {
            (GestureKind::TwoDrag, Phase::Start) => {
                self.scroll_used = (0.0, 0.0);
                pointer.move_px(p, now);
            }
            (GestureKind::TwoDrag, Phase::Move) => {
                // Content follows the fingers: moving down scrolls up, right scrolls left.
                let (ny, used_y) = steps(ev.magnitude_y - self.scroll_used.1, SCROLL_STEP_PX);
                let (nx, used_x) = steps(ev.magnitude_x - self.scroll_used.0, SCROLL_STEP_PX);
                self.scroll_used.0 += used_x;
                self.scroll_used.1 += used_y;
                pointer.wheel_clicks(
                    if ny > 0 { WHEEL_UP } else { WHEEL_DOWN },
                    ny.unsigned_abs(),
                    p,
                    now,
                );
                pointer.wheel_clicks(
                    if nx > 0 { WHEEL_LEFT } else { WHEEL_RIGHT },
                    nx.unsigned_abs(),
                    p,
                    now,
                );
            }
            (GestureKind::Pinch, Phase::Start) => {
                self.pinch_used = ev.magnitude_x;
                pointer.move_px(p, now);
            }
            (GestureKind::Pinch, Phase::Move) => {
                let (n, used) = steps(ev.magnitude_x - self.pinch_used, PINCH_STEP_PX);
                self.pinch_used += used;
                if n != 0 {
                    // Control is held only around the steps, never across events, so a
                    // lost touchend cannot leave it stuck down.
                    let ctrl = |down| KeyAction {
                        keysym: KEYSYM_CONTROL_L,
                        scancode: Some(SCANCODE_CONTROL_L),
                        down,
                    };
                    pointer.key(ctrl(true), now);
                    // Fingers apart = zoom in = wheel up.
                    pointer.wheel_clicks(
                        if n > 0 { WHEEL_UP } else { WHEEL_DOWN },
                        n.unsigned_abs(),
                        p,
                        now,
                    );
                    pointer.key(ctrl(false), now);
                }
            }
            _ => pointer.flush(now),
        }
    }
}
