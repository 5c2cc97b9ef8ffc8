//! The wasm web client (`web/dist`, built by `cargo xtask dist`) in headless Chromium, through
//! `rfb-proxy --web` (and once through real websockify) to a real TigerVNC Xvnc. Every scenario
//! runs in worker mode and main-thread mode. Screenshots go to `target/web-artifacts/`.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::web::{artifact, browser, drive, eval, goto, js, op, read_until, wait, xterm_running};
use common::{Proc, copy_dir, start_proxy, temp_dir};
use rfb_testkit::Image;
use rfb_testkit::net::{free_port, wait_for_port};
use rfb_testkit::pattern;
use rfb_testkit::peer::{self, require_venv};
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

const W: u32 = 640;
const H: u32 = 400;

/// Both ways the client can run.
const MODES: [(&str, &str); 2] = [("worker", "1"), ("main", "0")];

/// `web/dist`, or `None` (skipped locally; a failure in CI, where xtask builds it first).
fn dist() -> Option<PathBuf> {
    common::web::dist_with(&["rfb.js", "pkg/rfb_web_bg.wasm"])
}

const CONNECTED: &str = "document.getElementById('status').textContent.startsWith('Connected')";

/// Waits until two framebuffer snapshots 300 ms apart are equal (the first full update is in).
fn settle_steps() -> Vec<String> {
    vec![wait(
        "(async () => { const a = await rfb.snapshot(); await new Promise(r => setTimeout(r, 300)); \
         const b = await rfb.snapshot(); if (!a || !b || a.width === 0) return false; \
         const x = a.data, y = b.data; for (let i = 0; i < x.length; i += 97) if (x[i] !== y[i]) return false; \
         return true; })()",
    )]
}

fn lite_url(port: u16, extra: &str) -> String {
    format!("http://127.0.0.1:{port}/vnc_lite.html?host=127.0.0.1&port={port}&lossless=1{extra}")
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

fn desktop() -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(XvncOptions::new(W, H))?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(180, 120, 7), 16, 12);
    x.show_xterm("HELLO from the wasm client: AZaz09 !@#", 150, 150, 40, 4);
    x.settle();
    Some(x)
}

fn proxy_for(x: &Xvnc, dist: &Path, dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let p = start_proxy(
        &[
            "--web".into(),
            dist.display().to_string(),
            format!("127.0.0.1:{port}"),
            x.addr(),
        ],
        port,
        &dir.join("proxy.log"),
    );
    (p, port)
}

