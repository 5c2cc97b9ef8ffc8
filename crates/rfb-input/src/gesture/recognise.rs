//! Touches → abstract gestures (tap, drag, long press, two-finger scroll, pinch).
//!
//! The recogniser keeps the touches of one *sequence* (from the first finger down to the
//! last finger up, at most [`MAX_FINGERS`]) and a set of gestures still possible. Each event
//! narrows the set; a gesture starts when one is certain. Positions are element pixels.

use core::time::Duration;
use std::collections::VecDeque;

use crate::output::{Disposition, Ignored};

/// A finger must move this far (element px) from where it landed to count as moving: taps
/// and long presses are then ruled out, one finger becomes a drag, two a scroll or pinch.
pub const MOVE_THRESHOLD: f64 = 50.0;
/// Fingers after the first must land within this window to join a multi-finger gesture;
/// later ones abandon recognition for the sequence.
pub const MULTI_TOUCH_WINDOW: Duration = Duration::from_millis(250);
/// A tap must end within this time of the first finger landing.
pub const TAP_TIMEOUT: Duration = Duration::from_millis(1000);
/// One finger held still this long becomes a long press.
pub const LONG_PRESS_TIMEOUT: Duration = Duration::from_millis(1000);
/// After the first of two fingers passes [`MOVE_THRESHOLD`], wait this long for the other
/// finger's movement before choosing scroll or pinch (the fingers' events do not arrive
/// together).
pub const TWO_TOUCH_DECISION: Duration = Duration::from_millis(50);
/// The most fingers a gesture uses.
pub const MAX_FINGERS: usize = 3;
/// Coordinates are clamped to ±this before any arithmetic so distances stay finite.
pub const COORD_LIMIT: f64 = 1.0e7;

/// A gesture the recogniser can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GestureKind {
    /// One finger down and up within [`TAP_TIMEOUT`] without moving.
    OneTap,
    /// Two fingers, same rules.
    TwoTap,
    /// Three fingers, same rules.
    ThreeTap,
    /// One finger moved past [`MOVE_THRESHOLD`].
    Drag,
    /// One finger held still for [`LONG_PRESS_TIMEOUT`] (and possibly moved afterwards).
    LongPress,
    /// Two fingers moving together.
    TwoDrag,
    /// Two fingers moving apart or together.
    Pinch,
}

impl GestureKind {
    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Where a gesture is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The gesture was recognised. Taps report `Start` and `End` back to back.
    Start,
    /// It continues (not for taps).
    Move,
    /// It is over (a finger lifted, or the touch was cancelled).
    End,
}

/// One recognised gesture event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GestureEvent {
    /// Which gesture.
    pub kind: GestureKind,
    /// Start, move or end.
    pub phase: Phase,
    /// Element x: the finger for one-finger gestures; for taps of several fingers and for
    /// [`GestureKind::TwoDrag`] / [`GestureKind::Pinch`], the centre of where the fingers
    /// landed (fixed for the whole gesture, so scrolling happens where it began).
    pub x: f64,
    /// Element y, as `x`.
    pub y: f64,
    /// [`GestureKind::TwoDrag`]: mean x movement of the two fingers since they landed (0 at
    /// [`Phase::Start`]). [`GestureKind::Pinch`]: the distance between the fingers (at
    /// [`Phase::Start`], the distance they landed at). Otherwise 0.
    pub magnitude_x: f64,
    /// [`GestureKind::TwoDrag`]: mean y movement since they landed. Otherwise 0.
    pub magnitude_y: f64,
}

#[derive(Debug, Clone, Copy)]
struct Touch {
    id: i32,
    start: (f64, f64),
    last: (f64, f64),
    ended: bool,
}

impl Touch {
    fn moved(&self) -> bool {
        dist(self.start, self.last) >= MOVE_THRESHOLD
    }
}

const TAPS: u8 = (1 << GestureKind::OneTap as u8)
    | (1 << GestureKind::TwoTap as u8)
    | (1 << GestureKind::ThreeTap as u8);
const TWO: u8 = (1 << GestureKind::TwoDrag as u8) | (1 << GestureKind::Pinch as u8);

