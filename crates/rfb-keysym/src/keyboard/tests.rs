//! State-machine tests: layouts as browsers report them, and each platform quirk with
//! scripted timestamps. Expected keysyms and scancodes are written out, not computed.

use super::*;
use crate::keysym_from_name;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn ks(name: &str) -> u32 {
    keysym_from_name(name).unwrap_or_else(|| panic!("no keysym named {name}"))
}

fn drain(kb: &mut Keyboard) -> Vec<(u32, Option<u16>, bool)> {
    std::iter::from_fn(|| kb.poll_action())
        .map(|a| (a.keysym, a.scancode, a.down))
        .collect()
}

fn down(k: u32, sc: u16) -> (u32, Option<u16>, bool) {
    (k, Some(sc), true)
}

fn up(k: u32, sc: u16) -> (u32, Option<u16>, bool) {
    (k, Some(sc), false)
}

/// One printable key of a layout: (code, key as the browser reports it, keysym, scancode).
type Row = (&'static str, &'static str, u32, u16);

const US: &[Row] = &[
    ("KeyA", "a", 0x61, 0x1e),
    ("KeyA", "A", 0x41, 0x1e),
    ("Digit1", "!", 0x21, 0x02),
    ("Digit2", "@", 0x40, 0x03),
    ("Minus", "_", 0x5f, 0x0c),
    ("Equal", "+", 0x2b, 0x0d),
    ("BracketLeft", "{", 0x7b, 0x1a),
    ("Backslash", "|", 0x7c, 0x2b),
    ("Semicolon", ":", 0x3a, 0x27),
    ("Quote", "\"", 0x22, 0x28),
    ("Backquote", "~", 0x7e, 0x29),
    ("Comma", "<", 0x3c, 0x33),
    ("Slash", "?", 0x3f, 0x35),
    ("Space", " ", 0x20, 0x39),
];

const GERMAN: &[Row] = &[
    ("KeyY", "z", 0x7a, 0x15),
    ("KeyZ", "y", 0x79, 0x2c),
    ("KeyZ", "Y", 0x59, 0x2c),
    ("Minus", "ß", 0xdf, 0x0c),
    ("Minus", "?", 0x3f, 0x0c),
    ("Minus", "\\", 0x5c, 0x0c), // AltGr
    ("BracketLeft", "ü", 0xfc, 0x1a),
    ("BracketLeft", "Ü", 0xdc, 0x1a),
    ("Semicolon", "ö", 0xf6, 0x27),
    ("Quote", "ä", 0xe4, 0x28),
    ("Digit2", "\"", 0x22, 0x03),
    ("Digit2", "²", 0xb2, 0x03), // AltGr
    ("Digit3", "§", 0xa7, 0x04),
    ("Digit7", "{", 0x7b, 0x08), // AltGr
    ("KeyQ", "@", 0x40, 0x10),   // AltGr
    ("KeyE", "€", 0x20ac, 0x12), // AltGr: XK_EuroSign
    ("KeyM", "µ", 0xb5, 0x32),   // AltGr
    ("BracketRight", "~", 0x7e, 0x1b),
    ("IntlBackslash", "<", 0x3c, 0x56),
    ("IntlBackslash", "|", 0x7c, 0x56),
    ("Backslash", "#", 0x23, 0x2b),
];

const FRENCH: &[Row] = &[
    ("KeyQ", "a", 0x61, 0x10),
    ("KeyW", "z", 0x7a, 0x11),
    ("KeyA", "q", 0x71, 0x1e),
    ("Semicolon", "m", 0x6d, 0x27),
    ("KeyM", ",", 0x2c, 0x32),
    ("Digit1", "&", 0x26, 0x02),
    ("Digit2", "é", 0xe9, 0x03),
    ("Digit2", "2", 0x32, 0x03),
    ("Digit2", "~", 0x7e, 0x03), // AltGr (reported as a character on Windows)
    ("Digit3", "\"", 0x22, 0x04),
    ("Digit4", "'", 0x27, 0x05),
    ("Digit7", "è", 0xe8, 0x08),
    ("Digit9", "ç", 0xe7, 0x0a),
    ("Digit0", "à", 0xe0, 0x0b),
    ("Digit0", "@", 0x40, 0x0b), // AltGr
    ("Quote", "ù", 0xf9, 0x28),
    ("Backquote", "²", 0xb2, 0x29),
    ("BracketRight", "$", 0x24, 0x1b),
    ("BracketRight", "£", 0xa3, 0x1b),
    ("Backslash", "*", 0x2a, 0x2b),
    ("Backslash", "µ", 0xb5, 0x2b),
    ("Slash", "!", 0x21, 0x35),
    ("Slash", "§", 0xa7, 0x35),
    ("KeyE", "€", 0x20ac, 0x12),
];

