//! The app `web/dist/vnc.html` (web/app, copied by `cargo xtask dist`) in headless Chromium
//! through `rfb-proxy --web` to a real TigerVNC Xvnc: connecting (autoconnect and the connect
//! dialog), credentials, settings and their sources, reconnect, extra keys, the clipboard
//! panel, translations, and the error banners. Screenshots go to `target/web-artifacts/`.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Proc, copy_dir, output_within, start_proxy, temp_dir};
use rfb_testkit::net::free_port;
use rfb_testkit::peer::{self, require_node_package};
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

const W: u32 = 640;
const H: u32 = 400;

/// `web/dist` with the app, or `None` (skipped locally; a failure in CI, where xtask builds
/// it first).
fn dist() -> Option<PathBuf> {
    let d = peer::workspace_root().join("web/dist");
    if d.join("rfb.js").exists() && d.join("vnc.html").exists() && d.join("app/main.js").exists() {
        return Some(d);
    }
    let msg = "web/dist with the app is not built (run: cargo xtask dist)";
    assert!(!peer::in_ci(), "{msg}");
    peer::skip(msg);
    None
}

/// The node project with playwright-core, and Chromium.
fn browser() -> Option<PathBuf> {
    let node = require_node_package("playwright-core")?;
    if !peer::require_all(&["node", "/usr/bin/chromium"]) {
        return None;
    }
    Some(node)
}

