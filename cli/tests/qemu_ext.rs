//! QEMU's RFB extensions against real peers, through `rfb-core` directly (the events these
//! tests need are not all printed by the CLI):
//!
//! - QEMU 10 (`qemu-system-x86_64 -vnc`) acknowledges Extended Key Event (-258) and Audio
//!   (-259) and reports LED State (-261) at connect. Its guest boots a hand-assembled MBR
//!   ([`qemu_peer::beep_mbr`]) that turns the PC speaker on (1 kHz square wave) and keeps
//!   calling the BIOS keyboard service, so SeaBIOS mirrors its lock flags onto the keyboard
//!   LEDs. The speaker is bound to the VNC server's audio capture (`-audiodev none,id=snd
//!   -machine pcspk-audiodev=snd -vnc ...,audiodev=snd`), so the client receives real PCM.
//! - TigerVNC Xvnc 1.12 acknowledges -258 and reports LED State (-261, or VMware's form when
//!   only that is offered) too; it maps keys by keysym unless started with `-RawKeyboard`,
//!   when the XT keycode decides.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod qemu_peer;

use std::path::Path;
use std::time::{Duration, Instant};

use qemu_peer::{Conn, beep_mbr};
use rfb_core::{AudioEvent, AudioFormat, Event, KeySent, LedSource, LedState, SampleFormat};
use rfb_testkit::peer;
use rfb_testkit::qemu::Qemu;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

/// Bound on every wait (against hanging; nothing is timed).
const LIMIT: Duration = Duration::from_secs(30);

/// XT scancodes (set 1) used below.
const SC_CAPS_LOCK: u16 = 0x3a;
const SC_A: u16 = 0x1e;
const SC_H: u16 = 0x23;
const SC_I: u16 = 0x17;
const SC_ENTER: u16 = 0x1c;
const XK_CAPS_LOCK: u32 = 0xffe5;
const XK_RETURN: u32 = 0xff0d;

/// A QEMU whose guest beeps and services the keyboard (see the module documentation).
fn beeping_qemu() -> Option<Qemu> {
    if !peer::require_all(&["qemu-system-x86_64"]) {
        return None;
    }
    let q = Qemu::start_with_files(
        &[
            "-drive",
            "file={dir}/beep.img,format=raw,if=ide",
            "-audiodev",
            "none,id=snd",
            "-machine",
            "pc,pcspk-audiodev=snd",
        ],
        ",audiodev=snd",
        |dir| std::fs::write(dir.join("beep.img"), beep_mbr()),
    )
    .unwrap_or_else(|e| panic!("QEMU failed to start: {e}"));
    Some(q)
}

fn has(ev: &[Event], f: impl Fn(&Event) -> bool) -> bool {
    ev.iter().any(f)
}

