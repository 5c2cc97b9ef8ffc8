//! Platform rules, each with the browser behaviour it corrects.

// Keysym constants keep the names X gives them (`XK_Zenkaku`), which patterns must use.
#![allow(non_upper_case_globals)]

use std::time::Duration;

use super::Platform;
use crate::generated::keysyms::*;

/// Windows reports AltGr as a left Ctrl press followed by an AltRight press with (nearly) the
/// same timestamp. A ControlLeft press followed by AltRight within this window is AltGr.
pub const ALTGR_WINDOW: Duration = Duration::from_millis(50);

/// How long a ControlLeft press on Windows is held back waiting for AltRight; after this it
/// is sent as the Ctrl it was. Long enough to outlast [`ALTGR_WINDOW`] under event-loop
/// jitter, short enough that Ctrl held alone reaches the server before a user notices.
pub const ALTGR_WAIT: Duration = Duration::from_millis(100);

/// Keys whose release the browser never reports, so the press is sent as press+release.
///
/// - Windows: the Japanese IME keys (Zenkaku/Hankaku, Eisu, Katakana, Hiragana, Romaji,
///   KanaMode) get no keyup.
/// - macOS/iOS: while Cmd is held, other keys get no keyup; Caps Lock reports each state
///   change as a single keydown or keyup.
pub(super) fn no_release(platform: Platform, key: &str, keysym: u32, cmd_held: bool) -> bool {
    match platform {
        Platform::Windows => matches!(
            keysym,
            XK_Zenkaku_Hankaku
                | XK_Hiragana_Katakana
                | XK_Eisu_toggle
                | XK_Zenkaku
                | XK_Hankaku
                | XK_Romaji
                | XK_Hiragana
                | XK_Katakana
                | XK_Kana_Shift
        ),
        Platform::MacOs | Platform::Ios => {
            keysym == XK_Caps_Lock || (cmd_held && !is_modifier(key, keysym))
        }
        _ => false,
    }
}

/// Windows reports one physical key under two names depending on IME state; the server has
/// one key for each, so both names map to it: Zenkaku / Hankaku → `Zenkaku_Hankaku`;
/// Romaji / KanaMode / Hiragana / Katakana → `Hiragana_Katakana` (the JIS key right of
/// the space bar).
pub(super) fn merge_windows_ime_key(keysym: u32) -> u32 {
    match keysym {
        XK_Zenkaku | XK_Hankaku => XK_Zenkaku_Hankaku,
        XK_Romaji | XK_Kana_Shift | XK_Hiragana | XK_Katakana => XK_Hiragana_Katakana,
        other => other,
    }
}

/// The macOS convention of RealVNC and TigerVNC's viewers: left Cmd → Alt_L, right Cmd →
/// Super_L, left Option → Mode_switch, right Option → ISO_Level3_Shift.
pub(super) fn mac_modifier(keysym: u32) -> u32 {
    match keysym {
        XK_Super_L => XK_Alt_L,
        XK_Super_R => XK_Super_L,
        XK_Alt_L => XK_Mode_switch,
        XK_Alt_R => XK_ISO_Level3_Shift,
        other => other,
    }
}

/// Modifier keys (they never lose their release to Cmd).
fn is_modifier(key: &str, keysym: u32) -> bool {
    matches!(
        key,
        "Shift" | "Control" | "Alt" | "AltGraph" | "Meta" | "Super" | "Hyper" | "OS" | "Fn"
    ) || (XK_Shift_L..=XK_Hyper_R).contains(&keysym)
        || keysym == XK_Mode_switch
        || keysym == XK_ISO_Level3_Shift
}