fn possible_for(fingers: usize) -> u8 {
    use GestureKind::*;
    match fingers {
        1 => OneTap.bit() | Drag.bit() | LongPress.bit(),
        2 => TwoTap.bit() | TwoDrag.bit() | Pinch.bit(),
        3 => ThreeTap.bit(),
        _ => 0,
    }
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

fn sanitise(x: f64, y: f64) -> Option<(f64, f64)> {
    (x.is_finite() && y.is_finite()).then(|| {
        (
            x.clamp(-COORD_LIMIT, COORD_LIMIT),
            y.clamp(-COORD_LIMIT, COORD_LIMIT),
        )
    })
}

/// The touch → gesture state machine. Usable on its own (e.g. to pan a viewport instead of
/// dragging the remote pointer); [`crate::Gestures`] wraps it with the mapping to RFB.
///
/// Same contract as [`crate::Pointer`]: timestamped calls, drain
/// [`Recogniser::poll_gesture`], honour [`Recogniser::poll_timeout`].
#[derive(Debug, Default)]
pub struct Recogniser {
    /// The sequence's touches, ended ones included (at most [`MAX_FINGERS`]).
    touches: Vec<Touch>,
    first_start: Duration,
    possible: u8,
    active: Option<GestureKind>,
    /// Where the active two-finger gesture is anchored.
    anchor: (f64, f64),
    /// Set once any finger of the sequence moved past the threshold.
    any_moved: bool,
    /// No gesture (any more) for this sequence: wait for every finger to lift.
    done: bool,
    long_press_at: Option<Duration>,
    two_touch_at: Option<Duration>,
    now: Duration,
    out: VecDeque<GestureEvent>,
}

impl Recogniser {
    /// An idle recogniser.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next gesture event.
    pub fn poll_gesture(&mut self) -> Option<GestureEvent> {
        self.out.pop_front()
    }

    /// When [`Recogniser::handle_timeout`] must run next (long press, scroll/pinch choice).
    pub fn poll_timeout(&self) -> Option<Duration> {
        match (self.long_press_at, self.two_touch_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs due timers.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.advance(now);
    }

    /// The gesture in progress, if any.
    pub fn active(&self) -> Option<GestureKind> {
        self.active
    }

    /// Number of fingers down that belong to the current sequence.
    pub fn fingers_down(&self) -> usize {
        self.touches.iter().filter(|t| !t.ended).count()
    }

    fn advance(&mut self, now: Duration) -> Duration {
        let now = now.max(self.now);
        self.now = now;
        if self.long_press_at.is_some_and(|t| now >= t) {
            self.long_press_at = None;
            if self.active.is_none() && self.possible & GestureKind::LongPress.bit() != 0 {
                let t = self.touches[0];
                self.begin(GestureKind::LongPress, t.last);
            }
        }
        if self.two_touch_at.is_some_and(|t| now >= t) {
            self.two_touch_at = None;
            self.decide_two();
        }
        now
    }

    fn emit(&mut self, kind: GestureKind, phase: Phase, (x, y): (f64, f64), m: (f64, f64)) {
        self.out.push_back(GestureEvent {
            kind,
            phase,
            x,
            y,
            magnitude_x: m.0,
            magnitude_y: m.1,
        });
    }

    fn begin(&mut self, kind: GestureKind, at: (f64, f64)) {
        self.active = Some(kind);
        self.possible = 0;
        self.long_press_at = None;
        self.two_touch_at = None;
        self.anchor = at;
        // Start reports the reference: no movement yet, or the distance the fingers landed at.
        let reference = match (kind, self.touches.as_slice()) {
            (GestureKind::Pinch, [a, b, ..]) => (dist(a.start, b.start), 0.0),
            _ => (0.0, 0.0),
        };
        self.emit(kind, Phase::Start, at, reference);
    }

    /// The two-finger measures: mean movement, or the distance between the fingers.
    fn magnitude(&self, kind: GestureKind) -> (f64, f64) {
        let [a, b, ..] = self.touches.as_slice() else {
            return (0.0, 0.0);
        };
        match kind {
            GestureKind::TwoDrag => (
                ((a.last.0 - a.start.0) + (b.last.0 - b.start.0)) / 2.0,
                ((a.last.1 - a.start.1) + (b.last.1 - b.start.1)) / 2.0,
            ),
            GestureKind::Pinch => (dist(a.last, b.last), 0.0),
            _ => (0.0, 0.0),
        }
    }

    fn centre_of_starts(&self) -> (f64, f64) {
        let n = self.touches.len().max(1) as f64;
        let (sx, sy) = self
            .touches
            .iter()
            .fold((0.0, 0.0), |(x, y), t| (x + t.start.0, y + t.start.1));
        (sx / n, sy / n)
    }

    /// Scroll or pinch: pinch when the change of distance between the fingers outweighs
    /// their common movement.
    fn decide_two(&mut self) {
        if self.active.is_some() || self.possible & TWO == 0 || self.fingers_down() != 2 {
            return;
        }
        let [a, b] = [self.touches[0], self.touches[1]];
        let (mx, my) = self.magnitude(GestureKind::TwoDrag);
        let spread = (dist(a.last, b.last) - dist(a.start, b.start)).abs();
        let kind = if spread > mx.hypot(my) {
            GestureKind::Pinch
        } else {
            GestureKind::TwoDrag
        };
        let centre = self.centre_of_starts();
        self.begin(kind, centre);
        self.emit(kind, Phase::Move, centre, self.magnitude(kind));
    }

    fn abandon(&mut self) {
        self.possible = 0;
        self.done = true;
        self.long_press_at = None;
        self.two_touch_at = None;
    }

    fn reset(&mut self) {
        self.touches.clear();
        self.possible = 0;
        self.active = None;
        self.any_moved = false;
        self.done = false;
        self.long_press_at = None;
        self.two_touch_at = None;
    }

    /// `touchstart` for one touch (`Touch.identifier`, element position).
    pub fn touch_start(&mut self, id: i32, x: f64, y: f64, now: Duration) -> Disposition {
        let now = self.advance(now);
        let Some(p) = sanitise(x, y) else {
            return Disposition::Ignored(Ignored::NonFinite);
        };
        if self.touches.iter().any(|t| t.id == id && !t.ended) {
            return Disposition::Ignored(Ignored::DuplicateTouch(id));
        }
        if self.active.is_some() || self.done {
            return Disposition::Ignored(Ignored::GestureBusy);
        }
        if self.touches.is_empty() {
            self.first_start = now;
            self.long_press_at = Some(now.saturating_add(LONG_PRESS_TIMEOUT));
        } else if now.saturating_sub(self.first_start) > MULTI_TOUCH_WINDOW {
            self.abandon();
            return Disposition::Ignored(Ignored::LateTouch);
        } else if self.touches.len() >= MAX_FINGERS {
            self.abandon();
            return Disposition::Ignored(Ignored::TooManyTouches);
        } else {
            self.long_press_at = None;
            self.two_touch_at = None;
        }
        self.touches.push(Touch {
            id,
            start: p,
            last: p,
            ended: false,
        });
        let mut possible = possible_for(self.touches.len());
        if self.any_moved {
            possible &= !TAPS;
        }
        if self.touches.iter().any(|t| t.ended) {
            // A finger already lifted: no two-finger motion gesture for this sequence.
            possible &= !TWO;
        }
        self.possible = possible;
        if possible == 0 {
            self.abandon();
        }
        Disposition::Deferred
    }

    /// `touchmove` for one touch.
    pub fn touch_move(&mut self, id: i32, x: f64, y: f64, now: Duration) -> Disposition {
        let now = self.advance(now);
        let Some(i) = self.touches.iter().position(|t| t.id == id && !t.ended) else {
            return Disposition::Ignored(Ignored::UnknownTouch(id));
        };
        let Some(p) = sanitise(x, y) else {
            return Disposition::Ignored(Ignored::NonFinite);
        };
        if self.touches[i].last == p {
            return Disposition::Ignored(Ignored::Unchanged);
        }
        self.touches[i].last = p;
        let before = self.out.len();
        match self.active {
            Some(k @ (GestureKind::Drag | GestureKind::LongPress)) => {
                self.emit(k, Phase::Move, p, (0.0, 0.0));
            }
            Some(k @ (GestureKind::TwoDrag | GestureKind::Pinch)) => {
                if i < 2 {
                    self.emit(k, Phase::Move, self.anchor, self.magnitude(k));
                }
            }
            Some(_) => {}
            None if self.done => {}
            None => self.narrow(i, now),
        }
        if self.out.len() != before {
            Disposition::Queued
        } else {
            Disposition::Deferred
        }
    }

    fn narrow(&mut self, i: usize, now: Duration) {
        if !self.touches[i].moved() {
            return;
        }
        self.any_moved = true;
        self.possible &= !(TAPS | GestureKind::LongPress.bit());
        self.long_press_at = None;
        if self.possible & GestureKind::Drag.bit() != 0 {
            let t = self.touches[i];
            self.begin(GestureKind::Drag, t.start);
            self.emit(GestureKind::Drag, Phase::Move, t.last, (0.0, 0.0));
        } else if self.possible & TWO != 0 {
            if self.touches.iter().take(2).all(Touch::moved) {
                self.decide_two();
            } else if self.two_touch_at.is_none() {
                self.two_touch_at = Some(now.saturating_add(TWO_TOUCH_DECISION));
            }
        }
        if self.active.is_none() && self.possible == 0 {
            self.abandon();
        }
    }

    /// `touchend` for one touch, at its final position (a non-finite one keeps the last).
    pub fn touch_end(&mut self, id: i32, x: f64, y: f64, now: Duration) -> Disposition {
        self.finish(id, sanitise(x, y), false, now)
    }

    /// `touchcancel` for one touch: like an end, but never completes a tap.
    pub fn touch_cancel(&mut self, id: i32, now: Duration) -> Disposition {
        self.finish(id, None, true, now)
    }

    /// Ends everything (window blur, element removed): the active gesture gets its
    /// [`Phase::End`], no tap is reported, and all touches are forgotten.
    pub fn cancel_all(&mut self, now: Duration) -> Disposition {
        self.advance(now);
        let before = self.out.len();
        if let Some(k) = self.active {
            let at = self.end_position(k, None);
            self.emit(k, Phase::End, at, self.magnitude(k));
        }
        self.reset();
        if self.out.len() != before {
            Disposition::Queued
        } else {
            Disposition::Deferred
        }
    }

    fn end_position(&self, kind: GestureKind, touch: Option<usize>) -> (f64, f64) {
        match kind {
            GestureKind::TwoDrag | GestureKind::Pinch => self.anchor,
            _ => touch
                .or((!self.touches.is_empty()).then_some(0))
                .map_or(self.anchor, |i| self.touches[i].last),
        }
    }

    fn finish(
        &mut self,
        id: i32,
        p: Option<(f64, f64)>,
        cancel: bool,
        now: Duration,
    ) -> Disposition {
        let now = self.advance(now);
        let Some(i) = self.touches.iter().position(|t| t.id == id && !t.ended) else {
            return Disposition::Ignored(Ignored::UnknownTouch(id));
        };
        if let Some(p) = p {
            self.touches[i].last = p;
        }
        self.touches[i].ended = true;
        let before = self.out.len();
        if cancel {
            self.possible = 0;
        }
        match self.active {
            // Any finger of the gesture lifting ends it (a two-finger gesture has exactly
            // two touches: later fingers are refused while it runs).
            Some(k) => {
                let at = self.end_position(k, Some(i));
                self.emit(k, Phase::End, at, self.magnitude(k));
                self.active = None;
                self.abandon();
            }
            None => {
                self.possible &= !(TWO | GestureKind::LongPress.bit());
                self.two_touch_at = None;
                self.long_press_at = None;
                if self.fingers_down() == 0 && !self.done {
                    self.tap(now);
                }
            }
        }
        if self.fingers_down() == 0 {
            self.reset();
        }
        if self.out.len() != before {
            Disposition::Queued
        } else {
            Disposition::Deferred
        }
    }

    fn tap(&mut self, now: Duration) {
        let kind = match self.touches.len() {
            1 => GestureKind::OneTap,
            2 => GestureKind::TwoTap,
            _ => GestureKind::ThreeTap,
        };
        if self.possible & kind.bit() == 0 || now.saturating_sub(self.first_start) > TAP_TIMEOUT {
            return;
        }
        let at = if kind == GestureKind::OneTap {
            self.touches[0].last
        } else {
            self.centre_of_starts()
        };
        self.emit(kind, Phase::Start, at, (0.0, 0.0));
        self.emit(kind, Phase::End, at, (0.0, 0.0));
    }
}
