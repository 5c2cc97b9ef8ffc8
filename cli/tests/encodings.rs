//! Every pixel encoding each installable real server speaks, decoded by `rfb screenshot` and
//! compared with what the server itself holds: `xwd -root` for TigerVNC Xvnc and for x11vnc
//! on Xvfb, the QMP `screendump` for QEMU. Lossless encodings must match exactly; ZYWRLE and
//! Tight JPEG are lossy and must stay within the bounds stated at their tests.
//!
//! Each test also reads `rfb screenshot --stats` to prove the encoding was really decoded
//! (`stats: encoding=NAME rects=N`) and which sub-encodings the workload reached
//! (`stats: subencoding=NAME/SUB count=N`); `docs/encodings.md` lists which server and
//! workload triggers which sub-encoding.
//!
//! Decoders land one by one: a test whose decoder this build lacks (`Decoders::can_decode`)
//! prints `SKIPPED: <test>: <encoding> decoder not built yet` and returns. A missing server
//! skips visibly outside CI and fails in CI (rfb-testkit's `start_or_skip`).
//!
//! Every test has its own server (display and port) on 127.0.0.1 and a static screen.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rfb_encodings::{Decoders, Encoding};
use rfb_testkit::Image;
use rfb_testkit::pattern;
use rfb_testkit::peer;
use rfb_testkit::qemu::Qemu;
use rfb_testkit::x11vnc::X11vnc;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

const W: u32 = 400;
const H: u32 = 300;

/// How long x11vnc may take to poll a change into its framebuffer before a screenshot must
/// match (it usually takes well under a second).
const X11VNC_CATCH_UP: Duration = Duration::from_secs(10);

fn rfb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
}

/// True when every named encoding can be decoded; otherwise prints the visible skip line.
fn decoders_built(test: &str, names: &[&str]) -> bool {
    for name in names {
        let e = Encoding::from_name(name).unwrap_or_else(|| panic!("unknown encoding {name}"));
        if !Decoders::can_decode(e) {
            peer::skip(&format!("{test}: {name} decoder not built yet"));
            return false;
        }
    }
    true
}

/// Puts a desktop with variety on an X server: a solid root, a photo-like image (thousands
/// of colours), a two-colour xterm, and a small flat-colour block with a few colours. Hides
/// the pointer. Static: no clocks, no blinking cursor.
fn paint_desktop(x: &Xvnc) {
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(180, 120, 7), 16, 12);
    x.show_xterm("HELLO from rfb: AZaz09 !@#", 150, 150, 30, 4);
    // A few flat colours in blocks (palette and RLE material).
    let blocks = Image::from_fn(96, 64, |px, py| match (px / 24 + py / 16) % 4 {
        0 => [200, 40, 40],
        1 => [40, 160, 60],
        2 => [250, 250, 250],
        _ => [20, 20, 20],
    });
    x.show_image(&blocks, 290, 20);
    x.settle();
}

fn xvnc_desktop() -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(XvncOptions::new(W, H))?;
    paint_desktop(&x);
    Some(x)
}

fn x11vnc_desktop() -> Option<X11vnc> {
    let x = X11vnc::start_or_skip(W, H)?;
    paint_desktop(&x);
    Some(x)
}