/// The page's canvas (a PNG screenshot: the pixels Chromium shows) and the client's
/// framebuffer both equal `xwd -root`, in worker and main-thread mode; the worker is used.
#[test]
fn canvas_equals_xwd_in_worker_and_main_thread_modes() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop() else { return };
    let dir = temp_dir("web-canvas");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    let want = x.xwd_root();
    for (mode, flag) in MODES {
        let canvas = dir.join(format!("canvas-{mode}.png"));
        let fb = dir.join(format!("fb-{mode}.rgba"));
        let mut steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
        ];
        steps.extend(settle_steps());
        steps.push(eval("[rfb.usingWorker, rfb._workerConfirmed === true]"));
        steps.push(op(
            "canvas",
            &format!(r#""out":{}"#, js(&canvas.display().to_string())),
        ));
        steps.push(op(
            "snapshot",
            &format!(r#""out":{}"#, js(&fb.display().to_string())),
        ));
        let shot = PathBuf::from(artifact(&format!("vnc_lite-{mode}.png")));
        steps.push(op(
            "screenshot",
            &format!(r#""out":{}"#, js(&shot.display().to_string())),
        ));
        let out = drive(&node, &dir, &steps);
        let worker = if mode == "worker" {
            "[true,true]"
        } else {
            "[false,false]"
        };
        assert!(
            out.contains(&format!("ok eval {worker}")),
            "{mode}: worker use\n{out}"
        );
        let got = Image::read_png(&canvas).unwrap();
        assert_same(&got, &want, &format!("{mode}: canvas vs xwd -root"));
        let rgba = std::fs::read(&fb).unwrap();
        let fb_img = Image {
            width: W,
            height: H,
            rgba,
        };
        assert_same(&fb_img, &want, &format!("{mode}: framebuffer vs xwd -root"));
    }
}

/// A second connection in the same page runs on the first one's worker (rfb.js keeps one idle
/// worker so that a reconnect skips the worker's start-up), and that reused wasm instance
/// shows the desktop exactly as a fresh one does.
#[test]
fn a_reconnect_reuses_the_worker_and_stays_exact() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop() else { return };
    let dir = temp_dir("web-reuse");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    let want = x.xwd_root();
    let fb = dir.join("fb-second.rgba");
    let mut steps = vec![goto(&lite_url(port, "&worker=1")), wait(CONNECTED)];
    steps.extend(settle_steps());
    steps.push(eval(&format!(
        "(async () => {{ const {{ default: RFB }} = await import('./rfb.js'); \
         window.firstWorker = rfb._worker; rfb.disconnect(); \
         await new Promise(r => setTimeout(r, 300)); \
         window.second = false; \
         window.rfb = new RFB(document.getElementById('screen'), \
           'ws://127.0.0.1:{port}/websockify', {{ lossless: true }}); \
         rfb.addEventListener('connect', () => {{ window.second = true; }}); return 1; }})()"
    )));
    steps.push(wait("window.second === true"));
    steps.extend(settle_steps());
    steps.push(eval(
        "[rfb._worker === window.firstWorker, rfb._workerConfirmed === true]",
    ));
    steps.push(op(
        "snapshot",
        &format!(r#""out":{}"#, js(&fb.display().to_string())),
    ));
    let out = drive(&node, &dir, &steps);
    assert!(out.contains("ok eval [true,true]"), "worker reuse\n{out}");
    let got = Image {
        width: W,
        height: H,
        rgba: std::fs::read(&fb).unwrap(),
    };
    assert_same(
        &got,
        &want,
        "second connection on the reused worker vs xwd -root",
    );
}

/// One CDP key event as Chromium would report it for a layout (`key`/`code` pair).
fn key(kind: &str, key: &str, code: &str, text: Option<&str>, location: u32) -> String {
    let mut s = format!(
        r#"{{"type":"{kind}","key":{},"code":{},"location":{location}"#,
        js(key),
        js(code)
    );
    if let Some(t) = text {
        let _ = write!(s, r#","text":{}"#, js(t));
    }
    s.push('}');
    s
}

fn tap(k: &str, code: &str) -> [String; 2] {
    [
        key("down", k, code, Some(k), 0),
        key("up", k, code, None, 0),
    ]
}

/// Typing reaches an xterm: US with shifted characters, German `key`/`code` events (umlauts,
/// Shift, AltGr), and text inserted as an IME or virtual keyboard does.
#[test]
fn typing_reaches_an_xterm_in_both_modes() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.set_root_solid("#336699");
    let dir = temp_dir("web-typing");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    for (mode, flag) in MODES {
        let out = dir.join(format!("typed-{mode}.txt"));
        xterm_running(&x, &format!("exec cat > '{}'", out.display()));
        let mut german = Vec::new();
        german.extend(tap("ü", "BracketLeft"));
        german.push(key("down", "Shift", "ShiftLeft", None, 1));
        german.extend(tap("Ö", "Semicolon"));
        german.push(key("up", "Shift", "ShiftLeft", None, 1));
        german.extend(tap("ß", "Minus"));
        german.push(key("down", "AltGraph", "AltRight", None, 2));
        german.extend(tap("@", "KeyQ"));
        german.extend(tap("€", "KeyE"));
        german.push(key("up", "AltGraph", "AltRight", None, 2));
        let steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            // No window manager: keyboard focus follows the pointer, so put it on the xterm.
            op("mouse", r#""action":"move","x":200,"y":100"#),
            op("sleep", r#""ms":300"#),
            op("type", &format!(r#""text":{}"#, js("Hello, World! 123 ~|"))),
            op("keys", &format!(r#""events":[{}]"#, german.join(","))),
            op("insertText", &format!(r#""text":{}"#, js("日本語"))),
            op("type", &format!(r#""text":{}"#, js("\n"))),
        ];
        drive(&node, &dir, &steps);
        let got = read_until(&out, |d| d.ends_with(b"\n"));
        assert_eq!(
            String::from_utf8_lossy(&got),
            "Hello, World! 123 ~|üÖß@€日本語\n",
            "{mode}: what xterm received"
        );
    }
}

/// A click and the wheel reach the server: an xterm with mouse reporting on writes the
/// button reports it receives to a file.
#[test]
fn click_and_wheel_reach_the_server() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.set_root_solid("#336699");
    let dir = temp_dir("web-mouse");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    for (mode, flag) in MODES {
        let out = dir.join(format!("mouse-{mode}.bin"));
        // X10/normal mouse tracking: ESC [ M <32+button> <32+col> <32+row> per press/release.
        xterm_running(
            &x,
            &format!(
                "stty raw -echo; printf '\\033[?1000h'; exec cat > '{}'",
                out.display()
            ),
        );
        let steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            op("mouse", r#""action":"move","x":60,"y":40"#),
            op("sleep", r#""ms":300"#),
            op("mouse", r#""action":"click","x":60,"y":40"#),
            op("sleep", r#""ms":200"#),
            op("mouse", r#""action":"wheel","x":60,"y":40,"dy":-120"#),
            op("sleep", r#""ms":200"#),
            op("mouse", r#""action":"wheel","x":60,"y":40,"dy":120"#),
            op("sleep", r#""ms":200"#),
            op(
                "mouse",
                r#""action":"click","x":60,"y":40,"button":"right""#,
            ),
        ];
        drive(&node, &dir, &steps);
        let got = read_until(&out, |d| d.len() >= 6 * 8);
        let reports: Vec<u8> = got
            .chunks(6)
            .filter(|c| c.len() == 6 && c.starts_with(b"\x1b[M"))
            .map(|c| c[3] - 32)
            .collect();
        // Left press and release (3); 120 px of wheel is two 50 px steps each way, and xterm
        // reports wheel presses only (64 up, 65 down); then right (2) and its release.
        assert_eq!(
            reports,
            [0, 3, 64, 64, 65, 65, 2, 3],
            "{mode}: button reports {got:?}"
        );
        // Every report names the same character cell: the pointer did not move.
        let cells: Vec<(u8, u8)> = got.chunks(6).map(|c| (c[4], c[5])).collect();
        assert!(cells.windows(2).all(|w| w[0] == w[1]), "{mode}: {cells:?}");
    }
}

/// Remote resize: with resizeSession the server's desktop takes the size of the page's
/// screen element.
#[test]
fn remote_resize_changes_the_server_size() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    for (mode, flag) in MODES {
        let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
            return;
        };
        x.set_root_solid("#336699");
        let dir = temp_dir(&format!("web-resize-{mode}"));
        let (_proxy, port) = proxy_for(&x, &dist, &dir);
        let steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            op("resize", r#""width":900,"height":700"#),
            eval("rfb.resizeSession = true"),
            wait("rfb._fbWidth !== 640"),
            eval(
                "(() => { const s = document.getElementById('screen'); \
                 return [s.clientWidth, s.clientHeight, rfb._fbWidth, rfb._fbHeight]; })()",
            ),
        ];
        let out = drive(&node, &dir, &steps);
        let line = out
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("ok eval ["))
            .unwrap_or_else(|| panic!("no sizes in {out}"));
        let v: Vec<u32> = line
            .trim_end_matches(']')
            .split(',')
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(
            (v[2], v[3]),
            (v[0], v[1]),
            "{mode}: framebuffer = screen element"
        );
        let info = String::from_utf8(x.run("xwininfo", &["-root"])).unwrap();
        assert!(
            info.contains(&format!("Width: {}", v[0]))
                && info.contains(&format!("Height: {}", v[1])),
            "{mode}: the X server is {info}"
        );
    }
}

/// Wrong password: the page says so, and `securityfailure` then `disconnect` fire.
#[test]
fn wrong_password_shows_the_error() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H).vnc_auth("secret12")) else {
        return;
    };
    let dir = temp_dir("web-password");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    for (mode, flag) in MODES {
        let steps = vec![
            goto(&lite_url(
                port,
                &format!("&worker={flag}&password=wrong123"),
            )),
            wait("document.getElementById('status').textContent.includes('went wrong')"),
            eval(
                "[document.getElementById('status').textContent, \
                 rfbEvents.map(([t, d]) => t + ':' + JSON.stringify(d))]",
            ),
        ];
        let out = drive(&node, &dir, &steps);
        let last = out
            .lines()
            .rev()
            .find(|l| l.starts_with("ok eval ["))
            .unwrap();
        assert!(last.contains("Authentication failure"), "{mode}: {last}");
        assert!(
            last.contains(r#"securityfailure:{\"status\":1"#),
            "{mode}: {last}"
        );
        assert!(
            last.contains(r#"disconnect:{\"clean\":false"#),
            "{mode}: {last}"
        );
        // The right password works.
        let ok = drive(
            &node,
            &dir,
            &[
                goto(&lite_url(
                    port,
                    &format!("&worker={flag}&password=secret12"),
                )),
                wait(CONNECTED),
            ],
        );
        assert!(ok.contains("ok wait"), "{mode}: {ok}");
    }
}

/// The same page works through real websockify (PyPI) serving web/dist.
#[test]
fn through_real_websockify() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(websockify) = require_venv("websockify") else {
        return;
    };
    let Some(x) = desktop() else { return };
    let dir = temp_dir("web-websockify");
    let port = free_port();
    let _ws = Proc::spawn(
        Command::new(websockify)
            .args(["--web", &dist.display().to_string()])
            .arg(format!("127.0.0.1:{port}"))
            .arg(x.addr())
            .stdout(std::fs::File::create(dir.join("websockify.log")).unwrap())
            .stderr(std::fs::File::create(dir.join("websockify.err")).unwrap()),
        true,
    );
    assert!(wait_for_port(port, Duration::from_secs(20)));
    let want = x.xwd_root();
    for (mode, flag) in MODES {
        let canvas = dir.join(format!("canvas-{mode}.png"));
        let mut steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
        ];
        steps.extend(settle_steps());
        steps.push(op(
            "canvas",
            &format!(r#""out":{}"#, js(&canvas.display().to_string())),
        ));
        drive(&node, &dir, &steps);
        assert_same(
            &Image::read_png(&canvas).unwrap(),
            &want,
            &format!("websockify {mode}: canvas vs xwd -root"),
        );
    }
}

/// An embedding page under the CSP docs/EMBEDDING.md documents (no inline script, wasm allowed
/// by 'wasm-unsafe-eval', the worker from 'self') connects and draws.
#[test]
fn embed_under_the_documented_csp() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop() else { return };
    let dir = temp_dir("web-csp");
    let site = dir.join("site");
    copy_dir(&dist, &site);
    std::fs::write(
        site.join("embed.html"),
        r#"<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'">
<title>embed</title></head><body style="margin:0">
<div id="status">loading</div><div id="screen" style="width:800px;height:600px"></div>
<script type="module" src="embed.js"></script></body></html>"#,
    )
    .unwrap();
    std::fs::write(
        site.join("embed.js"),
        r#"import RFB from './rfb.js';
const q = new URLSearchParams(location.search);
const rfb = new RFB(document.getElementById('screen'), `ws://${location.host}/websockify`,
                    { lossless: true, worker: q.get('worker') !== '0' });
rfb.addEventListener('connect', () => { document.getElementById('status').textContent = 'Connected'; });
rfb.addEventListener('disconnect', (e) => { document.getElementById('status').textContent = 'failed ' + e.detail.reason; });
window.rfb = rfb;
"#,
    )
    .unwrap();
    let port = free_port();
    let _proxy = start_proxy(
        &[
            "--web".into(),
            site.display().to_string(),
            format!("127.0.0.1:{port}"),
            x.addr(),
        ],
        port,
        &dir.join("proxy.log"),
    );
    let want = x.xwd_root();
    for (mode, flag) in MODES {
        let fb = dir.join(format!("fb-{mode}.rgba"));
        let mut steps = vec![
            goto(&format!("http://127.0.0.1:{port}/embed.html?worker={flag}")),
            wait(CONNECTED),
        ];
        steps.extend(settle_steps());
        steps.push(op(
            "snapshot",
            &format!(r#""out":{}"#, js(&fb.display().to_string())),
        ));
        let out = drive(&node, &dir, &steps);
        assert!(
            !out.contains("Content Security Policy"),
            "{mode}: CSP violation\n{out}"
        );
        let img = Image {
            width: W,
            height: H,
            rgba: std::fs::read(&fb).unwrap(),
        };
        assert_same(&img, &want, &format!("CSP embed {mode}"));
    }
}

/// Clipboard both ways in Unicode (TigerVNC's Extended Clipboard): text put on the X
/// CLIPBOARD reaches the `clipboard` event, and `clipboardPasteFrom` reaches the X CLIPBOARD.
#[test]
fn clipboard_both_ways_in_unicode() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    if !peer::require("xclip") {
        return;
    }
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.set_root_solid("#336699");
    let dir = temp_dir("web-clipboard");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    let display = x.display();
    for (mode, flag) in MODES {
        let from_server = format!("Grüße ✓ 日本 😀 {mode}");
        let to_server = format!("Ünïcödé ✓ текст {mode}");
        let env = format!(r#""env":{{"DISPLAY":{}}}"#, js(&display));
        let steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            op("sleep", r#""ms":300"#),
            op(
                "exec",
                &format!(
                    r#""cmd":{},{env}"#,
                    js(&format!(
                        "printf '%s' '{from_server}' | xclip -selection clipboard -i -loops 1 &"
                    ))
                ),
            ),
            wait(&format!(
                "rfbEvents.some(([t, d]) => t === 'clipboard' && d.text === {})",
                js(&from_server)
            )),
            eval(&format!("rfb.clipboardPasteFrom({}), 1", js(&to_server))),
            op("sleep", r#""ms":500"#),
            op(
                "exec",
                &format!(r#""cmd":"xclip -selection clipboard -o",{env}"#),
            ),
        ];
        let out = drive(&node, &dir, &steps);
        let got = out
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("ok exec "))
            .unwrap_or_else(|| panic!("{mode}: no xclip output\n{out}"));
        assert_eq!(
            got,
            js(&to_server),
            "{mode}: X CLIPBOARD after clipboardPasteFrom"
        );
    }
}

/// QEMU audio reaches the page: a guest that sounds the PC speaker (bound to QEMU's VNC audio
/// capture) streams PCM that the page's player receives, loud (a square wave), in both modes.
#[test]
fn qemu_audio_reaches_the_page() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    if !peer::require_all(&["qemu-system-x86_64"]) {
        return;
    }
    let q = rfb_testkit::qemu::Qemu::start_with_files(
        &[
            "-drive",
            "file={dir}/beep.img,format=raw,if=ide",
            "-audiodev",
            "none,id=snd",
            "-machine",
            "pc,pcspk-audiodev=snd",
        ],
        ",audiodev=snd",
        |dir| std::fs::write(dir.join("beep.img"), rfb_testkit::qemu::beep_mbr()),
    )
    .unwrap_or_else(|e| panic!("QEMU failed to start: {e}"));
    let dir = temp_dir("web-qemu-audio");
    let port = free_port();
    let _proxy = start_proxy(
        &[
            "--web".into(),
            dist.display().to_string(),
            format!("127.0.0.1:{port}"),
            q.addr(),
        ],
        port,
        &dir.join("proxy.log"),
    );
    for (mode, flag) in MODES {
        let steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            wait("rfb._audio.stats.frames > 22050 && rfb._audio.stats.peak > 8000"),
            eval("rfb._audio.stats"),
        ];
        let out = drive(&node, &dir, &steps);
        assert!(out.contains("ok eval {\"chunks\":"), "{mode}: {out}");
    }
}

/// Tight JPEG (the default quality level 6, as noVNC) decoded by WebCodecs' ImageDecoder and,
/// with `webcodecs: false`, by the Rust decoder: both pictures are close to `xwd -root`, and the
/// browser path really decoded the images (no fallbacks).
#[test]
fn jpeg_through_imagedecoder_and_rust_are_both_close_to_xwd() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop() else { return };
    let dir = temp_dir("web-jpeg");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    let want = x.xwd_root();
    let base = format!("http://127.0.0.1:{port}/vnc_lite.html?host=127.0.0.1&port={port}");
    let mut means = Vec::new();
    for (mode, flag) in MODES {
        for (path, extra) in [("imagedecoder", ""), ("rust", "&webcodecs=0")] {
            let fb = dir.join(format!("fb-{mode}-{path}.rgba"));
            let mut steps = vec![
                goto(&format!("{base}&worker={flag}{extra}")),
                wait(CONNECTED),
            ];
            steps.extend(settle_steps());
            steps.push(op(
                "snapshot",
                &format!(r#""out":{}"#, js(&fb.display().to_string())),
            ));
            steps.push(eval("rfb._imageStats"));
            let out = drive(&node, &dir, &steps);
            let stats = out
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("ok eval "))
                .unwrap();
            if path == "imagedecoder" {
                assert!(
                    !stats.contains("\"browser\":0") && stats.contains("\"fallbacks\":0"),
                    "{mode}: the browser decoded the JPEGs: {stats}"
                );
            } else {
                assert!(
                    stats.contains("\"browser\":0"),
                    "{mode}: Rust decoded them: {stats}"
                );
            }
            let got = Image {
                width: W,
                height: H,
                rgba: std::fs::read(&fb).unwrap(),
            };
            let (mean, max) = got.error_stats(&want);
            peer::visible_line(&format!(
                "web JPEG {mode}/{path}: mean error {mean:.3}, max {max}"
            ));
            assert!(mean < 2.0, "{mode}/{path}: mean error {mean} (max {max})");
            means.push(mean);
        }
    }
    assert!(
        means.iter().any(|&m| m > 0.0),
        "JPEG was used at all (lossy)"
    );
}

/// A minimal RFB 3.8 server (None security, 64×48) that answers the first update request of
/// a client offering Open H.264 (50) with the committed x264 stream, one picture per
/// FramebufferUpdate. No installable VNC server sends H.264; the stream is Debian x264's
/// (scripts/gen-h264-vectors.sh). Returns the port and a flag set when 50 was offered.
fn h264_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let offered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = offered.clone();
    let data_dir = peer::workspace_root().join("crates/rfb-encodings/tests/data/h264");
    let stream = std::fs::read(data_dir.join("x264-64x48.h264")).unwrap();
    let sizes: Vec<usize> = std::fs::read_to_string(data_dir.join("x264-64x48.frames"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    std::thread::spawn(move || {
        // Connections are served one after another (the page opens one per mode).
        for conn in listener.incoming().take(4) {
            let Ok(mut s) = conn else { return };
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let mut buf = [0u8; 12];
            let serve = |s: &mut std::net::TcpStream, buf: &mut [u8; 12]| -> std::io::Result<()> {
                s.write_all(b"RFB 003.008\n")?;
                s.read_exact(buf)?;
                s.write_all(&[1, 1])?; // one security type: None
                let mut b = [0u8; 1];
                s.read_exact(&mut b)?;
                s.write_all(&0u32.to_be_bytes())?; // SecurityResult OK
                s.read_exact(&mut b)?; // ClientInit
                let mut init = vec![0, 64, 0, 48];
                // 32 bpp, depth 24, little-endian, true colour, 255 maxes, shifts 16/8/0.
                init.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
                init.extend_from_slice(&4u32.to_be_bytes());
                init.extend_from_slice(b"h264");
                s.write_all(&init)?;
                let mut sent = false;
                loop {
                    s.read_exact(&mut b)?;
                    match b[0] {
                        0 => s.read_exact(&mut [0u8; 19])?,
                        2 => {
                            let mut h = [0u8; 3];
                            s.read_exact(&mut h)?;
                            let n = usize::from(u16::from_be_bytes([h[1], h[2]]));
                            let mut e = vec![0u8; 4 * n];
                            s.read_exact(&mut e)?;
                            if e.chunks(4).any(|c| c == 50i32.to_be_bytes()) {
                                flag.store(true, Ordering::SeqCst);
                            }
                        }
                        3 => {
                            s.read_exact(&mut [0u8; 9])?;
                            if !sent && flag.load(Ordering::SeqCst) {
                                sent = true;
                                let mut at = 0;
                                for (k, &len) in sizes.iter().enumerate() {
                                    let mut m = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 64, 0, 48];
                                    m.extend_from_slice(&50i32.to_be_bytes());
                                    m.extend_from_slice(&(len as u32).to_be_bytes());
                                    let flags: u32 = if k == 0 { 1 } else { 0 };
                                    m.extend_from_slice(&flags.to_be_bytes());
                                    m.extend_from_slice(&stream[at..at + len]);
                                    at += len;
                                    s.write_all(&m)?;
                                }
                            }
                        }
                        4 => s.read_exact(&mut [0u8; 7])?,
                        5 => s.read_exact(&mut [0u8; 5])?,
                        6 => {
                            let mut h = [0u8; 7];
                            s.read_exact(&mut h)?;
                            let n = i32::from_be_bytes([h[3], h[4], h[5], h[6]]).unsigned_abs();
                            std::io::copy(
                                &mut Read::by_ref(s).take(u64::from(n)),
                                &mut std::io::sink(),
                            )?;
                        }
                        _ => return Ok(()), // nothing else is expected from this client
                    }
                }
            };
            let _ = serve(&mut s, &mut buf);
        }
    });
    (port, offered)
}

/// Open H.264 through WebCodecs' VideoDecoder: the page offers encoding 50 (Chromium can
/// decode avc1), and the last of five x264 pictures lands in the framebuffer with the
/// generator's colours (lossy: ±12 per channel at quadrant centres).
#[test]
fn h264_through_videodecoder() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let (server, offered) = h264_server();
    let dir = temp_dir("web-h264");
    let port = free_port();
    let _proxy = start_proxy(
        &[
            "--web".into(),
            dist.display().to_string(),
            format!("127.0.0.1:{port}"),
            format!("127.0.0.1:{server}"),
        ],
        port,
        &dir.join("proxy.log"),
    );
    // The last frame (k = 4) of the generator's palette walk, by quadrant.
    let want = [
        ((16, 12), [40, 200, 200]),
        ((48, 12), [200, 40, 200]),
        ((16, 36), [200, 40, 40]),
        ((48, 36), [40, 200, 40]),
    ];
    for (mode, flag) in MODES {
        let fb = dir.join(format!("fb-{mode}.rgba"));
        let mut steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            // Wait for the last picture: cyan top-left and green bottom-right (the earlier
            // pictures have other colours there).
            wait(
                "(async () => { const i = await rfb.snapshot(); if (!i) return false; \
                 const px = (x, y) => i.data.slice((y * 64 + x) * 4, (y * 64 + x) * 4 + 3); \
                 const [a, b] = [px(16, 12), px(48, 36)]; \
                 return a[0] < 90 && a[1] > 150 && a[2] > 150 && b[0] < 90 && b[1] > 150 && b[2] < 90; })()",
            ),
        ];
        steps.push(op(
            "snapshot",
            &format!(r#""out":{}"#, js(&fb.display().to_string())),
        ));
        drive(&node, &dir, &steps);
        assert!(
            offered.load(std::sync::atomic::Ordering::SeqCst),
            "{mode}: H.264 offered"
        );
        let img = Image {
            width: 64,
            height: 48,
            rgba: std::fs::read(&fb).unwrap(),
        };
        for ((x, y), rgb) in want {
            let got = img.pixel(x, y);
            for c in 0..3 {
                assert!(
                    got[c].abs_diff(rgb[c]) <= 12,
                    "{mode}: pixel ({x},{y}) is {got:?}, want {rgb:?}"
                );
            }
        }
    }
}

/// Multi-screen: the page asks Xvnc for a two-screen layout (SetDesktopSize), the layout comes
/// back as two screens, and `rfb.screen = 1` shows exactly the second screen.
#[test]
fn one_screen_of_a_two_screen_desktop() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop() else { return };
    let dir = temp_dir("web-screens");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    for (mode, flag) in MODES {
        let shot = dir.join(format!("screen-{mode}.png"));
        let mut steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            // SetDesktopSize is only allowed once the server has sent its layout
            // (ExtendedDesktopSize, in the first update after ServerInit); `connect`
            // can come first on a busy machine.
            wait("rfb.screens.length === 1"),
            eval(
                "rfb.requestLayout(1280, 400, [{id: 1, x: 0, y: 0, width: 640, height: 400}, \
                 {id: 2, x: 640, y: 0, width: 640, height: 400}]), 1",
            ),
            wait("rfb.screens.length === 2 && rfb._fbWidth === 1280"),
            eval("rfb.screen = 1, rfb.screens"),
        ];
        steps.extend(settle_steps());
        steps.push(op("sleep", r#""ms":300"#));
        steps.push(format!(
            r##"{{"op":"element","selector":"#screen","out":{}}}"##,
            js(&shot.display().to_string())
        ));
        let out = drive(&node, &dir, &steps);
        assert!(out.contains(r#""x":640"#), "{mode}: layout {out}");
        let page = Image::read_png(&shot).unwrap();
        let root = x.xwd_root();
        assert_eq!(root.width, 1280, "{mode}: Xvnc resized");
        assert_same(
            &page.crop(0, 0, 640, 400),
            &root.crop(640, 0, 640, 400),
            &format!("{mode}: second screen"),
        );
        // Back to one screen for the next mode.
        x.run("xrandr", &["--output", "VNC-1", "--off"]);
        let _ = x.run("xrandr", &["--fb", "640x400"]);
    }
}

/// Paste as keystrokes: `rfb.typeText` types Unicode text into an xterm.
#[test]
fn type_text_pastes_as_keystrokes() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.set_root_solid("#336699");
    let dir = temp_dir("web-typetext");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    for (mode, flag) in MODES {
        let out = dir.join(format!("typed-{mode}.txt"));
        xterm_running(&x, &format!("exec cat > '{}'", out.display()));
        let text = format!("Pasted: Grüße {{}} ~|\"日本\" {mode}\n");
        let steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            op("mouse", r#""action":"move","x":200,"y":100"#),
            op("sleep", r#""ms":300"#),
            eval(&format!("rfb.typeText({}), 1", js(&text))),
        ];
        drive(&node, &dir, &steps);
        let got = read_until(&out, |d| d.ends_with(b"\n"));
        assert_eq!(String::from_utf8_lossy(&got), text, "{mode}");
    }
}

/// Touch: a one-finger tap is a left click and a two-finger tap a right click on the server
/// (rfb-input's gestures through the page), seen by an xterm with mouse reporting.
#[test]
fn touch_taps_click_on_the_server() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.set_root_solid("#336699");
    let dir = temp_dir("web-touch");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    for (mode, flag) in MODES {
        let out = dir.join(format!("touch-{mode}.bin"));
        xterm_running(
            &x,
            &format!(
                "stty raw -echo; printf '\\033[?1000h'; exec cat > '{}'",
                out.display()
            ),
        );
        let steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            op("touch", r#""x":60,"y":40"#),
            op("sleep", r#""ms":400"#),
            op("touch", r#""points":[[60,40],[80,40]]"#),
            op("sleep", r#""ms":400"#),
        ];
        drive(&node, &dir, &steps);
        let got = read_until(&out, |d| d.len() >= 6 * 4);
        let reports: Vec<u8> = got
            .chunks(6)
            .filter(|c| c.len() == 6 && c.starts_with(b"\x1b[M"))
            .map(|c| c[3] - 32)
            .collect();
        assert_eq!(
            reports,
            [0, 3, 2, 3],
            "{mode}: left click, right click {got:?}"
        );
    }
}

/// The server's cursor (Cursor pseudo-encoding) becomes the canvas's CSS cursor, and the dot
/// cursor replaces an invisible one when showDotCursor is on.
#[test]
fn server_cursor_is_the_local_cursor() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.set_root_solid("#336699");
    // A visible root cursor (the cursor font's arrow), which Xvnc sends as a Cursor rectangle.
    x.run("xsetroot", &["-cursor_name", "left_ptr"]);
    let dir = temp_dir("web-cursor");
    let (_proxy, port) = proxy_for(&x, &dist, &dir);
    for (mode, flag) in MODES {
        let steps = vec![
            goto(&lite_url(port, &format!("&worker={flag}"))),
            wait(CONNECTED),
            // Xvnc sends an empty cursor until the client has moved the pointer; move it a few
            // times, spaced out, so a loaded machine still sees a move after the first update.
            op("sleep", r#""ms":500"#),
            op("mouse", r#""action":"move","x":100,"y":100"#),
            op("sleep", r#""ms":300"#),
            op("mouse", r#""action":"move","x":120,"y":110"#),
            op("sleep", r#""ms":300"#),
            op("mouse", r#""action":"move","x":140,"y":120"#),
            op(
                "wait",
                &format!(
                    r#""expr":{},"timeout":60000"#,
                    js(
                        "document.querySelector('#screen canvas').style.cursor.startsWith('url(\"data:image/png')"
                    )
                ),
            ),
            eval("rfb._cursor.width > 0 && rfb._cursor.height > 0"),
            // The CSS cursor's PNG (written by cursor.js) decodes to the server's cursor:
            // alpha everywhere, colour where opaque (a canvas premultiplies the rest).
            eval(
                "(async () => { const css = document.querySelector('#screen canvas').style.cursor; \
                 const url = css.match(/url\\(\"?([^\")]+)\"?\\)/)[1]; \
                 const bmp = await createImageBitmap(await (await fetch(url)).blob(), \
                   { premultiplyAlpha: 'none', colorSpaceConversion: 'none' }); \
                 const c = rfb._cursor; if (bmp.width !== c.width || bmp.height !== c.height) return 'size'; \
                 const x = new OffscreenCanvas(bmp.width, bmp.height).getContext('2d'); \
                 x.drawImage(bmp, 0, 0); const d = x.getImageData(0, 0, bmp.width, bmp.height).data; \
                 for (let i = 0; i < d.length; i++) { const a = c.rgba[i | 3]; \
                   if ((i & 3) === 3 ? d[i] !== a : a === 255 && d[i] !== c.rgba[i]) return 'pixel ' + i; } \
                 return 'same png'; })()",
            ),
        ];
        let out = drive(&node, &dir, &steps);
        assert!(out.contains("ok eval true"), "{mode}: {out}");
        assert!(
            out.contains("ok eval \"same png\""),
            "{mode}: cursor PNG: {out}"
        );
    }
    // An invisible cursor (xsetroot with an empty bitmap) shows the dot when asked.
    x.hide_pointer();
    let steps = vec![
        goto(&lite_url(port, "")),
        wait(CONNECTED),
        eval("rfb.showDotCursor = true, 1"),
        wait("rfb._cursor && !rfb._cursor.rgba.some((v, i) => i % 4 === 3 && v !== 0)"),
        eval("rfb.showDotCursor = true, document.querySelector('#screen canvas').style.cursor"),
    ];
    let out = drive(&node, &dir, &steps);
    let css = out
        .lines()
        .rev()
        .find(|l| l.starts_with("ok eval \"url("))
        .unwrap_or("");
    assert!(css.contains(" 1 1,"), "the dot's hotspot (1,1): {out}");
}
