//! Every named key of the UI Events key list, and printable keys of several layouts as
//! browsers report them. Expected keysyms are written by name or value here, from the
//! keysymdef.h comments, not computed by the code under test.

use super::*;
use crate::keysym_from_name;

fn ks(name: &str) -> u32 {
    keysym_from_name(name).unwrap_or_else(|| panic!("no keysym named {name}"))
}

/// (key, location, keysym name or None when X has no keysym for it).
/// All key values of <https://www.w3.org/TR/uievents-key/>, by section.
const NAMED: &[(&str, Location, Option<&str>)] = &[
    // 3.2 Modifier keys.
    ("Alt", Location::Left, Some("Alt_L")),
    ("Alt", Location::Right, Some("Alt_R")),
    ("Alt", Location::Standard, Some("Alt_L")),
    ("AltGraph", Location::Right, Some("ISO_Level3_Shift")),
    ("CapsLock", Location::Standard, Some("Caps_Lock")),
    ("Control", Location::Left, Some("Control_L")),
    ("Control", Location::Right, Some("Control_R")),
    ("Fn", Location::Standard, Some("XF86Fn")),
    ("FnLock", Location::Standard, None),
    ("Hyper", Location::Left, Some("Hyper_L")),
    ("Hyper", Location::Right, Some("Hyper_R")),
    ("Meta", Location::Left, Some("Super_L")),
    ("Meta", Location::Right, Some("Super_R")),
    ("NumLock", Location::Standard, Some("Num_Lock")),
    ("ScrollLock", Location::Standard, Some("Scroll_Lock")),
    ("Shift", Location::Left, Some("Shift_L")),
    ("Shift", Location::Right, Some("Shift_R")),
    ("Super", Location::Left, Some("Super_L")),
    ("Super", Location::Right, Some("Super_R")),
    ("Symbol", Location::Standard, None),
    ("SymbolLock", Location::Standard, None),
    ("OS", Location::Left, Some("Super_L")), // Firefox < 118
    // 3.3 Whitespace.
    ("Enter", Location::Standard, Some("Return")),
    ("Enter", Location::Numpad, Some("KP_Enter")),
    ("Tab", Location::Standard, Some("Tab")),
    // 3.4 Navigation.
    ("ArrowDown", Location::Standard, Some("Down")),
    ("ArrowLeft", Location::Standard, Some("Left")),
    ("ArrowRight", Location::Standard, Some("Right")),
    ("ArrowUp", Location::Standard, Some("Up")),
    ("End", Location::Standard, Some("End")),
    ("Home", Location::Standard, Some("Home")),
    ("PageDown", Location::Standard, Some("Next")),
    ("PageUp", Location::Standard, Some("Prior")),
    ("ArrowDown", Location::Numpad, Some("KP_Down")),
    ("ArrowLeft", Location::Numpad, Some("KP_Left")),
    ("ArrowRight", Location::Numpad, Some("KP_Right")),
    ("ArrowUp", Location::Numpad, Some("KP_Up")),
    ("End", Location::Numpad, Some("KP_End")),
    ("Home", Location::Numpad, Some("KP_Home")),
    ("PageDown", Location::Numpad, Some("KP_Next")),
    ("PageUp", Location::Numpad, Some("KP_Prior")),
    // 3.5 Editing.
    ("Backspace", Location::Standard, Some("BackSpace")),
    ("Clear", Location::Standard, Some("Clear")),
    ("Clear", Location::Numpad, Some("KP_Begin")),
    ("Copy", Location::Standard, Some("XF86Copy")),
    ("CrSel", Location::Standard, Some("3270_CursorSelect")),
    ("Cut", Location::Standard, Some("XF86Cut")),
    ("Delete", Location::Standard, Some("Delete")),
    ("Delete", Location::Numpad, Some("KP_Delete")),
    ("EraseEof", Location::Standard, Some("3270_EraseEOF")),
    ("ExSel", Location::Standard, Some("3270_ExSelect")),
    ("Insert", Location::Standard, Some("Insert")),
    ("Insert", Location::Numpad, Some("KP_Insert")),
    ("Paste", Location::Standard, Some("XF86Paste")),
    ("Redo", Location::Standard, Some("Redo")),
    ("Undo", Location::Standard, Some("Undo")),
    // 3.6 UI.
    ("Accept", Location::Standard, None),
    ("Again", Location::Standard, Some("Redo")),
    ("Attn", Location::Standard, Some("3270_Attn")),
    ("Cancel", Location::Standard, Some("Cancel")),
    ("ContextMenu", Location::Standard, Some("Menu")),
    ("Escape", Location::Standard, Some("Escape")),
    ("Execute", Location::Standard, Some("Execute")),
    ("Find", Location::Standard, Some("Find")),
    ("Finish", Location::Standard, None),
    ("Help", Location::Standard, Some("Help")),
    ("Pause", Location::Standard, Some("Pause")),
    ("Play", Location::Standard, Some("3270_Play")),
    ("Props", Location::Standard, None),
    ("Select", Location::Standard, Some("Select")),
    ("ZoomIn", Location::Standard, Some("XF86ZoomIn")),
    ("ZoomOut", Location::Standard, Some("XF86ZoomOut")),
    // 3.7 Device.
    (
        "BrightnessDown",
        Location::Standard,
        Some("XF86MonBrightnessDown"),
    ),
    (
        "BrightnessUp",
        Location::Standard,
        Some("XF86MonBrightnessUp"),
    ),
    ("Eject", Location::Standard, Some("XF86Eject")),
    ("LogOff", Location::Standard, Some("XF86LogOff")),
    ("Power", Location::Standard, Some("XF86PowerOff")),
    ("PowerOff", Location::Standard, Some("XF86PowerDown")),
    ("PrintScreen", Location::Standard, Some("Print")),
    ("Hibernate", Location::Standard, Some("XF86Hibernate")),
    ("Standby", Location::Standard, Some("XF86Standby")),
    ("WakeUp", Location::Standard, Some("XF86WakeUp")),
    // 3.8 IME and composition (Dead and Process are tested separately).
    (
        "AllCandidates",
        Location::Standard,
        Some("MultipleCandidate"),
    ),
    ("Alphanumeric", Location::Standard, Some("Eisu_toggle")),
    ("CodeInput", Location::Standard, Some("Codeinput")),
    ("Compose", Location::Standard, Some("Multi_key")),
    ("Convert", Location::Standard, Some("Henkan")),
    ("FinalMode", Location::Standard, None),
    ("GroupFirst", Location::Standard, Some("ISO_First_Group")),
    ("GroupLast", Location::Standard, Some("ISO_Last_Group")),
    ("GroupNext", Location::Standard, Some("ISO_Next_Group")),
    ("GroupPrevious", Location::Standard, Some("ISO_Prev_Group")),
    ("ModeChange", Location::Standard, Some("Mode_switch")),
    ("NextCandidate", Location::Standard, None),
    ("NonConvert", Location::Standard, Some("Muhenkan")),
    (
        "PreviousCandidate",
        Location::Standard,
        Some("PreviousCandidate"),
    ),
    (
        "SingleCandidate",
        Location::Standard,
        Some("SingleCandidate"),
    ),
    ("HangulMode", Location::Standard, Some("Hangul")),
    ("HanjaMode", Location::Standard, Some("Hangul_Hanja")),
    ("JunjaMode", Location::Standard, Some("Hangul_Jeonja")),
    ("Eisu", Location::Standard, Some("Eisu_toggle")),
    ("Hankaku", Location::Standard, Some("Hankaku")),
    ("Hiragana", Location::Standard, Some("Hiragana")),
    (
        "HiraganaKatakana",
        Location::Standard,
        Some("Hiragana_Katakana"),
    ),
    ("KanaMode", Location::Standard, Some("Kana_Shift")),
    ("KanjiMode", Location::Standard, Some("Kanji")),
    ("Katakana", Location::Standard, Some("Katakana")),
    ("Romaji", Location::Standard, Some("Romaji")),
    ("Zenkaku", Location::Standard, Some("Zenkaku")),
    (
        "ZenkakuHankaku",
        Location::Standard,
        Some("Zenkaku_Hankaku"),
    ),
    // 3.9 General-purpose function keys.
    ("F1", Location::Standard, Some("F1")),
    ("F12", Location::Standard, Some("F12")),
    ("F13", Location::Standard, Some("F13")),
    ("F24", Location::Standard, Some("F24")),
    ("F35", Location::Standard, Some("F35")),
    ("F36", Location::Standard, None),
    ("F0", Location::Standard, None),
    ("F01", Location::Standard, None),
    ("Soft1", Location::Standard, None),
    ("Soft4", Location::Standard, None),
    // 3.10 Multimedia.
    ("ChannelDown", Location::Standard, Some("XF86ChannelDown")),
    ("ChannelUp", Location::Standard, Some("XF86ChannelUp")),
    ("Close", Location::Standard, Some("XF86Close")),
    ("MailForward", Location::Standard, Some("XF86MailForward")),
    ("MailReply", Location::Standard, Some("XF86Reply")),
    ("MailSend", Location::Standard, Some("XF86Send")),
    ("MediaClose", Location::Standard, None),
    (
        "MediaFastForward",
        Location::Standard,
        Some("XF86AudioForward"),
    ),
    ("MediaPause", Location::Standard, Some("XF86AudioPause")),
    ("MediaPlay", Location::Standard, Some("XF86AudioPlay")),
    ("MediaPlayPause", Location::Standard, Some("XF86AudioPlay")),
    ("MediaRecord", Location::Standard, Some("XF86AudioRecord")),
    ("MediaRewind", Location::Standard, Some("XF86AudioRewind")),
    ("MediaStop", Location::Standard, Some("XF86AudioStop")),
    ("MediaTrackNext", Location::Standard, Some("XF86AudioNext")),
    (
        "MediaTrackPrevious",
        Location::Standard,
        Some("XF86AudioPrev"),
    ),
    ("New", Location::Standard, Some("XF86New")),
    ("Open", Location::Standard, Some("XF86Open")),
    ("Print", Location::Standard, Some("Print")),
    ("Save", Location::Standard, Some("XF86Save")),
    ("SpellCheck", Location::Standard, Some("XF86Spell")),
    ("Key11", Location::Standard, None),
    ("Key12", Location::Standard, None),
    // 3.11 Audio.
    ("AudioBalanceLeft", Location::Standard, None),
    ("AudioBalanceRight", Location::Standard, None),
    ("AudioBassBoostDown", Location::Standard, None),
    ("AudioBassBoostToggle", Location::Standard, None),
    ("AudioBassBoostUp", Location::Standard, None),
    ("AudioFaderFront", Location::Standard, None),
    ("AudioFaderRear", Location::Standard, None),
    ("AudioSurroundModeNext", Location::Standard, None),
    ("AudioTrebleDown", Location::Standard, None),
    ("AudioTrebleUp", Location::Standard, None),
    (
        "AudioVolumeDown",
        Location::Standard,
        Some("XF86AudioLowerVolume"),
    ),
    (
        "AudioVolumeUp",
        Location::Standard,
        Some("XF86AudioRaiseVolume"),
    ),
    ("AudioVolumeMute", Location::Standard, Some("XF86AudioMute")),
    ("MicrophoneToggle", Location::Standard, None),
    ("MicrophoneVolumeDown", Location::Standard, None),
    ("MicrophoneVolumeUp", Location::Standard, None),
    (
        "MicrophoneVolumeMute",
        Location::Standard,
        Some("XF86AudioMicMute"),
    ),
    // 3.12 Speech.
    ("SpeechCorrectionList", Location::Standard, None),
    ("SpeechInputToggle", Location::Standard, None),
    // 3.13 Application.
    (
        "LaunchApplication1",
        Location::Standard,
        Some("XF86MyComputer"),
    ),
    (
        "LaunchApplication2",
        Location::Standard,
        Some("XF86Calculator"),
    ),
    ("LaunchCalendar", Location::Standard, Some("XF86Calendar")),
    ("LaunchContacts", Location::Standard, None),
    ("LaunchMail", Location::Standard, Some("XF86Mail")),
    (
        "LaunchMediaPlayer",
        Location::Standard,
        Some("XF86AudioMedia"),
    ),
    ("LaunchMusicPlayer", Location::Standard, Some("XF86Music")),
    ("LaunchPhone", Location::Standard, Some("XF86Phone")),
    (
        "LaunchScreenSaver",
        Location::Standard,
        Some("XF86ScreenSaver"),
    ),
    ("LaunchSpreadsheet", Location::Standard, Some("XF86Excel")),
    ("LaunchWebBrowser", Location::Standard, Some("XF86WWW")),
    ("LaunchWebCam", Location::Standard, Some("XF86WebCam")),
    ("LaunchWordProcessor", Location::Standard, Some("XF86Word")),
    // 3.14 Browser.
    ("BrowserBack", Location::Standard, Some("XF86Back")),
    (
        "BrowserFavorites",
        Location::Standard,
        Some("XF86Favorites"),
    ),
    ("BrowserForward", Location::Standard, Some("XF86Forward")),
    ("BrowserHome", Location::Standard, Some("XF86HomePage")),
    ("BrowserRefresh", Location::Standard, Some("XF86Refresh")),
    ("BrowserSearch", Location::Standard, Some("XF86Search")),
    ("BrowserStop", Location::Standard, Some("XF86Stop")),
    // 3.15 Mobile phone (no X keysyms).
    ("AppSwitch", Location::Standard, None),
    ("Call", Location::Standard, None),
    ("Camera", Location::Standard, None),
    ("CameraFocus", Location::Standard, None),
    ("EndCall", Location::Standard, None),
    ("GoBack", Location::Standard, None),
    ("GoHome", Location::Standard, None),
    ("HeadsetHook", Location::Standard, None),
    ("LastNumberRedial", Location::Standard, None),
    ("Notification", Location::Standard, None),
    ("MannerMode", Location::Standard, None),
    ("VoiceDial", Location::Standard, None),
    // 3.16 TV and 3.17 media controller: the ones X names.
    ("TV", Location::Standard, None),
    ("TVPower", Location::Standard, None),
    ("ColorF0Red", Location::Standard, Some("XF86Red")),
    ("ColorF1Green", Location::Standard, Some("XF86Green")),
    ("ColorF2Yellow", Location::Standard, Some("XF86Yellow")),
    ("ColorF3Blue", Location::Standard, Some("XF86Blue")),
    ("ColorF4Grey", Location::Standard, None),
    ("Dimmer", Location::Standard, Some("XF86MonBrightnessDown")),
    ("Info", Location::Standard, Some("XF86Info")),
    ("Subtitle", Location::Standard, Some("XF86Subtitle")),
    ("Guide", Location::Standard, None),
    ("Settings", Location::Standard, None),
];