const JAPANESE: &[Row] = &[
    // JIS layout, IME off.
    ("Digit2", "\"", 0x22, 0x03),
    ("Digit7", "'", 0x27, 0x08),
    ("Equal", "^", 0x5e, 0x0d),
    ("BracketLeft", "@", 0x40, 0x1a),
    ("BracketRight", "[", 0x5b, 0x1b),
    ("Quote", ":", 0x3a, 0x28),
    ("IntlYen", "¥", 0xa5, 0x7d),
    ("IntlYen", "|", 0x7c, 0x7d),
    ("IntlRo", "\\", 0x5c, 0x73),
    ("IntlRo", "_", 0x5f, 0x73),
    // Kana input mode: hiragana have no legacy keysym (Unicode keysyms), katakana and
    // the Japanese punctuation do (the kana_* block).
    ("KeyA", "ち", 0x0100_3061, 0x1e),
    ("KeyS", "と", 0x0100_3068, 0x1f),
    ("Digit3", "あ", 0x0100_3042, 0x04),
    ("KeyA", "チ", 0x04c1, 0x1e),   // kana_CHI
    ("Period", "。", 0x04a1, 0x34), // kana_fullstop
    ("Minus", "ー", 0x04b0, 0x0c),  // prolongedsound
    ("Digit3", "ア", 0x04b1, 0x04), // kana_A
];

const RUSSIAN: &[Row] = &[
    ("KeyQ", "й", 0x06ca, 0x10), // Cyrillic_shorti
    ("KeyA", "ф", 0x06c6, 0x1e), // Cyrillic_ef
    ("KeyA", "Ф", 0x06e6, 0x1e), // Cyrillic_EF
    ("Backquote", "ё", 0x06a3, 0x29),
    ("Digit3", "№", 0x06b0, 0x04), // numerosign
];

fn sweep(platform: Platform, rows: &[Row]) {
    let mut kb = Keyboard::new(platform);
    for (i, &(code, key, keysym, scancode)) in rows.iter().enumerate() {
        let t = ms(1000 * i as u64);
        assert_eq!(
            kb.key_down(&KeyEvent::new(key, code), t),
            Disposition::Consumed
        );
        assert_eq!(
            kb.key_up(&KeyEvent::new(key, code), t + ms(30)),
            Disposition::Consumed
        );
        assert_eq!(
            drain(&mut kb),
            [down(keysym, scancode), up(keysym, scancode)],
            "{platform:?} {code} {key:?}"
        );
    }
}

#[test]
fn layouts_on_every_platform() {
    for platform in [
        Platform::Linux,
        Platform::Windows,
        Platform::MacOs,
        Platform::ChromeOs,
        Platform::Other,
    ] {
        for rows in [US, GERMAN, FRENCH, JAPANESE, RUSSIAN] {
            sweep(platform, rows);
        }
    }
}

#[test]
fn release_reuses_the_keysym_of_its_press() {
    let mut kb = Keyboard::new(Platform::Linux);
    kb.key_down(
        &KeyEvent::new("Shift", "ShiftLeft").at(Location::Left),
        ms(0),
    );
    kb.key_down(&KeyEvent::new("A", "KeyA"), ms(10));
    kb.key_up(
        &KeyEvent::new("Shift", "ShiftLeft").at(Location::Left),
        ms(20),
    );
    kb.key_up(&KeyEvent::new("a", "KeyA"), ms(30)); // now reported lower-case
    assert_eq!(
        drain(&mut kb),
        [
            down(ks("Shift_L"), 0x2a),
            down(0x41, 0x1e),
            up(ks("Shift_L"), 0x2a),
            up(0x41, 0x1e),
        ]
    );
}

