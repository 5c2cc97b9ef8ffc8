//! The keyboard pipeline against a real X server: browser key events as Chromium reports them
//! for several layouts go through [`Keyboard`], the actions go out as RFB KeyEvents from
//! `rfb-core` to TigerVNC's Xvnc, and an xterm (UTF-8) running `cat` writes what it received
//! to a file, which must hold exactly the characters the user typed.
//!
//! Xvnc keeps a US keymap and adds any keysym it lacks, so this checks that legacy keysyms
//! (Cyrillic, kana), Latin-1, `0x01000000 + cp` keysyms (hiragana, kanji, emoji) and the
//! AltGr/dead-key handling all arrive as the intended characters.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use rfb_core::{Client, Config, Event};
use rfb_encodings::Framebuffer;
use rfb_keysym::dom::Location;
use rfb_keysym::keyboard::{KeyEvent, Keyboard, Platform};
use rfb_testkit::harness::TestRng;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

/// A connected client over a blocking socket.
struct Session {
    stream: TcpStream,
    client: Client,
    fb: Framebuffer,
    buf: Vec<u8>,
    start: Instant,
}

impl Session {
    fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).expect("connect to Xvnc");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let client = Client::new(
            Config::default(),
            Duration::ZERO,
            Box::new(TestRng::default()),
        );
        let mut s = Self {
            stream,
            client,
            fb: Framebuffer::new(0, 0),
            buf: Vec::new(),
            start: Instant::now(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !s.client.is_connected() {
            assert!(Instant::now() < deadline, "no ServerInit from Xvnc");
            s.pump();
        }
        s
    }

    /// One round: send what the client queued, read what the server sent, feed it.
    fn pump(&mut self) {
        while let Some(bytes) = self.client.poll_transmit() {
            self.stream.write_all(&bytes).expect("write to Xvnc");
        }
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) => panic!("Xvnc closed the connection"),
            Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("read from Xvnc: {e}"),
        }
        let now = self.start.elapsed();
        self.client.handle_timeout(now).expect("client timeout");
        while !self.buf.is_empty() {
            let n = self
                .client
                .handle_input(&self.buf, &mut self.fb)
                .expect("client input");
            if n == 0 {
                break;
            }
            self.buf.drain(..n);
        }
        while let Some(ev) = self.client.poll_event() {
            if let Event::Disconnected { reason } = ev {
                panic!("disconnected: {reason}");
            }
        }
        while let Some(bytes) = self.client.poll_transmit() {
            self.stream.write_all(&bytes).expect("write to Xvnc");
        }
    }

    /// Sends every action the keyboard produced.
    fn send(&mut self, kb: &mut Keyboard) {
        while let Some(action) = kb.poll_action() {
            if action.keysym != 0 {
                self.client.send_key(action.keysym, action.down).unwrap();
            }
        }
        self.pump();
    }
}

/// A UTF-8 xterm filling the screen, running `cat > out`, with the pointer over it (no
/// window manager: keyboard focus follows the pointer).
fn typing_desktop() -> Option<(Xvnc, std::path::PathBuf)> {
    let x = Xvnc::start_or_skip(XvncOptions::new(640, 400))?;
    x.set_root_solid("#336699");
    let out = x.dir().join("typed.txt");
    let ready = x.dir().join("cat.ready");
    let script = format!(": > '{}'; exec cat > '{}'", ready.display(), out.display());
    x.spawn(
        "env",
        &[
            "LC_ALL=C.UTF-8",
            "LANG=C.UTF-8",
            "xterm",
            "-u8",
            "-geometry",
            "80x20+0+0",
            "-e",
            "sh",
            "-c",
            &script,
        ],
    );
    wait_for(|| ready.exists(), "xterm to start cat");
    x.park_pointer(200, 100);
    Some((x, out))
}

fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for `lines` complete lines in `path` and returns the text.
fn read_lines(session: &mut Session, path: &Path, lines: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.matches('\n').count() >= lines {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "xterm wrote only {text:?} (wanted {lines} lines)"
        );
        session.pump();
    }
}

/// A press and release of one key, as Chromium reports it (same key value both times).
fn tap(kb: &mut Keyboard, t: &mut Duration, key: &str, code: &str) {
    *t += Duration::from_millis(40);
    kb.key_down(&KeyEvent::new(key, code), *t);
    *t += Duration::from_millis(40);
    kb.key_up(&KeyEvent::new(key, code), *t);
}

