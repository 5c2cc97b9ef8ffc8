//! Helpers shared by the integration tests.
#![allow(dead_code)]

use core::time::Duration;

use rfb_input::{Gestures, KeyAction, Output, Pointer, PointerEvent};

/// Milliseconds since the test's epoch.
pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A pointer event as a tuple, for compact expectations.
pub(crate) fn p(x: u16, y: u16, mask: u16) -> Output {
    Output::Pointer(PointerEvent { x, y, mask })
}

/// Control_L pressed or released.
pub(crate) fn ctrl(down: bool) -> Output {
    Output::Key(KeyAction {
        keysym: 0xffe3,
        scancode: Some(0x1d),
        down,
    })
}

/// Everything a pointer queued.
pub(crate) fn drain(pointer: &mut Pointer) -> Vec<Output> {
    std::iter::from_fn(|| pointer.poll_output()).collect()
}

/// Everything the gestures queued.
pub(crate) fn drain_g(g: &mut Gestures) -> Vec<Output> {
    std::iter::from_fn(|| g.poll_output()).collect()
}