#[test]
fn auto_repeat_presses_again_and_a_changed_meaning_releases_first() {
    let mut kb = Keyboard::new(Platform::Linux);
    kb.key_down(&KeyEvent::new("a", "KeyA"), ms(0));
    kb.key_down(&KeyEvent::new("a", "KeyA").repeated(), ms(500));
    kb.key_down(&KeyEvent::new("A", "KeyA").repeated(), ms(530));
    kb.key_up(&KeyEvent::new("A", "KeyA"), ms(560));
    assert_eq!(
        drain(&mut kb),
        [
            down(0x61, 0x1e),
            down(0x61, 0x1e),
            up(0x61, 0x1e),
            down(0x41, 0x1e),
            up(0x41, 0x1e),
        ]
    );
    assert_eq!(kb.held().count(), 0);
}

#[test]
fn blur_releases_everything_newest_first() {
    let mut kb = Keyboard::new(Platform::Linux);
    kb.key_down(
        &KeyEvent::new("Control", "ControlLeft").at(Location::Left),
        ms(0),
    );
    kb.key_down(&KeyEvent::new("Alt", "AltLeft").at(Location::Left), ms(5));
    kb.key_down(&KeyEvent::new("t", "KeyT"), ms(9));
    drain(&mut kb);
    kb.blur(ms(20));
    assert_eq!(
        drain(&mut kb),
        [
            up(0x74, 0x14),
            up(ks("Alt_L"), 0x38),
            up(ks("Control_L"), 0x1d)
        ]
    );
    // The releases that follow the blur have no press left to match.
    assert_eq!(
        kb.key_up(&KeyEvent::new("t", "KeyT"), ms(40)),
        Disposition::Dropped(DropReason::NotPressed)
    );
    assert!(drain(&mut kb).is_empty());
}

#[test]
fn windows_altgr_arrives_as_ctrl_then_alt() {
    let mut kb = Keyboard::new(Platform::Windows);
    // Chrome on Windows: ControlLeft then AltRight with the same timestamp.
    let ctrl = KeyEvent::new("Control", "ControlLeft").at(Location::Left);
    assert_eq!(kb.key_down(&ctrl, ms(1000)), Disposition::Consumed);
    assert!(drain(&mut kb).is_empty(), "Ctrl is held back");
    assert_eq!(kb.poll_timeout(), Some(ms(1100)));
    let altgr = KeyEvent::new("AltGraph", "AltRight").at(Location::Right);
    kb.key_down(&altgr, ms(1000));
    kb.key_down(&KeyEvent::new("@", "KeyQ"), ms(1200)); // German AltGr+Q
    kb.key_up(&KeyEvent::new("@", "KeyQ"), ms(1250));
    kb.key_up(&ctrl, ms(1300));
    kb.key_up(&altgr, ms(1300));
    assert_eq!(
        drain(&mut kb),
        [
            down(ks("ISO_Level3_Shift"), 0xe038),
            down(0x40, 0x10),
            up(0x40, 0x10),
            up(ks("ISO_Level3_Shift"), 0xe038),
        ]
    );
    assert_eq!(kb.poll_timeout(), None);
}

#[test]
fn windows_ctrl_alone_is_sent_after_the_wait() {
    let mut kb = Keyboard::new(Platform::Windows);
    let ctrl = KeyEvent::new("Control", "ControlLeft").at(Location::Left);
    kb.key_down(&ctrl, ms(0));
    kb.handle_timeout(ms(99));
    assert!(drain(&mut kb).is_empty());
    kb.handle_timeout(ms(100));
    assert_eq!(drain(&mut kb), [down(ks("Control_L"), 0x1d)]);
    kb.key_up(&ctrl, ms(300));
    assert_eq!(drain(&mut kb), [up(ks("Control_L"), 0x1d)]);
}

