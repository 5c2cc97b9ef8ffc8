//! Helpers of the app tests: the page driver, step builders, the proxy and desktop launchers.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::{Proc, output_within, start_proxy};
use rfb_testkit::net::free_port;
use rfb_testkit::peer::{self, require_node_package};
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

pub(crate) const W: u32 = 640;
pub(crate) const H: u32 = 400;

/// `web/dist` with the app, or `None` (skipped locally; a failure in CI, where xtask builds
/// it first).
pub(crate) fn dist() -> Option<PathBuf> {
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
pub(crate) fn browser() -> Option<PathBuf> {
    let node = require_node_package("playwright-core")?;
    if !peer::require_all(&["node", "/usr/bin/chromium"]) {
        return None;
    }
    Some(node)
}

pub(crate) fn artifact(name: &str) -> String {
    let d = peer::workspace_root().join("target/web-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name).display().to_string()
}

/// A JSON string literal.
pub(crate) fn js(s: &str) -> String {
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
pub(crate) fn drive(node: &Path, dir: &Path, steps: &[String]) -> String {
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
pub(crate) fn drive_while(
    node: &Path,
    dir: &Path,
    steps: Vec<String>,
    mut tick: impl FnMut(),
) -> String {
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

pub(crate) fn goto(url: &str) -> String {
    format!(r#"{{"op":"goto","url":{}}}"#, js(url))
}

pub(crate) fn wait(expr: &str) -> String {
    format!(r#"{{"op":"wait","expr":{}}}"#, js(expr))
}

pub(crate) fn eval(expr: &str) -> String {
    format!(r#"{{"op":"eval","expr":{}}}"#, js(expr))
}

pub(crate) fn click(selector: &str) -> String {
    format!(r#"{{"op":"click","selector":{}}}"#, js(selector))
}

pub(crate) fn fill(selector: &str, value: &str) -> String {
    format!(
        r#"{{"op":"fill","selector":{},"value":{}}}"#,
        js(selector),
        js(value)
    )
}

pub(crate) fn select(selector: &str, value: &str) -> String {
    format!(
        r#"{{"op":"select","selector":{},"value":{}}}"#,
        js(selector),
        js(value)
    )
}

pub(crate) fn screenshot(name: &str) -> String {
    format!(r#"{{"op":"screenshot","out":{}}}"#, js(&artifact(name)))
}

pub(crate) fn op(name: &str, rest: &str) -> String {
    format!(r#"{{"op":"{name}",{rest}}}"#)
}

/// The `ok eval` results in order.
pub(crate) fn evals(out: &str) -> Vec<&str> {
    out.lines()
        .filter_map(|l| l.strip_prefix("ok eval "))
        .collect()
}

pub(crate) const CONNECTED: &str = "window.app && app.state === 'connected'";
pub(crate) const STATUS: &str = "[document.getElementById('status').textContent, \
                      document.getElementById('status').dataset.level]";

pub(crate) fn app_url(port: u16, query: &str) -> String {
    format!("http://127.0.0.1:{port}/vnc.html{query}")
}

pub(crate) fn proxy_to(target: &str, web: &Path, dir: &Path) -> (Proc, u16) {
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

pub(crate) fn desktop(opts: XvncOptions) -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(opts)?;
    x.set_root_solid("#336699");
    x.show_xterm("rfb app test", 150, 150, 30, 3);
    x.settle();
    Some(x)
}

/// A UTF-8 xterm at the top left running `script` in a shell; returns once the shell runs.
pub(crate) fn xterm_running(x: &Xvnc, script: &str) {
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

pub(crate) fn read_until(path: &Path, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let data = std::fs::read(path).unwrap_or_default();
        if done(&data) || Instant::now() > deadline {
            return data;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A signal from the page to the test: the page opens a WebSocket to this listener (the
/// [`Marker::step`]) once it has reached a state, and [`Marker::hit`] sees the connection.
/// Nothing on the server side tells exactly when the page has handled `connect`.
pub(crate) struct Marker {
    listener: std::net::TcpListener,
}

impl Marker {
    pub(crate) fn new() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Self { listener }
    }

    /// The step that sends the signal.
    pub(crate) fn step(&self) -> String {
        let port = self.listener.local_addr().unwrap().port();
        eval(&format!(
            "(() => {{ new WebSocket('ws://127.0.0.1:{port}/'); return true; }})()"
        ))
    }

    /// True once the page has sent the signal.
    pub(crate) fn hit(&self) -> bool {
        self.listener.accept().is_ok()
    }
}

/// Makes xclip own the CLIPBOARD with `text` (UTF8_STRING) until it loses it or is killed.
pub(crate) fn own_clipboard(x: &Xvnc, text: &str) -> Child {
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
pub(crate) fn read_clipboard(x: &Xvnc) -> String {
    let mut c = x.command("xclip");
    c.args(["-o", "-selection", "clipboard", "-t", "UTF8_STRING"]);
    let (_, out, _) = output_within(c, Duration::from_secs(5));
    out
}
