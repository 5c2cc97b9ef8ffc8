//! noVNC's launcher form of `rfb-proxy` (issue 9): the web app built into the binary against a
//! real Xvnc with no `--web`, the printed URL, and the error paths a newcomer meets (port in
//! use, VNC server down, bad certificate path), each a one-line message.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Proc, output_within, proxy_bin, temp_dir};
use rfb_testkit::Image;
use rfb_testkit::net::{free_port, wait_for_port};
use rfb_testkit::peer::{self, require_node_package};
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

/// Starts the launcher form and returns it with the URL it printed.
fn launch(args: &[&str]) -> (Proc, String, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = proxy_bin();
    cmd.args(["--listen", &listen]).args(args);
    let mut p = Proc::spawn(cmd.stdout(Stdio::piped()).stderr(Stdio::null()), false);
    let stdout = p.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim_start().starts_with("http") {
                let _ = tx.send(line.trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the launcher printed a URL");
    assert!(wait_for_port(port, Duration::from_secs(20)));
    (p, url, port)
}

/// The built-in app (no `--web`) in Chromium through the launcher form, to a real Xvnc: the
/// printed URL is right and the page's framebuffer equals `xwd -root`.
#[test]
fn embedded_app_shows_a_real_xvnc() {
    let Some(node) = require_node_package("playwright-core") else {
        return;
    };
    if !peer::require_all(&["node", "/usr/bin/chromium"]) {
        return;
    }
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(480, 320)) else {
        return;
    };
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_xterm("embedded app", 40, 40, 20, 3);
    x.settle();
    let (_p, url, port) = launch(&["--vnc", &x.addr()]);
    assert_eq!(
        url,
        format!("http://127.0.0.1:{port}/vnc.html?host=127.0.0.1&port={port}")
    );
    // vnc_lite.html from the same built-in app, lossless for an exact comparison.
    let lite = url.replace("vnc.html", "vnc_lite.html") + "&lossless=1";
    let dir = temp_dir("launcher-embedded");
    let pw = node.join("node_modules/playwright-core/index.mjs");
    let script = std::fs::read_to_string(peer::workspace_root().join("web/tests/drive.mjs"))
        .unwrap()
        .replace("@PLAYWRIGHT@", &format!("file://{}", pw.display()));
    std::fs::write(dir.join("drive.mjs"), script).unwrap();
    let fb = dir.join("fb.rgba");
    let steps = format!(
        r#"[{{"op":"goto","url":"{lite}"}},
            {{"op":"wait","expr":"document.getElementById('status').textContent.startsWith('Connected')"}},
            {{"op":"wait","expr":"(async () => {{ const a = await rfb.snapshot(); await new Promise(r => setTimeout(r, 300)); const b = await rfb.snapshot(); return a && b && a.width > 0 && a.data.every((v, i) => v === b.data[i]); }})()"}},
            {{"op":"snapshot","out":"{}"}}]"#,
        fb.display()
    );
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("drive.mjs")).arg(steps).current_dir(&dir);
    let (ok, out, err) = output_within(cmd, Duration::from_secs(120));
    assert!(ok, "{out}\n{err}");
    let got = Image {
        width: 480,
        height: 320,
        rgba: std::fs::read(&fb).unwrap(),
    };
    let want = x.xwd_root();
    assert_eq!(got.diff_count(&want), 0, "{:?}", got.first_diff(&want));
    // The app page itself is served from the binary too.
    let page = http_get(port, "/vnc.html");
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("text/html"),
        "{page}"
    );
    assert!(http_get(port, "/").starts_with("HTTP/1.1 200"));
    assert!(http_get(port, "/pkg/rfb_web_bg.wasm").contains("application/wasm"));
}

fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let head_len = buf.len().min(400);
    String::from_utf8_lossy(&buf[..head_len]).into_owned()
}

/// The launcher with no VNC server: a warning that names the address and the fixes, and the
/// proxy keeps running (the server may start later).
#[test]
fn vnc_server_down_gives_a_hint_and_keeps_running() {
    let dead = free_port();
    let port = free_port();
    let mut cmd = proxy_bin();
    cmd.args([
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--vnc",
        &format!("127.0.0.1:{dead}"),
    ]);
    let mut p = Proc::spawn(cmd.stdout(Stdio::null()).stderr(Stdio::piped()), false);
    let stderr = p.child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    let warning = loop {
        assert!(Instant::now() < deadline, "no warning");
        let line = lines.next().expect("stderr open").unwrap();
        if line.contains("no VNC server answers") {
            break line;
        }
    };
    assert!(warning.contains(&format!("127.0.0.1:{dead}")), "{warning}");
    assert!(
        warning.contains("--vnc") && warning.contains("--demo"),
        "{warning}"
    );
    assert!(
        wait_for_port(port, Duration::from_secs(10)),
        "still serving"
    );
    assert!(p.child.try_wait().unwrap().is_none(), "still running");
}

