//! Arbitrary DOM key event sequences through the keyboard state machine on every platform:
//! never a panic, never more held keys than the cap, and after blur every press has had its
//! release. Also drives the free functions with arbitrary strings and values.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rfb_keysym::dom::Location;
use rfb_keysym::keyboard::{KeyEvent, Keyboard, Locks, Platform};

/// Key and code values that reach the interesting branches, plus fuzzer-made strings.
const KEYS: &[&str] = &[
    "a", "A", "Dead", "Process", "Unidentified", "", "Shift", "Control", "Alt", "AltGraph",
    "Meta", "CapsLock", "NumLock", "Clear", "Zenkaku", "Hankaku", "Romaji", "Enter", "7", "é",
    "😀", "ஸ்ரீ", "\u{fffd}", "\u{0}", "F13", "F99",
];
const CODES: &[&str] = &[
    "KeyA", "", "Unidentified", "ShiftLeft", "ShiftRight", "ControlLeft", "AltRight", "MetaLeft",
    "MetaRight", "CapsLock", "NumLock", "Numpad7", "Backquote", "KanaMode", "Fake",
];
const PLATFORMS: &[Platform] = &[
    Platform::Windows,
    Platform::MacOs,
    Platform::Ios,
    Platform::Linux,
    Platform::ChromeOs,
    Platform::Android,
    Platform::Other,
];

fn lock(bits: u8) -> Option<bool> {
    match bits & 3 {
        0 => None,
        1 => Some(false),
        _ => Some(true),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    // The free functions on raw input.
    let text = String::from_utf8_lossy(rest);
    let _ = rfb_keysym::keysym_from_name(&text);
    let _ = rfb_keysym::xt_scancode(&text);
    let _ = rfb_keysym::dom::resolve(&text, &text, Location::from_dom(u32::from(sel)));
    for c in text.chars() {
        let k = rfb_keysym::keysym_from_char(c);
        assert!(k != 0);
    }
    if rest.len() >= 4 {
        let v = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let _ = rfb_keysym::char_from_keysym(v);
        let _ = rfb_keysym::name_of_keysym(v);
    }

    let platform = PLATFORMS[usize::from(sel) % PLATFORMS.len()];
    let mut kb = Keyboard::new(platform);
    let mut now = Duration::ZERO;
    let mut balance: i64 = 0;
    for op in rest.chunks(4) {
        let [a, b, c, d] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
        now += Duration::from_millis(u64::from(d));
        let event = KeyEvent {
            key: KEYS[usize::from(b) % KEYS.len()],
            code: CODES[usize::from(c) % CODES.len()],
            location: Location::from_dom(u32::from(c >> 4)),
            repeat: b & 0x80 != 0,
            composing: c & 0x80 != 0 && a & 1 != 0,
            locks: Locks {
                caps: lock(d),
                num: lock(d >> 2),
            },
        };
        match a % 6 {
            0 | 1 => {
                kb.key_down(&event, now);
            }
            2 | 3 => {
                kb.key_up(&event, now);
            }
            4 => {
                kb.set_remote_locks(Locks {
                    caps: lock(b),
                    num: lock(c),
                });
                kb.handle_timeout(now);
            }
            _ => {
                kb.text(event.key, now);
            }
        }
        assert!(kb.held().count() <= 64);
        while let Some(action) = kb.poll_action() {
            balance += if action.down { 1 } else { -1 };
        }
    }
    kb.blur(now);
    while let Some(action) = kb.poll_action() {
        balance += if action.down { 1 } else { -1 };
    }
    assert_eq!(kb.held().count(), 0);
    // Auto-repeat presses have no release of their own, so presses can exceed releases, but
    // never the other way round.
    assert!(balance >= 0, "more releases than presses");
});
