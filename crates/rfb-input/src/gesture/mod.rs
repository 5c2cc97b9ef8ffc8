//! Touch gestures: the [`Recogniser`] (touches → gestures) and [`Gestures`], which maps them
//! to RFB pointer events like noVNC's touch handling:
//!
//! | Gesture | RFB |
//! |---|---|
//! | one-finger tap | left click (a second tap within [`DOUBLE_TAP_TIMEOUT`] and [`DOUBLE_TAP_DISTANCE`] clicks on the first tap's pixel) |
//! | two-finger tap | right click |
//! | three-finger tap | middle click |
//! | drag | left button held from where the finger landed |
//! | long press | right button held, following the finger until it lifts |
//! | two-finger drag | wheel steps every [`SCROLL_STEP_PX`], both axes, content following the fingers |
//! | pinch | `Control_L` pressed, wheel up (apart) / down (together) every [`PINCH_STEP_PX`], `Control_L` released |

mod map;
mod recognise;

use core::time::Duration;

pub use map::{
    DOUBLE_TAP_DISTANCE, DOUBLE_TAP_TIMEOUT, KEYSYM_CONTROL_L, MAX_STEPS_PER_EVENT, PINCH_STEP_PX,
    SCANCODE_CONTROL_L, SCROLL_STEP_PX,
};
pub use recognise::{
    COORD_LIMIT, GestureEvent, GestureKind, LONG_PRESS_TIMEOUT, MAX_FINGERS, MOVE_THRESHOLD,
    MULTI_TOUCH_WINDOW, Phase, Recogniser, TAP_TIMEOUT, TWO_TOUCH_DECISION,
};

use crate::coords::Transform;
use crate::output::{Disposition, Ignored, Output};
use crate::pointer::Pointer;

/// Touch events in, RFB pointer events (and Control presses for pinch) out.
///
/// Positions are element pixels; thresholds apply to them and outputs are mapped through
/// the [`Transform`] and clamped to the framebuffer. Moves are throttled exactly like
/// [`Pointer`]'s. Same contract: drain [`Gestures::poll_output`] after every call and honour
/// [`Gestures::poll_timeout`] (long press and the scroll/pinch choice are timers).
///
/// Every button this presses is released when its gesture ends, when the touch is
/// cancelled, and by [`Gestures::cancel_all`]; Control never stays down past one call.
///
/// ```
/// use core::time::Duration;
/// use rfb_input::{Gestures, Output, PointerEvent};
///
/// let ms = Duration::from_millis;
/// let mut touch = Gestures::new(800, 600);
/// touch.touch_start(7, 100.0, 100.0, ms(0)); // `Touch.identifier`, element px
/// touch.touch_end(7, 101.0, 100.0, ms(90));
/// let clicks: Vec<Output> = std::iter::from_fn(|| touch.poll_output()).collect();
/// let at = |mask| Output::Pointer(PointerEvent { x: 101, y: 100, mask });
/// assert_eq!(clicks, [at(1), at(0)]); // a tap is a left click
///
/// touch.touch_start(7, 100.0, 100.0, ms(2000));
/// assert_eq!(touch.poll_timeout(), Some(ms(3000))); // arm a timer for the long press
/// touch.handle_timeout(ms(3000));
/// assert_eq!(touch.poll_output(), Some(Output::Pointer(PointerEvent { x: 100, y: 100, mask: 4 })));
/// ```
#[derive(Debug)]
pub struct Gestures {
    rec: Recogniser,
    pointer: Pointer,
    map: map::Mapper,
}

impl Gestures {
    /// A recogniser for a `width` × `height` framebuffer.
    pub fn new(width: u16, height: u16) -> Self {
        Self {
            rec: Recogniser::new(),
            pointer: Pointer::new(width, height),
            map: map::Mapper::default(),
        }
    }

    /// Sets the framebuffer size outputs are clamped to.
    pub fn set_size(&mut self, width: u16, height: u16) {
        self.pointer.set_size(width, height);
    }

    /// Sets how element coordinates map to framebuffer pixels (see [`Pointer::set_transform`]).
    pub fn set_transform(&mut self, transform: Transform) -> Result<(), Ignored> {
        self.pointer.set_transform(transform)
    }

    /// The recogniser, to inspect the gesture in progress.
    pub fn recogniser(&self) -> &Recogniser {
        &self.rec
    }

    /// The buttons currently held by the gesture (an RFB mask).
    pub fn mask(&self) -> u16 {
        self.pointer.mask()
    }

    /// The next output to send, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.pointer.poll_output()
    }

    /// When [`Gestures::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match (self.rec.poll_timeout(), self.pointer.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs due timers (long press, scroll/pinch decision, throttled move).
    pub fn handle_timeout(&mut self, now: Duration) {
        self.rec.handle_timeout(now);
        self.pump(now);
        self.pointer.handle_timeout(now);
    }

    /// `touchstart` for one changed touch (`Touch.identifier`, element position).
    pub fn touch_start(&mut self, id: i32, x: f64, y: f64, now: Duration) -> Disposition {
        self.run(now, |r| r.touch_start(id, x, y, now))
    }

    /// `touchmove` for one changed touch.
    pub fn touch_move(&mut self, id: i32, x: f64, y: f64, now: Duration) -> Disposition {
        self.run(now, |r| r.touch_move(id, x, y, now))
    }

    /// `touchend` for one changed touch, at its final position.
    pub fn touch_end(&mut self, id: i32, x: f64, y: f64, now: Duration) -> Disposition {
        self.run(now, |r| r.touch_end(id, x, y, now))
    }

    /// `touchcancel` for one changed touch: ends its gesture (releasing buttons) without
    /// ever producing a click.
    pub fn touch_cancel(&mut self, id: i32, now: Duration) -> Disposition {
        self.run(now, |r| r.touch_cancel(id, now))
    }

    /// Window blur or element removal: ends the gesture, forgets all touches, releases
    /// every button.
    pub fn cancel_all(&mut self, now: Duration) -> Disposition {
        let before = self.pointer.queued_total();
        self.rec.cancel_all(now);
        self.pump(now);
        self.pointer.blur(now);
        if self.pointer.queued_total() != before {
            Disposition::Queued
        } else {
            Disposition::Deferred
        }
    }

    fn run(
        &mut self,
        now: Duration,
        f: impl FnOnce(&mut Recogniser) -> Disposition,
    ) -> Disposition {
        let before = self.pointer.queued_total();
        // Timers due before this event fire first, in their own order.
        self.pointer.advance(now);
        let d = f(&mut self.rec);
        self.pump(now);
        match d {
            _ if self.pointer.queued_total() != before => Disposition::Queued,
            Disposition::Ignored(_) => d,
            _ => Disposition::Deferred,
        }
    }

    fn pump(&mut self, now: Duration) {
        while let Some(ev) = self.rec.poll_gesture() {
            self.map.apply(&ev, &mut self.pointer, now);
        }
    }
}
