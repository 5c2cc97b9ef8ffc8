//! The scripted security servers (rfb_testkit::scripted, a Python server side written from
//! rfbproto) validated by a third-party client: npm noVNC core in headless Chromium, through
//! rfb-proxy in websockify mode, authenticates with the right credentials (reaches `connect`
//! and shows the server's pattern) and gets `securityfailure` with wrong ones, for ARD (30),
//! MSLogonII (113), xvp (22), Plain inside VeNCrypt (19/256), Tight (16) and RA2ne (6). Only
//! then does a scripted server count as a peer for our own client (cli/tests/scripted_security.rs).
//!
//! The same page then runs our own wasm client (`web/dist/rfb.js`, the noVNC-compatible API,
//! main-thread mode so the canvas can be read) against the same servers: every one of these
//! security types works in the browser too (the `ours_*` tests).
//!
//! The peers come from `scripts/install-test-deps.sh` (`target/peers`); every test skips
//! visibly outside CI when one is missing and fails in CI.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

mod common;

use common::web::{drive, eval, goto, wait};
use common::{TempDir, copy_dir, start_proxy, temp_dir};
use rfb_testkit::net::free_port;
use rfb_testkit::peer::{self, require_node_package};
use rfb_testkit::scripted::{Credentials, Scheme, ScriptedServer, TightAuth, pattern_rgb};

/// Our page around npm `@novnc/novnc` `core/rfb.js`: credentials from the query, the RSA
/// server key approved as a user would (RA2ne's `serververification`), and every outcome in
/// `#status`.
const PAGE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>noVNC scripted security test</title></head>
<body style="margin:0">
<div id="status">loading</div>
<div id="screen"></div>
<script type="module">
import RFB from './node_modules/@novnc/novnc/core/rfb.js';
const q = new URLSearchParams(location.search);
const credentials = {};
for (const k of ['username', 'password', 'target']) {
  if (q.get(k) !== null) credentials[k] = q.get(k);
}
const status = document.getElementById('status');
const rfb = new RFB(document.getElementById('screen'), `ws://${location.host}/websockify`,
                    { credentials });
rfb.scaleViewport = false;
rfb.addEventListener('serververification', async e => {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', e.detail.publickey));
  window.serverKey = e.detail.type + ':' + Array.from(d, v => v.toString(16).padStart(2, '0')).join('');
  rfb.approveServer();
});
rfb.addEventListener('credentialsrequired', e => {
  status.textContent = 'credentialsrequired: ' + e.detail.types.join(',');
});
rfb.addEventListener('connect', () => { status.textContent = 'connected'; });
rfb.addEventListener('securityfailure', e => {
  status.textContent = 'securityfailure: ' + e.detail.status + ' ' + (e.detail.reason || '');
});
rfb.addEventListener('disconnect', e => {
  if (!status.textContent.startsWith('securityfailure')) {
    status.textContent = 'disconnected: clean=' + e.detail.clean;
  }
});
window.rfb = rfb;
</script></body></html>
"#;

/// The node project with noVNC and playwright-core, and Chromium; `None` (skipped) if absent.
fn browser_peers() -> Option<PathBuf> {
    let node = require_node_package("@novnc/novnc")?;
    require_node_package("playwright-core")?;
    if !peer::require_all(&["node", "/usr/bin/chromium"]) {
        return None;
    }
    Some(node)
}

/// Which client the page runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    /// npm noVNC's core: the third-party validator.
    NoVnc,
    /// Our wasm client from `web/dist`, in main-thread mode.
    Ours,
}

/// A web root: the page and a copy of the client (rfb-proxy refuses symlinks out).
fn web_dir(node: &Path, tag: &str, client: Client) -> TempDir {
    let dir = temp_dir(&format!("scripted-{tag}"));
    match client {
        Client::NoVnc => {
            copy_dir(
                &node.join("node_modules/@novnc/novnc"),
                &dir.join("node_modules/@novnc/novnc"),
            );
            std::fs::write(dir.join("novnc.html"), PAGE).unwrap();
        }
        Client::Ours => {
            let dist = common::web::dist_with(&["rfb.js", "pkg/rfb_web_bg.wasm"])
                .expect("web/dist (checked before)");
            copy_dir(&dist, &dir);
            let page = PAGE
                .replace("./node_modules/@novnc/novnc/core/rfb.js", "./rfb.js")
                .replace("{ credentials }", "{ credentials, worker: false }");
            std::fs::write(dir.join("novnc.html"), page).unwrap();
        }
    }
    dir
}

/// What noVNC ended with.
struct Outcome {
    /// `#status`: `connected`, `securityfailure: STATUS REASON`, ...
    status: String,
    /// The canvas (RGBA) once connected and its bottom-right pixel drawn (`connect` only).
    rgba: Option<Vec<u8>>,
    /// RA2ne: `RSA:<SHA-256 hex of the key blob>` when noVNC asked to verify the server key.
    server_key: Option<String>,
}