#[test]
fn windows_ctrl_then_other_key_or_late_alt_is_a_real_ctrl() {
    // Ctrl+C pressed quickly: the C press flushes the Ctrl first.
    let mut kb = Keyboard::new(Platform::Windows);
    kb.key_down(
        &KeyEvent::new("Control", "ControlLeft").at(Location::Left),
        ms(0),
    );
    kb.key_down(&KeyEvent::new("c", "KeyC"), ms(20));
    assert_eq!(
        drain(&mut kb),
        [down(ks("Control_L"), 0x1d), down(0x63, 0x2e)]
    );

    // Right Alt 60 ms after Ctrl: outside the window, so Ctrl + Alt_R, not AltGr.
    let mut kb = Keyboard::new(Platform::Windows);
    kb.key_down(
        &KeyEvent::new("Control", "ControlLeft").at(Location::Left),
        ms(0),
    );
    kb.key_down(
        &KeyEvent::new("Alt", "AltRight").at(Location::Right),
        ms(60),
    );
    assert_eq!(
        drain(&mut kb),
        [down(ks("Control_L"), 0x1d), down(ks("Alt_R"), 0xe038)]
    );

    // Ctrl tapped and released within the wait: press then release.
    let mut kb = Keyboard::new(Platform::Windows);
    let ctrl = KeyEvent::new("Control", "ControlLeft").at(Location::Left);
    kb.key_down(&ctrl, ms(0));
    kb.key_up(&ctrl, ms(40));
    assert_eq!(
        drain(&mut kb),
        [down(ks("Control_L"), 0x1d), up(ks("Control_L"), 0x1d)]
    );

    // Not Windows: Ctrl goes out at once.
    let mut kb = Keyboard::new(Platform::Linux);
    kb.key_down(
        &KeyEvent::new("Control", "ControlLeft").at(Location::Left),
        ms(0),
    );
    assert_eq!(drain(&mut kb), [down(ks("Control_L"), 0x1d)]);
    assert_eq!(kb.poll_timeout(), None);
}

#[test]
fn windows_lost_shift_release() {
    let mut kb = Keyboard::new(Platform::Windows);
    kb.key_down(
        &KeyEvent::new("Shift", "ShiftLeft").at(Location::Left),
        ms(0),
    );
    kb.key_down(
        &KeyEvent::new("Shift", "ShiftRight").at(Location::Right),
        ms(10),
    );
    // Windows reports only one release when both are let go.
    kb.key_up(
        &KeyEvent::new("Shift", "ShiftRight").at(Location::Right),
        ms(50),
    );
    assert_eq!(
        drain(&mut kb),
        [
            down(ks("Shift_L"), 0x2a),
            down(ks("Shift_R"), 0x36),
            up(ks("Shift_R"), 0x36),
            up(ks("Shift_L"), 0x2a),
        ]
    );
    // On Linux each Shift keeps its own release.
    let mut kb = Keyboard::new(Platform::Linux);
    kb.key_down(
        &KeyEvent::new("Shift", "ShiftLeft").at(Location::Left),
        ms(0),
    );
    kb.key_down(
        &KeyEvent::new("Shift", "ShiftRight").at(Location::Right),
        ms(10),
    );
    kb.key_up(
        &KeyEvent::new("Shift", "ShiftRight").at(Location::Right),
        ms(50),
    );
    assert_eq!(drain(&mut kb).last(), Some(&up(ks("Shift_R"), 0x36)));
    assert_eq!(kb.held().count(), 1);
}