#[test]
fn every_named_key() {
    for &(key, location, want) in NAMED {
        // With no usable code, the key alone decides.
        let got = resolve(key, "", location);
        match want {
            Some(name) => assert_eq!(got, Ok(Resolved::Keysym(ks(name))), "{key} {location:?}"),
            None => assert_eq!(got, Err(DropReason::NoKeysym), "{key}"),
        }
    }
}

#[test]
fn code_decides_the_side_over_location() {
    // Safari reports right Cmd with the left location; the code is right.
    assert_eq!(
        resolve("Meta", "MetaRight", Location::Left),
        Ok(Resolved::Keysym(ks("Super_R")))
    );
    assert_eq!(
        resolve("Shift", "ShiftRight", Location::Standard),
        Ok(Resolved::Keysym(ks("Shift_R")))
    );
    // Meta reported on the physical Alt key (Linux Shift+Alt).
    assert_eq!(
        resolve("Meta", "AltLeft", Location::Left),
        Ok(Resolved::Keysym(ks("Meta_L")))
    );
    assert_eq!(
        resolve("Meta", "AltRight", Location::Right),
        Ok(Resolved::Keysym(ks("Meta_R")))
    );
}

#[test]
fn numpad_with_and_without_num_lock() {
    let cases = [
        ("7", "Numpad7", "KP_7"),
        ("0", "Numpad0", "KP_0"),
        (".", "NumpadDecimal", "KP_Decimal"),
        (",", "NumpadDecimal", "KP_Separator"), // German layout
        ("*", "NumpadMultiply", "KP_Multiply"),
        ("+", "NumpadAdd", "KP_Add"),
        ("-", "NumpadSubtract", "KP_Subtract"),
        ("/", "NumpadDivide", "KP_Divide"),
        ("=", "NumpadEqual", "KP_Equal"),
        ("Enter", "NumpadEnter", "KP_Enter"),
        ("Home", "Numpad7", "KP_Home"),
        ("Clear", "Numpad5", "KP_Begin"),
        ("Delete", "NumpadDecimal", "KP_Delete"),
        ("Insert", "Numpad0", "KP_Insert"),
    ];
    for (key, code, want) in cases {
        assert_eq!(
            resolve(key, code, Location::Numpad),
            Ok(Resolved::Keysym(ks(want))),
            "{key} {code}"
        );
        // The code alone implies the numpad (some browsers report location 0).
        assert_eq!(
            resolve(key, code, Location::Standard),
            Ok(Resolved::Keysym(ks(want)))
        );
    }
    // The main row's digits stay digits.
    assert_eq!(
        resolve("7", "Digit7", Location::Standard),
        Ok(Resolved::Keysym(0x37))
    );
}

