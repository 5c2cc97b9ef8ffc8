//! The mouse state machine: moves (throttled), buttons, the `buttons` resync and the wheel.

use core::time::Duration;

use crate::buttons::{self, Button, HOLDABLE};
use crate::coords::{Mapping, Transform};
use crate::output::{Disposition, Ignored, KeyAction, Output, PointerEvent, Queue};
use crate::wheel::{self, Axis, DeltaMode};

/// Least time between two sent moves (noVNC's `MOUSE_MOVE_DELAY`, 17 ms ≈ one frame at
/// 60 Hz): faster mice would otherwise send hundreds of PointerEvents per second that the
/// server renders no faster.
pub const MOVE_INTERVAL: Duration = Duration::from_millis(17);

/// Wheel steps are no longer generated while this many outputs wait undrained, so a driver
/// that never drains cannot make the queue grow without bound through the wheel. (Button
/// changes are always queued: dropping one would break press/release pairing.)
pub const MAX_QUEUED: usize = 1024;

/// The mouse side: DOM mouse and wheel events in, PointerEvents out.
///
/// Positions are element coordinates (see [`Transform`]); every output is clamped to the
/// framebuffer. Each method takes `now`, the event's time since a driver-chosen epoch; time
/// that goes backwards is treated as "no time passed". Every method first runs the timer if
/// it is due, so a late [`Pointer::handle_timeout`] never reorders outputs.
///
/// After each call, drain [`Pointer::poll_output`] until `None`, then (re)arm a timer for
/// [`Pointer::poll_timeout`].
#[derive(Debug)]
pub struct Pointer {
    map: Mapping,
    /// The mask of the last output (only holdable bits; wheel bits are never left set).
    mask: u16,
    /// Position of the last output.
    pos: Option<(u16, u16)>,
    /// The latest throttled move, not yet sent.
    pending: Option<(u16, u16)>,
    /// When the last move went out.
    last_move: Option<Duration>,
    now: Duration,
    wheel_x: Axis,
    wheel_y: Axis,
    out: Queue,
}

impl Pointer {
    /// A pointer for a `width` × `height` framebuffer (the driver updates it with
    /// [`Pointer::set_size`] on every resize).
    pub fn new(width: u16, height: u16) -> Self {
        Self {
            map: Mapping {
                width,
                height,
                transform: Transform::IDENTITY,
            },
            mask: 0,
            pos: None,
            pending: None,
            last_move: None,
            now: Duration::ZERO,
            wheel_x: Axis::default(),
            wheel_y: Axis::default(),
            out: Queue::default(),
        }
    }

    /// Sets the framebuffer size; later outputs (the pending move too) are clamped to it.
    pub fn set_size(&mut self, width: u16, height: u16) {
        self.map.width = width;
        self.map.height = height;
        self.pending = self.pending.map(|p| self.map.clamp(p));
    }

    /// The framebuffer size outputs are clamped to.
    pub fn size(&self) -> (u16, u16) {
        (self.map.width, self.map.height)
    }

    /// Sets how element coordinates map to framebuffer pixels. An invalid transform (not
    /// finite, scale ≤ 0) is refused and the old one kept.
    pub fn set_transform(&mut self, transform: Transform) -> Result<(), Ignored> {
        if !transform.is_valid() {
            return Err(Ignored::InvalidTransform);
        }
        self.map.transform = transform;
        Ok(())
    }

    /// The buttons currently held, as sent (an RFB mask).
    pub fn mask(&self) -> u16 {
        self.mask
    }

    /// Where the last sent event put the pointer, if anything was sent yet.
    pub fn position(&self) -> Option<(u16, u16)> {
        self.pos
    }

    /// The next output to send, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }

    /// When [`Pointer::handle_timeout`] must run next: the time a throttled move may go out.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.pending?;
        Some(
            self.last_move
                .map_or(self.now, |t| t.saturating_add(MOVE_INTERVAL)),
        )
    }

    /// Sends the throttled move if its time has come.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.advance(now);
    }

    /// `mousemove`: moves the pointer, at most one move per [`MOVE_INTERVAL`]; a faster
    /// move replaces the pending one ([`Disposition::Deferred`]).
    pub fn move_to(&mut self, x: f64, y: f64, now: Duration) -> Disposition {
        let now = self.advance(now);
        let Some(p) = self.map.map(x, y) else {
            return Disposition::Ignored(Ignored::NonFinite);
        };
        self.track(|s| s.move_px(p, now), Some(p))
    }

    /// `mousedown`: flushes the pending move, then presses the button at (`x`, `y`).
    pub fn button_down(&mut self, button: i16, x: f64, y: f64, now: Duration) -> Disposition {
        self.button(button, true, x, y, now)
    }

    /// `mouseup`: flushes the pending move, then releases the button at (`x`, `y`).
    pub fn button_up(&mut self, button: i16, x: f64, y: f64, now: Duration) -> Disposition {
        self.button(button, false, x, y, now)
    }

    fn button(&mut self, button: i16, down: bool, x: f64, y: f64, now: Duration) -> Disposition {
        let now = self.advance(now);
        let Some(bit) = Button::from_dom(button).mask() else {
            return Disposition::Ignored(Ignored::UnknownButton(button));
        };
        let Some(p) = self.map.map(x, y) else {
            return Disposition::Ignored(Ignored::NonFinite);
        };
        match (down, self.mask & bit != 0) {
            (true, true) => return Disposition::Ignored(Ignored::AlreadyPressed),
            (false, false) => return Disposition::Ignored(Ignored::NotPressed),
            _ => {}
        }
        let mask = if down {
            self.mask | bit
        } else {
            self.mask & !bit
        };
        self.track(|s| s.set_mask(mask, p, now), None)
    }

    /// Resynchronises the held buttons with a DOM `MouseEvent.buttons` bitfield (e.g. on
    /// `mouseenter` or every `mousemove`), so a release that happened outside the window is
    /// not left stuck down. Sends one event with the corrected mask when it differs.
    pub fn sync_buttons(&mut self, buttons: u16, x: f64, y: f64, now: Duration) -> Disposition {
        let now = self.advance(now);
        let Some(p) = self.map.map(x, y) else {
            return Disposition::Ignored(Ignored::NonFinite);
        };
        let mask = buttons::mask_from_dom_buttons(buttons);
        if mask == self.mask {
            return Disposition::Ignored(Ignored::Unchanged);
        }
        self.track(|s| s.set_mask(mask, p, now), None)
    }

    /// `wheel`: accumulates the deltas (CSS pixels, lines or pages per `mode`) and sends a
    /// press+release of button 4/5 (vertical: positive `dy` = down) or 6/7 (horizontal:
    /// positive `dx` = right) per [`wheel::STEP_PX`], at most
    /// [`wheel::MAX_STEPS_PER_EVENT`] per axis. The pending move is flushed first.
    pub fn wheel(
        &mut self,
        dx: f64,
        dy: f64,
        mode: DeltaMode,
        x: f64,
        y: f64,
        now: Duration,
    ) -> Disposition {
        let now = self.advance(now);
        let Some(unit) = mode.pixels() else {
            return Disposition::Ignored(Ignored::UnknownDeltaMode(match mode {
                DeltaMode::Unknown(m) => m,
                _ => 0,
            }));
        };
        if !(dx.is_finite() && dy.is_finite()) {
            return Disposition::Ignored(Ignored::NonFinite);
        }
        // A finite delta that overflows when converted to pixels is just very large.
        let (px, py) = (
            (dx * unit).clamp(-f64::MAX, f64::MAX),
            (dy * unit).clamp(-f64::MAX, f64::MAX),
        );
        let Some(p) = self.map.map(x, y) else {
            return Disposition::Ignored(Ignored::NonFinite);
        };
        let max = wheel::MAX_STEPS_PER_EVENT;
        let sy = self.wheel_y.add(py, wheel::STEP_PX, max);
        let sx = self.wheel_x.add(px, wheel::STEP_PX, max);
        self.track(
            |s| {
                let (up, down) = (buttons::WHEEL_UP, buttons::WHEEL_DOWN);
                s.wheel_clicks(if sy < 0 { up } else { down }, sy.unsigned_abs(), p, now);
                let (left, right) = (buttons::WHEEL_LEFT, buttons::WHEEL_RIGHT);
                s.wheel_clicks(if sx < 0 { left } else { right }, sx.unsigned_abs(), p, now);
            },
            None,
        )
    }

    /// Window `blur` (or the element went away): flushes the pending move, releases every
    /// held button and forgets partial wheel steps.
    pub fn blur(&mut self, now: Duration) -> Disposition {
        let now = self.advance(now);
        self.wheel_x.reset();
        self.wheel_y.reset();
        self.track(
            |s| {
                s.flush(now);
                if s.mask != 0 {
                    let p = s.pos.unwrap_or((0, 0));
                    s.set_mask(0, p, now);
                }
            },
            None,
        )
    }

    // ---- crate-internal primitives, also used by the gesture mapper ----

    /// Runs `f` and reports whether it queued anything. `dedup` is the target of a move,
    /// reported as [`Ignored::Unchanged`] when it is where the pointer already is.
    fn track(&mut self, f: impl FnOnce(&mut Self), dedup: Option<(u16, u16)>) -> Disposition {
        let before = self.out.pushed();
        let pending_before = self.pending;
        f(self);
        if self.out.pushed() != before {
            Disposition::Queued
        } else if dedup.is_some() && self.pending == pending_before && self.pos == dedup {
            Disposition::Ignored(Ignored::Unchanged)
        } else {
            Disposition::Deferred
        }
    }

    /// Clamps the clock and runs the timer.
    pub(crate) fn advance(&mut self, now: Duration) -> Duration {
        let now = now.max(self.now);
        self.now = now;
        if let Some(due) = self.poll_timeout().filter(|&t| now >= t) {
            // Counted as sent when it was due, so a late timer does not delay the next move.
            self.flush(due);
        }
        now
    }

    pub(crate) fn mapping(&self) -> &Mapping {
        &self.map
    }

    /// A move to framebuffer pixel `p`, throttled.
    pub(crate) fn move_px(&mut self, p: (u16, u16), now: Duration) {
        let p = self.map.clamp(p);
        if self.pos == Some(p) {
            // Back where the last output was: nothing needs to go out.
            self.pending = None;
            return;
        }
        let due = self
            .last_move
            .is_none_or(|t| now >= t.saturating_add(MOVE_INTERVAL));
        if due && self.pending.is_none() {
            self.emit(p, self.mask);
            self.last_move = Some(now);
        } else {
            self.pending = Some(p);
        }
    }

    /// Sends the pending move now.
    pub(crate) fn flush(&mut self, now: Duration) {
        if let Some(p) = self.pending.take() {
            self.emit(p, self.mask);
            self.last_move = Some(now);
        }
    }

    /// Changes the held buttons at `p`: the pending move goes out first unless it is at `p`
    /// anyway (the button event then carries the position).
    pub(crate) fn set_mask(&mut self, mask: u16, p: (u16, u16), now: Duration) {
        let p = self.map.clamp(p);
        if self.pending == Some(p) {
            self.pending = None;
        }
        self.flush(now);
        self.emit(p, mask & HOLDABLE);
    }

    /// `count` press+release pairs of the wheel bit `bit` at `p` (the pending move first).
    pub(crate) fn wheel_clicks(&mut self, bit: u16, count: u32, p: (u16, u16), now: Duration) {
        if count == 0 {
            return;
        }
        let p = self.map.clamp(p);
        if self.pending == Some(p) {
            self.pending = None;
        }
        self.flush(now);
        for _ in 0..count {
            if self.out.len() + 2 > MAX_QUEUED {
                break;
            }
            self.emit(p, self.mask | bit);
            self.emit(p, self.mask);
        }
    }

    /// Queues a key action, after the pending move.
    pub(crate) fn key(&mut self, action: KeyAction, now: Duration) {
        self.flush(now);
        self.out.push(Output::Key(action));
    }

    pub(crate) fn queued_total(&self) -> u64 {
        self.out.pushed()
    }

    fn emit(&mut self, p: (u16, u16), mask: u16) {
        let (x, y) = self.map.clamp(p);
        self.out.push(Output::Pointer(PointerEvent { x, y, mask }));
        self.pos = Some((x, y));
        self.mask = mask & HOLDABLE;
    }
}
