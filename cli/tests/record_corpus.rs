//! Generates the benchmark corpus: one recording per encoding a real server speaks, in
//! websockify's VNC_frame_data format, from a desktop with variety and window moves (QEMU:
//! its SeaBIOS text screen).
//!
//! Not part of the normal test run (it writes into the source tree). Regenerate with:
//! `cargo test -p rfb-cli --release --test record_corpus -- --ignored --nocapture`
//! (`RFB_CORPUS_DIR` overrides the output directory; `RFB_CORPUS_SIZE=WxH` the desktop size
//! for a larger on-demand corpus).

// Waits on real processes, so it reads the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rfb_encodings::{Decoders, Encoding};
use rfb_testkit::pattern;
use rfb_testkit::qemu::Qemu;
use rfb_testkit::x11vnc::X11vnc;
use rfb_testkit::xvnc::{WindowId, Xvnc, XvncOptions};

fn decodable(list: &str) -> bool {
    list.split(',')
        .all(|n| Encoding::from_name(n).is_some_and(Decoders::can_decode))
}

/// Paints the desktop; returns the window the recording moves around.
fn paint(x: &Xvnc, w: u32, h: u32) -> WindowId {
    x.hide_pointer();
    x.set_root_solid("#2a4d69");
    let img = x.show_image(&pattern::photo_like(w / 2, h / 2, 11), 8, 8);
    x.show_xterm(
        "$ ls -l /usr/share/doc | head",
        8,
        (h / 2 + 16) as i32,
        40,
        6,
    );
    x.settle();
    img
}

