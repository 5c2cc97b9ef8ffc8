//! Small extensions: xvp power control (-309, message 250), ExtendedMouseButtons (-316) and
//! the server-moved pointer position (PointerPos, -232).
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#xvp-client-message>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#extendedmousebuttons-pseudo-encoding>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#pointerevent>. PointerPos
//! (TightVNC's `POINTPOS` capability, listed in the spec's encoding table) is a
//! pseudo-rectangle whose x and y are the pointer position, with no payload.

use crate::client::Client;
use crate::error::Error;
use crate::event::Event;

/// An xvp operation the client can request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XvpAction {
    /// Clean shutdown (XVP_SHUTDOWN, 2).
    Shutdown,
    /// Clean reboot (XVP_REBOOT, 3).
    Reboot,
    /// Abrupt reset (XVP_RESET, 4).
    Reset,
}

impl XvpAction {
    /// The *xvp-message-code*.
    pub const fn code(self) -> u8 {
        match self {
            Self::Shutdown => 2,
            Self::Reboot => 3,
            Self::Reset => 4,
        }
    }
}

/// What an xvp server message said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum XvpMessage {
    /// XVP_INIT (1): power control is available, up to this extension version.
    Init {
        /// Highest version the server supports.
        version: u8,
    },
    /// XVP_FAIL (0): the last requested operation could not be performed.
    Fail {
        /// The version of the failed request.
        version: u8,
    },
    /// A code this client does not know.
    Unknown {
        /// The version field.
        version: u8,
        /// The *xvp-message-code*.
        code: u8,
    },
}

/// xvp client message (250): padding, version 1, message code.
pub fn xvp(out: &mut Vec<u8>, action: XvpAction) {
    out.extend_from_slice(&[250, 0, 1, action.code()]);
}

/// PointerEvent (5) in the extended form: the marker bit 7 set in the mask, then a fifth
/// byte with buttons 8 and up (bit 0 = back, bit 1 = forward).
pub fn extended_pointer_event(out: &mut Vec<u8>, buttons: u16, x: u16, y: u16) {
    out.extend_from_slice(&[5, (buttons as u8 & 0x7f) | 0x80]);
    out.extend_from_slice(&x.to_be_bytes());
    out.extend_from_slice(&y.to_be_bytes());
    out.push((buttons >> 7) as u8);
}

/// Parses a whole xvp server message (type byte first): 4 bytes.
pub(crate) fn parse_xvp(input: &[u8], needed: &mut usize) -> Option<(usize, XvpMessage)> {
    let [_, _, version, code, ..] = *input else {
        *needed = 4;
        return None;
    };
    let m = match code {
        0 => XvpMessage::Fail { version },
        1 => XvpMessage::Init { version },
        code => XvpMessage::Unknown { version, code },
    };
    Some((4, m))
}

/// Per-session state of these extensions.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Extras {
    /// The server acknowledged ExtendedMouseButtons.
    pub extended_mouse: bool,
    /// Highest xvp version the server announced.
    pub xvp_version: Option<u8>,
}

impl Client {
    pub(crate) fn on_xvp(&mut self, m: XvpMessage) {
        if let XvpMessage::Init { version } = m {
            self.ext.extras.xvp_version = Some(version);
        }
        self.events.push_back(Event::Xvp(m));
    }

    pub(crate) fn on_extended_mouse_ack(&mut self) {
        if !self.ext.extras.extended_mouse {
            self.ext.extras.extended_mouse = true;
            self.events.push_back(Event::ExtendedMouseButtons);
        }
    }

    /// Asks the server to shut down, reboot or reset the machine (needs XVP_INIT first, see
    /// [`Event::Xvp`]). A refusal arrives as [`XvpMessage::Fail`].
    pub fn xvp(&mut self, action: XvpAction) -> Result<(), Error> {
        self.require_session()?;
        if self.ext.extras.xvp_version.is_none() {
            return Err(Error::ApiMisuse("the server has not announced xvp"));
        }
        let mut b = Vec::with_capacity(4);
        xvp(&mut b, action);
        self.queue(&b);
        Ok(())
    }

    /// True once the server acknowledged ExtendedMouseButtons.
    pub fn extended_mouse_buttons(&self) -> bool {
        self.ext.extras.extended_mouse
    }

    /// Sends a pointer event with up to 15 buttons (bit 0 = button 1 … bit 7 = back,
    /// bit 8 = forward). Buttons 8 and up are sent with the extended PointerEvent only when
    /// the server acknowledged ExtendedMouseButtons; otherwise those bits are dropped and bit
    /// 7 keeps its legacy meaning (button 8). Coordinates are clamped to the framebuffer.
    pub fn send_pointer_buttons(&mut self, buttons: u16, x: u16, y: u16) -> Result<(), Error> {
        if !self.ext.extras.extended_mouse || buttons >> 7 == 0 {
            return self.send_pointer(buttons as u8, x, y);
        }
        self.require_session()?;
        let x = x.min(self.width.saturating_sub(1));
        let y = y.min(self.height.saturating_sub(1));
        let mut b = Vec::with_capacity(7);
        extended_pointer_event(&mut b, buttons, x, y);
        self.queue(&b);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden vectors from the xvp and extended PointerEvent tables.
    #[test]
    fn xvp_bytes() {
        let mut b = Vec::new();
        xvp(&mut b, XvpAction::Shutdown);
        xvp(&mut b, XvpAction::Reboot);
        xvp(&mut b, XvpAction::Reset);
        assert_eq!(b, [250, 0, 1, 2, 250, 0, 1, 3, 250, 0, 1, 4]);
    }

    #[test]
    fn extended_pointer_bytes() {
        let mut b = Vec::new();
        // Left + back (bit 7) + forward (bit 8).
        extended_pointer_event(&mut b, 0b1_1000_0001, 300, 2);
        assert_eq!(b, [5, 0x81, 1, 44, 0, 2, 0b11]);
    }

    #[test]
    fn xvp_parsing() {
        let mut n = 0;
        assert_eq!(parse_xvp(&[250, 0, 1], &mut n), None);
        assert_eq!(n, 4);
        assert_eq!(
            parse_xvp(&[250, 0, 1, 1], &mut n),
            Some((4, XvpMessage::Init { version: 1 }))
        );
        assert_eq!(
            parse_xvp(&[250, 0, 1, 0], &mut n),
            Some((4, XvpMessage::Fail { version: 1 }))
        );
        assert_eq!(
            parse_xvp(&[250, 0, 2, 9], &mut n),
            Some((
                4,
                XvpMessage::Unknown {
                    version: 2,
                    code: 9
                }
            ))
        );
    }
}