/// A taken port and a missing certificate: non-zero exit and one line naming the problem.
#[test]
fn port_in_use_and_bad_certificate_are_one_line_errors() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut cmd = proxy_bin();
    cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--demo"]);
    let (ok, _, err) = output_within(cmd, Duration::from_secs(20));
    assert!(!ok);
    let line = err
        .lines()
        .find(|l| l.starts_with("rfb-proxy:"))
        .unwrap_or(&err);
    assert!(
        line.contains("the port is in use") && line.contains("--listen"),
        "{err}"
    );
    drop(taken);

    let mut cmd = proxy_bin();
    cmd.args([
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--demo",
        "--cert",
        "/nonexistent/cert.pem",
    ]);
    let (ok, _, err) = output_within(cmd, Duration::from_secs(20));
    assert!(!ok);
    assert!(
        err.lines()
            .any(|l| l.starts_with("rfb-proxy:") && l.contains("/nonexistent/cert.pem")),
        "{err}"
    );
}

/// `--self-signed` prints a fingerprint and serves https on the port, with an https URL.
#[test]
fn self_signed_prints_fingerprint_and_https_url() {
    let port = free_port();
    // The certificate goes to the proxy's temp dir; the proxy is killed, so make that ours.
    let dir = temp_dir("launcher-self-signed");
    let mut cmd = proxy_bin();
    cmd.env("TMPDIR", &dir).args([
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--demo",
        "--self-signed",
    ]);
    let mut p = Proc::spawn(cmd.stdout(Stdio::piped()).stderr(Stdio::null()), false);
    let stdout = p.child.stdout.take().unwrap();
    let mut fingerprint = None;
    let mut url = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(f) = line.split("fingerprint ").nth(1) {
            fingerprint = Some(f.trim().to_string());
        }
        if line.trim_start().starts_with("https://") {
            url = Some(line.trim().to_string());
            break;
        }
    }
    let fp = fingerprint.expect("a fingerprint line");
    assert_eq!(fp.len(), 95, "{fp}");
    assert_eq!(
        url.unwrap(),
        format!("https://127.0.0.1:{port}/vnc.html?host=127.0.0.1&port={port}&encrypt=1")
    );
    assert!(wait_for_port(port, Duration::from_secs(10)));
}

/// The web client as an npm package: `npm pack` of `web/` installs into an app, and the
/// example page that imports it from node_modules connects (to the demo desktop).
#[test]
fn npm_package_installs_and_the_example_page_connects() {
    let Some(node) = require_node_package("playwright-core") else {
        return;
    };
    if !peer::require_all(&["node", "npm", "/usr/bin/chromium"]) {
        return;
    }
    let web = peer::workspace_root().join("web");
    if !web.join("dist/rfb.js").exists() {
        assert!(!peer::in_ci(), "web/dist is not built (cargo xtask dist)");
        peer::skip("web/dist is not built (cargo xtask dist)");
        return;
    }
    let dir = temp_dir("launcher-npm");
    let mut pack = Command::new("npm");
    pack.args(["pack", "--pack-destination"])
        .arg(&dir)
        .current_dir(&web);
    let (ok, out, err) = output_within(pack, Duration::from_secs(60));
    assert!(ok, "npm pack: {out}\n{err}");
    let tgz = dir.join("rfb-client-0.1.0.tgz");
    assert!(tgz.exists(), "{out}");
    let app = dir.join("app");
    common::copy_dir(&web.join("examples/npm"), &app);
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund", "--offline"])
        .arg(&tgz)
        .current_dir(&app);
    let (ok, out, err) = output_within(install, Duration::from_secs(60));
    assert!(ok, "npm install: {out}\n{err}");
    assert!(
        app.join("node_modules/@rfb/client/dist/pkg/rfb_web_bg.wasm")
            .exists()
    );
    let port = free_port();
    let _proxy = common::start_proxy(
        &[
            "--web".into(),
            app.display().to_string(),
            "--demo-static".into(),
            format!("127.0.0.1:{port}"),
        ],
        port,
        &dir.join("proxy.log"),
    );
    let pw = node.join("node_modules/playwright-core/index.mjs");
    let script = std::fs::read_to_string(peer::workspace_root().join("web/tests/drive.mjs"))
        .unwrap()
        .replace("@PLAYWRIGHT@", &format!("file://{}", pw.display()));
    std::fs::write(dir.join("drive.mjs"), script).unwrap();
    let steps = format!(
        r#"[{{"op":"goto","url":"http://127.0.0.1:{port}/index.html"}},
            {{"op":"wait","expr":"document.getElementById('status').textContent === 'Connected'"}},
            {{"op":"eval","expr":"rfb.usingWorker"}}]"#
    );
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("drive.mjs")).arg(steps).current_dir(&dir);
    let (ok, out, err) = output_within(cmd, Duration::from_secs(120));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("ok eval true"), "{out}");
}

