//! DOM `KeyboardEvent` values → keysyms.
//!
//! `key` says what the key means under the user's layout (a named key from the UI Events
//! key list, <https://www.w3.org/TR/uievents-key/>, or the characters it types); `code` names
//! the physical key (<https://www.w3.org/TR/uievents-code/>); `location` tells left, right and
//! numpad apart. The keysym comes from `key` (so the client's layout wins, as in noVNC), with
//! the side taken from `code` when it has one (Safari reports right Cmd with the left
//! location) and `code` as the fallback for keys whose `key` is unusable.

use crate::generated::keysyms::*;
use crate::unicode::keysym_from_char;

/// `KeyboardEvent.location`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Location {
    /// `DOM_KEY_LOCATION_STANDARD` (0), and any value a browser invents.
    #[default]
    Standard,
    /// `DOM_KEY_LOCATION_LEFT` (1).
    Left,
    /// `DOM_KEY_LOCATION_RIGHT` (2).
    Right,
    /// `DOM_KEY_LOCATION_NUMPAD` (3).
    Numpad,
}

impl Location {
    /// From the DOM's numeric value; unknown values are `Standard`.
    pub fn from_dom(value: u32) -> Self {
        match value {
            1 => Self::Left,
            2 => Self::Right,
            3 => Self::Numpad,
            _ => Self::Standard,
        }
    }

    /// The location a `code` implies (`ShiftRight` → Right, `Numpad7` → Numpad), if any.
    pub fn from_code(code: &str) -> Option<Self> {
        if code.starts_with("Numpad") {
            Some(Self::Numpad)
        } else if code.ends_with("Left") && code != "ArrowLeft" {
            Some(Self::Left)
        } else if code.ends_with("Right") && code != "ArrowRight" {
            Some(Self::Right)
        } else {
            None
        }
    }
}

/// How a DOM key resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// One keysym for the key.
    Keysym(u32),
    /// The key types several characters at once (a `key` that is a string of more than one
    /// character, e.g. some Indic layouts): type each one.
    Text(Vec<u32>),
    /// A dead key: the character comes later, composed, from the next key or from a
    /// composition event. Only the physical key (scancode) can be forwarded.
    Dead,
    /// An IME is composing (`Process`, or the legacy keyCode 229): text arrives through
    /// composition or input events, not through this key.
    Composing,
}

/// Why a key event produced nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// `key` is empty or `Unidentified` and `code` names no layout-independent key.
    Unidentified,
    /// `key` is a named key with no X keysym (e.g. `Soft1`, `TV`) and `code` gives none either.
    NoKeysym,
    /// `key` contained U+FFFD, the trace of a lone UTF-16 surrogate, or a control character.
    InvalidKey,
    /// A dead key, without a scancode to forward (its character arrives composed later).
    DeadKey,
    /// An IME composition is in progress; the text arrives through composition events.
    Composing,
    /// A key release with no matching press (e.g. the press happened before focus).
    NotPressed,
    /// The release of a key that was already sent as press+release (virtual keyboards,
    /// macOS keys held with Cmd, Windows IME keys).
    AlreadyReleased,
    /// The press is held back (Windows AltGr detection); it is sent or merged shortly.
    Deferred,
    /// The text to type was empty.
    EmptyText,
}

