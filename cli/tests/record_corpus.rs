//! Generates the benchmark corpus: one recording per encoding a real server speaks, in
//! websockify's VNC_frame_data format, from a desktop with variety and window moves.
//!
//! Not part of the normal test run (it writes into the source tree). Regenerate with:
//! `cargo test -p rfb-cli --release --test record_corpus -- --ignored --nocapture`
//! (`RFB_CORPUS_DIR` overrides the output directory; `RFB_CORPUS_SIZE=WxH` the desktop size
//! for a larger on-demand corpus).

// Waits on real processes, so it reads the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use rfb_encodings::{Decoders, Encoding};
use rfb_testkit::pattern;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

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
    // (file stem, --encodings list). TigerVNC speaks these; x11vnc and QEMU add more.
    let sets: &[(&str, &str)] = &[
        ("xvnc-raw", "raw"),
        ("xvnc-copyrect", "copyrect,raw"),
        ("xvnc-rre", "rre"),
        ("xvnc-hextile", "hextile"),
        ("xvnc-tight", "tight"),
        ("xvnc-zrle", "zrle"),
    ];
    for (stem, list) in sets {
        let decodable = list
            .split(',')
            .all(|n| Encoding::from_name(n).is_some_and(Decoders::can_decode));
        if !decodable {
            eprintln!("skipping {stem}: {list} not decodable in this build");
            continue;
        }
        let Some(x) = Xvnc::start_or_skip(XvncOptions::new(w, h)) else {
            return;
        };
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
        let path = out.join(format!("{stem}.js"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_rfb"))
            .args(["screenshot", &x.addr(), "/dev/null", "--encodings", list])
            .args(["--duration", "3", "--record"])
            .arg(&path)
            .spawn()
            .expect("spawn rfb");
        std::thread::sleep(Duration::from_millis(800));
        for i in 0..8 {
            x.move_window(img, 8 + 12 * i, 8 + 6 * i);
            x.sync();
            std::thread::sleep(Duration::from_millis(120));
        }
        assert!(child.wait().expect("rfb").success(), "{stem}");
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        eprintln!("wrote {} ({len} bytes)", path.display());
    }
}
