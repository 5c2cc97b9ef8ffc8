//! Helpers of the app tests: the page driver, step builders, the proxy and desktop launchers.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub(crate) use crate::common::web::{
    artifact, browser, click, drive, eval, goto, js, op, read_until, wait, xterm_running,
};
use crate::common::{Proc, output_within, start_proxy};
use rfb_testkit::net::free_port;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

pub(crate) const W: u32 = 640;
pub(crate) const H: u32 = 400;

/// `web/dist` with the app, or `None` (skipped locally; a failure in CI, where xtask builds
/// it first).
pub(crate) fn dist() -> Option<PathBuf> {
    crate::common::web::dist_with(&["rfb.js", "vnc.html", "app/main.js"])
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
