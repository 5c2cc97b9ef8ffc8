//! Helpers for the browser tests (web_client.rs, web_app/, launcher.rs): the built web
//! client, Chromium through web/tests/drive.mjs, drive steps as JSON, and a UTF-8 xterm whose
//! input is written to a file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rfb_testkit::net::free_port;
use rfb_testkit::peer::{self, require_node_package};
use rfb_testkit::xvnc::Xvnc;

use super::output_within;

/// `web/dist` when it holds `files` (relative paths), or `None`: skipped locally, a failure
/// in CI (where `cargo xtask test` builds it first).
pub(crate) fn dist_with(files: &[&str]) -> Option<PathBuf> {
    let d = peer::workspace_root().join("web/dist");
    if files.iter().all(|f| d.join(f).exists()) {
        return Some(d);
    }
    let msg = "web/dist is not built (run: cargo xtask dist)";
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

/// A path for a screenshot kept as a test artifact (`target/web-artifacts/NAME`).
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

/// Runs web/tests/drive.mjs with `steps` (JSON objects); returns its stdout. Fails when the
/// script fails or the page threw.
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

/// A step: load a page.
pub(crate) fn goto(url: &str) -> String {
    format!(r#"{{"op":"goto","url":{}}}"#, js(url))
}

/// A step: poll a JS expression (awaited) until truthy.
pub(crate) fn wait(expr: &str) -> String {
    format!(r#"{{"op":"wait","expr":{}}}"#, js(expr))
}

/// A step: print `ok eval <JSON>` of a JS expression.
pub(crate) fn eval(expr: &str) -> String {
    format!(r#"{{"op":"eval","expr":{}}}"#, js(expr))
}

/// A step: click an element.
pub(crate) fn click(selector: &str) -> String {
    format!(r#"{{"op":"click","selector":{}}}"#, js(selector))
}

/// Any step: `rest` is the JSON fields after `op`.
pub(crate) fn op(name: &str, rest: &str) -> String {
    if rest.is_empty() {
        format!(r#"{{"op":"{name}"}}"#)
    } else {
        format!(r#"{{"op":"{name}",{rest}}}"#)
    }
}

/// A UTF-8 xterm filling the top left of the screen running `script` in a shell; returns
/// once the shell has started (the returned file exists then).
pub(crate) fn xterm_running(x: &Xvnc, script: &str) -> PathBuf {
    let id = free_port();
    let ready = x.dir().join(format!("ready-{id}"));
    let title = format!("rfb-test-xterm-{id}");
    let full = format!(": > '{}'; {script}", ready.display());
    x.spawn(
        "env",
        &[
            "LC_ALL=C.UTF-8",
            "LANG=C.UTF-8",
            "xterm",
            "-u8",
            "-T",
            &title,
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
    // No window manager: give the xterm the keyboard focus explicitly, so typed keys reach it
    // wherever the pointer is (focus-follows-pointer lost keys on a loaded machine).
    x.run(
        "xdotool",
        &[
            "search",
            "--sync",
            "--name",
            &title,
            "windowfocus",
            "--sync",
        ],
    );
    ready
}

/// The file's bytes once `done` holds for them (or after 15 s, for the assertion to report).
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
