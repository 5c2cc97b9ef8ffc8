//! `rfb clipboard get|set` and `rfb type` against real servers started by each test:
//! TigerVNC Xvnc (Extended Clipboard, UTF-8) and x11vnc on Xvfb (LibVNCServer: legacy Latin-1
//! cut text, and its partial Extended Clipboard). The X selections are set and read with
//! xclip, CUT_BUFFER0 with xprop.
//!
//! QEMU has no clipboard; `rfb type` is checked there with a hand-assembled boot sector that
//! copies every character the BIOS keyboard service returns to the serial port, so the test
//! reads what the guest really received (including whether Shift was applied).
//!
//! Legacy cut text both ways is shown on Xvnc with `--legacy` (it converts to Latin-1 for such
//! clients). Not covered: x11vnc → client. x11vnc 0.9.16 never sent a ServerCutText for X
//! selection changes in this setup (PRIMARY and CLIPBOARD, STRING and UTF8_STRING, legacy and
//! extended sessions all tried).
//!
//! Waiting is on conditions (a line on stderr, a selection's contents, a file's contents),
//! each bounded by a generous limit that only ends a hung test; nothing asserts on time.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod qemu_peer;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use rfb_core::Event;
use rfb_core::clipboard::ClipboardEvent;
use rfb_testkit::peer;
use rfb_testkit::qemu::Qemu;
use rfb_testkit::x11vnc::{X11vnc, X11vncOptions};
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

/// Upper bound for any wait; reaching it means the test hangs, not that it was slow.
const LIMIT: Duration = Duration::from_secs(30);

fn rfb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
}

/// Starts `rfb` with piped stdout/stderr.
fn spawn_rfb(args: &[&str]) -> Child {
    rfb()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rfb")
}

/// Reads stderr lines until one contains `want`; returns every line read.
fn wait_for_line(err: &mut BufReader<ChildStderr>, want: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = err.read_line(&mut line).expect("read rfb stderr");
        assert!(
            n > 0,
            "rfb ended before printing {want:?}; stderr: {lines:?}"
        );
        let hit = line.contains(want);
        lines.push(line);
        if hit {
            return lines;
        }
    }
}

/// Runs `check` until it returns true or [`LIMIT`] passes (then panics with `what`).
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < LIMIT, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The bytes of an X selection in `target` (empty when it cannot be converted).
fn read_selection(x: &Xvnc, selection: &str, target: &str) -> Vec<u8> {
    x.command("xclip")
        .args(["-o", "-selection", selection, "-t", target])
        .stderr(Stdio::null())
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default()
}

