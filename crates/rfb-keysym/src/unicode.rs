//! Characters ↔ keysyms, by the rules of X11 Appendix A and `keysymdef.h`:
//! - Latin-1 printable characters (U+0020–U+007E, U+00A0–U+00FF) are their own keysym;
//! - a character with a legacy keysym that stands for exactly it (a `/* U+xxxx */` comment in
//!   `keysymdef.h`) uses that keysym, which every X server's keymap knows;
//! - every other character is `0x01000000 + code point`, astral planes included (noVNC cannot
//!   send those: it only looks at one UTF-16 unit).

use crate::generated::keysyms::{CHAR_TO_KEYSYM, KEYSYM_TO_CHAR};

/// The first keysym of the Unicode block (`0x01000000 + code point`).
pub const UNICODE_OFFSET: u32 = 0x0100_0000;

/// The keysym that types `c`.
///
/// Control characters with a TTY function keysym map to it (`'\u{8}'` → BackSpace, `'\t'` →
/// Tab, `'\n'` and `'\r'` → Return, `'\u{1b}'` → Escape, `'\u{7f}'` → Delete); other control
/// characters use the `0x01000000 + code point` rule like any character without a legacy
/// keysym, so the function is total.
///
/// ```
/// use rfb_keysym::keysym_from_char;
/// assert_eq!(keysym_from_char('a'), 0x61);
/// assert_eq!(keysym_from_char('€'), 0x20ac); // XK_EuroSign
/// assert_eq!(keysym_from_char('😀'), 0x0101_f600);
/// ```
pub fn keysym_from_char(c: char) -> u32 {
    let cp = u32::from(c);
    match cp {
        0x20..=0x7e | 0xa0..=0xff => cp,
        0x08 | 0x09 | 0x0b | 0x1b => 0xff00 | cp,
        0x0a | 0x0d => 0xff0d,
        0x7f => 0xffff,
        _ => match CHAR_TO_KEYSYM.binary_search_by_key(&cp, |&(c, _)| c) {
            Ok(i) => CHAR_TO_KEYSYM[i].1,
            Err(_) => UNICODE_OFFSET + cp,
        },
    }
}

/// The character a keysym stands for, if any.
///
/// Covers Latin-1, Unicode keysyms (`0x01000100`–`0x0110FFFF`, and the control characters
/// below 0x100 that [`keysym_from_char`] encodes the same way), every legacy keysym with a
/// Unicode mapping in `keysymdef.h` (approximate ones included), the keypad's character keys
/// (`KP_0` → `'0'`, `KP_Add` → `'+'`) and the TTY keys that are characters (BackSpace, Tab,
/// Return, Escape, Delete). Surrogate code points and values past U+10FFFF give `None`.
///
/// ```
/// use rfb_keysym::char_from_keysym;
/// assert_eq!(char_from_keysym(0x01000416), Some('Ж'));
/// assert_eq!(char_from_keysym(0x06f6), Some('Ж')); // XK_Cyrillic_ZHE
/// assert_eq!(char_from_keysym(0x0100d800), None); // a surrogate
/// ```
pub fn char_from_keysym(keysym: u32) -> Option<char> {
    match keysym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(keysym),
        // X reserves 0x01000100.. for Unicode; below that we still decode (leniently) what
        // keysym_from_char produces for C0/C1 control characters.
        0x0100_0000..=0x0110_ffff => char::from_u32(keysym - UNICODE_OFFSET),
        0xff08 | 0xff09 | 0xff0d | 0xff1b => char::from_u32(keysym & 0xff),
        0xffff => Some('\u{7f}'),
        0xff80 => Some(' '),  // KP_Space
        0xff89 => Some('\t'), // KP_Tab
        0xff8d => Some('\r'), // KP_Enter
        0xffbd => Some('='),  // KP_Equal
        0xffaa..=0xffb9 => keypad_char(keysym),
        _ => KEYSYM_TO_CHAR
            .binary_search_by_key(&keysym, |&(k, _)| k)
            .ok()
            .and_then(|i| char::from_u32(KEYSYM_TO_CHAR[i].1)),
    }
}

/// KP_Multiply (0xffaa) … KP_9 (0xffb9): the keypad keys that are characters.
fn keypad_char(keysym: u32) -> Option<char> {
    Some(match keysym {
        0xffaa => '*',
        0xffab => '+',
        0xffac => ',', // KP_Separator
        0xffad => '-',
        0xffae => '.',
        0xffaf => '/',
        0xffb0..=0xffb9 => char::from_u32(u32::from('0') + keysym - 0xffb0)?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_identity_both_ways() {
        for cp in (0x20..=0x7e).chain(0xa0..=0xff) {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(keysym_from_char(c), cp);
            assert_eq!(char_from_keysym(cp), Some(c));
        }
    }

    #[test]
    fn legacy_keysyms_win_over_the_unicode_rule() {
        assert_eq!(keysym_from_char('Ж'), 0x06f6); // Cyrillic_ZHE
        assert_eq!(keysym_from_char('α'), 0x07e1); // Greek_alpha
        assert_eq!(keysym_from_char('あ'), 0x0100_3042); // no legacy hiragana keysym
        assert_eq!(keysym_from_char('ア'), 0x04b1); // kana_A (half-width kana block)
        assert_eq!(keysym_from_char('€'), 0x20ac);
        assert_eq!(keysym_from_char('ő'), 0x01f5); // odoubleacute
    }

    #[test]
    fn astral_plane_and_controls() {
        assert_eq!(keysym_from_char('\u{1f600}'), 0x0101_f600);
        assert_eq!(char_from_keysym(0x0101_f600), Some('\u{1f600}'));
        assert_eq!(keysym_from_char('\u{10ffff}'), 0x0110_ffff);
        assert_eq!(keysym_from_char('\n'), 0xff0d);
        assert_eq!(keysym_from_char('\t'), 0xff09);
        assert_eq!(keysym_from_char('\u{8}'), 0xff08);
        assert_eq!(keysym_from_char('\u{7f}'), 0xffff);
        assert_eq!(keysym_from_char('\u{1}'), 0x0100_0001);
        assert_eq!(char_from_keysym(0x0111_0000), None);
        assert_eq!(char_from_keysym(0x0100_dfff), None);
        assert_eq!(char_from_keysym(0), None);
        assert_eq!(char_from_keysym(u32::MAX), None);
    }

    #[test]
    fn approximate_mappings_only_go_one_way() {
        // XK_leftanglebracket is /*(U+2329 ...)*/: shown as the character, never chosen for it.
        assert_eq!(char_from_keysym(0x0abc), Some('\u{2329}'));
        assert_eq!(keysym_from_char('\u{2329}'), 0x0100_2329);
    }

    #[test]
    fn every_char_round_trips() {
        // Whole Unicode range: keysym_from_char then char_from_keysym gives the character back
        // for everything except the control characters folded into TTY keys.
        for cp in 0..=0x10ffff_u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let back = char_from_keysym(keysym_from_char(c));
            match cp {
                0x0a => assert_eq!(back, Some('\r')),
                0x0b => assert_eq!(back, None), // Clear is a key, not a character
                _ => assert_eq!(back, Some(c), "U+{cp:04X}"),
            }
        }
    }

    #[test]
    fn keypad() {
        assert_eq!(char_from_keysym(0xffb7), Some('7'));
        assert_eq!(char_from_keysym(0xffab), Some('+'));
        assert_eq!(char_from_keysym(0xff80), Some(' '));
        assert_eq!(char_from_keysym(0xffbe), None); // F1
    }
}