#[test]
fn unusable_keys_fall_back_to_layout_independent_codes() {
    let cases = [
        ("Unidentified", "Escape", Some("Escape")),
        ("", "F5", Some("F5")),
        ("Unidentified", "ShiftLeft", Some("Shift_L")),
        ("Unidentified", "MetaRight", Some("Super_R")),
        ("Unidentified", "OSLeft", Some("Super_L")),
        ("Unidentified", "Space", Some("space")),
        ("Unidentified", "NumpadEnter", Some("KP_Enter")),
        ("Unidentified", "NumpadAdd", Some("KP_Add")),
        ("Unidentified", "Sleep", Some("XF86Standby")),
        ("Unidentified", "LaunchApp2", Some("XF86Calculator")),
        ("\u{fffd}", "Tab", Some("Tab")),
        ("\u{0}", "Enter", Some("Return")), // Chrome's NumpadDecimal "\x00" bug, on Enter
        // Layout-dependent physical keys are not guessed.
        ("Unidentified", "KeyA", None),
        ("", "Digit1", None),
        ("", "", None),
        ("Unidentified", "NoSuchCode", None),
    ];
    for (key, code, want) in cases {
        let got = resolve(key, code, Location::Standard);
        match want {
            Some(name) => assert_eq!(got, Ok(Resolved::Keysym(ks(name))), "{key:?} {code}"),
            None => assert!(got.is_err(), "{key:?} {code}: {got:?}"),
        }
    }
    assert_eq!(
        resolve("", "", Location::Standard),
        Err(DropReason::Unidentified)
    );
    assert_eq!(
        resolve("\u{fffd}", "KeyA", Location::Standard),
        Err(DropReason::InvalidKey)
    );
    assert_eq!(
        resolve("\u{7}", "", Location::Standard),
        Err(DropReason::InvalidKey)
    );
}

#[test]
fn dead_process_and_text() {
    assert_eq!(
        resolve("Dead", "BracketLeft", Location::Standard),
        Ok(Resolved::Dead)
    );
    assert_eq!(
        resolve("Process", "KeyA", Location::Standard),
        Ok(Resolved::Composing)
    );
    // A key that types several characters types each of them.
    assert_eq!(
        resolve("ஸ்ரீ", "KeyQ", Location::Standard),
        Ok(Resolved::Text(vec![
            0x0100_0bb8,
            0x0100_0bcd,
            0x0100_0bb0,
            0x0100_0bc0
        ]))
    );
    // An astral character is one key value of two UTF-16 units: one keysym.
    assert_eq!(
        resolve("😀", "", Location::Standard),
        Ok(Resolved::Keysym(0x0101_f600))
    );
    assert_eq!(
        resolve("a\u{fffd}", "KeyA", Location::Standard),
        Err(DropReason::InvalidKey)
    );
}
