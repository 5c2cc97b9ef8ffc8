//! Keysym names as `keysymdef.h` spells them (without `XK_`; vendor keysyms keep `XF86`), the
//! names `XStringToKeysym` accepts.

use crate::generated::keysyms::{BY_NAME, NAME_BY_VALUE};
use crate::unicode::UNICODE_OFFSET;

/// The keysym called `name`, case-sensitively as in X (`a` and `A` differ).
///
/// Besides the names in `keysymdef.h` and `XF86keysym.h`, accepts X's algorithmic forms:
/// `U20AC` (a Unicode character: U+0020–U+007E and U+00A0–U+10FFFF, Latin-1 giving the
/// Latin-1 keysym) and `0x1008ff12` (a raw value up to 0x1fffffff, the 29 bits keysyms have).
///
/// ```
/// use rfb_keysym::keysym_from_name;
/// assert_eq!(keysym_from_name("Return"), Some(0xff0d));
/// assert_eq!(keysym_from_name("XF86AudioMute"), Some(0x1008ff12));
/// assert_eq!(keysym_from_name("U1F600"), Some(0x0101f600));
/// assert_eq!(keysym_from_name("NoSuchKey"), None);
/// ```
pub fn keysym_from_name(name: &str) -> Option<u32> {
    if let Ok(i) = BY_NAME.binary_search_by(|&(n, _)| n.cmp(name)) {
        return Some(BY_NAME[i].1);
    }
    if let Some(hex) = name.strip_prefix('U') {
        let cp = parse_hex(hex)?;
        return match cp {
            0x20..=0x7e | 0xa0..=0xff => Some(cp),
            0x100..=0x10ffff if char::from_u32(cp).is_some() => Some(UNICODE_OFFSET + cp),
            _ => None,
        };
    }
    if let Some(hex) = name.strip_prefix("0x") {
        return parse_hex(hex).filter(|&v| v <= 0x1fff_ffff);
    }
    None
}

/// Strict hexadecimal: 1–8 digits, nothing else (no sign, no spaces).
fn parse_hex(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// The preferred name of a keysym: the first one `keysymdef.h` lists that is not marked
/// deprecated or an alias (`0xff7e` is `Mode_switch`, not `script_switch`).
///
/// Unicode keysyms without a legacy name give `None` (X would print `U+xxxx` style names,
/// which are not `'static`; format them yourself as `format!("U{:04X}", k - 0x01000000)`).
///
/// ```
/// use rfb_keysym::name_of_keysym;
/// assert_eq!(name_of_keysym(0xff0d), Some("Return"));
/// assert_eq!(name_of_keysym(0x0027), Some("apostrophe"));
/// assert_eq!(name_of_keysym(0x1234_5678), None);
/// ```
pub fn name_of_keysym(keysym: u32) -> Option<&'static str> {
    NAME_BY_VALUE
        .binary_search_by_key(&keysym, |&(v, _)| v)
        .ok()
        .map(|i| NAME_BY_VALUE[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_to_its_value() {
        for &(name, value) in BY_NAME.iter() {
            assert_eq!(keysym_from_name(name), Some(value), "{name}");
            let preferred = name_of_keysym(value).unwrap();
            assert_eq!(keysym_from_name(preferred), Some(value));
        }
    }

    #[test]
    fn preferred_names_skip_deprecated_aliases() {
        assert_eq!(name_of_keysym(0xff7e), Some("Mode_switch"));
        assert_eq!(keysym_from_name("script_switch"), Some(0xff7e));
        assert_eq!(name_of_keysym(0x60), Some("grave"));
        assert_eq!(keysym_from_name("quoteleft"), Some(0x60));
        assert_eq!(name_of_keysym(0xfe03), Some("ISO_Level3_Shift"));
    }

    #[test]
    fn algorithmic_forms_and_garbage() {
        assert_eq!(keysym_from_name("U0041"), Some(0x41));
        assert_eq!(keysym_from_name("U20AC"), Some(0x0100_20ac));
        assert_eq!(keysym_from_name("UD800"), None); // surrogate
        assert_eq!(keysym_from_name("U110000"), None);
        assert_eq!(keysym_from_name("U001F"), None);
        assert_eq!(keysym_from_name("0xff0d"), Some(0xff0d));
        assert_eq!(keysym_from_name("0x"), None);
        assert_eq!(keysym_from_name("0x123456789"), None);
        assert_eq!(keysym_from_name("0x+1"), None);
        assert_eq!(keysym_from_name(""), None);
        assert_eq!(keysym_from_name("return"), None); // case-sensitive, as X
        assert_eq!(keysym_from_name("\u{fffd}"), None);
    }
}