/// The keysym(s) for a DOM key event.
///
/// `key` is `KeyboardEvent.key`, `code` is `KeyboardEvent.code` (`""` when the browser gives
/// none, as virtual keyboards do), `location` is `KeyboardEvent.location`.
///
/// ```
/// use rfb_keysym::dom::{Location, Resolved, resolve};
/// assert_eq!(resolve("a", "KeyA", Location::Standard), Ok(Resolved::Keysym(0x61)));
/// assert_eq!(resolve("Shift", "ShiftRight", Location::Right), Ok(Resolved::Keysym(0xffe2)));
/// assert_eq!(resolve("7", "Numpad7", Location::Numpad), Ok(Resolved::Keysym(0xffb7)));
/// assert_eq!(resolve("Unidentified", "F5", Location::Standard), Ok(Resolved::Keysym(0xffc2)));
/// ```
pub fn resolve(key: &str, code: &str, location: Location) -> Result<Resolved, DropReason> {
    let location = Location::from_code(code).unwrap_or(location);
    let mut chars = key.chars();
    match (chars.next(), chars.next()) {
        (None, _) => return from_code(code).ok_or(DropReason::Unidentified),
        (Some(c), None) => {
            if c == '\u{fffd}' || c.is_control() {
                return from_code(code).ok_or(DropReason::InvalidKey);
            }
            if location == Location::Numpad
                && let Some(k) = numpad_char(c)
            {
                return Ok(Resolved::Keysym(k));
            }
            return Ok(Resolved::Keysym(keysym_from_char(c)));
        }
        _ => {}
    }
    match key {
        "Dead" => return Ok(Resolved::Dead),
        "Process" => return Ok(Resolved::Composing),
        "Unidentified" => return from_code(code).ok_or(DropReason::Unidentified),
        // Chromium/Firefox report Meta on the physical Alt key when the X keymap puts Meta
        // there (Shift+Alt on many Linux layouts): the key is Meta, on Alt's side.
        "Meta" if code == "AltLeft" => return Ok(Resolved::Keysym(XK_Meta_L)),
        "Meta" if code == "AltRight" => return Ok(Resolved::Keysym(XK_Meta_R)),
        _ => {}
    }
    if let Some(k) = named(key, location) {
        return Ok(Resolved::Keysym(k));
    }
    if looks_named(key) {
        return from_code(code).ok_or(DropReason::NoKeysym);
    }
    // A multi-character string the key types.
    if key.chars().any(|c| c == '\u{fffd}' || c.is_control()) {
        return from_code(code).ok_or(DropReason::InvalidKey);
    }
    Ok(Resolved::Text(key.chars().map(keysym_from_char).collect()))
}