#[test]
fn windows_japanese_ime_keys_are_tapped_and_merged() {
    let mut kb = Keyboard::new(Platform::Windows);
    // The Zenkaku/Hankaku key alternates its name; both are the one X key.
    for key in ["Zenkaku", "Hankaku"] {
        kb.key_down(&KeyEvent::new(key, "Backquote"), ms(0));
        assert_eq!(
            drain(&mut kb),
            [
                down(ks("Zenkaku_Hankaku"), 0x29),
                up(ks("Zenkaku_Hankaku"), 0x29)
            ]
        );
    }
    for key in ["Romaji", "KanaMode", "Hiragana", "Katakana"] {
        kb.key_down(&KeyEvent::new(key, "KanaMode"), ms(0));
        assert_eq!(
            drain(&mut kb),
            [
                down(ks("Hiragana_Katakana"), 0x70),
                up(ks("Hiragana_Katakana"), 0x70)
            ]
        );
    }
    kb.key_down(&KeyEvent::new("Alphanumeric", "CapsLock"), ms(0));
    assert_eq!(
        drain(&mut kb),
        [down(ks("Eisu_toggle"), 0x3a), up(ks("Eisu_toggle"), 0x3a)]
    );
    // A late keyup (if one ever comes) sends nothing.
    assert_eq!(
        kb.key_up(&KeyEvent::new("Alphanumeric", "CapsLock"), ms(10)),
        Disposition::Dropped(DropReason::NotPressed)
    );
    // Elsewhere these keys have real releases and their own names.
    let mut kb = Keyboard::new(Platform::Linux);
    kb.key_down(&KeyEvent::new("Zenkaku", "Backquote"), ms(0));
    assert_eq!(drain(&mut kb), [down(ks("Zenkaku"), 0x29)]);
}

#[test]
fn macos_keys_held_with_cmd_lose_their_release() {
    let mut kb = Keyboard::new(Platform::MacOs);
    let cmd = KeyEvent::new("Meta", "MetaLeft").at(Location::Left);
    kb.key_down(&cmd, ms(0));
    kb.key_down(&KeyEvent::new("c", "KeyC"), ms(10));
    // No keyup for C arrives while Cmd is down.
    kb.key_up(&cmd, ms(200));
    assert_eq!(
        drain(&mut kb),
        [
            down(ks("Alt_L"), 0xe05b), // Cmd-L → Alt_L (the TigerVNC convention)
            down(0x63, 0x2e),
            up(0x63, 0x2e),
            up(ks("Alt_L"), 0xe05b),
        ]
    );
    // Shift with Cmd still gets its own release.
    let mut kb = Keyboard::new(Platform::MacOs);
    kb.key_down(&cmd, ms(0));
    kb.key_down(
        &KeyEvent::new("Shift", "ShiftLeft").at(Location::Left),
        ms(5),
    );
    assert_eq!(kb.held().count(), 2);
}

#[test]
fn macos_modifier_convention_and_opt_out() {
    let keys = [
        (
            KeyEvent::new("Meta", "MetaLeft").at(Location::Left),
            "Alt_L",
            0xe05b,
        ),
        (
            KeyEvent::new("Meta", "MetaRight").at(Location::Right),
            "Super_L",
            0xe05c,
        ),
        (
            KeyEvent::new("Alt", "AltLeft").at(Location::Left),
            "Mode_switch",
            0x38,
        ),
        (
            KeyEvent::new("Alt", "AltRight").at(Location::Right),
            "ISO_Level3_Shift",
            0xe038,
        ),
    ];
    for (event, name, sc) in keys {
        let mut kb = Keyboard::new(Platform::MacOs);
        kb.key_down(&event, ms(0));
        assert_eq!(drain(&mut kb), [down(ks(name), sc)], "{:?}", event.code);
    }
    let mut options = Options::for_platform(Platform::MacOs);
    options.swap_mac_modifiers = false;
    let mut kb = Keyboard::with_options(Platform::MacOs, options);
    kb.key_down(&KeyEvent::new("Meta", "MetaLeft").at(Location::Left), ms(0));
    assert_eq!(drain(&mut kb), [down(ks("Super_L"), 0xe05b)]);
}

#[test]
fn macos_caps_lock_reports_state_changes_only() {
    let mut kb = Keyboard::new(Platform::MacOs);
    let caps = KeyEvent::new("CapsLock", "CapsLock");
    kb.key_down(&caps, ms(0)); // Caps turned on
    assert_eq!(
        drain(&mut kb),
        [down(ks("Caps_Lock"), 0x3a), up(ks("Caps_Lock"), 0x3a)]
    );
    kb.key_up(&caps, ms(5000)); // Caps turned off, much later
    assert_eq!(
        drain(&mut kb),
        [down(ks("Caps_Lock"), 0x3a), up(ks("Caps_Lock"), 0x3a)]
    );
    // The Mac keypad's Clear key is Num Lock.
    kb.key_down(&KeyEvent::new("Clear", "NumLock"), ms(6000));
    assert_eq!(drain(&mut kb), [down(ks("Num_Lock"), 0x45)]);
}