fn artifact(name: &str) -> String {
    let d = peer::workspace_root().join("target/web-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name).display().to_string()
}

/// A JSON string literal.
fn js(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs web/tests/drive.mjs with `steps`; returns its stdout. The page must not throw.
fn drive(node: &Path, dir: &Path, steps: &[String]) -> String {
    let pw = node.join("node_modules/playwright-core/index.mjs");
    let script = std::fs::read_to_string(peer::workspace_root().join("web/tests/drive.mjs"))
        .unwrap()
        .replace("@PLAYWRIGHT@", &format!("file://{}", pw.display()));
    let path = dir.join("drive.mjs");
    std::fs::write(&path, script).unwrap();
    let mut cmd = Command::new("node");
    cmd.arg(&path)
        .arg(format!("[{}]", steps.join(",")))
        .current_dir(dir);
    let (ok, stdout, stderr) = output_within(cmd, Duration::from_secs(120));
    assert!(ok, "drive.mjs failed:\n{stdout}\n{stderr}");
    assert!(!stdout.contains("[pageerror]"), "the page threw:\n{stdout}");
    stdout
}

/// Runs `drive` on a thread and calls `tick` every 100 ms until it returns (for tests that act
/// on the server while the page is open).
fn drive_while(node: &Path, dir: &Path, steps: Vec<String>, mut tick: impl FnMut()) -> String {
    let (node, dir) = (node.to_path_buf(), dir.to_path_buf());
    let done = Arc::new(AtomicBool::new(false));
    let done2 = Arc::clone(&done);
    let t = std::thread::spawn(move || {
        let out = std::panic::catch_unwind(|| drive(&node, &dir, &steps));
        done2.store(true, Ordering::SeqCst);
        out
    });
    while !done.load(Ordering::SeqCst) {
        tick();
        std::thread::sleep(Duration::from_millis(100));
    }
    match t.join().unwrap() {
        Ok(out) => out,
        Err(e) => std::panic::resume_unwind(e),
    }
}

fn goto(url: &str) -> String {
    format!(r#"{{"op":"goto","url":{}}}"#, js(url))
}

fn wait(expr: &str) -> String {
    format!(r#"{{"op":"wait","expr":{}}}"#, js(expr))
}

fn eval(expr: &str) -> String {
    format!(r#"{{"op":"eval","expr":{}}}"#, js(expr))
}

fn click(selector: &str) -> String {
    format!(r#"{{"op":"click","selector":{}}}"#, js(selector))
}

fn fill(selector: &str, value: &str) -> String {
    format!(
        r#"{{"op":"fill","selector":{},"value":{}}}"#,
        js(selector),
        js(value)
    )
}

fn select(selector: &str, value: &str) -> String {
    format!(
        r#"{{"op":"select","selector":{},"value":{}}}"#,
        js(selector),
        js(value)
    )
}

fn screenshot(name: &str) -> String {
    format!(r#"{{"op":"screenshot","out":{}}}"#, js(&artifact(name)))
}

fn op(name: &str, rest: &str) -> String {
    format!(r#"{{"op":"{name}",{rest}}}"#)
}

/// The `ok eval` results in order.
fn evals(out: &str) -> Vec<&str> {
    out.lines()
        .filter_map(|l| l.strip_prefix("ok eval "))
        .collect()
}

const CONNECTED: &str = "window.app && app.state === 'connected'";
const STATUS: &str = "[document.getElementById('status').textContent, \
                      document.getElementById('status').dataset.level]";

fn app_url(port: u16, query: &str) -> String {
    format!("http://127.0.0.1:{port}/vnc.html{query}")
}

fn proxy_to(target: &str, web: &Path, dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let p = start_proxy(
        &[
            "--web".into(),
            web.display().to_string(),
            format!("127.0.0.1:{port}"),
            target.to_string(),
        ],
        port,
        &dir.join("proxy.log"),
    );
    (p, port)
}

fn desktop(opts: XvncOptions) -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(opts)?;
    x.set_root_solid("#336699");
    x.show_xterm("rfb app test", 150, 150, 30, 3);
    x.settle();
    Some(x)
}

/// A UTF-8 xterm at the top left running `script` in a shell; returns once the shell runs.
fn xterm_running(x: &Xvnc, script: &str) {
    let ready = x.dir().join(format!("ready-{}", free_port()));
    let full = format!(": > '{}'; {script}", ready.display());
    x.spawn(
        "env",
        &[
            "LC_ALL=C.UTF-8",
            "LANG=C.UTF-8",
            "xterm",
            "-geometry",
            "80x20+0+0",
            "-e",
            "sh",
            "-c",
            &full,
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "xterm did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_until(path: &Path, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let data = std::fs::read(path).unwrap_or_default();
        if done(&data) || Instant::now() > deadline {
            return data;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every English string of the app (data-i18n in vnc.html, `_('…')` in app/*.js) has an
/// entry in every translation, and no translation has stale entries.
#[test]
fn translations_cover_every_string() {
    let app = peer::workspace_root().join("web/app");
    let mut keys = BTreeSet::new();
    let html = std::fs::read_to_string(app.join("vnc.html")).unwrap();
    for attr in ["data-i18n=\"", "data-i18n-title=\""] {
        for part in html.split(attr).skip(1) {
            keys.insert(part.split('"').next().unwrap().to_string());
        }
    }
    for entry in std::fs::read_dir(app.join("app")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "js") {
            let src = std::fs::read_to_string(&p).unwrap();
            for part in src.split("_('").skip(1) {
                keys.insert(part.split("')").next().unwrap().to_string());
            }
        }
    }
    assert!(keys.len() > 40, "{keys:?}");
    let l10n = std::fs::read_to_string(app.join("app/l10n.js")).unwrap();
    let mut langs = 0;
    for entry in std::fs::read_dir(app.join("app/locale")).unwrap() {
        let p = entry.unwrap().path();
        let lang = p.file_stem().unwrap().to_string_lossy().to_string();
        assert!(
            l10n.contains(&format!("'{lang}'")),
            "{lang} is missing from LANGUAGES"
        );
        let table: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let have: BTreeSet<String> = table.keys().cloned().collect();
        let missing: Vec<_> = keys.difference(&have).collect();
        let stale: Vec<_> = have.difference(&keys).collect();
        assert!(missing.is_empty(), "{lang}: missing {missing:?}");
        assert!(stale.is_empty(), "{lang}: stale {stale:?}");
        langs += 1;
    }
    assert!(langs >= 4);
}

/// `autoconnect=1`: the app connects, the title and the status name the desktop, the HTTPS
/// warning shows (the page is on http), and the settings panel opens (screenshot).
#[test]
fn autoconnect_shows_the_desktop_name() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H).arg("-desktop").arg("App Test Desk")) else {
        return;
    };
    let dir = temp_dir("app-autoconnect");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        eval(&format!(
            "[document.title, {STATUS}, \
             !document.getElementById('https_warning').hidden, \
             document.getElementById('connect_dialog').hidden, \
             getComputedStyle(document.getElementById('connected_controls')).display !== 'none']"
        )),
        // The screen fills the window below the control bar.
        eval(
            "(() => { const s = document.getElementById('screen').getBoundingClientRect(); \
             const b = document.getElementById('control_bar').getBoundingClientRect(); \
             return [Math.round(s.top - b.bottom), Math.round(s.bottom) === innerHeight, \
                     Math.round(s.width) === innerWidth]; })()",
        ),
        click("#settings_button"),
        click("#advanced summary"),
        wait("!document.getElementById('settings_panel').hidden"),
        op("sleep", r#""ms":500"#),
        screenshot("vnc-connected-settings.png"),
        click("#fullscreen_button"),
        wait("document.fullscreenElement === document.documentElement"),
        click("#fullscreen_button"),
        wait("document.fullscreenElement === null"),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert!(
        ev[0].starts_with(r#"["App Test Desk - rfb",["Connected (unencrypted) to App Test Desk","normal"],true,true,true]"#),
        "{out}"
    );
    assert_eq!(ev[1], "[0,true,true]", "{out}");
}

/// The connect dialog: fields prefilled from the URL (a wrong port), corrected by typing, then
/// Connect.
#[test]
fn connect_dialog_connects() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-dialog");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(port, "?host=localhost&port=1")),
        wait("window.app && !document.getElementById('connect_dialog').hidden"),
        eval(
            "[document.getElementById('connect_host').value, \
             document.getElementById('connect_port').value]",
        ),
        screenshot("vnc-connect-dialog.png"),
        fill("#connect_host", "127.0.0.1"),
        fill("#connect_port", &port.to_string()),
        click("#connect_button"),
        wait(CONNECTED),
        eval(
            "[document.getElementById('connect_dialog').hidden, \
             document.getElementById('setting_port').value]",
        ),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], r#"["localhost","1"]"#, "{out}");
    assert_eq!(ev[1], format!(r#"[true,"{port}"]"#), "{out}");
    // `path` as a full WebSocket URL wins over host and port.
    let steps = vec![
        goto(&app_url(
            port,
            &format!(
                "?autoconnect=1&host=nowhere.invalid&port=1&path=ws://127.0.0.1:{port}/websockify"
            ),
        )),
        wait(CONNECTED),
    ];
    drive(&node, &dir, &steps);
}

/// VncAuth: the credentials dialog asks for the password only; a wrong one ends in an error
/// banner naming the failure (and the `disconnect` event carries the reason); the right one
/// connects.
#[test]
fn credentials_dialog_and_wrong_password() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H).vnc_auth("secret12")) else {
        return;
    };
    let dir = temp_dir("app-credentials");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let dialog = "!document.getElementById('credentials_dialog').hidden";
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(dialog),
        eval(
            "['username', 'password', 'target'].map(t => \
             !document.getElementById('credentials_' + t + '_row').hidden)",
        ),
        fill("#credentials_password", "wrong123"),
        click("#credentials_button"),
        wait("document.getElementById('status').dataset.level === 'error'"),
        eval(&format!(
            "[{STATUS}, app.lastDisconnect, \
             !document.getElementById('connect_dialog').hidden]"
        )),
        screenshot("vnc-error-banner.png"),
        // Connect again from the dialog: asked again, and the right password works.
        click("#connect_button"),
        wait(dialog),
        fill("#credentials_password", "secret12"),
        click("#credentials_button"),
        wait(CONNECTED),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], "[false,true,false]", "{out}");
    assert!(
        ev[1].starts_with(
            r#"[["Authentication failed: Authentication failure","error"],{"clean":false,"reason":"#
        ),
        "{out}"
    );
    assert!(ev[1].ends_with(",true]"), "{out}");
    // `password` in the URL (here the fragment) answers without the dialog.
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1#password=secret12")),
        wait(CONNECTED),
        eval("document.getElementById('credentials_dialog').hidden"),
    ];
    let out = drive(&node, &dir, &steps);
    assert_eq!(evals(&out)[0], "true", "{out}");
}

/// Settings chosen in the panel are stored and survive a reload; URL parameters override
/// them for that load only; the live connection follows them.
#[test]
fn settings_persist_and_url_parameters_override() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-settings");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let state = "[document.getElementById('setting_view_only').checked, \
                 document.getElementById('setting_resize').value, \
                 document.getElementById('setting_quality').value]";
    let steps = vec![
        goto(&app_url(port, "")),
        wait("window.app"),
        eval(state),
        click("#settings_button"),
        click("#setting_view_only"),
        select("#setting_resize", "scale"),
        click("#advanced summary"),
        fill("#setting_quality", "3"),
        goto(&app_url(port, "")),
        wait("window.app"),
        eval(state),
        goto(&app_url(port, "?view_only=0&resize=remote")),
        wait("window.app"),
        eval(state),
        goto(&app_url(port, "#autoconnect=1")),
        wait(CONNECTED),
        eval(&format!(
            "[{state}, rfb.viewOnly, rfb.scaleViewport, rfb.qualityLevel]"
        )),
        // A change in the panel reaches the live connection.
        click("#settings_button"),
        click("#setting_view_only"),
        eval("rfb.viewOnly"),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], r#"[false,"off","6"]"#, "defaults\n{out}");
    assert_eq!(ev[1], r#"[true,"scale","3"]"#, "stored\n{out}");
    assert_eq!(ev[2], r#"[false,"remote","3"]"#, "URL over stored\n{out}");
    assert_eq!(
        ev[3], r#"[[true,"scale","3"],true,true,3]"#,
        "URL values were not stored\n{out}"
    );
    assert_eq!(ev[4], "false", "{out}");
}

/// mandatory.json forces a value over the URL and storage and disables its control;
/// defaults.json supplies a default.
#[test]
fn mandatory_json_forces_and_disables() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-mandatory");
    let site = dir.join("site");
    copy_dir(&dist, &site);
    std::fs::write(
        site.join("mandatory.json"),
        r#"{"view_only": true, "resize": "scale"}"#,
    )
    .unwrap();
    std::fs::write(
        site.join("defaults.json"),
        r#"{"quality": 2, "view_only": false}"#,
    )
    .unwrap();
    let (_proxy, port) = proxy_to(&x.addr(), &site, &dir);
    let state = "[document.getElementById('setting_view_only').checked, \
                 document.getElementById('setting_view_only').disabled, \
                 document.getElementById('setting_resize').value, \
                 document.getElementById('setting_resize').disabled, \
                 document.getElementById('setting_quality').value, \
                 document.getElementById('setting_quality').disabled]";
    let steps = vec![
        goto(&app_url(port, "")),
        wait("window.app"),
        eval("localStorage.setItem('rfb.app.view_only', 'false')"),
        goto(&app_url(port, "?view_only=0&resize=off&autoconnect=1")),
        wait(CONNECTED),
        eval(&format!("[{state}, rfb.viewOnly, rfb.scaleViewport]")),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(
        ev.last().unwrap(),
        &r#"[[true,true,"scale",true,"2",false],true,true]"#,
        "{out}"
    );
}

/// Connections in the Xvnc log that got as far as the client's SetPixelFormat (which the
/// client sends once it runs the session: its worker and wasm are loaded).
fn accepted(x: &Xvnc) -> usize {
    std::fs::read_to_string(x.dir().join("Xvnc.log"))
        .unwrap_or_default()
        .matches("Client pixel format")
        .count()
}

/// `reconnect=1`: when the proxy goes away and comes back on the same port, the app says so
/// and connects again by itself.
#[test]
fn reconnects_after_the_proxy_restarts() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-reconnect");
    let (proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(
            port,
            "?autoconnect=1&reconnect=1&reconnect_delay=300",
        )),
        wait(CONNECTED),
        wait("app.reconnecting === true"),
        eval(STATUS),
        wait("app.state === 'connected' && app.connectCount === 2"),
        eval(STATUS),
    ];
    let mut proxy = Some(proxy);
    let args = [
        "--web".to_string(),
        dist.display().to_string(),
        format!("127.0.0.1:{port}"),
        x.addr(),
    ];
    let mut restarted = None;
    // The test kit's own checks of the desktop connect too.
    let before = accepted(&x);
    let out = drive_while(&node, &dir, steps, || {
        if proxy.is_some() && accepted(&x) > before {
            // Connected once: the proxy goes away (its connections with it) and comes back.
            drop(proxy.take());
            std::thread::sleep(Duration::from_millis(1500));
            restarted = Some(start_proxy(&args, port, &dir.join("proxy2.log")));
        }
    });
    let ev = evals(&out);
    assert!(
        ev[0].contains("Something went wrong, connection is closed")
            && ev[0].contains("Reconnecting"),
        "{out}"
    );
    assert!(
        ev[1].starts_with(r#"["Connected (unencrypted) to"#),
        "{out}"
    );
    assert!(accepted(&x) >= before + 2);
}

/// Failures end in a clear error banner and the connect dialog: the VNC server is not there
/// (the proxy cannot reach it), and the proxy is not there.
#[test]
fn failures_show_a_clear_error() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let dir = temp_dir("app-failures");
    let dead = free_port();
    let (_proxy, port) = proxy_to(&format!("127.0.0.1:{dead}"), &dist, &dir);
    let no_proxy = free_port();
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait("document.getElementById('status').dataset.level === 'error'"),
        eval(&format!(
            "[{STATUS}, !document.getElementById('connect_dialog').hidden, app.lastDisconnect.clean]"
        )),
        goto(&app_url(port, &format!("?autoconnect=1&port={no_proxy}"))),
        wait("document.getElementById('status').dataset.level === 'error'"),
        eval(&format!(
            "[{STATUS}, !document.getElementById('connect_dialog').hidden, app.lastDisconnect.clean]"
        )),
    ];
    let out = drive(&node, &dir, &steps);
    for ev in evals(&out) {
        assert!(
            ev.starts_with(r#"[["Failed to connect to server"#)
                && ev.ends_with(r#""error"],true,false]"#),
            "{out}"
        );
    }
}

/// The extra keys reach an xterm: Esc, Tab, Ctrl held by its toggle while `g` is typed, and
/// Ctrl-Alt-Del (`cat -v` shows ESC as `^[` and BEL as `^G`).
#[test]
fn extra_keys_reach_an_xterm() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.set_root_solid("#336699");
    let dir = temp_dir("app-keys");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let file = dir.join("keys.txt");
    xterm_running(&x, &format!("exec cat -v > '{}'", file.display()));
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        // No window manager: keyboard focus follows the pointer, so put it on the xterm.
        op("mouse", r#""action":"move","x":200,"y":100"#),
        op("sleep", r#""ms":300"#),
        click("#esc_button"),
        click("#tab_button"),
        op("type", r#""text":"a""#),
        click("#ctrl_button"),
        eval("document.getElementById('ctrl_button').getAttribute('aria-pressed')"),
        op("type", r#""text":"g""#),
        click("#ctrl_button"),
        op("type", r#""text":"b""#),
        // xterm turns Ctrl+Alt+Delete into CSI 3;7~ (7 = 1 + Alt 2 + Ctrl 4).
        click("#ctrlaltdel_button"),
        op("type", r#""text":"\n""#),
    ];
    drive(&node, &dir, &steps);
    let got = read_until(&file, |d| d.ends_with(b"\n"));
    assert_eq!(String::from_utf8_lossy(&got), "^[\ta^Gb^[[3;7~\n");
}

/// Makes xclip own the CLIPBOARD with `text` (UTF8_STRING) until it loses it or is killed.
fn own_clipboard(x: &Xvnc, text: &str) -> Child {
    let mut c = x
        .command("xclip")
        .args([
            "-i",
            "-quiet",
            "-selection",
            "clipboard",
            "-t",
            "UTF8_STRING",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start xclip");
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    c
}

/// The CLIPBOARD as UTF-8 (empty when nobody owns it or the owner does not answer).
fn read_clipboard(x: &Xvnc) -> String {
    let mut c = x.command("xclip");
    c.args(["-o", "-selection", "clipboard", "-t", "UTF8_STRING"]);
    let (_, out, _) = output_within(c, Duration::from_secs(5));
    out
}

/// The clipboard panel: text sent from it lands in the X CLIPBOARD, and text put there with
/// xclip appears in it. Both while the page stays connected (Xvnc asks the client for the
/// text only when an X client pastes, and announces only changes).
#[test]
fn clipboard_panel_both_ways() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    if !peer::require("xclip") {
        return;
    }
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-clipboard");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let from_page = "from the page ✓ Grüße";
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        click("#clipboard_button"),
        fill("#clipboard_text", from_page),
        click("#clipboard_send"),
        // The test takes the clipboard back with xclip once it has read the page's text.
        wait("document.getElementById('clipboard_text').value === 'from X ✓'"),
    ];
    let mut seen = String::new();
    let mut owner: Option<Child> = None;
    let mut last = Instant::now();
    drive_while(&node, &dir, steps, || {
        if seen != from_page {
            seen = read_clipboard(&x);
        } else if owner.is_none() || last.elapsed() > Duration::from_millis(700) {
            // Taken anew now and then: the page must be connected when the change happens.
            if let Some(mut old) = owner.take() {
                let _ = old.kill();
                let _ = old.wait();
            }
            owner = Some(own_clipboard(&x, "from X ✓"));
            last = Instant::now();
        }
    });
    if let Some(mut old) = owner.take() {
        let _ = old.kill();
        let _ = old.wait();
    }
    assert_eq!(seen, from_page);
}

/// `?lang=de` translates the page; an unknown language leaves English.
#[test]
fn translation_is_applied() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let dir = temp_dir("app-lang");
    // No VNC server needed: the page is only loaded.
    let (_proxy, port) = proxy_to("127.0.0.1:1", &dist, &dir);
    let probe = "[document.documentElement.lang, \
                 document.getElementById('connect_button').textContent, \
                 document.getElementById('settings_button').title, \
                 document.getElementById('status').textContent]";
    let steps = vec![
        goto(&app_url(port, "?lang=de")),
        wait("window.app"),
        eval(probe),
        goto(&app_url(port, "?lang=xx")),
        wait("window.app"),
        eval(probe),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(
        ev[0], r#"["de","Verbinden","Einstellungen","Getrennt"]"#,
        "{out}"
    );
    assert_eq!(
        ev[1], r#"["en","Connect","Settings","Disconnected"]"#,
        "{out}"
    );
    // Without `lang`, the browser's languages choose (fr-CA falls back to fr).
    let steps = vec![
        op("emulate", r#""acceptLanguage":"fr-CA,fr;q=0.9,en;q=0.8""#),
        goto(&app_url(port, "")),
        wait("window.app"),
        eval(probe),
    ];
    let out = drive(&node, &dir, &steps);
    assert_eq!(
        evals(&out)[0],
        r#"["fr","Se connecter","Paramètres","Déconnecté"]"#,
        "{out}"
    );
}

/// On a touch screen the keyboard button shows, and it focuses the client's text field (which
/// brings up the on-screen keyboard); without touch it stays hidden.
#[test]
fn touch_keyboard_button() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-touch");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let focused = "(() => { const a = document.activeElement; \
                   return [a.tagName, document.getElementById('screen').contains(a)]; })()";
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        eval("document.getElementById('keyboard_button').hidden"),
    ];
    let out = drive(&node, &dir, &steps);
    assert_eq!(evals(&out)[0], "true", "{out}");
    let steps = vec![
        op("emulate", r#""touch":true"#),
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        // Take the focus away from the screen first.
        eval("document.activeElement.blur()"),
        eval("document.getElementById('keyboard_button').hidden"),
        eval(focused),
        click("#keyboard_button"),
        eval(focused),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[1], "false", "{out}");
    assert_eq!(ev[2], r#"["BODY",false]"#, "{out}");
    assert_eq!(ev[3], r#"["TEXTAREA",true]"#, "{out}");
}

/// The bar follows the session: view only hides the extra keys, a clipped view shows the drag
/// button (which turns dragging on), and `capabilities.power` shows the power panel. (No test
/// server here offers XVP, so the capability is announced by hand: this checks the app's side
/// only.)
#[test]
fn control_bar_follows_the_session() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-bar");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let visible =
        |id: &str| format!("getComputedStyle(document.getElementById('{id}')).display !== 'none'");
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1&view_only=1&view_clip=1")),
        wait(CONNECTED),
        eval(&format!(
            "[{}, {}]",
            visible("extra_keys"),
            visible("drag_button")
        )),
        op("resize", r#""width":500,"height":350"#),
        wait(&visible("drag_button")),
        click("#drag_button"),
        eval(
            "[rfb.dragViewport, document.getElementById('drag_button').getAttribute('aria-pressed')]",
        ),
        eval(&visible("power_button")),
        eval(
            "rfb.dispatchEvent(new CustomEvent('capabilities', \
             { detail: { capabilities: { power: true } } }))",
        ),
        click("#power_button"),
        eval(&visible("power_panel")),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], "[false,false]", "{out}");
    assert_eq!(ev[1], r#"[true,"true"]"#, "{out}");
    assert_eq!(ev[2], "false", "{out}");
    assert_eq!(ev[4], "true", "{out}");
}

/// The server's bell rings the app's bell (`bell` is on by default).
#[test]
fn bell_rings() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    if !peer::require("xkbbell") {
        return;
    }
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-bell");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        wait("app.bells >= 1"),
    ];
    let mut last = Instant::now() - Duration::from_secs(10);
    // Rung now and then until the page has heard one (it must be connected when it rings).
    drive_while(&node, &dir, steps, || {
        if last.elapsed() > Duration::from_millis(500) {
            last = Instant::now();
            let (ok, _, err) = output_within(x.command("xkbbell"), Duration::from_secs(5));
            assert!(ok, "xkbbell: {err}");
        }
    });
}

/// When the client cannot load (here: its wasm is missing), the page says so instead of
/// hanging on "Loading".
#[test]
fn missing_client_shows_an_error() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let dir = temp_dir("app-nowasm");
    let site = dir.join("site");
    copy_dir(&dist, &site);
    std::fs::remove_file(site.join("pkg/rfb_web_bg.wasm")).unwrap();
    let (_proxy, port) = proxy_to("127.0.0.1:1", &site, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait("document.getElementById('status').dataset.level === 'error'"),
        eval(STATUS),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert!(
        ev[0].starts_with(r#"["The client could not be loaded: "#) && ev[0].contains("404"),
        "{out}"
    );
}

/// vnc.html works under the strict CSP docs/EMBEDDING.md documents (its scripts are all
/// files, no inline script or style attribute in the markup).
#[test]
fn app_under_a_strict_csp() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-csp");
    let site = dir.join("site");
    copy_dir(&dist, &site);
    let html = std::fs::read_to_string(site.join("vnc.html")).unwrap();
    let csp = r#"<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'">"#;
    std::fs::write(
        site.join("vnc.html"),
        html.replacen(
            "<meta charset=\"utf-8\">",
            &format!("<meta charset=\"utf-8\">\n{csp}"),
            1,
        ),
    )
    .unwrap();
    let (_proxy, port) = proxy_to(&x.addr(), &site, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        click("#settings_button"),
        eval("getComputedStyle(document.getElementById('control_bar')).zIndex"),
    ];
    let out = drive(&node, &dir, &steps);
    assert!(
        !out.contains("Content Security Policy"),
        "CSP violation\n{out}"
    );
    // The stylesheet applied (a style blocked by the CSP would leave `auto`).
    assert_eq!(evals(&out)[0], r#""50""#, "{out}");
}

/// `keep_device_awake=1` holds a screen wake lock while connected and lets it go on
/// disconnect.
#[test]
fn keep_device_awake_holds_a_wake_lock() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-wakelock");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        op("emulate", r#""grant":["screen-wake-lock"]"#),
        goto(&app_url(port, "?autoconnect=1&keep_device_awake=1")),
        wait(CONNECTED),
        wait("app.wakeLock.held"),
        click("#disconnect_button"),
        wait("app.state === 'disconnected' && !app.wakeLock.held"),
        eval(STATUS),
    ];
    let out = drive(&node, &dir, &steps);
    assert_eq!(evals(&out)[0], r#"["Disconnected","normal"]"#, "{out}");
}

/// The VNC server going away mid-session (no reconnect): an error banner saying the
/// connection closed, and the connect dialog.
#[test]
fn server_gone_while_connected() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-server-gone");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        wait("app.state === 'disconnected'"),
        eval(&format!(
            "[{STATUS}, !document.getElementById('connect_dialog').hidden, \
             app.lastDisconnect.clean, document.title]"
        )),
    ];
    let before = accepted(&x);
    let mut server = Some(x);
    let out = drive_while(&node, &dir, steps, || {
        if server.as_ref().is_some_and(|x| accepted(x) > before) {
            // Connected: the server goes away.
            drop(server.take());
        }
    });
    let ev = evals(&out);
    assert!(
        ev[0].starts_with(r#"[["Something went wrong, connection is closed"#)
            && ev[0].ends_with(r#""error"],true,false,"rfb"]"#),
        "{out}"
    );
}