/// Serves `server` to noVNC through rfb-proxy (websockify mode) and loads the page with
/// `creds`. With `connect`, also waits until the whole Raw rectangle is drawn and dumps the
/// canvas (a session that does not connect then fails the wait, showing the status line).
fn novnc_session(
    node: &Path,
    tag: &str,
    server: &ScriptedServer,
    creds: &[(&str, &str)],
    connect: bool,
    client: Client,
) -> Outcome {
    let dir = web_dir(node, tag, client);
    let port = free_port();
    let args = [
        "--web".to_string(),
        dir.display().to_string(),
        format!("127.0.0.1:{port}"),
        server.addr(),
    ];
    let _proxy = start_proxy(&args, port, &dir.join("proxy.log"));
    let query: Vec<String> = creds
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    let url = format!("http://127.0.0.1:{port}/novnc.html?{}", query.join("&"));
    let status = "document.getElementById('status').textContent";
    let settled = format!(
        "{status} === 'connected' || {status}.startsWith('securityfailure') || \
         {status}.startsWith('disconnected') || {status}.startsWith('credentialsrequired')"
    );
    let mut steps = vec![
        goto(&url),
        wait(&settled),
        eval(status),
        eval("window.serverKey || null"),
    ];
    if connect {
        let (w, h) = (server.width, server.height);
        let [r, g, b] = pattern_rgb(w - 1, h - 1);
        let drawn = format!(
            "(() => {{ const c = document.querySelector('#screen canvas'); \
             if (!c || c.width !== {w} || c.height !== {h}) return false; \
             const d = c.getContext('2d').getImageData({x}, {y}, 1, 1).data; \
             return d[0] === {r} && d[1] === {g} && d[2] === {b}; }})()",
            x = w - 1,
            y = h - 1
        );
        steps.push(wait(&drawn));
        steps.push(eval(
            "(() => { const c = document.querySelector('#screen canvas'); \
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
             return Array.from(d).map(v => v.toString(16).padStart(2, '0')).join(''); })()",
        ));
    }
    let out = drive(node, &dir, &steps);
    let evals: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("ok eval "))
        .map(str::to_string)
        .collect();
    assert_eq!(
        evals.len(),
        2 + usize::from(connect),
        "drive output:\n{out}"
    );
    let rgba = connect.then(|| {
        let hex = json_str(&evals[2]);
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    });
    let _ = std::fs::remove_dir_all(&dir);
    Outcome {
        status: json_str(&evals[0]),
        rgba,
        server_key: (evals[1] != "null").then(|| json_str(&evals[1])),
    }
}

/// The string inside a JSON string literal (the page's values are plain ASCII).
fn json_str(lit: &str) -> String {
    let s = lit.trim();
    assert!(
        s.starts_with('"') && s.ends_with('"'),
        "not a JSON string: {s}"
    );
    s[1..s.len() - 1]
        .replace("\\\"", "\"")
        .replace("\\\\", "\\")
}

/// Percent-encoding for query values.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every pixel of the canvas equals the pattern.
fn assert_pattern(rgba: &[u8], server: &ScriptedServer, what: &str) {
    let (w, h) = (server.width, server.height);
    assert_eq!(rgba.len() as u32, 4 * w * h, "{what}: canvas size");
    for y in 0..h {
        for x in 0..w {
            let i = (4 * (y * w + x)) as usize;
            let [r, g, b] = pattern_rgb(x, y);
            assert_eq!(&rgba[i..i + 4], &[r, g, b, 255], "{what}: pixel ({x}, {y})");
        }
    }
}

/// ASCII credentials for the types whose noVNC code sends JavaScript string lengths and
/// character codes (xvp, VNC Authentication, Tight Unix login): those equal UTF-8 only for
/// ASCII.
fn ascii_creds() -> Credentials {
    Credentials {
        username: "alice".into(),
        password: "s3cret-pw".into(),
        target: "vm-7".into(),
    }
}

/// Non-ASCII credentials for the types whose noVNC code encodes UTF-8 (ARD, MSLogonII,
/// Plain, RA2ne), so the server's UTF-8 decoding is exercised too.
fn utf8_creds() -> Credentials {
    Credentials {
        username: "zoë".into(),
        password: "pässwörd-1".into(),
        target: String::new(),
    }
}

/// The right credentials connect and show the pattern; a wrong password is a
/// `securityfailure` with status 1 and the server's reason; the server saw both.
fn validate(scheme: Scheme, tag: &str, creds: &Credentials, fields: &[&str]) {
    validate_with(Client::NoVnc, scheme, tag, creds, fields);
}

/// [`validate`] with our wasm client: the same outcomes (its failure reason is the server's).
fn validate_ours(scheme: Scheme, tag: &str, creds: &Credentials, fields: &[&str]) {
    if common::web::dist_with(&["rfb.js", "pkg/rfb_web_bg.wasm"]).is_none() {
        return;
    }
    validate_with(Client::Ours, scheme, &format!("ours-{tag}"), creds, fields);
}