/// Records `rfb screenshot --encodings LIST` for 3 s, moving `window` meanwhile if given.
fn record(out: &Path, stem: &str, addr: &str, list: &str, moves: Option<(&Xvnc, WindowId)>) {
    if !decodable(list) {
        eprintln!("skipping {stem}: {list} not decodable in this build");
        return;
    }
    let path = out.join(format!("{stem}.js"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rfb"))
        .args(["screenshot", addr, "/dev/null", "--encodings", list])
        .args(["--duration", "3", "--record"])
        .arg(&path)
        .spawn()
        .expect("spawn rfb");
    std::thread::sleep(Duration::from_millis(800));
    if let Some((x, win)) = moves {
        for i in 0..8 {
            x.move_window(win, 8 + 12 * i, 8 + 6 * i);
            x.sync();
            std::thread::sleep(Duration::from_millis(120));
        }
    }
    assert!(child.wait().expect("rfb").success(), "{stem}");
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!("wrote {} ({len} bytes)", path.display());
}

#[test]
#[ignore = "writes benches/recordings; run by hand"]
fn record_corpus() {
    let out = std::env::var_os("RFB_CORPUS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../benches/recordings"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&out).expect("output directory");
    let (w, h) = std::env::var("RFB_CORPUS_SIZE")
        .ok()
        .and_then(|s| {
            let (a, b) = s.split_once('x')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .unwrap_or((256u32, 192u32));
    for (stem, list) in [
        ("xvnc-raw", "raw"),
        ("xvnc-copyrect", "copyrect,raw"),
        ("xvnc-rre", "rre"),
        ("xvnc-hextile", "hextile"),
        ("xvnc-tight", "tight"),
        ("xvnc-zrle", "zrle"),
    ] {
        let Some(x) = Xvnc::start_or_skip(XvncOptions::new(w, h)) else {
            return;
        };
        let win = paint(&x, w, h);
        record(&out, stem, &x.addr(), list, Some((&x, win)));
    }
    for (stem, list) in [
        ("x11vnc-corre", "corre"),
        ("x11vnc-zlib", "zlib"),
        ("x11vnc-zywrle", "zywrle"),
    ] {
        let Some(x) = X11vnc::start_or_skip(w, h) else {
            return;
        };
        let win = paint(&x, w, h);
        record(&out, stem, &x.addr(), list, Some((&x, win)));
    }
    for (stem, list) in [("qemu-tightpng", "tightpng"), ("qemu-zrle", "zrle")] {
        let Some(q) = Qemu::start_or_skip() else {
            return;
        };
        record(&out, stem, &q.addr(), list, None);
    }
}

/// The on-demand large corpus: one Xvnc desktop per workload, recorded with each listed
/// encoding while the workload runs. Too big to commit; `cargo xtask bench` records it into
/// `target/bench-corpus` when missing.
#[test]
#[ignore = "records the large corpus; run by hand or by `cargo xtask bench`"]
fn large_corpus() {
    let out = std::env::var_os("RFB_CORPUS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpus"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&out).expect("output directory");
    let (w, h) = (1280u32, 800u32);
    // xterm's `fixed` font is 6×13: the whole screen in characters.
    let full = format!("{}x{}+0+0", w / 6 - 2, h / 13 - 1);
    let start = || {
        let x = Xvnc::start_or_skip(XvncOptions::new(w, h))?;
        x.hide_pointer();
        x.set_root_solid("#2a4d69");
        Some(x)
    };
    let xterm = |x: &Xvnc, geometry: &str, script: &str| {
        x.spawn(
            "xterm",
            &[
                "-fn",
                "fixed",
                "-geometry",
                geometry,
                "+sb",
                "-bw",
                "0",
                "-e",
                "sh",
                "-c",
                script,
            ],
        );
    };

    // Terminal scrolling text at a steady rate (mostly CopyRect when offered).
    if let Some(x) = start() {
        xterm(
            &x,
            &full,
            "ls -lR /usr | while IFS= read -r l; do printf '%s\\n' \"$l\"; sleep 0.008; done; sleep 100000",
        );
        std::thread::sleep(Duration::from_millis(1500));
        for (stem, list) in [
            ("large-scroll-zrle", "copyrect,zrle"),
            ("large-scroll-tight", "copyrect,tight"),
        ] {
            record_with(&out, stem, &x.addr(), list, 5, || {});
        }
    }
    // A text flood: `ls -lR` as fast as xterm draws it, started with each recording.
    if let Some(x) = start() {
        for (stem, list) in [
            ("large-text-tight", "tight"),
            ("large-text-zrle", "zrle"),
            ("large-text-hextile", "hextile"),
        ] {
            record_with(&out, stem, &x.addr(), list, 4, || {
                xterm(&x, &full, "ls -lR /usr/share; sleep 100000");
            });
        }
    }
    // A photo viewer: a slideshow of photo-like images.
    if let Some(x) = start() {
        for (i, (stem, list)) in [("large-photo-tight", "tight"), ("large-photo-zrle", "zrle")]
            .into_iter()
            .enumerate()
        {
            record_with(&out, stem, &x.addr(), list, 5, || {
                for k in 0..4 {
                    let img = pattern::photo_like(w * 3 / 4, h * 3 / 4, 100 + 10 * i as u64 + k);
                    x.show_image(&img, (w / 8) as i32, (h / 8) as i32);
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }
    }
    // Window moves: a photo and a terminal dragged across the desktop.
    if let Some(x) = start() {
        let win = paint(&x, w, h);
        for (stem, list) in [
            ("large-moves-zrle", "copyrect,zrle"),
            ("large-moves-tight", "copyrect,tight"),
        ] {
            record_with(&out, stem, &x.addr(), list, 4, || {
                for i in 0..20 {
                    x.move_window(win, 8 + 24 * i, 8 + 12 * i);
                    x.sync();
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
    }
    // A full-screen animation: random colour blocks redrawn about 30 times a second.
    if let Some(x) = start() {
        xterm(
            &x,
            &full,
            "awk 'BEGIN { srand(1); while (1) { s = \"\\033[H\"; for (y = 0; y < 60; y++) { for (c = 0; c < 52; c++) s = s sprintf(\"\\033[4%dm    \", int(rand() * 8)); s = s \"\\033[0m\\n\" } printf \"%s\", s; fflush(); system(\"sleep 0.03\") } }'",
        );
        std::thread::sleep(Duration::from_millis(1500));
        for (stem, list) in [("large-anim-zrle", "zrle"), ("large-anim-tight", "tight")] {
            record_with(&out, stem, &x.addr(), list, 4, || {});
        }
    }
    // An idle desktop with a clock ticking every second.
    if let Some(x) = start() {
        paint(&x, w, h);
        x.spawn("xclock", &["-update", "1", "-geometry", "160x160+1100+20"]);
        std::thread::sleep(Duration::from_millis(1000));
        for (stem, list) in [("large-idle-zrle", "zrle"), ("large-idle-tight", "tight")] {
            record_with(&out, stem, &x.addr(), list, 4, || {});
        }
    }
}

/// Records `rfb screenshot --encodings LIST` for `secs` seconds, running `during` once the
/// client is connected.
fn record_with(out: &Path, stem: &str, addr: &str, list: &str, secs: u32, during: impl FnOnce()) {
    if !decodable(list) {
        eprintln!("skipping {stem}: {list} not decodable in this build");
        return;
    }
    let path = out.join(format!("{stem}.js"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rfb"))
        .args(["screenshot", addr, "/dev/null", "--encodings", list])
        .args(["--duration", &secs.to_string(), "--record"])
        .arg(&path)
        .spawn()
        .expect("spawn rfb");
    std::thread::sleep(Duration::from_millis(500));
    during();
    assert!(child.wait().expect("rfb").success(), "{stem}");
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!("wrote {} ({len} bytes)", path.display());
}
