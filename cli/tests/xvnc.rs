//! `rfb` against a real TigerVNC Xvnc started by each test on its own display and port: decoded
//! pixels must equal what the X server holds (`xwd -root`), exactly for lossless paths and
//! exactly after the server's own quantisation for 16 and 8 bpp.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rfb_encodings::expand_component;
use rfb_testkit::Image;
use rfb_testkit::pattern;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

const W: u32 = 400;
const H: u32 = 300;

fn rfb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
}

fn out_dir(x: &Xvnc) -> PathBuf {
    x.dir().to_path_buf()
}

/// A desktop with variety: a solid root, a photo-like image (many colours) and text in an
/// xterm. Static: no clocks, no blinking cursor.
fn desktop(opts: XvncOptions) -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(opts)?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(180, 120, 7), 16, 12);
    x.show_xterm("HELLO from rfb: AZaz09 !@#", 150, 150, 30, 4);
    x.settle();
    Some(x)
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run rfb");
    assert!(
        out.status.success(),
        "rfb failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn screenshot(x: &Xvnc, name: &str, extra: &[&str]) -> (Image, String) {
    let path = out_dir(x).join(name);
    let out = run_ok(
        rfb()
            .args(["screenshot", &x.addr()])
            .arg(&path)
            .args(["--timeout", "30", "--stats"])
            .args(extra),
    );
    (
        Image::read_png(&path).expect("read PNG"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn assert_same(got: &Image, want: &Image, what: &str) {
    assert_eq!(
        (got.width, got.height),
        (want.width, want.height),
        "{what}: size"
    );
    let n = got.diff_count(want);
    assert_eq!(
        n,
        0,
        "{what}: {n} pixels differ, first {:?}",
        got.first_diff(want)
    );
}

/// Reads `stats: encoding=NAME rects=N` for `name`.
fn rects(stats: &str, name: &str) -> u64 {
    let key = format!("stats: encoding={name} rects=");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn raw_matches_xwd_exactly() {
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let want = x.xwd_root();
    assert!(
        want.distinct_colors() > 1000,
        "the desktop should have variety"
    );
    let (got, stats) = screenshot(&x, "raw.png", &["--encodings", "raw"]);
    assert_same(&got, &want, "raw");
    assert!(rects(&stats, "raw") > 0, "{stats}");
    assert_eq!(rects(&stats, "copyrect"), 0, "{stats}");
}

#[test]
fn default_encodings_match_xwd_exactly() {
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let want = x.xwd_root();
    let (got, _) = screenshot(&x, "default.png", &[]);
    assert_same(&got, &want, "default encodings");
}

#[test]
fn native_pixel_format() {
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let want = x.xwd_root();
    let (got, _) = screenshot(
        &x,
        "native.png",
        &["--pixel-format", "native", "--encodings", "raw"],
    );
    assert_same(&got, &want, "native pixel format");
}

/// What a pixel looks like after the server reduces each component to `bits` bits and the
/// client expands it back to 8 bits. TigerVNC's down-conversion table is
/// `(v * max + 128) / 255` (measured: for 5 bits, 36 → 4 and 37 → 5, which plain rounding to
/// nearest puts at 38).
fn quantise(img: &Image, bits: [u32; 3], expand: fn(u32, u32) -> u8) -> Image {
    let mut out = img.clone();
    for px in out.rgba.chunks_exact_mut(4) {
        for (c, b) in px.iter_mut().zip(bits) {
            let max = (1u32 << b) - 1;
            let q = (u32::from(*c) * max + 128) / 255;
            *c = expand(q, max);
        }
    }
    out
}

/// The palette TigerVNC sends a colour-map client (read off the wire): entry components are
/// `floor(q * 255 / max) * 257` for the 3-3-2 index bits, which our 16-to-8-bit conversion
/// turns back into `floor(q * 255 / max)`.
fn tigervnc_palette_component(q: u32, max: u32) -> u8 {
    (q * 255 / max) as u8
}

#[test]
fn quantised_pixel_formats_match() {
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let root = x.xwd_root();
    let rounded: fn(u32, u32) -> u8 = expand_component;
    for (format, bits, expand) in [
        ("rgb565", [5, 6, 5], rounded),
        ("bgr233", [3, 3, 2], rounded),
        // TigerVNC answers a colour-map client with SetColourMapEntries describing a 3-3-2
        // palette: the same indices, decoded through the server's palette values.
        (
            "cmap8",
            [3, 3, 2],
            tigervnc_palette_component as fn(u32, u32) -> u8,
        ),
    ] {
        let (got, _) = screenshot(
            &x,
            &format!("{format}.png"),
            &["--pixel-format", format, "--encodings", "raw"],
        );
        assert_same(&got, &quantise(&root, bits, expand), format);
    }
}

#[test]
fn copyrect_during_window_moves() {
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.hide_pointer();
    x.set_root_solid("#204060");
    let win = x.show_image(&pattern::photo_like(120, 90, 3), 10, 10);
    x.settle();
    let path = out_dir(&x).join("moves.png");
    let child = rfb()
        .args(["screenshot", &x.addr()])
        .arg(&path)
        .args([
            "--encodings",
            "copyrect,raw",
            "--duration",
            "8",
            "--stats",
            "--timeout",
            "30",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rfb");
    // Move only once the session has its first full picture, so the moves are incremental
    // updates (a full update never contains CopyRect).
    wait_for_log(&x, "Connections: accepted");
    std::thread::sleep(Duration::from_millis(1500));
    for (i, (dx, dy)) in [
        (40, 0),
        (80, 20),
        (120, 40),
        (160, 60),
        (200, 90),
        (240, 120),
    ]
    .into_iter()
    .enumerate()
    {
        x.move_window(win, 10 + dx, 10 + dy);
        x.sync();
        std::thread::sleep(Duration::from_millis(150 + 10 * i as u64));
    }
    x.settle();
    let want = x.xwd_root();
    let out = child.wait_with_output().expect("rfb finished");
    let stats = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rfb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        rects(&stats, "copyrect") > 0,
        "no CopyRect decoded:\n{stats}"
    );
    let got = Image::read_png(&path).expect("read PNG");
    assert_same(&got, &want, "after window moves");
}

fn wait_for_log(x: &Xvnc, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !x.log_tail().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "Xvnc never logged {needle:?}:\n{}",
            x.log_tail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write file");
    p
}

#[test]
fn vncauth_with_password_file() {
    let Some(x) = desktop(XvncOptions::new(W, H).vnc_auth("secret12")) else {
        return;
    };
    let want = x.xwd_root();
    let pw = x.password_file().expect("password file");
    let (got, _) = screenshot(&x, "auth.png", &["--password-file", pw.to_str().unwrap()]);
    assert_same(&got, &want, "VncAuth session");
    // The obfuscated file TigerVNC's vncpasswd writes works too.
    let obf = out_dir(&x).join("obfuscated.bin");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("echo secret12 | vncpasswd -f > {}", obf.display()))
        .status()
        .expect("vncpasswd");
    assert!(status.success());
    let (got, _) = screenshot(&x, "auth2.png", &["--password-file", obf.to_str().unwrap()]);
    assert_same(&got, &want, "VncAuth with a vncpasswd file");
}

#[test]
fn wrong_password_is_a_clean_error() {
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(64, 48).vnc_auth("secret12")) else {
        return;
    };
    let bad = write(&out_dir(&x), "bad.txt", "nottheone\n");
    let out = rfb()
        .args(["screenshot", &x.addr()])
        .arg(out_dir(&x).join("never.png"))
        .arg("--password-file")
        .arg(&bad)
        .output()
        .expect("run rfb");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("authentication failed") && err.contains("Authentication failure"),
        "{err}"
    );
    assert!(!out_dir(&x).join("never.png").exists());
    // No password at all: told to pass one.
    let out = rfb()
        .args(["screenshot", &x.addr(), "/dev/null"])
        .output()
        .expect("run rfb");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-file"));
}

#[test]
fn info_prints_server_details() {
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(320, 200)) else {
        return;
    };
    let out = run_ok(rfb().args(["info", &x.addr()]));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "server version: RFB 003.008 (speaking 3.8)",
        "security types: none(1)",
        "size: 320x200",
        "pixel format: 32 bpp, depth 24",
        "desktop name: ",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let Some(y) = Xvnc::start_or_skip(XvncOptions::new(64, 48).vnc_auth("pw123456")) else {
        return;
    };
    let out = run_ok(rfb().args(["info", &y.addr()]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("security types: vncauth(2)") && text.contains("requires a password"),
        "{text}"
    );
}

#[test]
fn connection_refused_is_clean() {
    let port = rfb_testkit::net::free_port();
    let out = rfb()
        .args([
            "screenshot",
            &format!("127.0.0.1:{port}"),
            "/dev/null",
            "--timeout",
            "5",
        ])
        .output()
        .expect("run rfb");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("connection refused"), "{err}");
}

#[test]
fn recording_replays_to_the_same_picture() {
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let rec = out_dir(&x).join("session.js");
    let (shot, _) = screenshot(&x, "rec.png", &["--record", rec.to_str().unwrap()]);
    let text = std::fs::read_to_string(&rec).expect("recording written");
    assert!(text.starts_with("var VNC_frame_data = [\n") && text.ends_with("'EOF'];\n"));
    let frames = rfb_core::record::parse(&text).expect("recording parses");
    assert!(
        frames
            .iter()
            .any(|f| f.direction == rfb_core::record::Direction::FromClient)
    );
    let r =
        rfb_testkit::replay::replay(&frames, rfb_core::Config::default(), None).expect("replay");
    assert!(r.updates >= 1);
    let replayed = Image {
        width: u32::from(r.fb.width()),
        height: u32::from(r.fb.height()),
        rgba: r.fb.data().to_vec(),
    };
    assert_same(&replayed, &shot, "replayed recording");
}