#[test]
fn virtual_keyboards_without_code_are_tapped() {
    let mut kb = Keyboard::new(Platform::Android);
    assert_eq!(
        kb.key_down(&KeyEvent::new("q", ""), ms(0)),
        Disposition::Consumed
    );
    assert_eq!(drain(&mut kb), [(0x71, None, true), (0x71, None, false)]);
    assert_eq!(
        kb.key_up(&KeyEvent::new("q", ""), ms(5)),
        Disposition::Dropped(DropReason::AlreadyReleased)
    );
    // Android IMEs report Unidentified with no code: the text comes through `text`.
    assert_eq!(
        kb.key_down(&KeyEvent::new("Unidentified", ""), ms(10)),
        Disposition::Dropped(DropReason::Unidentified)
    );
    assert_eq!(kb.text("ok", ms(11)), Disposition::Consumed);
    assert_eq!(
        drain(&mut kb),
        [
            (0x6f, None, true),
            (0x6f, None, false),
            (0x6b, None, true),
            (0x6b, None, false)
        ]
    );
}

#[test]
fn dead_keys_compose_to_the_character_keysym() {
    // Windows/Linux Chrome: Dead, then the composed character on the next key.
    let mut kb = Keyboard::new(Platform::Linux);
    let dead = KeyEvent::new("Dead", "BracketLeft");
    // Not consumed, so the browser keeps its composition state; only the scancode goes out
    // (QEMU applies its own layout; keysym servers ignore keysym 0).
    assert_eq!(
        kb.key_down(&dead, ms(0)),
        Disposition::Dropped(DropReason::DeadKey)
    );
    kb.key_up(&dead, ms(50));
    kb.key_down(&KeyEvent::new("ê", "KeyE"), ms(100));
    kb.key_up(&KeyEvent::new("e", "KeyE"), ms(150));
    assert_eq!(
        drain(&mut kb),
        [down(0, 0x1a), up(0, 0x1a), down(0xea, 0x12), up(0xea, 0x12)]
    );
    // macOS: Option+E is Dead, then composition delivers the text.
    let mut kb = Keyboard::new(Platform::MacOs);
    kb.key_down(&KeyEvent::new("Dead", "KeyE"), ms(0));
    assert_eq!(
        kb.key_down(&KeyEvent::new("Process", "KeyE").composing(), ms(100)),
        Disposition::Dropped(DropReason::Composing)
    );
    drain(&mut kb);
    kb.text("é", ms(101));
    assert_eq!(drain(&mut kb), [(0xe9, None, true), (0xe9, None, false)]);
    // A dead key with no physical key to forward is simply dropped.
    let mut kb = Keyboard::new(Platform::Linux);
    assert_eq!(
        kb.key_down(&KeyEvent::new("Dead", ""), ms(0)),
        Disposition::Dropped(DropReason::DeadKey)
    );
    assert!(drain(&mut kb).is_empty());
}

#[test]
fn ime_composition_delivers_text_not_keys() {
    let mut kb = Keyboard::new(Platform::Windows);
    assert_eq!(
        kb.key_down(&KeyEvent::new("Process", "KeyN"), ms(0)),
        Disposition::Dropped(DropReason::Composing)
    );
    assert_eq!(
        kb.key_down(&KeyEvent::new("n", "KeyN").composing(), ms(10)),
        Disposition::Dropped(DropReason::Composing)
    );
    assert!(drain(&mut kb).is_empty());
    kb.text("日本😀", ms(500));
    assert_eq!(
        drain(&mut kb),
        [
            (0x0100_65e5, None, true),
            (0x0100_65e5, None, false),
            (0x0100_672c, None, true),
            (0x0100_672c, None, false),
            (0x0101_f600, None, true),
            (0x0101_f600, None, false),
        ]
    );
    assert_eq!(
        kb.text("", ms(501)),
        Disposition::Dropped(DropReason::EmptyText)
    );
}

