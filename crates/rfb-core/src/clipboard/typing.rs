//! Paste as keystrokes: a string turned into KeyEvent presses and releases, for servers that
//! have no clipboard (QEMU's VNC server).
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#keyevent>
//!
//! Keysym-based servers (Xvnc, x11vnc) choose modifiers themselves from the keysym. QEMU
//! instead turns each keysym into a scancode through its keymap (`-k en-us` by default) and
//! passes the client's modifier state through unchanged, so an uppercase letter typed without
//! Shift arrives as lowercase. The plan therefore wraps every character that needs Shift on a
//! US keyboard (A–Z and ``~!@#$%^&*()_+{}|:"<>?``) in Shift_L press/release; Xvnc accepts the
//! explicit Shift as well, since the keysym it is given already is the shifted one. Other
//! layouts on QEMU may need other modifiers; that is outside what a keysym stream can say.
//! `cli/tests/clipboard.rs` shows both on real peers: plain KeyEvents for `A` and `!` reach a
//! QEMU guest as `a` and `1`, and the planned keystrokes type exactly into QEMU and into an
//! xterm on Xvnc.

/// Return (0xff0d).
pub const KEYSYM_RETURN: u32 = 0xff0d;
/// Tab (0xff09).
pub const KEYSYM_TAB: u32 = 0xff09;
/// Shift_L (0xffe1).
pub const KEYSYM_SHIFT_L: u32 = 0xffe1;

/// One KeyEvent to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keystroke {
    /// The X keysym.
    pub keysym: u32,
    /// Press (true) or release.
    pub down: bool,
}

/// True for characters typed with Shift on a US keyboard.
fn needs_us_shift(c: char) -> bool {
    c.is_ascii_uppercase() || "~!@#$%^&*()_+{}|:\"<>?".contains(c)
}

/// The keystrokes that type `text`, and how many characters were skipped because `keysym_of`
/// returned 0 for them. LF, CRLF and a lone CR each become one Return; tab becomes Tab; every
/// other character is pressed and released as `keysym_of(c)`, inside Shift_L when a US
/// keyboard needs Shift for it.
pub fn keystrokes(text: &str, keysym_of: &dyn Fn(char) -> u32) -> (Vec<Keystroke>, usize) {
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut skipped = 0;
    let mut chars = text.chars().peekable();
    let tap = |out: &mut Vec<Keystroke>, keysym: u32| {
        out.push(Keystroke { keysym, down: true });
        out.push(Keystroke {
            keysym,
            down: false,
        });
    };
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                tap(&mut out, KEYSYM_RETURN);
            }
            '\n' => tap(&mut out, KEYSYM_RETURN),
            '\t' => tap(&mut out, KEYSYM_TAB),
            c => {
                let keysym = keysym_of(c);
                if keysym == 0 {
                    skipped += 1;
                    continue;
                }
                let shift = needs_us_shift(c);
                if shift {
                    out.push(Keystroke {
                        keysym: KEYSYM_SHIFT_L,
                        down: true,
                    });
                }
                tap(&mut out, keysym);
                if shift {
                    out.push(Keystroke {
                        keysym: KEYSYM_SHIFT_L,
                        down: false,
                    });
                }
            }
        }
    }
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latin1(c: char) -> u32 {
        let v = u32::from(c);
        if (0x20..=0x7e).contains(&v) || (0xa0..=0xff).contains(&v) {
            v
        } else {
            0
        }
    }

    fn k(keysym: u32, down: bool) -> Keystroke {
        Keystroke { keysym, down }
    }

    #[test]
    fn plan() {
        let (keys, skipped) = keystrokes("aB\r\n\t!\u{2713}", &latin1);
        assert_eq!(skipped, 1);
        assert_eq!(
            keys,
            [
                k(0x61, true),
                k(0x61, false),
                k(KEYSYM_SHIFT_L, true),
                k(0x42, true),
                k(0x42, false),
                k(KEYSYM_SHIFT_L, false),
                k(KEYSYM_RETURN, true),
                k(KEYSYM_RETURN, false),
                k(KEYSYM_TAB, true),
                k(KEYSYM_TAB, false),
                k(KEYSYM_SHIFT_L, true),
                k(0x21, true),
                k(0x21, false),
                k(KEYSYM_SHIFT_L, false),
            ]
        );
    }
}
