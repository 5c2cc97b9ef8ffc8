//! DOM `code` → XT scancode (PC/AT set 1), for the QEMU Extended Key Event, which lets the
//! server apply its own keyboard layout to physical keys.
//!
//! The table is generated from keycodemapdb's `keymaps.csv` (the database QEMU builds its own
//! tables from); see `xtask/data/keycodemapdb/PROVENANCE.md`.

use crate::generated::xt::CODE_TO_XT;

/// The XT (set 1) scancode of the physical key `code` names: `0x00xx` for plain keys,
/// `0xE0xx` for extended ones (right Ctrl/Alt, the navigation block, the keypad's Enter and
/// `/`). `Pause` is `0xE046`, the code QEMU uses for it. Legacy Firefox names `OSLeft` and
/// `OSRight` are accepted for the Meta keys.
///
/// ```
/// use rfb_keysym::xt_scancode;
/// assert_eq!(xt_scancode("KeyA"), Some(0x1e));
/// assert_eq!(xt_scancode("AltRight"), Some(0xe038));
/// assert_eq!(xt_scancode("NoSuchKey"), None);
/// ```
pub fn xt_scancode(code: &str) -> Option<u16> {
    let code = match code {
        "OSLeft" => "MetaLeft",
        "OSRight" => "MetaRight",
        other => other,
    };
    CODE_TO_XT
        .binary_search_by(|&(c, _)| c.cmp(code))
        .ok()
        .map(|i| CODE_TO_XT[i].1)
}

/// Every DOM `code` the table knows, in byte order (for tests and tools).
pub fn known_codes() -> impl Iterator<Item = &'static str> {
    CODE_TO_XT.iter().map(|&(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_scancodes() {
        // Values from the IBM PC/AT set 1 layout, as QEMU's keyboard emulation expects.
        let cases = [
            ("Escape", 0x01),
            ("Digit1", 0x02),
            ("Backspace", 0x0e),
            ("Tab", 0x0f),
            ("KeyQ", 0x10),
            ("Enter", 0x1c),
            ("ControlLeft", 0x1d),
            ("ShiftLeft", 0x2a),
            ("Backslash", 0x2b),
            ("ShiftRight", 0x36),
            ("AltLeft", 0x38),
            ("Space", 0x39),
            ("CapsLock", 0x3a),
            ("F1", 0x3b),
            ("NumLock", 0x45),
            ("ScrollLock", 0x46),
            ("Numpad7", 0x47),
            ("NumpadDecimal", 0x53),
            ("IntlBackslash", 0x56),
            ("F11", 0x57),
            ("F12", 0x58),
            ("NumpadEnter", 0xe01c),
            ("ControlRight", 0xe01d),
            ("NumpadDivide", 0xe035),
            ("PrintScreen", 0x54),
            ("AltRight", 0xe038),
            ("Pause", 0xe046),
            ("Home", 0xe047),
            ("ArrowUp", 0xe048),
            ("PageUp", 0xe049),
            ("ArrowLeft", 0xe04b),
            ("ArrowRight", 0xe04d),
            ("End", 0xe04f),
            ("ArrowDown", 0xe050),
            ("PageDown", 0xe051),
            ("Insert", 0xe052),
            ("Delete", 0xe053),
            ("MetaLeft", 0xe05b),
            ("OSLeft", 0xe05b),
            ("MetaRight", 0xe05c),
            ("ContextMenu", 0xe05d),
            ("IntlRo", 0x73),
            ("IntlYen", 0x7d),
            ("Convert", 0x79),
            ("NonConvert", 0x7b),
            ("KanaMode", 0x70),
        ];
        for (code, want) in cases {
            assert_eq!(xt_scancode(code), Some(want), "{code}");
        }
    }

    #[test]
    fn table_is_sorted_unique_and_well_formed() {
        assert!(CODE_TO_XT.windows(2).all(|w| w[0].0 < w[1].0));
        for &(code, sc) in CODE_TO_XT.iter() {
            let (prefix, low) = (sc >> 8, sc & 0xff);
            assert!(prefix == 0 || prefix == 0xe0, "{code}: {sc:#x}");
            // Lang1/Lang2 (Korean Hangul/Hanja) are the two keys whose make code has bit 7 set.
            let special = code == "Lang1" || code == "Lang2";
            assert!(low != 0 && (low < 0x80 || special), "{code}: {sc:#x}");
        }
        assert!(CODE_TO_XT.len() > 150);
    }

    #[test]
    fn unknown_and_empty() {
        assert_eq!(xt_scancode(""), None);
        assert_eq!(xt_scancode("Unidentified"), None);
        assert_eq!(xt_scancode("keya"), None);
        assert_eq!(xt_scancode("\u{fffd}"), None);
    }
}