/// Makes xclip own `selection` with `bytes` (UTF8_STRING) until it loses it or is killed.
fn own_selection(x: &Xvnc, selection: &str, bytes: &[u8]) -> Child {
    let mut c = x
        .command("xclip")
        .args(["-i", "-quiet", "-selection", selection, "-t", "UTF8_STRING"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start xclip");
    c.stdin.take().unwrap().write_all(bytes).unwrap();
    c
}

fn stop(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

fn xvnc() -> Option<Xvnc> {
    if !peer::require("xclip") {
        return None;
    }
    Xvnc::start_or_skip(XvncOptions::new(320, 240))
}

const UTF8_TEXT: &str = "Grüße ✓ 日本\nline two";

#[test]
fn xvnc_get_prints_the_utf8_clipboard_exactly() {
    let Some(x) = xvnc() else { return };
    let addr = x.addr();
    let mut child = spawn_rfb(&["clipboard", "get", &addr, "-v", "--timeout", "60"]);
    let mut err = BufReader::new(child.stderr.take().unwrap());
    // Xvnc announces clipboard changes only, so the clipboard is set once the session runs.
    wait_for_line(&mut err, "clipboard path: extended clipboard");
    let owner = own_selection(&x, "clipboard", UTF8_TEXT.as_bytes());
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    stop(owner);
    assert!(status.success(), "rfb failed: {rest}");
    assert_eq!(String::from_utf8(out).unwrap(), UTF8_TEXT);
}

#[test]
fn xvnc_set_fills_clipboard_and_primary_through_the_extended_path() {
    let Some(x) = xvnc() else { return };
    let addr = x.addr();
    let mut child = spawn_rfb(&[
        "clipboard",
        "set",
        &addr,
        UTF8_TEXT,
        "--hold",
        "-v",
        "--timeout",
        "60",
    ]);
    let mut err = BufReader::new(child.stderr.take().unwrap());
    wait_for_line(&mut err, "clipboard path: extended clipboard");
    wait_for_line(&mut err, "clipboard sent");
    // Xvnc takes both selections on our notify and asks for the data when xclip reads.
    for sel in ["clipboard", "primary"] {
        wait_until(&format!("{sel} to hold the text"), || {
            read_selection(&x, sel, "UTF8_STRING") == UTF8_TEXT.as_bytes()
        });
    }
    // The data travelled as an extended request/provide, not as legacy text.
    wait_for_line(&mut err, "the server requested the clipboard");
    // Another owner takes the clipboard: Xvnc notifies us and --hold ends.
    let owner = own_selection(&x, "clipboard", b"taken");
    let status = child.wait().unwrap();
    stop(owner);
    assert!(status.success());
}

#[test]
fn xvnc_type_types_into_an_xterm() {
    let Some(x) = xvnc() else { return };
    let dir = x.dir().to_path_buf();
    let file = dir.join("typed.txt");
    let ready = dir.join("typed.ready");
    let script = format!(": > '{}'; exec cat > '{}'", ready.display(), file.display());
    x.spawn(
        "xterm",
        &[
            "-T",
            "rfb-type",
            "-geometry",
            "60x5+0+0",
            "-e",
            "sh",
            "-c",
            &script,
        ],
    );
    wait_until("the xterm's shell", || ready.exists());
    let id = String::from_utf8(x.run(
        "xdotool",
        &["search", "--sync", "--onlyvisible", "--name", "^rfb-type$"],
    ))
    .unwrap();
    let id = id.lines().next().expect("xterm window").to_owned();
    // No window manager: the keyboard focus follows the pointer.
    x.run("xdotool", &["mousemove", "--window", &id, "20", "20"]);
    let text = "Hello, World! ~|{}:\"<>?_+ aZ\nsecond\tline\n";
    let out = rfb()
        .args(["type", &x.addr(), text, "--timeout", "60"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until("cat to write both lines", || {
        std::fs::read_to_string(&file).is_ok_and(|s| s.len() >= text.len())
    });
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn xvnc_legacy_get_receives_latin1_with_question_marks() {
    let Some(x) = xvnc() else { return };
    let addr = x.addr();
    let mut child = spawn_rfb(&[
        "clipboard",
        "get",
        &addr,
        "-v",
        "--legacy",
        "--timeout",
        "60",
    ]);
    let mut err = BufReader::new(child.stderr.take().unwrap());
    wait_for_line(&mut err, "clipboard path: legacy cut text");
    let owner = own_selection(&x, "clipboard", UTF8_TEXT.as_bytes());
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let status = child.wait().unwrap();
    stop(owner);
    assert!(status.success());
    // Xvnc converts to Latin-1 for a legacy client, one '?' per other character.
    assert_eq!(String::from_utf8(out).unwrap(), "Grüße ? ??\nline two");
}

#[test]
fn xvnc_legacy_set_sends_latin1_with_question_marks() {
    let Some(x) = xvnc() else { return };
    let addr = x.addr();
    let mut child = spawn_rfb(&[
        "clipboard",
        "set",
        &addr,
        UTF8_TEXT,
        "--legacy",
        "--hold",
        "-v",
        "--timeout",
        "60",
    ]);
    let mut err = BufReader::new(child.stderr.take().unwrap());
    wait_for_line(&mut err, "clipboard path: legacy cut text");
    wait_for_line(&mut err, "clipboard sent");
    wait_until("the clipboard to hold the Latin-1 text", || {
        read_selection(&x, "clipboard", "UTF8_STRING") == "Grüße ? ??\nline two".as_bytes()
    });
    // A new owner: Xvnc sends it to us as legacy text, which ends --hold.
    let owner = own_selection(&x, "clipboard", b"taken");
    let status = child.wait().unwrap();
    stop(owner);
    assert!(status.success());
}

#[test]
fn xvnc_answers_peek_with_notify() {
    let Some(x) = xvnc() else { return };
    let mut c = qemu_peer::Conn::connect(&x.addr());
    let caps = |ev: &[Event]| {
        ev.iter()
            .any(|e| matches!(e, Event::Clipboard(ClipboardEvent::ServerCaps(_))))
    };
    assert!(c.until(LIMIT, caps));
    c.client.peek_clipboard().unwrap();
    // Nothing announced to this session yet: the notify names no format.
    let notify = |ev: &[Event]| {
        ev.iter()
            .any(|e| matches!(e, Event::Clipboard(ClipboardEvent::Notify(f)) if f.is_empty()))
    };
    assert!(c.until(LIMIT, notify), "{:?}", c.events);
}

fn x11vnc() -> Option<X11vnc> {
    if !peer::require("xclip") || !peer::require("xprop") {
        return None;
    }
    let opts = X11vncOptions::new(320, 240).with_selection();
    if !peer::require_all(&opts.required_tools()) {
        return None;
    }
    Some(X11vnc::start(opts).expect("x11vnc starts"))
}

/// xprop's rendering of a Latin-1 CUT_BUFFER0 (octal escapes for bytes over 127).
fn cut_buffer0(x: &Xvnc) -> String {
    String::from_utf8_lossy(&x.run("xprop", &["-root", "CUT_BUFFER0"])).into_owned()
}

/// x11vnc stores received cut text in CUT_BUFFER0 (its PRIMARY ownership did not show up
/// reliably to xclip, so the cut buffer is what is checked). Characters outside Latin-1
/// arrive as '?'.
fn check_x11vnc_set(extra: &[&str], verbose_path: &str) {
    let Some(x) = x11vnc() else { return };
    let addr = x.addr();
    let mut args = vec![
        "clipboard",
        "set",
        &addr,
        "Grüße café ✓",
        "-v",
        "--timeout",
        "60",
    ];
    args.extend_from_slice(extra);
    let out = rfb().args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(verbose_path), "{stderr}");
    let want = r#"CUT_BUFFER0(STRING) = "Gr\374\337e caf\351 ?""#;
    wait_until("CUT_BUFFER0 to hold the Latin-1 text", || {
        cut_buffer0(&x).trim_end() == want
    });
}

#[test]
fn x11vnc_set_legacy_latin1() {
    check_x11vnc_set(&["--legacy"], "clipboard path: legacy cut text");
}

#[test]
fn x11vnc_set_through_its_extended_caps_falls_back_to_legacy_text() {
    // LibVNCServer announces provide without notify; the client sends legacy text too.
    check_x11vnc_set(&[], "actions 0x16000000");
}

/// A boot sector that writes `R` to COM1, then forever reads a key with the BIOS keyboard
/// service (`int 16h`, AH=0: AL = the ASCII character, after Shift) and writes AL to COM1.
fn echo_mbr() -> Vec<u8> {
    let code = [
        0xb0, b'R', // mov al, 'R'
        0xba, 0xf8, 0x03, // mov dx, 0x3f8 (COM1 data)
        0xee, // out dx, al
        0xb4, 0x00, // loop: mov ah, 0
        0xcd, 0x16, // int 16h
        0xba, 0xf8, 0x03, // mov dx, 0x3f8
        0xee, // out dx, al
        0xeb, 0xf6, // jmp loop (-10)
    ];
    let mut mbr = vec![0u8; 512];
    mbr[..code.len()].copy_from_slice(&code);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    mbr
}

fn echoing_qemu() -> Option<(Qemu, std::path::PathBuf)> {
    if !peer::require_all(&["qemu-system-x86_64"]) {
        return None;
    }
    let q = Qemu::start_with_files(
        &[
            "-drive",
            "file={dir}/echo.img,format=raw,if=ide",
            "-serial",
            "file:{dir}/serial.txt",
        ],
        "",
        |dir| std::fs::write(dir.join("echo.img"), echo_mbr()),
    )
    .unwrap_or_else(|e| panic!("QEMU failed to start: {e}"));
    let serial = q.dir().join("serial.txt");
    wait_until("the guest's ready mark on the serial port", || {
        std::fs::read(&serial).is_ok_and(|b| b.starts_with(b"R"))
    });
    Some((q, serial))
}

fn serial_after_mark(serial: &std::path::Path, len: usize) -> Vec<u8> {
    let start = Instant::now();
    loop {
        let got = std::fs::read(serial).unwrap_or_default();
        if got.len() > len {
            return got[1..].to_vec();
        }
        assert!(
            start.elapsed() < LIMIT,
            "gave up waiting for the guest to echo every key; it echoed {:?}",
            String::from_utf8_lossy(&got)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn qemu_type_applies_shift_itself() {
    let Some((q, serial)) = echoing_qemu() else {
        return;
    };
    let text = "Hello, World! ~|{}:\"<>?_+ aZ\tx\n";
    let out = rfb()
        // A generous linger: under CI load the emulated guest consumes keys slowly, and QEMU
        // drops the ones still queued when the client disconnects.
        .args(["type", &q.addr(), text, "--timeout", "60", "--linger", "8"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Return reaches the BIOS as CR.
    let want = text.replace('\n', "\r");
    assert_eq!(
        String::from_utf8_lossy(&serial_after_mark(&serial, want.len())),
        want
    );
}

#[test]
fn qemu_needs_shift_for_uppercase_keysyms() {
    // Why `rfb type` wraps shifted characters in Shift_L: QEMU maps the keysym `A` to the
    // scancode of the A key and passes the client's (unshifted) modifier state through, so
    // plain KeyEvents for `A` and `!` reach the guest as `a` and `1`.
    let Some((q, serial)) = echoing_qemu() else {
        return;
    };
    let mut c = qemu_peer::Conn::connect(&q.addr());
    assert!(c.until(LIMIT, |ev| {
        ev.iter().any(|e| matches!(e, Event::Connected(_)))
    }));
    for keysym in [u32::from('A'), u32::from('!')] {
        c.client.send_key(keysym, true).unwrap();
        c.client.send_key(keysym, false).unwrap();
    }
    c.flush();
    // The connection stays open while the guest echoes (QEMU drops queued keys on close).
    assert_eq!(serial_after_mark(&serial, 2), b"a1");
}