fn validate_with(client: Client, scheme: Scheme, tag: &str, creds: &Credentials, fields: &[&str]) {
    let Some(node) = browser_peers() else {
        return;
    };
    let Some(server) = ScriptedServer::start_or_skip(scheme, creds) else {
        return;
    };
    let pick = |password: &str| -> Vec<(&str, String)> {
        fields
            .iter()
            .map(|f| {
                let v = match *f {
                    "username" => creds.username.clone(),
                    "target" => creds.target.clone(),
                    _ => password.to_string(),
                };
                (*f, v)
            })
            .collect()
    };
    let good = pick(&creds.password);
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let got = novnc_session(&node, tag, &server, &good, true, client);
    assert_eq!(got.status, "connected", "server log:\n{}", server.log());
    let log = server.wait_log("update sent");
    let number = scheme.number();
    assert!(log.contains(&format!("auth ok type={number}")), "{log}");
    assert_pattern(got.rgba.as_deref().unwrap(), &server, tag);
    if scheme == Scheme::Ra2ne {
        // noVNC showed the key for approval, and it is the key the script holds: the SHA-256
        // of its wire form matches the script's own.
        let want = server
            .rsa_fingerprint()
            .expect("the script prints its key's fingerprint");
        assert_eq!(
            got.server_key,
            Some(format!("RSA:{}", want.replace(':', ""))),
            "{tag}"
        );
    }
    if scheme == Scheme::Xvp {
        assert!(log.contains("xvp init sent"), "{log}");
    }

    let bad = pick("wrong-pw");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let got = novnc_session(&node, &format!("{tag}-bad"), &server, &bad, false, client);
    assert!(
        got.status.starts_with("securityfailure: 1 ")
            && got.status.contains("authentication failed"),
        "{}; server log:\n{}",
        got.status,
        server.log()
    );
    let log = server.wait_log("auth failed");
    assert!(log.contains(&format!("auth failed type={number}")), "{log}");
}

#[test]
fn novnc_validates_scripted_ard() {
    validate(Scheme::Ard, "ard", &utf8_creds(), &["username", "password"]);
}

#[test]
fn novnc_validates_scripted_mslogon2() {
    validate(
        Scheme::MsLogonII,
        "mslogon2",
        &utf8_creds(),
        &["username", "password"],
    );
}

#[test]
fn novnc_validates_scripted_xvp() {
    validate(
        Scheme::Xvp,
        "xvp",
        &ascii_creds(),
        &["username", "password", "target"],
    );
}

#[test]
fn novnc_validates_scripted_plain() {
    validate(
        Scheme::Plain,
        "plain",
        &utf8_creds(),
        &["username", "password"],
    );
}

#[test]
fn novnc_validates_scripted_tight_vnc_auth() {
    validate(
        Scheme::Tight(TightAuth::Vnc),
        "tight-vnc",
        &ascii_creds(),
        &["password"],
    );
}

#[test]
fn novnc_validates_scripted_tight_unix_login() {
    validate(
        Scheme::Tight(TightAuth::Unix),
        "tight-unix",
        &ascii_creds(),
        &["username", "password"],
    );
}

#[test]
fn novnc_validates_scripted_ra2ne() {
    validate(
        Scheme::Ra2ne,
        "ra2ne",
        &utf8_creds(),
        &["username", "password"],
    );
}

#[test]
fn novnc_validates_scripted_tight_no_auth() {
    let Some(node) = browser_peers() else {
        return;
    };
    let creds = Credentials::default();
    let Some(server) = ScriptedServer::start_or_skip(Scheme::Tight(TightAuth::None), &creds) else {
        return;
    };
    let got = novnc_session(&node, "tight-none", &server, &[], true, Client::NoVnc);
    assert_eq!(got.status, "connected", "server log:\n{}", server.log());
    assert_pattern(got.rgba.as_deref().unwrap(), &server, "tight-none");
    let log = server.wait_log("update sent");
    assert!(log.contains("auth ok type=16 user='' auth=none"), "{log}");
}

// Our wasm client against the same (noVNC-validated) servers.

#[test]
fn ours_in_the_browser_ard() {
    validate_ours(Scheme::Ard, "ard", &utf8_creds(), &["username", "password"]);
}

#[test]
fn ours_in_the_browser_mslogon2() {
    validate_ours(
        Scheme::MsLogonII,
        "mslogon2",
        &utf8_creds(),
        &["username", "password"],
    );
}

#[test]
fn ours_in_the_browser_xvp() {
    validate_ours(
        Scheme::Xvp,
        "xvp",
        &utf8_creds_with_target(),
        &["username", "password", "target"],
    );
}

#[test]
fn ours_in_the_browser_plain() {
    validate_ours(
        Scheme::Plain,
        "plain",
        &utf8_creds(),
        &["username", "password"],
    );
}

#[test]
fn ours_in_the_browser_tight_unix_login() {
    validate_ours(
        Scheme::Tight(TightAuth::Unix),
        "tight-unix",
        &utf8_creds(),
        &["username", "password"],
    );
}

#[test]
fn ours_in_the_browser_ra2ne() {
    validate_ours(
        Scheme::Ra2ne,
        "ra2ne",
        &utf8_creds(),
        &["username", "password"],
    );
}

/// Our client encodes every field as UTF-8 (noVNC only gets ASCII right for xvp).
fn utf8_creds_with_target() -> Credentials {
    Credentials {
        target: "vm-ü".into(),
        ..utf8_creds()
    }
}