/// Named key values are ASCII words starting with a capital letter (`ArrowUp`, `F12`).
fn looks_named(key: &str) -> bool {
    key.len() > 1
        && key.as_bytes()[0].is_ascii_uppercase()
        && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Keypad keys that type characters get the KP_ keysym, so the server sees the keypad.
fn numpad_char(c: char) -> Option<u32> {
    Some(match c {
        '0'..='9' => XK_KP_0 + (u32::from(c) - u32::from('0')),
        '.' => XK_KP_Decimal,
        ',' => XK_KP_Separator,
        '*' => XK_KP_Multiply,
        '+' => XK_KP_Add,
        '-' => XK_KP_Subtract,
        '/' => XK_KP_Divide,
        '=' => XK_KP_Equal,
        _ => return None,
    })
}

/// Keysym for a named key value at a location.
pub(crate) fn named(key: &str, location: Location) -> Option<u32> {
    use Location::{Numpad, Right};
    let side = |left: u32, right: u32| if location == Right { right } else { left };
    let pad = |normal: u32, keypad: u32| if location == Numpad { keypad } else { normal };
    if let Some(n) = key.strip_prefix('F').and_then(|n| n.parse::<u32>().ok())
        && (1..=35).contains(&n)
        && !key[1..].starts_with('0')
    {
        return Some(XK_F1 + n - 1);
    }
    Some(match key {
        // Modifiers.
        "Alt" => side(XK_Alt_L, XK_Alt_R),
        "AltGraph" => XK_ISO_Level3_Shift,
        "CapsLock" => XK_Caps_Lock,
        "Control" => side(XK_Control_L, XK_Control_R),
        "Hyper" => side(XK_Hyper_L, XK_Hyper_R),
        "Meta" | "Super" | "OS" => side(XK_Super_L, XK_Super_R),
        "NumLock" => XK_Num_Lock,
        "ScrollLock" => XK_Scroll_Lock,
        "Shift" => side(XK_Shift_L, XK_Shift_R),
        "Fn" => XF86XK_Fn,
        // Whitespace.
        "Enter" => pad(XK_Return, XK_KP_Enter),
        "Tab" => XK_Tab,
        // Navigation.
        "ArrowDown" => pad(XK_Down, XK_KP_Down),
        "ArrowLeft" => pad(XK_Left, XK_KP_Left),
        "ArrowRight" => pad(XK_Right, XK_KP_Right),
        "ArrowUp" => pad(XK_Up, XK_KP_Up),
        "End" => pad(XK_End, XK_KP_End),
        "Home" => pad(XK_Home, XK_KP_Home),
        "PageDown" => pad(XK_Next, XK_KP_Next),
        "PageUp" => pad(XK_Prior, XK_KP_Prior),
        // Editing.
        "Backspace" => XK_BackSpace,
        "Clear" => pad(XK_Clear, XK_KP_Begin),
        "Copy" => XF86XK_Copy,
        "CrSel" => XK_3270_CursorSelect,
        "Cut" => XF86XK_Cut,
        "Delete" => pad(XK_Delete, XK_KP_Delete),
        "EraseEof" => XK_3270_EraseEOF,
        "ExSel" => XK_3270_ExSelect,
        "Insert" => pad(XK_Insert, XK_KP_Insert),
        "Paste" => XF86XK_Paste,
        "Redo" | "Again" => XK_Redo,
        "Undo" => XK_Undo,
        // UI.
        "Attn" => XK_3270_Attn,
        "Cancel" => XK_Cancel,
        "ContextMenu" => XK_Menu,
        "Escape" => XK_Escape,
        "Execute" => XK_Execute,
        "Find" => XK_Find,
        "Help" => XK_Help,
        "Pause" => XK_Pause,
        "Play" => XK_3270_Play,
        "Select" => XK_Select,
        "ZoomIn" => XF86XK_ZoomIn,
        "ZoomOut" => XF86XK_ZoomOut,
        // Device.
        "BrightnessDown" => XF86XK_MonBrightnessDown,
        "BrightnessUp" => XF86XK_MonBrightnessUp,
        "Eject" => XF86XK_Eject,
        "LogOff" => XF86XK_LogOff,
        "Power" => XF86XK_PowerOff,
        "PowerOff" => XF86XK_PowerDown,
        "PrintScreen" => XK_Print,
        "Hibernate" => XF86XK_Hibernate,
        "Standby" => XF86XK_Standby,
        "WakeUp" => XF86XK_WakeUp,
        // IME and composition.
        "AllCandidates" => XK_MultipleCandidate,
        "Alphanumeric" | "Eisu" => XK_Eisu_toggle,
        "CodeInput" => XK_Codeinput,
        "Compose" => XK_Multi_key,
        "Convert" => XK_Henkan,
        "GroupFirst" => XK_ISO_First_Group,
        "GroupLast" => XK_ISO_Last_Group,
        "GroupNext" => XK_ISO_Next_Group,
        "GroupPrevious" => XK_ISO_Prev_Group,
        "ModeChange" => XK_Mode_switch,
        "NonConvert" => XK_Muhenkan,
        "PreviousCandidate" => XK_PreviousCandidate,
        "SingleCandidate" => XK_SingleCandidate,
        "HangulMode" => XK_Hangul,
        "HanjaMode" => XK_Hangul_Hanja,
        "JunjaMode" => XK_Hangul_Jeonja,
        "Hankaku" => XK_Hankaku,
        "Hiragana" => XK_Hiragana,
        "HiraganaKatakana" => XK_Hiragana_Katakana,
        "KanaMode" => XK_Kana_Shift,
        "KanjiMode" => XK_Kanji,
        "Katakana" => XK_Katakana,
        "Romaji" => XK_Romaji,
        "Zenkaku" => XK_Zenkaku,
        "ZenkakuHankaku" => XK_Zenkaku_Hankaku,
        // Multimedia.
        "Close" => XF86XK_Close,
        "MailForward" => XF86XK_MailForward,
        "MailReply" => XF86XK_Reply,
        "MailSend" => XF86XK_Send,
        "MediaFastForward" => XF86XK_AudioForward,
        "MediaPause" => XF86XK_AudioPause,
        "MediaPlay" | "MediaPlayPause" => XF86XK_AudioPlay,
        "MediaRecord" => XF86XK_AudioRecord,
        "MediaRewind" => XF86XK_AudioRewind,
        "MediaStop" => XF86XK_AudioStop,
        "MediaTrackNext" => XF86XK_AudioNext,
        "MediaTrackPrevious" => XF86XK_AudioPrev,
        "New" => XF86XK_New,
        "Open" => XF86XK_Open,
        "Print" => XK_Print,
        "Save" => XF86XK_Save,
        "SpellCheck" => XF86XK_Spell,
        // Audio.
        "AudioVolumeDown" => XF86XK_AudioLowerVolume,
        "AudioVolumeUp" => XF86XK_AudioRaiseVolume,
        "AudioVolumeMute" => XF86XK_AudioMute,
        "MicrophoneVolumeMute" => XF86XK_AudioMicMute,
        // Applications.
        "LaunchApplication1" => XF86XK_MyComputer,
        "LaunchApplication2" => XF86XK_Calculator,
        "LaunchCalendar" => XF86XK_Calendar,
        "LaunchMail" => XF86XK_Mail,
        "LaunchMediaPlayer" => XF86XK_AudioMedia,
        "LaunchMusicPlayer" => XF86XK_Music,
        "LaunchPhone" => XF86XK_Phone,
        "LaunchScreenSaver" => XF86XK_ScreenSaver,
        "LaunchSpreadsheet" => XF86XK_Excel,
        "LaunchWebBrowser" => XF86XK_WWW,
        "LaunchWebCam" => XF86XK_WebCam,
        "LaunchWordProcessor" => XF86XK_Word,
        // Browser.
        "BrowserBack" => XF86XK_Back,
        "BrowserFavorites" => XF86XK_Favorites,
        "BrowserForward" => XF86XK_Forward,
        "BrowserHome" => XF86XK_HomePage,
        "BrowserRefresh" => XF86XK_Refresh,
        "BrowserSearch" => XF86XK_Search,
        "BrowserStop" => XF86XK_Stop,
        // TV/media keys with an XF86 keysym.
        "ChannelDown" => XF86XK_ChannelDown,
        "ChannelUp" => XF86XK_ChannelUp,
        "ColorF0Red" => XF86XK_Red,
        "ColorF1Green" => XF86XK_Green,
        "ColorF2Yellow" => XF86XK_Yellow,
        "ColorF3Blue" => XF86XK_Blue,
        "Info" => XF86XK_Info,
        "Subtitle" => XF86XK_Subtitle,
        "Dimmer" => XF86XK_MonBrightnessDown,
        _ => return None,
    })
}

/// Layout-independent keys by `code`, for events whose `key` is unusable (virtual keyboards,
/// some remote-desktop and accessibility tools send `Unidentified`). Layout-dependent keys
/// (`KeyA`, `Digit1`, …) give `None`: guessing a US layout would type wrong characters.
pub fn from_code(code: &str) -> Option<Resolved> {
    let (key, location) = match code {
        "Escape" | "Tab" | "Enter" | "Backspace" | "Delete" | "Insert" | "Home" | "End"
        | "PageUp" | "PageDown" | "ArrowUp" | "ArrowDown" | "ArrowLeft" | "ArrowRight"
        | "CapsLock" | "NumLock" | "ScrollLock" | "PrintScreen" | "Pause" | "ContextMenu"
        | "Help" | "Undo" | "Copy" | "Cut" | "Paste" | "Find" | "Select" | "Convert"
        | "NonConvert" | "KanaMode" | "Power" | "Eject" | "WakeUp" | "Sleep" | "Fn" => (
            if code == "Sleep" { "Standby" } else { code },
            Location::Standard,
        ),
        "Space" => return Some(Resolved::Keysym(XK_space)),
        "ShiftLeft" | "ControlLeft" | "AltLeft" | "MetaLeft" | "OSLeft" => {
            (modifier_key(code), Location::Left)
        }
        "ShiftRight" | "ControlRight" | "AltRight" | "MetaRight" | "OSRight" => {
            (modifier_key(code), Location::Right)
        }
        "NumpadEnter" => ("Enter", Location::Numpad),
        "NumpadMultiply" => return Some(Resolved::Keysym(XK_KP_Multiply)),
        "NumpadAdd" => return Some(Resolved::Keysym(XK_KP_Add)),
        "NumpadSubtract" => return Some(Resolved::Keysym(XK_KP_Subtract)),
        "NumpadDivide" => return Some(Resolved::Keysym(XK_KP_Divide)),
        "NumpadEqual" => return Some(Resolved::Keysym(XK_KP_Equal)),
        "AudioVolumeUp" | "AudioVolumeDown" | "AudioVolumeMute" | "MediaTrackNext"
        | "MediaTrackPrevious" | "MediaStop" | "MediaPlayPause" | "BrowserBack"
        | "BrowserForward" | "BrowserHome" | "BrowserRefresh" | "BrowserSearch" | "BrowserStop"
        | "BrowserFavorites" | "LaunchMail" | "LaunchApp1" | "LaunchApp2" => (
            match code {
                "LaunchApp1" => "LaunchApplication1",
                "LaunchApp2" => "LaunchApplication2",
                other => other,
            },
            Location::Standard,
        ),
        f if f.starts_with('F') && named(f, Location::Standard).is_some() => {
            (f, Location::Standard)
        }
        _ => return None,
    };
    named(key, location).map(Resolved::Keysym)
}

/// `ShiftLeft` → `Shift`, `MetaRight`/`OSRight` → `Meta`.
fn modifier_key(code: &str) -> &'static str {
    if code.starts_with("Shift") {
        "Shift"
    } else if code.starts_with("Control") {
        "Control"
    } else if code.starts_with("Alt") {
        "Alt"
    } else {
        "Meta"
    }
}

#[cfg(test)]
mod tests;