fn modifier(kb: &mut Keyboard, t: &mut Duration, key: &str, code: &str, down: bool) {
    *t += Duration::from_millis(40);
    let loc = Location::from_code(code).unwrap_or_default();
    let event = KeyEvent::new(key, code).at(loc);
    if down {
        kb.key_down(&event, *t);
    } else {
        kb.key_up(&event, *t);
    }
    kb.handle_timeout(*t + Duration::from_millis(200));
}

#[test]
fn layouts_type_the_intended_characters_into_xterm() {
    let Some((x, out)) = typing_desktop() else {
        return;
    };
    let mut s = Session::connect(&x.addr());
    let mut t = Duration::ZERO;

    // German (Linux Chromium): Shift+G, r, ü, ß, e, then AltGr+Q (@), AltGr+E (€).
    let mut kb = Keyboard::new(Platform::Linux);
    modifier(&mut kb, &mut t, "Shift", "ShiftLeft", true);
    tap(&mut kb, &mut t, "G", "KeyG");
    modifier(&mut kb, &mut t, "Shift", "ShiftLeft", false);
    for (key, code) in [
        ("r", "KeyR"),
        ("ü", "BracketLeft"),
        ("ß", "Minus"),
        ("e", "KeyE"),
    ] {
        tap(&mut kb, &mut t, key, code);
    }
    modifier(&mut kb, &mut t, "AltGraph", "AltRight", true);
    tap(&mut kb, &mut t, "@", "KeyQ");
    tap(&mut kb, &mut t, "€", "KeyE");
    modifier(&mut kb, &mut t, "AltGraph", "AltRight", false);
    tap(&mut kb, &mut t, "Enter", "Enter");
    s.send(&mut kb);

    // German on Windows: AltGr arrives as ControlLeft + AltRight at the same instant.
    let mut kb = Keyboard::new(Platform::Windows);
    t += Duration::from_millis(500);
    kb.key_down(
        &KeyEvent::new("Control", "ControlLeft").at(Location::Left),
        t,
    );
    kb.key_down(
        &KeyEvent::new("AltGraph", "AltRight").at(Location::Right),
        t,
    );
    tap(&mut kb, &mut t, "{", "Digit7");
    tap(&mut kb, &mut t, "\\", "Minus");
    tap(&mut kb, &mut t, "µ", "KeyM");
    t += Duration::from_millis(40);
    kb.key_up(
        &KeyEvent::new("Control", "ControlLeft").at(Location::Left),
        t,
    );
    kb.key_up(
        &KeyEvent::new("AltGraph", "AltRight").at(Location::Right),
        t,
    );
    tap(&mut kb, &mut t, "Enter", "Enter");
    s.send(&mut kb);

    // French AZERTY, with the circumflex dead key composing ê.
    let mut kb = Keyboard::new(Platform::Linux);
    for (key, code) in [
        ("é", "Digit2"),
        ("à", "Digit0"),
        ("ù", "Quote"),
        ("²", "Backquote"),
        ("Dead", "BracketLeft"),
        ("ê", "KeyE"),
        ("Enter", "Enter"),
    ] {
        tap(&mut kb, &mut t, key, code);
    }
    s.send(&mut kb);

    // Russian (legacy Cyrillic keysyms) and Japanese kana mode (hiragana: Unicode keysyms;
    // katakana and punctuation: legacy kana keysyms).
    let mut kb = Keyboard::new(Platform::Linux);
    for (key, code) in [
        ("ж", "Semicolon"),
        ("у", "KeyE"),
        ("к", "KeyR"),
        (" ", "Space"),
        ("ち", "KeyA"),
        ("チ", "KeyA"),
        ("。", "Period"),
        ("Enter", "Enter"),
    ] {
        tap(&mut kb, &mut t, key, code);
    }
    s.send(&mut kb);

    // An IME's composed text and an emoji from a virtual keyboard arrive as text.
    let mut kb = Keyboard::new(Platform::Windows);
    t += Duration::from_millis(40);
    kb.key_down(&KeyEvent::new("Process", "KeyN"), t);
    kb.text("日本語😀", t);
    tap(&mut kb, &mut t, "Enter", "Enter");
    s.send(&mut kb);

    let text = read_lines(&mut s, &out, 5);
    assert_eq!(
        text, "Grüße@€\n{\\µ\néàù²ê\nжук ちチ。\n日本語😀\n",
        "what xterm received"
    );
}