/// Runs `rfb screenshot ADDR DIR/NAME --stats --timeout 30 EXTRA…`; returns the picture and
/// the stats lines.
fn screenshot(addr: &str, dir: &Path, name: &str, extra: &[&str]) -> (Image, String) {
    let path = dir.join(name);
    let out = rfb()
        .args(["screenshot", addr])
        .arg(&path)
        .args(["--timeout", "30", "--stats"])
        .args(extra)
        .output()
        .expect("run rfb");
    assert!(
        out.status.success(),
        "rfb screenshot {extra:?} failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (
        Image::read_png(&path).expect("read PNG"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `stats: encoding=NAME rects=N` for `name` (0 when absent).
fn rects(stats: &str, name: &str) -> u64 {
    let key = format!("stats: encoding={name} rects=");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Every `stats: subencoding=NAME/SUB count=N` of encoding `name`, by SUB.
fn subs(stats: &str, name: &str) -> BTreeMap<String, u64> {
    let key = format!("stats: subencoding={name}/");
    stats
        .lines()
        .filter_map(|l| l.strip_prefix(&key))
        .filter_map(|rest| {
            let (sub, count) = rest.split_once(" count=")?;
            Some((sub.to_owned(), count.trim().parse().ok()?))
        })
        .collect()
}

/// Asserts `name` was decoded and each sub-encoding in `expected` was seen at least once;
/// prints what was seen (visible with `--nocapture`).
fn assert_decoded(test: &str, stats: &str, name: &str, expected: &[&str]) {
    assert!(
        rects(stats, name) > 0,
        "{test}: no {name} rectangle decoded:\n{stats}"
    );
    let seen = subs(stats, name);
    eprintln!("{test}: {name} rects={} subs={seen:?}", rects(stats, name));
    for sub in expected {
        assert!(
            seen.get(*sub).is_some_and(|&n| n > 0),
            "{test}: sub-encoding {name}/{sub} never seen; seen {seen:?}\n{stats}"
        );
    }
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

fn error_stats(got: &Image, want: &Image) -> (f64, u8) {
    got.error_stats(want)
}

/// Screenshots until the picture equals `want` (x11vnc polls the screen, so a change may take
/// a moment to reach its framebuffer); returns the stats of the matching run.
fn screenshot_until_same(
    x: &X11vnc,
    want: &Image,
    name: &str,
    extra: &[&str],
    what: &str,
) -> String {
    let deadline = Instant::now() + X11VNC_CATCH_UP;
    loop {
        let (got, stats) = screenshot(&x.addr(), x.dir(), name, extra);
        if got.diff_count(want) == 0 || Instant::now() >= deadline {
            assert_same(&got, want, what);
            return stats;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

// --- TigerVNC Xvnc: RRE, Hextile, Tight, ZRLE, CopyRect (and lossy Tight JPEG) -------------

fn xvnc_lossless(test: &str, enc: &str, expected_subs: &[&str]) {
    if !decoders_built(test, &[enc]) {
        return;
    }
    let Some(x) = xvnc_desktop() else { return };
    let want = x.xwd_root();
    let (got, stats) = screenshot(
        &x.addr(),
        x.dir(),
        &format!("{enc}.png"),
        &["--encodings", enc],
    );
    assert_same(&got, &want, test);
    assert_decoded(test, &stats, enc, expected_subs);
}

#[test]
fn xvnc_rre() {
    xvnc_lossless("xvnc_rre", "rre", &["background", "subrect"]);
}

#[test]
fn xvnc_hextile() {
    xvnc_lossless(
        "xvnc_hextile",
        "hextile",
        &[
            "raw",
            "background",
            "foreground",
            "anysubrects",
            "subrectscoloured",
        ],
    );
}

#[test]
fn xvnc_tight_lossless() {
    // No --quality: TigerVNC keeps Tight lossless (no JPEG) without the quality level.
    xvnc_lossless(
        "xvnc_tight_lossless",
        "tight",
        &["fill", "copy", "palette", "palette-mono"],
    );
}

#[test]
fn xvnc_zrle() {
    // TigerVNC picks packed palettes over RLE for this desktop (it never sent plain-rle or
    // palette-rle here); x11vnc and QEMU cover those.
    xvnc_lossless("xvnc_zrle", "zrle", &["raw", "solid", "packed-palette"]);
}

/// Tight JPEG at quality level 8: only the photo-like image goes through JPEG (text and flat
/// blocks stay palette or fill, hence exact). Measured on TigerVNC 1.12: mean absolute error
/// 0.40 per channel over the whole screen, largest channel error 10. The bounds leave room
/// for another libjpeg-turbo build while still catching a wrong colour conversion or
/// upsampling (those give means above 5 and errors above 100).
const JPEG_MAX_MEAN_ERROR: f64 = 2.0;
const JPEG_MAX_ERROR: u8 = 48;

#[test]
fn xvnc_tight_jpeg_quality_8() {
    let test = "xvnc_tight_jpeg_quality_8";
    if !decoders_built(test, &["tight"]) {
        return;
    }
    let Some(x) = xvnc_desktop() else { return };
    let want = x.xwd_root();
    let (got, stats) = screenshot(
        &x.addr(),
        x.dir(),
        "tight-jpeg.png",
        &["--encodings", "tight", "--quality", "8"],
    );
    let (mean, max) = error_stats(&got, &want);
    eprintln!("{test}: mean abs error {mean:.3} per channel, max {max}");
    assert!(
        mean < JPEG_MAX_MEAN_ERROR && max <= JPEG_MAX_ERROR,
        "{test}: mean abs error {mean:.3} (bound {JPEG_MAX_MEAN_ERROR}), max {max} (bound {JPEG_MAX_ERROR})"
    );
    assert!(
        got.diff_count(&want) > 0,
        "{test}: JPEG reproduced every pixel exactly, which lossy coding of a photo cannot"
    );
    assert_decoded(test, &stats, "tight", &["jpeg"]);
}

#[test]
fn xvnc_copyrect_with_zrle_during_window_moves() {
    let test = "xvnc_copyrect_with_zrle_during_window_moves";
    if !decoders_built(test, &["copyrect", "zrle"]) {
        return;
    }
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.hide_pointer();
    x.set_root_solid("#204060");
    let win = x.show_image(&pattern::photo_like(120, 90, 3), 10, 10);
    x.settle();
    let path = x.dir().join("moves.png");
    let child = rfb()
        .args(["screenshot", &x.addr()])
        .arg(&path)
        .args(["--encodings", "copyrect,zrle", "--duration", "4"])
        .args(["--stats", "--timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rfb");
    // Move only once the session has its first full picture, so the moves are incremental
    // updates (a full update never contains CopyRect).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !x.log_tail().contains("Connections: accepted") {
        assert!(
            Instant::now() < deadline,
            "Xvnc never logged the connection"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(800));
    for (dx, dy) in [(40, 0), (80, 20), (120, 40), (160, 60), (200, 90)] {
        x.move_window(win, 10 + dx, 10 + dy);
        x.sync();
        std::thread::sleep(Duration::from_millis(120));
    }
    x.settle();
    let want = x.xwd_root();
    let out = child.wait_with_output().expect("rfb finished");
    assert!(
        out.status.success(),
        "rfb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = String::from_utf8_lossy(&out.stdout);
    assert!(
        rects(&stats, "copyrect") > 0,
        "{test}: no CopyRect:\n{stats}"
    );
    assert_decoded(test, &stats, "zrle", &[]);
    assert_same(&Image::read_png(&path).expect("read PNG"), &want, test);
}

/// Tight data shorter than 12 bytes is sent without zlib ("uncompressed"): a tiny two-colour
/// change in an incremental update is exactly that (4×4 pixels, 1 bit each: 4 bytes).
#[test]
fn xvnc_tight_small_incremental_updates() {
    let test = "xvnc_tight_small_incremental_updates";
    if !decoders_built(test, &["tight"]) {
        return;
    }
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.settle();
    let path = x.dir().join("small.png");
    let child = rfb()
        .args(["screenshot", &x.addr()])
        .arg(&path)
        .args(["--encodings", "tight", "--duration", "2.5"])
        .args(["--stats", "--timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rfb");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !x.log_tail().contains("Connections: accepted") {
        assert!(
            Instant::now() < deadline,
            "Xvnc never logged the connection"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let checker = Image::from_fn(4, 4, |px, py| {
        if (px + py) % 2 == 0 {
            [255, 255, 0]
        } else {
            [0, 0, 0]
        }
    });
    x.show_image(&checker, 50, 40);
    x.show_image(&checker, 300, 200);
    x.settle();
    let want = x.xwd_root();
    let out = child.wait_with_output().expect("rfb finished");
    assert!(
        out.status.success(),
        "rfb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = String::from_utf8_lossy(&out.stdout);
    assert_decoded(
        test,
        &stats,
        "tight",
        &["fill", "palette-mono", "uncompressed"],
    );
    assert_same(&Image::read_png(&path).expect("read PNG"), &want, test);
}

// --- x11vnc on Xvfb: RRE, CoRRE, Hextile, Zlib, Tight, ZRLE, ZYWRLE --------------------------

fn x11vnc_lossless(test: &str, enc: &str, expected_subs: &[&str]) {
    if !decoders_built(test, &[enc]) {
        return;
    }
    let Some(x) = x11vnc_desktop() else { return };
    let want = x.xwd_root();
    let stats = screenshot_until_same(
        &x,
        &want,
        &format!("{enc}.png"),
        &["--encodings", enc],
        test,
    );
    assert_decoded(test, &stats, enc, expected_subs);
}

#[test]
fn x11vnc_rre() {
    x11vnc_lossless("x11vnc_rre", "rre", &["background", "subrect"]);
}

#[test]
fn x11vnc_corre() {
    x11vnc_lossless("x11vnc_corre", "corre", &["background", "subrect"]);
}

#[test]
fn x11vnc_hextile() {
    x11vnc_lossless(
        "x11vnc_hextile",
        "hextile",
        &[
            "raw",
            "background",
            "foreground",
            "anysubrects",
            "subrectscoloured",
        ],
    );
}

#[test]
fn x11vnc_zlib() {
    x11vnc_lossless("x11vnc_zlib", "zlib", &[]);
}

#[test]
fn x11vnc_tight() {
    // libvncserver's Tight (TurboVNC's encoder) has no gradient filter: gradient is covered
    // by spec vectors only.
    x11vnc_lossless(
        "x11vnc_tight",
        "tight",
        &["fill", "copy", "palette", "palette-mono"],
    );
}

#[test]
fn x11vnc_zrle() {
    // libvncserver picks RLE over packed palettes for this desktop (no packed-palette here);
    // Xvnc and QEMU cover packed palettes.
    x11vnc_lossless(
        "x11vnc_zrle",
        "zrle",
        &["raw", "solid", "plain-rle", "palette-rle"],
    );
}

/// ZYWRLE is a wavelet transform in front of ZRLE; libvncserver uses its mildest level (1)
/// when the client sends no quality level. Measured with x11vnc 0.9.16: mean absolute error
/// 0.54 per channel, largest channel error 16 (with `--quality 0`, level 3: 10.9 and 247).
/// The bounds leave a margin yet fail a decoder that drops the wavelet inverse.
const ZYWRLE_MAX_MEAN_ERROR: f64 = 2.0;
const ZYWRLE_MAX_ERROR: u8 = 48;

#[test]
fn x11vnc_zywrle() {
    let test = "x11vnc_zywrle";
    if !decoders_built(test, &["zywrle"]) {
        return;
    }
    let Some(x) = x11vnc_desktop() else { return };
    let want = x.xwd_root();
    // Retry while x11vnc may still be catching up: a stale picture has errors far above
    // the bound.
    let deadline = Instant::now() + X11VNC_CATCH_UP;
    let (mean, max, stats) = loop {
        let (got, stats) = screenshot(&x.addr(), x.dir(), "zywrle.png", &["--encodings", "zywrle"]);
        let (mean, max) = error_stats(&got, &want);
        let ok = mean < ZYWRLE_MAX_MEAN_ERROR && max <= ZYWRLE_MAX_ERROR;
        if ok || Instant::now() >= deadline {
            break (mean, max, stats);
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!("{test}: mean abs error {mean:.3} per channel, max {max}");
    assert!(
        mean < ZYWRLE_MAX_MEAN_ERROR && max <= ZYWRLE_MAX_ERROR,
        "{test}: mean abs error {mean:.3} (bound {ZYWRLE_MAX_MEAN_ERROR}), max {max} (bound {ZYWRLE_MAX_ERROR})"
    );
    assert_decoded(
        test,
        &stats,
        "zywrle",
        &["solid", "plain-rle", "palette-rle"],
    );
}

// --- QEMU (SeaBIOS text screen): Hextile, Zlib, Tight, TightPNG, ZRLE ------------------------

fn qemu_lossless(test: &str, enc: &str, expected_subs: &[&str]) {
    if !decoders_built(test, &[enc]) {
        return;
    }
    let Some(q) = Qemu::start_or_skip() else {
        return;
    };
    let want = q.screendump();
    assert!(
        want.distinct_colors() >= 2,
        "SeaBIOS text should be on screen"
    );
    let (got, stats) = screenshot(
        &q.addr(),
        q.dir(),
        &format!("{enc}.png"),
        &["--encodings", enc],
    );
    assert_same(&got, &want, test);
    assert_decoded(test, &stats, enc, expected_subs);
}

#[test]
fn qemu_hextile() {
    qemu_lossless(
        "qemu_hextile",
        "hextile",
        &["solid", "background", "foreground", "anysubrects"],
    );
}

#[test]
fn qemu_zlib() {
    qemu_lossless("qemu_zlib", "zlib", &[]);
}

#[test]
fn qemu_tight() {
    // Two colours on screen: fill and two-colour palettes only, even with --quality.
    qemu_lossless("qemu_tight", "tight", &["fill", "palette-mono"]);
}

#[test]
fn qemu_tightpng() {
    let test = "qemu_tightpng";
    // TightPNG's number is negative (-260) but it is a pixel encoding; `rfb screenshot
    // --encodings` refuses pseudo-encodings, so this waits until TightPNG is not one.
    if Encoding::TightPng.is_pseudo() {
        peer::skip(&format!(
            "{test}: `rfb screenshot --encodings tightpng` is refused while Encoding::is_pseudo() is true for TightPNG (-260)"
        ));
        return;
    }
    qemu_lossless(test, "tightpng", &["fill"]);
}

#[test]
fn qemu_zrle() {
    qemu_lossless(
        "qemu_zrle",
        "zrle",
        &["solid", "packed-palette", "palette-rle"],
    );
}
