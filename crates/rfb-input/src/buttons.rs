//! DOM mouse buttons → RFB button-mask bits.
//!
//! The RFB mask layout is the one of rfbproto's
//! [PointerEvent](https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#pointerevent)
//! widened to 16 bits as in the
//! [ExtendedMouseButtons pseudo-encoding](https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#extendedmousebuttons-pseudo-encoding)
//! (-316): bit *n* is button *n + 1*. Bits 0–6 are left, middle, right and the four wheel
//! directions; bit 7 is back, bit 8 is forward. A normal PointerEvent carries bits 0–7
//! (bit 7 = back, "button 8"); bit 8 (forward) exists only in the extended form, which the
//! client may send once the server acknowledged -316.

/// Button 1, the left button (DOM `button` 0, DOM `buttons` bit 1).
pub const LEFT: u16 = 1 << 0;
/// Button 2, the middle button (DOM `button` 1, DOM `buttons` bit 4).
pub const MIDDLE: u16 = 1 << 1;
/// Button 3, the right button (DOM `button` 2, DOM `buttons` bit 2).
pub const RIGHT: u16 = 1 << 2;
/// Button 4: one wheel step up (scroll content up / towards the top).
pub const WHEEL_UP: u16 = 1 << 3;
/// Button 5: one wheel step down.
pub const WHEEL_DOWN: u16 = 1 << 4;
/// Button 6: one wheel step left.
pub const WHEEL_LEFT: u16 = 1 << 5;
/// Button 7: one wheel step right.
pub const WHEEL_RIGHT: u16 = 1 << 6;
/// Button 8, "back" (DOM `button` 3, DOM `buttons` bit 8). Fits the normal PointerEvent.
pub const BACK: u16 = 1 << 7;
/// "Forward" (DOM `button` 4, DOM `buttons` bit 16): extended-buttons-mask bit 1, so it can
/// only be sent with the extended PointerEvent (-316).
pub const FORWARD: u16 = 1 << 8;

/// The buttons a mouse can hold down (everything but the wheel bits).
pub const HOLDABLE: u16 = LEFT | MIDDLE | RIGHT | BACK | FORWARD;
/// The wheel bits, which are only ever pressed and released at once.
pub const WHEEL: u16 = WHEEL_UP | WHEEL_DOWN | WHEEL_LEFT | WHEEL_RIGHT;

/// A DOM `MouseEvent.button` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Button {
    /// `button` 0, the main (left) button.
    Left,
    /// `button` 1, the auxiliary (middle / wheel) button.
    Middle,
    /// `button` 2, the secondary (right) button.
    Right,
    /// `button` 3, the "browser back" button.
    Back,
    /// `button` 4, the "browser forward" button.
    Forward,
    /// Any other value (negative, or 5 and up from exotic mice): has no RFB mapping and is
    /// ignored by [`crate::Pointer`].
    Unknown(i16),
}

impl Button {
    /// Classifies a DOM `MouseEvent.button` value.
    pub fn from_dom(button: i16) -> Self {
        match button {
            0 => Self::Left,
            1 => Self::Middle,
            2 => Self::Right,
            3 => Self::Back,
            4 => Self::Forward,
            other => Self::Unknown(other),
        }
    }

    /// The RFB mask bit of this button, `None` for [`Button::Unknown`].
    pub fn mask(self) -> Option<u16> {
        match self {
            Self::Left => Some(LEFT),
            Self::Middle => Some(MIDDLE),
            Self::Right => Some(RIGHT),
            Self::Back => Some(BACK),
            Self::Forward => Some(FORWARD),
            Self::Unknown(_) => None,
        }
    }
}

/// Converts a DOM `MouseEvent.buttons` bitfield (1 left, 2 right, 4 middle, 8 back,
/// 16 forward; note right and middle are swapped relative to RFB) to an RFB mask. Unknown
/// DOM bits (32 and up) are dropped.
pub fn mask_from_dom_buttons(buttons: u16) -> u16 {
    let mut mask = 0;
    for (dom, rfb) in [(1, LEFT), (2, RIGHT), (4, MIDDLE), (8, BACK), (16, FORWARD)] {
        if buttons & dom != 0 {
            mask |= rfb;
        }
    }
    mask
}

/// True when `mask` has a bit that only the extended PointerEvent can carry (bit 8,
/// forward, or higher). Without the server's -316 acknowledgement the driver should send
/// [`legacy_mask`] instead (dropping those buttons), as the spec requires.
pub fn needs_extended(mask: u16) -> bool {
    mask >> 8 != 0
}

/// The mask as a normal (non-extended) PointerEvent byte: bits 0–7, bit 7 being back.
/// Bits 8 and up are dropped.
pub fn legacy_mask(mask: u16) -> u8 {
    (mask & 0xff) as u8
}