/// The LED states reported so far.
fn leds(ev: &[Event]) -> Vec<LedState> {
    ev.iter()
        .filter_map(|e| match e {
            Event::LedState { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

fn caps(on: bool) -> LedState {
    LedState {
        caps_lock: on,
        ..LedState::default()
    }
}

/// Presses and releases a key by scancode; asserts it went out as an extended key event.
fn tap(c: &mut Conn, keysym: u32, scancode: u16) {
    for down in [true, false] {
        let sent = c.client.send_key_scancode(keysym, scancode, down).unwrap();
        assert_eq!(sent, KeySent::Extended);
    }
    c.flush();
}

/// Waits until the last reported LED state is `want`.
fn wait_leds(c: &mut Conn, want: LedState) {
    let ok = c.until(LIMIT, |ev| leds(ev).last() == Some(&want));
    assert!(ok, "LED state never became {want:?}: {:?}", leds(&c.events));
}

/// Connects and waits for the acknowledgements and the first LED state.
fn connect_acked(addr: &str, audio: bool) -> Conn {
    let mut c = Conn::connect(addr);
    let ok = c.until(LIMIT, |ev| {
        has(ev, |e| matches!(e, Event::QemuExtendedKeyEvents))
            && !leds(ev).is_empty()
            && (!audio || has(ev, |e| matches!(e, Event::Audio(AudioEvent::Supported))))
    });
    assert!(ok, "no acknowledgement / LED state: {:?}", c.events);
    assert!(c.client.qemu_extended_keys());
    c
}

#[test]
fn qemu_acks_extended_keys_and_caps_lock_by_scancode_lights_the_led() {
    let Some(q) = beeping_qemu() else { return };
    let mut c = connect_acked(&q.addr(), true);
    assert!(c.client.audio_supported());
    // QEMU reports the keyboard's LEDs at connect: all off after SeaBIOS boots.
    assert_eq!(leds(&c.events), [LedState::default()]);
    // Caps Lock as a scancode: SeaBIOS toggles its flag and sets the LEDs, QEMU reports it.
    tap(&mut c, XK_CAPS_LOCK, SC_CAPS_LOCK);
    wait_leds(&mut c, caps(true));
    assert_eq!(c.client.led_state(), Some(caps(true)));
    tap(&mut c, XK_CAPS_LOCK, SC_CAPS_LOCK);
    wait_leds(&mut c, caps(false));
}

/// Collects at least `frames` frames of PCM after Begin; returns the bytes.
fn record(c: &mut Conn, format: AudioFormat, frames: usize) -> Vec<u8> {
    let want = frames * format.frame_bytes() as usize;
    let ok = c.until(LIMIT, |ev| {
        let mut n = 0;
        for e in ev {
            if let Event::Audio(AudioEvent::Data { bytes, .. }) = e {
                n += bytes.len();
            }
        }
        n >= want
    });
    assert!(ok, "too little audio: {:?}", c.client.audio_dropped_bytes());
    let begin = c
        .events
        .iter()
        .position(|e| matches!(e, Event::Audio(AudioEvent::Begin)))
        .expect("Begin before data");
    let mut pcm = Vec::new();
    for (i, e) in c.events.iter().enumerate() {
        if let Event::Audio(AudioEvent::Data { format: f, bytes }) = e {
            assert!(i > begin, "data before Begin");
            assert_eq!(*f, Some(format));
            assert_eq!(
                bytes.len() % format.frame_bytes() as usize,
                0,
                "split frame"
            );
            pcm.extend_from_slice(bytes);
        }
    }
    pcm
}

/// Channel-0 samples as i64 (little-endian, as QEMU sends them).
fn channel0(pcm: &[u8], f: AudioFormat) -> Vec<i64> {
    pcm.chunks_exact(f.frame_bytes() as usize)
        .map(|fr| match f.sample {
            SampleFormat::U8 => i64::from(fr[0]),
            SampleFormat::S8 => i64::from(fr[0] as i8),
            SampleFormat::U16 => i64::from(u16::from_le_bytes([fr[0], fr[1]])),
            SampleFormat::S16 => i64::from(i16::from_le_bytes([fr[0], fr[1]])),
            SampleFormat::U32 => i64::from(u32::from_le_bytes([fr[0], fr[1], fr[2], fr[3]])),
            SampleFormat::S32 => i64::from(i32::from_le_bytes([fr[0], fr[1], fr[2], fr[3]])),
        })
        .collect()
}

/// Rising crossings of the midpoint between the extremes, per second.
fn frequency(samples: &[i64], rate: u32) -> f64 {
    let (lo, hi) = (
        *samples.iter().min().unwrap(),
        *samples.iter().max().unwrap(),
    );
    let mid = (lo + hi) / 2;
    let rising = samples
        .windows(2)
        .filter(|w| w[0] <= mid && w[1] > mid)
        .count();
    rising as f64 * f64::from(rate) / samples.len() as f64
}

#[test]
fn qemu_streams_the_pc_speaker_as_pcm() {
    let Some(q) = beeping_qemu() else { return };
    // (format, least peak-to-peak): the speaker's square wave is loud in every format; a
    // byte-order mistake would shrink the 16-bit swing to a few hundred.
    let cases = [
        (
            AudioFormat {
                sample: SampleFormat::U8,
                channels: 2,
                frequency: 8000,
            },
            64,
        ),
        (
            AudioFormat {
                sample: SampleFormat::S16,
                channels: 1,
                frequency: 22_050,
            },
            16_000,
        ),
    ];
    for (format, swing) in cases {
        let mut c = connect_acked(&q.addr(), true);
        c.client.set_audio_format(format).unwrap();
        c.client.enable_audio().unwrap();
        // Half a second of sound.
        let pcm = record(&mut c, format, format.frequency as usize / 2);
        let s = channel0(&pcm, format);
        let (lo, hi) = (*s.iter().min().unwrap(), *s.iter().max().unwrap());
        assert!(
            hi - lo >= swing,
            "{format:?}: silent or garbled ({lo}..{hi})"
        );
        // The guest programmed 1193182 / 1193 Hz.
        let f = frequency(&s, format.frequency);
        assert!((900.0..1100.0).contains(&f), "{format:?}: {f:.0} Hz");
        assert_eq!(c.client.audio_dropped_bytes(), 0);
        // After disable, whatever still arrives is dropped, and the session stays healthy.
        c.client.disable_audio().unwrap();
        let before = c.events.len();
        c.client.request_full_update(false).unwrap();
        let ok = c.until(LIMIT, |ev| {
            has(&ev[before..], |e| {
                matches!(e, Event::FramebufferUpdated { .. })
            })
        });
        assert!(ok && c.client.is_connected());
    }
}

/// An Xvnc with an xterm running `cat > FILE` under the pointer (focus follows it).
fn typing_xvnc(opts: XvncOptions) -> Option<(Xvnc, std::path::PathBuf)> {
    let x = Xvnc::start_or_skip(opts)?;
    let out = x.dir().join("typed.txt");
    let ready = x.dir().join("cat.ready");
    let script = format!(": > '{}'; exec cat > '{}'", ready.display(), out.display());
    x.spawn(
        "xterm",
        &["-geometry", "80x20+0+0", "-e", "sh", "-c", &script],
    );
    let end = Instant::now() + LIMIT;
    while !ready.exists() {
        assert!(Instant::now() < end, "xterm did not start cat");
        std::thread::sleep(Duration::from_millis(50));
    }
    x.park_pointer(200, 100);
    Some((x, out))
}

/// Waits until `path` holds `want` (cat writes whole lines).
fn wait_text(c: &mut Conn, path: &Path, want: &str) {
    let end = Instant::now() + LIMIT;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text == want {
            return;
        }
        assert!(
            Instant::now() < end,
            "xterm wrote {text:?}, wanted {want:?}"
        );
        c.until(Duration::from_millis(100), |_| false);
    }
}

#[test]
fn xvnc_acks_extended_keys_reports_leds_and_maps_by_keysym() {
    let Some((x, out)) = typing_xvnc(XvncOptions::new(640, 400)) else {
        return;
    };
    let mut c = connect_acked(&x.addr(), false);
    assert_eq!(leds(&c.events).last(), Some(&LedState::default()));
    // Without -RawKeyboard Xvnc follows the keysym: 'x' with H's scancode types "x", and a key
    // with keysym 0 is ignored.
    tap(&mut c, u32::from(b'x'), SC_H);
    tap(&mut c, 0, SC_I);
    tap(&mut c, XK_RETURN, SC_ENTER);
    wait_text(&mut c, &out, "x\n");
    // Caps Lock lights its LED, and turns it off again.
    tap(&mut c, XK_CAPS_LOCK, SC_CAPS_LOCK);
    wait_leds(&mut c, caps(true));
    tap(&mut c, XK_CAPS_LOCK, SC_CAPS_LOCK);
    wait_leds(&mut c, caps(false));
}

#[test]
fn xvnc_raw_keyboard_types_by_scancode() {
    let Some((x, out)) = typing_xvnc(XvncOptions::new(640, 400).arg("-RawKeyboard")) else {
        return;
    };
    let mut c = connect_acked(&x.addr(), false);
    // The keycode decides: keysym 0 still types, and a contradicting keysym loses.
    tap(&mut c, 0, SC_H);
    tap(&mut c, 0, SC_I);
    tap(&mut c, u32::from(b'x'), SC_H);
    tap(&mut c, 0, SC_ENTER);
    // Caps Lock by scancode: the LED comes on and the next letter is upper case.
    tap(&mut c, 0, SC_CAPS_LOCK);
    wait_leds(&mut c, caps(true));
    tap(&mut c, 0, SC_A);
    tap(&mut c, 0, SC_ENTER);
    wait_text(&mut c, &out, "hih\nA\n");
    tap(&mut c, 0, SC_CAPS_LOCK);
    wait_leds(&mut c, caps(false));
}

fn rfb() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_rfb"))
}

/// Runs `rfb ARGS`; returns (success, stdout, stderr).
fn run_rfb(args: &[&str]) -> (bool, String, String) {
    let out = rfb().args(args).output().expect("run rfb");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_key_types_by_keysym_and_scancode_into_xvnc() {
    let Some((x, out)) = typing_xvnc(XvncOptions::new(640, 400).arg("-RawKeyboard")) else {
        return;
    };
    let addr = x.addr();
    // h by keysym, i by scancode only, Shift+X as a chord by scancode, Return by keysym.
    let (ok, stdout, stderr) = run_rfb(&[
        "key",
        &addr,
        "h",
        "@KeyI",
        "Shift_L@ShiftLeft+x@0x2d",
        "Return",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("key events: 6 by scancode, 4 by keysym, 0 dropped"),
        "{stdout}"
    );
    let end = Instant::now() + LIMIT;
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if text == "hiX\n" {
            break;
        }
        assert!(Instant::now() < end, "xterm wrote {text:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Bad key names fail before connecting, naming the culprit.
    let (ok, _, stderr) = run_rfb(&["key", &addr, "NoSuchKeysym"]);
    assert!(!ok && stderr.contains("NoSuchKeysym"), "{stderr}");
}

#[test]
fn cli_key_caps_lock_on_qemu_and_wait_for_the_led() {
    let Some(q) = beeping_qemu() else { return };
    let addr = q.addr();
    let (ok, stdout, stderr) = run_rfb(&["key", &addr, "@CapsLock", "--wait-leds", "caps"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("2 by scancode") && stdout.contains("leds: caps"),
        "{stdout}"
    );
    let (ok, stdout, stderr) =
        run_rfb(&["key", &addr, "Caps_Lock@CapsLock", "--wait-leds", "none"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("leds: none"), "{stdout}");
}

#[test]
fn cli_audio_records_the_qemu_speaker_to_wav() {
    let Some(q) = beeping_qemu() else { return };
    let wav = q.dir().join("beep.wav");
    let wav_arg = wav.to_string_lossy().into_owned();
    let (ok, stdout, stderr) = run_rfb(&[
        "audio",
        &q.addr(),
        &wav_arg,
        "--duration",
        "0.5",
        "--sample",
        "u8",
        "--channels",
        "1",
        "--rate",
        "8000",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("4000 frames"), "{stdout}");
    let bytes = std::fs::read(&wav).unwrap();
    assert_eq!(bytes.len(), 44 + 4000);
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    // PCM, mono, 8000 Hz, 8 bits.
    assert_eq!(&bytes[20..24], [1, 0, 1, 0]);
    assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 8000);
    assert_eq!(&bytes[34..36], [8, 0]);
    assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 4000);
    let s: Vec<i64> = bytes[44..].iter().map(|&b| i64::from(b)).collect();
    let (lo, hi) = (*s.iter().min().unwrap(), *s.iter().max().unwrap());
    assert!(hi - lo >= 64, "silent: {lo}..{hi}");
    let f = frequency(&s, 8000);
    assert!((900.0..1100.0).contains(&f), "{f:.0} Hz");
}

#[test]
fn cli_audio_without_server_support_fails_cleanly() {
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(64, 48)) else {
        return;
    };
    let wav = x.dir().join("none.wav");
    let (ok, _, stderr) = run_rfb(&[
        "audio",
        &x.addr(),
        &wav.to_string_lossy(),
        "--duration",
        "1",
    ]);
    assert!(
        !ok && stderr.contains("does not offer QEMU Audio"),
        "{stderr}"
    );
    assert!(!wav.exists());
}

#[test]
fn xvnc_uses_the_vmware_led_form_when_only_that_is_offered() {
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(64, 48)) else {
        return;
    };
    let mut config = rfb_core::Config::default();
    config
        .encodings
        .retain(|e| *e != rfb_encodings::Encoding::QemuLedState);
    let mut c = Conn::connect_with(&x.addr(), config);
    let vmware = |ev: &[Event], caps_on: bool| {
        has(
            ev,
            |e| matches!(e, Event::LedState { state, source: LedSource::Vmware } if state.caps_lock == caps_on),
        )
    };
    assert!(c.until(LIMIT, |ev| vmware(ev, false)), "{:?}", c.events);
    tap(&mut c, XK_CAPS_LOCK, SC_CAPS_LOCK);
    assert!(c.until(LIMIT, |ev| vmware(ev, true)), "{:?}", c.events);
    assert!(!has(&c.events, |e| matches!(
        e,
        Event::LedState {
            source: LedSource::Qemu,
            ..
        }
    )));
}