#[test]
fn lock_keys_resync_from_server_leds() {
    let mut kb = Keyboard::new(Platform::Linux);
    let locks = |caps, num| Locks {
        caps: Some(caps),
        num: Some(num),
    };
    // Unknown server state: nothing injected.
    kb.key_down(
        &KeyEvent::new("A", "KeyA").with_locks(locks(true, false)),
        ms(0),
    );
    assert_eq!(drain(&mut kb), [down(0x41, 0x1e)]);
    kb.key_up(&KeyEvent::new("A", "KeyA"), ms(10));
    drain(&mut kb);
    // The server says Caps off, Num on; locally Caps is on and Num off.
    kb.set_remote_locks(locks(false, true));
    kb.key_down(
        &KeyEvent::new("A", "KeyA").with_locks(locks(true, false)),
        ms(20),
    );
    assert_eq!(
        drain(&mut kb),
        [
            down(ks("Caps_Lock"), 0x3a),
            up(ks("Caps_Lock"), 0x3a),
            down(ks("Num_Lock"), 0x45),
            up(ks("Num_Lock"), 0x45),
            down(0x41, 0x1e),
        ]
    );
    // Toggled once, not again before the server's next LED report.
    kb.key_up(&KeyEvent::new("A", "KeyA"), ms(30));
    kb.key_down(
        &KeyEvent::new("B", "KeyB").with_locks(locks(true, false)),
        ms(40),
    );
    assert_eq!(drain(&mut kb), [up(0x41, 0x1e), down(0x42, 0x30)]);
    // Pressing Caps Lock itself never injects another toggle.
    kb.set_remote_locks(locks(false, false));
    kb.key_down(
        &KeyEvent::new("CapsLock", "CapsLock").with_locks(locks(true, false)),
        ms(50),
    );
    assert_eq!(drain(&mut kb), [down(ks("Caps_Lock"), 0x3a)]);
    // macOS has no Num Lock state to trust.
    let mut kb = Keyboard::new(Platform::MacOs);
    kb.set_remote_locks(locks(false, true));
    kb.key_down(
        &KeyEvent::new("a", "KeyA").with_locks(locks(false, false)),
        ms(0),
    );
    assert_eq!(drain(&mut kb), [down(0x61, 0x1e)]);
}

#[test]
fn held_keys_are_bounded() {
    let mut kb = Keyboard::new(Platform::Linux);
    let codes: Vec<String> = (0..200).map(|i| format!("Fake{i}")).collect();
    for (i, code) in codes.iter().enumerate() {
        kb.key_down(&KeyEvent::new("x", code), ms(i as u64));
    }
    assert_eq!(kb.held().count(), 64);
    let actions = drain(&mut kb);
    assert_eq!(actions.iter().filter(|a| a.2).count(), 200);
    assert_eq!(actions.iter().filter(|a| !a.2).count(), 136);
}

#[test]
fn garbage_never_panics_and_never_leaves_keys_held() {
    let keys = [
        "",
        "\u{fffd}",
        "Unidentified",
        "Dead",
        "Process",
        "a",
        "ab",
        "F99",
        "\u{0}",
    ];
    let codes = [
        "",
        "Unidentified",
        "KeyA",
        "ControlLeft",
        "AltRight",
        "\u{fffd}",
        "x",
    ];
    for platform in [
        Platform::Windows,
        Platform::MacOs,
        Platform::Linux,
        Platform::Android,
    ] {
        let mut kb = Keyboard::new(platform);
        let mut t = 0;
        for key in keys {
            for code in codes {
                t += 7;
                kb.key_down(&KeyEvent::new(key, code), ms(t));
                kb.handle_timeout(ms(t + 3));
                kb.key_up(&KeyEvent::new(key, code), ms(t + 5));
            }
        }
        kb.blur(ms(t + 100));
        assert_eq!(kb.held().count(), 0);
        let actions = drain(&mut kb);
        let presses = actions.iter().filter(|a| a.2).count();
        assert_eq!(presses, actions.len() - presses, "{platform:?}: unbalanced");
    }
}