/// The README's run command, literally, in a fresh clone of this repository (sharing the
/// build cache): it prints a URL; Chromium opens it, presses Connect and reaches the demo
/// desktop. (The README's test command is what CI itself runs.)
#[test]
fn readme_run_command_in_a_fresh_clone_reaches_the_demo() {
    let Some(node) = require_node_package("playwright-core") else {
        return;
    };
    if !peer::require_all(&["git", "node", "/usr/bin/chromium"]) {
        return;
    }
    let root = peer::workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let run_line = readme
        .lines()
        .find(|l| l.contains("# run:"))
        .expect("the README's quick start has a run command");
    let command = run_line.split('#').next().unwrap().trim().to_string();
    assert_eq!(
        command, "cargo xtask run -- --demo",
        "the test follows the README"
    );
    // The launcher's default port; loopback tests never pick it (ephemeral ports are higher).
    if std::net::TcpListener::bind("0.0.0.0:6080").is_err() {
        assert!(!peer::in_ci(), "port 6080 is taken");
        peer::skip("port 6080 is taken");
        return;
    }
    let dir = temp_dir("launcher-fresh");
    let clone = dir.join("clone");
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(&root)
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success(), "git clone");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &command])
        .current_dir(&clone)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("CARGO_PRIMARY_PACKAGE");
    // A new process group: `cargo run` starts rfb-proxy as a child, stopped with the group.
    let mut p = Proc::spawn(cmd.stdout(Stdio::piped()).stderr(Stdio::null()), true);
    let stdout = p.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim_start().starts_with("http") {
                let _ = tx.send(line.trim().to_string());
            }
        }
    });
    // Building the web client and the proxy in the clone takes minutes on 2 cores.
    let url = rx
        .recv_timeout(Duration::from_secs(1500))
        .expect("the run command printed a URL");
    assert_eq!(
        url,
        "http://localhost:6080/vnc.html?host=localhost&port=6080"
    );
    let pw = node.join("node_modules/playwright-core/index.mjs");
    let script = std::fs::read_to_string(root.join("web/tests/drive.mjs"))
        .unwrap()
        .replace("@PLAYWRIGHT@", &format!("file://{}", pw.display()));
    std::fs::write(dir.join("drive.mjs"), script).unwrap();
    let shot = root.join("target/web-artifacts/readme-demo.png");
    let _ = std::fs::create_dir_all(shot.parent().unwrap());
    let steps = format!(
        r##"[{{"op":"goto","url":"{url}"}},
            {{"op":"click","selector":"#connect_button"}},
            {{"op":"wait","expr":"window.rfb && rfb._rfbConnectionState === 'connected' && rfb._fbWidth > 0"}},
            {{"op":"wait","expr":"(async () => {{ const i = await rfb.snapshot(); if (!i) return false; const seen = new Set(); for (let p = 0; p < i.data.length; p += 4 * 97) seen.add(i.data[p] * 65536 + i.data[p + 1] * 256 + i.data[p + 2]); return seen.size > 3; }})()"}},
            {{"op":"sleep","ms":500}},
            {{"op":"screenshot","out":"{}"}}]"##,
        shot.display()
    );
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("drive.mjs")).arg(steps).current_dir(&dir);
    let (ok, out, err) = output_within(cmd, Duration::from_secs(120));
    assert!(ok, "{out}\n{err}");
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}
