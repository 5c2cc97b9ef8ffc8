//! QEMU Extended Key Event (client message 255, submessage 0; pseudo-encoding -258) and the
//! lock-key LED state the server reports (QEMU LED State -261, VMware LED State 0x574d5668).
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#qemu-extended-key-event-message>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#qemu-led-state-pseudo-encoding>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#vmware-led-state-pseudo-encoding>

/// The RFB *keycode* for an XT (set 1) make scancode, as the QEMU Extended Key Event table
/// defines it: a single byte below 0x7f is sent as is; `0xE0 xx` with `xx` below 0x7f is sent
/// as `0x80 | xx`. Print Screen/SysRq (`0xE037`, whose full make sequence is longer) is sent as
/// 0x54, as the spec asks; Pause (`0xE046` in `rfb_keysym::xt_scancode`'s numbering, the
/// form QEMU uses) becomes 0xc6, the value the spec requires.
///
/// `scancode` uses the form `rfb_keysym::xt_scancode` returns: `0x00xx` for plain keys and
/// `0xE0xx` for extended ones. Anything else (0, break codes, other prefixes) has no keycode:
/// `None`, and the caller must send a plain KeyEvent instead.
///
/// ```
/// use rfb_core::qemu::xt_keycode;
/// assert_eq!(xt_keycode(0x1e), Some(0x1e)); // A
/// assert_eq!(xt_keycode(0xe04d), Some(0xcd)); // Right arrow
/// assert_eq!(xt_keycode(0xe037), Some(0x54)); // Print Screen
/// assert_eq!(xt_keycode(0x9e), None); // a break code is not a key
/// ```
pub const fn xt_keycode(scancode: u16) -> Option<u32> {
    let [prefix, code] = scancode.to_be_bytes();
    match (prefix, code) {
        (0xe0, 0x37) => Some(0x54),
        (0x00, 1..0x7f) => Some(code as u32),
        (0xe0, 1..0x7f) => Some(0x80 | code as u32),
        _ => None,
    }
}

/// QEMU Extended Key Event: message type 255, submessage 0, `U16` down-flag, `U32` keysym,
/// `U32` keycode (see [`xt_keycode`]).
pub fn extended_key_event(out: &mut Vec<u8>, keysym: u32, keycode: u32, down: bool) {
    out.extend_from_slice(&[255, 0, 0, u8::from(down)]);
    out.extend_from_slice(&keysym.to_be_bytes());
    out.extend_from_slice(&keycode.to_be_bytes());
}

/// How [`crate::Client::send_key_scancode`] delivered a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySent {
    /// As a QEMU Extended Key Event (the server acknowledged -258 and the scancode maps).
    Extended,
    /// As a plain KeyEvent with the keysym (no acknowledgement, or no keycode).
    Keysym,
    /// Not at all: neither a usable keycode nor a keysym (0 means "unknown keysym").
    Dropped,
}

/// The lock-key LEDs the server reports, so a driver can bring its local lock keys in line.
/// Bits 0–2 of both the QEMU (`U8`) and VMware (`U32`) forms; other bits are reserved and
/// ignored, as the spec requires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LedState {
    /// Scroll Lock (bit 0).
    pub scroll_lock: bool,
    /// Num Lock (bit 1).
    pub num_lock: bool,
    /// Caps Lock (bit 2).
    pub caps_lock: bool,
}

impl LedState {
    /// Reads the three defined bits; reserved bits are ignored.
    pub const fn from_bits(bits: u32) -> Self {
        Self {
            scroll_lock: bits & 1 != 0,
            num_lock: bits & 2 != 0,
            caps_lock: bits & 4 != 0,
        }
    }

    /// The state as the spec's bit field.
    pub const fn bits(self) -> u8 {
        self.scroll_lock as u8 | (self.num_lock as u8) << 1 | (self.caps_lock as u8) << 2
    }
}

/// Which pseudo-encoding carried an [`LedState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedSource {
    /// QEMU LED State (-261), one `U8`.
    Qemu,
    /// VMware LED State (0x574d5668), one `U32`.
    Vmware,
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden vectors: the spec's example table (XT scancode → RFB keycode).
    #[test]
    fn keycodes_from_the_spec_table() {
        assert_eq!(xt_keycode(0x1e), Some(0x1e));
        assert_eq!(xt_keycode(0xe04d), Some(0xcd));
        assert_eq!(xt_keycode(0xe037), Some(0x54));
        assert_eq!(xt_keycode(0x54), Some(0x54));
        assert_eq!(xt_keycode(0xe046), Some(0xc6));
        assert_eq!(xt_keycode(0), None);
        assert_eq!(xt_keycode(0x7f), None);
        assert_eq!(xt_keycode(0xe0), None);
        assert_eq!(xt_keycode(0xe09e), None);
        assert_eq!(xt_keycode(0xe11d), None);
    }

    // The spec's example rows as whole messages: A down, A up, Right down, Right up.
    #[test]
    fn extended_key_event_bytes() {
        let mut b = Vec::new();
        extended_key_event(&mut b, 0x41, 0x1e, true);
        extended_key_event(&mut b, 0x41, 0x1e, false);
        extended_key_event(&mut b, 0xff53, 0xcd, true);
        extended_key_event(&mut b, 0xff53, 0xcd, false);
        assert_eq!(
            b,
            [
                255, 0, 0, 1, 0, 0, 0, 0x41, 0, 0, 0, 0x1e, //
                255, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 0, 0x1e, //
                255, 0, 0, 1, 0, 0, 0xff, 0x53, 0, 0, 0, 0xcd, //
                255, 0, 0, 0, 0, 0, 0xff, 0x53, 0, 0, 0, 0xcd,
            ]
        );
    }

    #[test]
    fn led_bits() {
        let s = LedState::from_bits(0xf8 | 0b101);
        assert!(s.scroll_lock && !s.num_lock && s.caps_lock);
        assert_eq!(s.bits(), 0b101);
        assert_eq!(LedState::from_bits(2).bits(), 2);
    }
}
