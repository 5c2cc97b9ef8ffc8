//! What the state machines hand to the driver, and what they say about each input.

use std::collections::VecDeque;

/// A PointerEvent to send: position in framebuffer pixels (always inside the framebuffer)
/// and the full button mask (see [`crate::buttons`] for the bits).
///
/// With `rfb_core`, send it as `client.send_pointer_buttons(ev.mask, ev.x, ev.y)`, which uses
/// the extended PointerEvent when the server acknowledged -316 and otherwise drops bits 8+.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PointerEvent {
    /// Framebuffer x, `0..width` (0 for an empty framebuffer).
    pub x: u16,
    /// Framebuffer y, `0..height` (0 for an empty framebuffer).
    pub y: u16,
    /// RFB button mask: bit *n* = button *n + 1*, bit 7 back, bit 8 forward.
    pub mask: u16,
}

impl PointerEvent {
    /// True when the mask needs the extended PointerEvent (see [`crate::buttons::needs_extended`]).
    pub fn needs_extended(&self) -> bool {
        crate::buttons::needs_extended(self.mask)
    }
}

/// A key press or release to send (only the pinch gesture produces these: it holds Control
/// around its wheel steps, which most applications read as zoom).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyAction {
    /// The keysym (`Control_L`, 0xffe3).
    pub keysym: u32,
    /// XT scancode of the physical key for the QEMU Extended Key Event (0x1d, ControlLeft).
    pub scancode: Option<u16>,
    /// Press or release.
    pub down: bool,
}

/// One output, in the order it must be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    /// Send a PointerEvent.
    Pointer(PointerEvent),
    /// Send a KeyEvent (or QEMU Extended Key Event).
    Key(KeyAction),
}

/// What a state machine did with one input call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Outputs were queued: drain them with `poll_output`.
    Queued,
    /// Accepted, but nothing to send yet: a throttled move (sent by the timer or before the
    /// next button), a wheel delta below one step, or a touch whose gesture is undecided.
    Deferred,
    /// Nothing happened; the reason is for logs and tests.
    Ignored(Ignored),
}

/// Why an input was ignored. Each is a defined, harmless outcome: the state is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ignored {
    /// A coordinate or delta was NaN or infinite (after the transform, too).
    NonFinite,
    /// A DOM `button` value with no RFB meaning.
    UnknownButton(i16),
    /// A DOM `deltaMode` that is not pixel, line or page.
    UnknownDeltaMode(u32),
    /// A press of a button that is already down (a repeated or synthetic event).
    AlreadyPressed,
    /// A release of a button that is not down (its press was lost or ignored).
    NotPressed,
    /// A move to where the pointer already is, or a button resync that changes nothing.
    Unchanged,
    /// A touch move/end/cancel for an id that is not tracked (never started, already
    /// ended, or itself ignored).
    UnknownTouch(i32),
    /// A touch start for an id that is already down.
    DuplicateTouch(i32),
    /// A fourth finger: no gesture uses more than three, so recognition is abandoned until
    /// every finger has lifted.
    TooManyTouches,
    /// A finger that landed after the multi-touch window: recognition is abandoned until
    /// every finger has lifted.
    LateTouch,
    /// A finger that landed while a gesture runs or while the remains of an ended or
    /// abandoned one are still lifting.
    GestureBusy,
    /// The framebuffer transform was not finite or its scale not positive.
    InvalidTransform,
}

/// The output queue shared by the machines, counting what was ever queued so that a call
/// can tell whether it produced anything.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    items: VecDeque<Output>,
    pushed: u64,
}

impl Queue {
    pub(crate) fn push(&mut self, o: Output) {
        self.items.push_back(o);
        self.pushed = self.pushed.wrapping_add(1);
    }

    pub(crate) fn pop(&mut self) -> Option<Output> {
        self.items.pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn pushed(&self) -> u64 {
        self.pushed
    }
}
