//! The RFB-aware security mode (`--vnc-security`) against a real TigerVNC Xvnc that insists
//! on TLS: the npm noVNC core in headless Chromium and our rfb-core client (over a raw
//! WebSocket, rfb-ws) see security None or VNC Authentication from the proxy, while the proxy
//! speaks VeNCrypt X509Vnc, X509Plain (PAM user `vnctest`, from
//! scripts/install-test-deps.sh) or TLSVnc (anonymous TLS, OpenSSL) to Xvnc. Pixels are
//! compared with `xwd -root`; failures (wrong stored password, wrong CA, a server without the
//! configured TLS, a wrong browser password) must reach the browser as a SecurityResult failure
//! with the reason.
//!
//! Certificates are made by the test (rcgen): a CA and a server certificate for 127.0.0.1.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use base64::Engine as _;
use common::web::{browser, drive, eval, goto, wait};
use common::{Proc, copy_dir, start_proxy, temp_dir};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rfb_core::rfb_encodings::Framebuffer;
use rfb_core::{Client, Config, Credentials, Event};
use rfb_testkit::Image;
use rfb_testkit::harness::TestRng;
use rfb_testkit::net::free_port;
use rfb_testkit::pattern;
use rfb_testkit::peer::require_node_package;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};
use rfb_ws::{HeadLimits, Limits, Role, WsConnection, WsEvent};

const W: u32 = 320;
const H: u32 = 240;
const VNC_PW: &str = "vncpw123";
const PLAIN_USER: &str = "vnctest";
const PLAIN_PW: &str = "plainpw1";
const BROWSER_PW: &str = "webpw42";

/// A CA and a server certificate it signed (PEM files, and the server's DER).
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new(dir: &Path, ca_name: &str) -> Self {
        let dir = dir.join(ca_name.replace(' ', "-"));
        fs::create_dir_all(&dir).unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, ca_name);
        let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
        let mut p =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        p.distinguished_name
            .push(DnType::CommonName, "rfb test server");
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &ca).unwrap();
        fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        fs::write(dir.join("cert.der"), cert.der()).unwrap();
        fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The server certificate's SHA-256, hex with colons (sha256sum over the DER).
    fn fingerprint(&self) -> String {
        let out = Command::new("sha256sum")
            .arg(self.dir.join("cert.der"))
            .output()
            .expect("sha256sum");
        let hex = String::from_utf8_lossy(&out.stdout);
        let hex = hex.split_whitespace().next().expect("a digest").to_string();
        hex.as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// Xvnc offering only `types`, with `pki`'s certificate and Plain for `vnctest`; a desktop
/// with variety (solid root, a photo-like image) and no pointer.
fn server(types: &str, pki: &Pki) -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(
        XvncOptions::new(W, H)
            .vnc_auth(VNC_PW)
            .arg("-SecurityTypes")
            .arg(types)
            .arg("-X509Cert")
            .arg(pki.path("cert.pem"))
            .arg("-X509Key")
            .arg(pki.path("key.pem"))
            .arg("-PlainUsers")
            .arg(PLAIN_USER)
            .arg("-PAMService")
            .arg("tigervnc"),
    )?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(160, 100, 11), 20, 16);
    x.settle();
    Some(x)
}

fn file(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, format!("{text}\n")).unwrap();
    p.display().to_string()
}

/// rfb-proxy in front of `x` with `extra` security options, serving `web` (if any).
fn proxy(dir: &Path, web: Option<&Path>, x: &Xvnc, extra: &[String]) -> (Proc, u16) {
    let port = free_port();
    let mut args: Vec<String> = Vec::new();
    if let Some(w) = web {
        args.extend(["--web".to_string(), w.display().to_string()]);
    }
    args.extend([format!("127.0.0.1:{port}"), x.addr()]);
    args.extend(extra.iter().cloned());
    let log = dir.join(format!("proxy-{port}.log"));
    (start_proxy(&args, port, &log), port)
}

fn log_of(dir: &Path, port: u16) -> String {
    fs::read_to_string(dir.join(format!("proxy-{port}.log"))).unwrap_or_default()
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
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

// noVNC in headless Chromium.

/// A page around npm `@novnc/novnc` `core/rfb.js`: answers `credentialsrequired` with
/// `?password=`, shows the outcome in `#status` (a security failure with noVNC's status and
/// reason), and offers `stableDump()`: the canvas once two dumps 400 ms apart agree. QualityLevel
/// pseudo-encodings are left out of SetEncodings (TigerVNC would send lossy JPEG otherwise).
const PAGE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>rfb-proxy security mode test</title></head>
<body style="margin:0">
<div id="status">loading</div>
<div id="screen"></div>
<script type="module">
import RFB from './node_modules/@novnc/novnc/core/rfb.js';
const q = new URLSearchParams(location.search);
const send = RFB.messages.clientEncodings;
RFB.messages.clientEncodings = (sock, encs) => send(sock, encs.filter(e => e < -32 || e > -23));
const status = document.getElementById('status');
const rfb = new RFB(document.getElementById('screen'), `ws://${location.host}/websockify`, {});
rfb.scaleViewport = false;
rfb.addEventListener('credentialsrequired', () => rfb.sendCredentials({ password: q.get('password') || '' }));
rfb.addEventListener('connect', () => { status.textContent = 'connected'; });
rfb.addEventListener('securityfailure', e => {
  status.textContent = 'securityfailure: ' + e.detail.status + ': ' + e.detail.reason;
});
rfb.addEventListener('disconnect', e => {
  if (!status.textContent.startsWith('securityfailure')) status.textContent = 'disconnected: clean=' + e.detail.clean;
});
window.stableDump = async () => {
  const one = () => {
    const c = document.querySelector('#screen canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
    return { w: c.width, h: c.height, b64: btoa(s) };
  };
  const pause = ms => new Promise(r => setTimeout(r, ms));
  await pause(1000);
  let prev = one(), cur = prev;
  for (let i = 0; i < 25; i++) {
    await pause(400);
    cur = one();
    if (cur.b64 === prev.b64 && cur.w > 0) break;
    prev = cur;
  }
  return cur;
};
window.rfb = rfb;
</script></body></html>
"#;

/// The node project (noVNC, playwright-core) and a web root with the page and a copy of noVNC
/// (a copy: rfb-proxy refuses symlinks leading out of its root).
fn novnc_root(tag: &str) -> Option<(PathBuf, PathBuf)> {
    let node = require_node_package("@novnc/novnc")?;
    let node = browser().map(|_| node)?;
    let dir = temp_dir(tag);
    copy_dir(
        &node.join("node_modules/@novnc/novnc"),
        &dir.join("web/node_modules/@novnc/novnc"),
    );
    fs::write(dir.join("web/novnc.html"), PAGE).unwrap();
    Some((node, dir))
}

const STATUS: &str = "document.getElementById('status').textContent";

/// The `ok eval` value printed by drive.mjs.
fn eval_value(stdout: &str) -> serde_json::Value {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ok eval "))
        .unwrap_or_else(|| panic!("no eval result in:\n{stdout}"));
    serde_json::from_str(line).expect("JSON from drive.mjs")
}

/// noVNC connects through the proxy; returns its canvas once stable.
fn novnc_canvas(node: &Path, dir: &Path, port: u16, query: &str) -> Image {
    let url = format!("http://127.0.0.1:{port}/novnc.html?{query}");
    let out = drive(
        node,
        dir,
        &[
            goto(&url),
            wait(&format!("{STATUS} === 'connected'")),
            eval("stableDump()"),
        ],
    );
    let v = eval_value(&out);
    let rgba = base64::engine::general_purpose::STANDARD
        .decode(v["b64"].as_str().expect("b64"))
        .expect("base64");
    Image {
        width: v["w"].as_u64().expect("w") as u32,
        height: v["h"].as_u64().expect("h") as u32,
        rgba,
    }
}

/// noVNC's final status text once it is not connecting any more.
fn novnc_outcome(node: &Path, dir: &Path, port: u16, query: &str) -> String {
    let url = format!("http://127.0.0.1:{port}/novnc.html?{query}");
    let out = drive(
        node,
        dir,
        &[
            goto(&url),
            wait(&format!("{STATUS} !== 'loading' && {STATUS} !== ''")),
            eval(STATUS),
        ],
    );
    eval_value(&out).as_str().unwrap_or_default().to_string()
}

#[test]
fn novnc_through_x509vnc_x509plain_and_tlsvnc_matches_xwd() {
    let Some((node, dir)) = novnc_root("rfbsec-novnc") else {
        return;
    };
    let pki = Pki::new(&dir, "rfb test CA");
    let vnc_pw = file(&dir, "vncpw", VNC_PW);
    let plain_pw = file(&dir, "plainpw", PLAIN_PW);
    let web = dir.join("web");
    let cases: [(&str, Vec<String>); 3] = [
        (
            "X509Vnc",
            args(&[
                "--vnc-security",
                "x509vnc",
                "--vnc-password-file",
                &vnc_pw,
                "--vnc-ca-file",
                &pki.path("ca.pem"),
            ]),
        ),
        (
            "X509Plain",
            args(&[
                "--vnc-security",
                "x509plain",
                "--vnc-username",
                PLAIN_USER,
                "--vnc-password-file",
                &plain_pw,
                "--vnc-fingerprint",
                &pki.fingerprint(),
            ]),
        ),
        (
            "TLSVnc",
            args(&["--vnc-security", "tlsvnc", "--vnc-password-file", &vnc_pw]),
        ),
    ];
    for (types, extra) in cases {
        // Each Xvnc offers only this subtype, so the picture proves the proxy spoke it.
        let Some(x) = server(types, &pki) else {
            return;
        };
        let (p, port) = proxy(&dir, Some(&web), &x, &extra);
        let want = x.xwd_root();
        let got = novnc_canvas(&node, &dir, port, "");
        assert_same(&got, &want, &format!("noVNC through the proxy to {types}"));
        drop(p);
        let log = log_of(&dir, port);
        assert!(
            log.contains("authenticated to the VNC server with vencrypt(19)"),
            "{types}: {log}"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn novnc_sees_the_servers_refusal_as_a_security_failure() {
    let Some((node, dir)) = novnc_root("rfbsec-refusal") else {
        return;
    };
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let wrong = file(&dir, "wrongpw", "not-the-password");
    let (_p, port) = proxy(
        &dir,
        Some(&dir.join("web")),
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &wrong,
            "--vnc-ca-file",
            &pki.path("ca.pem"),
        ]),
    );
    let status = novnc_outcome(&node, &dir, port, "");
    assert!(
        status.starts_with("securityfailure: 1: VNC server: authentication failed"),
        "{status}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn novnc_with_a_proxy_password_right_and_wrong() {
    let Some((node, dir)) = novnc_root("rfbsec-webauth") else {
        return;
    };
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let (_p, port) = proxy(
        &dir,
        Some(&dir.join("web")),
        &x,
        &args(&[
            "--vnc-security",
            "vencrypt",
            "--vnc-password-file",
            &file(&dir, "vncpw", VNC_PW),
            "--vnc-ca-file",
            &pki.path("ca.pem"),
            "--browser-auth",
            "vncauth",
            "--browser-password-file",
            &file(&dir, "webpw", BROWSER_PW),
        ]),
    );
    let status = novnc_outcome(&node, &dir, port, "password=wrong");
    assert_eq!(
        status, "securityfailure: 1: Authentication failed: wrong password",
        "wrong browser password"
    );
    // The server was never contacted for that browser: only the right password gets a session.
    assert!(!log_of(&dir, port).contains("authenticated to the VNC server"));
    let got = novnc_canvas(&node, &dir, port, &format!("password={BROWSER_PW}"));
    assert_same(&got, &x.xwd_root(), "noVNC with the proxy's password");
    let _ = fs::remove_dir_all(&dir);
}

// Our rfb-core client over a raw WebSocket (rfb-ws), no browser.

/// A WebSocket to the proxy carrying an RFB session.
struct Ws {
    s: TcpStream,
    ws: WsConnection,
    buf: Vec<u8>,
}

impl Ws {
    fn connect(port: u16, path: &str) -> Self {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let key = rfb_ws::client_key([9; 16]);
        s.write_all(&rfb_ws::client_request(
            "127.0.0.1",
            path,
            &key,
            &["binary"],
        ))
        .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).expect("upgrade response");
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
            if let Some((n, _)) =
                rfb_ws::client_verify_response(&buf, &key, &HeadLimits::default()).unwrap()
            {
                buf.drain(..n);
                let ws = WsConnection::new(
                    Role::Client,
                    Limits::default(),
                    Some(Box::new(TestRng::default())),
                );
                return Self { s, ws, buf };
            }
        }
    }

    fn send(&mut self, data: &[u8]) {
        self.ws.send_binary(data);
        while let Some(b) = self.ws.poll_transmit() {
            self.s.write_all(&b).unwrap();
        }
    }

    /// The next data payload (empty at a close or EOF).
    fn recv(&mut self) -> Vec<u8> {
        let mut chunk = vec![0u8; 65536];
        loop {
            let n = self.ws.handle_input(&self.buf).unwrap_or(self.buf.len());
            self.buf.drain(..n);
            let mut data = Vec::new();
            let mut closed = false;
            while let Some(ev) = self.ws.poll_event() {
                match ev {
                    WsEvent::Data { data: d, .. } => data.extend(d),
                    WsEvent::Close { .. } => closed = true,
                    _ => {}
                }
            }
            while let Some(b) = self.ws.poll_transmit() {
                let _ = self.s.write_all(&b);
            }
            if !data.is_empty() || closed {
                return data;
            }
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return Vec::new(),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// Runs rfb-core's client through the proxy until updates have covered the whole framebuffer
/// (TigerVNC may answer SetEncodings with pseudo-rectangles first); the framebuffer, or the
/// client's error (a SecurityResult failure's reason) as text.
fn rfb_through_proxy(port: u16, password: Option<&str>) -> Result<Image, String> {
    rfb_through_proxy_at(port, "/websockify", password)
}

/// [`rfb_through_proxy`] with a WebSocket path (`?token=`).
fn rfb_through_proxy_at(port: u16, path: &str, password: Option<&str>) -> Result<Image, String> {
    let mut ws = Ws::connect(port, path);
    let mut client = Client::new(
        Config::default(),
        Duration::ZERO,
        Box::new(TestRng::default()),
    );
    let mut fb = Framebuffer::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut covered: u64 = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no update within 60 s");
        let used = client
            .handle_input(&pending, &mut fb)
            .map_err(|e| e.to_string())?;
        pending.drain(..used);
        let mut again = false;
        let mut updated = false;
        while let Some(ev) = client.poll_event() {
            match ev {
                Event::CredentialsRequired(_) => {
                    let c = Credentials {
                        password: password.map(str::to_string),
                        ..Default::default()
                    };
                    client.supply_credentials(&c).map_err(|e| e.to_string())?;
                    again = true;
                }
                Event::FramebufferUpdated { damage } => {
                    // A full update request: its rectangles tile the screen once.
                    covered += damage
                        .iter()
                        .map(|r| u64::from(r.width) * u64::from(r.height))
                        .sum::<u64>();
                    let (w, h) = client.framebuffer_size();
                    updated = w > 0 && covered >= u64::from(w) * u64::from(h);
                }
                _ => {}
            }
        }
        while let Some(out) = client.poll_transmit() {
            ws.send(&out);
        }
        if updated {
            return Ok(Image {
                width: u32::from(fb.width()),
                height: u32::from(fb.height()),
                rgba: fb.data().to_vec(),
            });
        }
        if again {
            continue;
        }
        let data = ws.recv();
        if data.is_empty() {
            client
                .handle_eof(pending.len())
                .map_err(|e| e.to_string())?;
            return Err("closed".into());
        }
        pending.extend_from_slice(&data);
    }
}

#[test]
fn rfb_core_client_through_the_proxy_matches_xwd_with_either_browser_auth() {
    let dir = temp_dir("rfbsec-client");
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Plain,X509Vnc", &pki) else {
        return;
    };
    let want = x.xwd_root();
    let vnc_pw = file(&dir, "vncpw", VNC_PW);
    let ca = pki.path("ca.pem");
    // The server offers X509Plain and X509Vnc; the proxy's list picks X509Vnc.
    let (p, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-ca-file",
            &ca,
        ]),
    );
    let got = rfb_through_proxy(port, None).expect("session through the proxy");
    assert_same(&got, &want, "rfb-core client through the proxy (None)");
    drop(p);
    // Browser side VncAuth with the proxy's password: right, then wrong.
    let (_p, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-ca-file",
            &ca,
            "--browser-auth",
            "vncauth",
            "--browser-password-file",
            &file(&dir, "webpw", BROWSER_PW),
        ]),
    );
    let got = rfb_through_proxy(port, Some(BROWSER_PW)).expect("right proxy password");
    assert_same(&got, &want, "rfb-core client through the proxy (VncAuth)");
    let e = rfb_through_proxy(port, Some("wrong")).unwrap_err();
    assert!(e.contains("Authentication failed: wrong password"), "{e}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn wrong_ca_and_missing_tls_fail_with_a_reason_and_no_session() {
    let dir = temp_dir("rfbsec-fail");
    let pki = Pki::new(&dir, "rfb test CA");
    let other = Pki::new(&dir, "some other CA");
    let vnc_pw = file(&dir, "vncpw", VNC_PW);
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    // The server's certificate does not chain to the configured CA.
    let (_p, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-ca-file",
            &other.path("ca.pem"),
        ]),
    );
    let e = rfb_through_proxy(port, None).unwrap_err();
    assert!(
        e.contains("VNC server: server certificate rejected"),
        "wrong CA: {e}"
    );
    assert!(!log_of(&dir, port).contains("authenticated to the VNC server"));
    // A pinned fingerprint that is not the server's.
    let (_p2, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-fingerprint",
            &other.fingerprint(),
        ]),
    );
    let e = rfb_through_proxy(port, None).unwrap_err();
    assert!(e.contains("certificate rejected"), "wrong fingerprint: {e}");
    // A server without TLS when the proxy is configured for it: no downgrade.
    let Some(plain) = server("VncAuth", &pki) else {
        return;
    };
    let (_p3, port) = proxy(
        &dir,
        None,
        &plain,
        &args(&[
            "--vnc-security",
            "x509vnc,tlsvnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-ca-file",
            &pki.path("ca.pem"),
        ]),
    );
    let e = rfb_through_proxy(port, None).unwrap_err();
    assert!(e.contains("no common security type"), "no TLS offered: {e}");
    // And VncAuth itself, when configured, works with that server.
    let (_p4, port) = proxy(
        &dir,
        None,
        &plain,
        &args(&["--vnc-security", "vncauth", "--vnc-password-file", &vnc_pw]),
    );
    let got = rfb_through_proxy(port, None).expect("vncauth to the server");
    assert_same(&got, &plain.xwd_root(), "VncAuth server through the proxy");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bad_option_combinations_fail_at_start() {
    let dir = temp_dir("rfbsec-opts");
    let pw = file(&dir, "pw", "x");
    for (bad, why) in [
        (vec!["--vnc-security", "x509vnc"], "--vnc-ca-file"),
        (vec!["--vnc-security", "tight"], "tight"),
        (
            vec!["--vnc-password-file", pw.as_str()],
            "need --vnc-security",
        ),
        (
            vec!["--vnc-security", "vncauth", "--browser-auth", "vncauth"],
            "--browser-password-file",
        ),
    ] {
        let out = common::proxy_bin()
            .args(["127.0.0.1:1", "127.0.0.1:2"])
            .args(&bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{bad:?}: {err}");
    }
    let _ = fs::remove_dir_all(&dir);
}

// Servers speaking RFB 3.3 and 3.7: no SecurityResult after None there, while the browser
// side always gets 3.8 with one. No Debian VNC server can be made to speak 3.3, so a scripted
// one does the handshake and `rfb_server::Server` (fed a 3.8 None handshake of its own first:
// everything after security is the same in every version) serves the session.

/// A one-connection server speaking `version` with None; returns its port and the picture it
/// serves.
fn old_version_server(version: &'static [u8; 12]) -> (u16, Image) {
    use rfb_server::{Config as ServerConfig, DrawTarget as _, Rect, Server};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let picture = pattern::photo_like(64, 48, 5);
    let pic = picture.clone();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut fb = Framebuffer::new(64, 48);
        fb.put_rgba(Rect::new(0, 0, 64, 48), &pic.rgba);
        let mut reply = [0u8; 12];
        s.write_all(version).unwrap();
        s.read_exact(&mut reply).unwrap();
        if version == b"RFB 003.003\n" {
            s.write_all(&1u32.to_be_bytes()).unwrap();
        } else {
            s.write_all(&[1, 1]).unwrap();
            let mut choice = [0u8; 1];
            s.read_exact(&mut choice).unwrap();
            assert_eq!(choice, [1]);
        }
        let mut server = Server::new(ServerConfig::new(64, 48, "old"));
        server.handle_input(b"RFB 003.008\n\x01").unwrap();
        let _ = server.poll_transmit();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            let Ok(used) = server.handle_input(&buf) else {
                return;
            };
            buf.drain(..used);
            while server.poll_event().is_some() {}
            if server.update_requested().is_some() {
                let _ = server.send_update(&fb, &[Rect::new(0, 0, 64, 48)], &[]);
            }
            if let Some(out) = server.poll_transmit() {
                if s.write_all(&out).is_err() {
                    return;
                }
            }
        }
    });
    (port, picture)
}

#[test]
fn servers_speaking_rfb_3_3_and_3_7_are_relayed_to_a_3_8_client() {
    let dir = temp_dir("rfbsec-old");
    for version in [b"RFB 003.003\n", b"RFB 003.007\n"] {
        let (vnc, want) = old_version_server(version);
        let port = free_port();
        let log = dir.join(format!("proxy-{port}.log"));
        let args = args(&[
            &format!("127.0.0.1:{port}"),
            &format!("127.0.0.1:{vnc}"),
            "--vnc-security",
            "none",
        ]);
        let p = start_proxy(&args, port, &log);
        let got = rfb_through_proxy(port, None).expect("session through the proxy");
        let v = String::from_utf8_lossy(version);
        assert_same(
            &got,
            &want,
            &format!("{} server through the proxy", v.trim()),
        );
        drop(p);
        let log = fs::read_to_string(&log).unwrap_or_default();
        assert!(
            log.contains("authenticated to the VNC server with none(1)"),
            "{log}"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

// Other stored-credential types against the scripted servers of rfb-testkit (each validated
// by noVNC in proxy/tests/scripted_security.rs): the mode is not VeNCrypt-only. RA2ne asks the
// application to approve the server's RSA key; the proxy has nobody to ask, so it refuses and
// the browser is told the key's fingerprint.

#[test]
fn stored_credentials_for_plain_ard_and_mslogon2_and_ra2ne_keys_refused() {
    use rfb_testkit::scripted::{Credentials as ScriptCreds, Scheme, ScriptedServer, pattern_rgb};
    let dir = temp_dir("rfbsec-scripted");
    let creds = ScriptCreds {
        username: "alice".into(),
        password: "s3cret-pw".into(),
        target: String::new(),
    };
    let pw = file(&dir, "pw", &creds.password);
    for (scheme, name) in [
        (Scheme::Plain, "plain"),
        (Scheme::Ard, "ard"),
        (Scheme::MsLogonII, "mslogon2"),
    ] {
        let Some(s) = ScriptedServer::start_or_skip(scheme, &creds) else {
            return;
        };
        let port = free_port();
        let log = dir.join(format!("proxy-{port}.log"));
        let p = start_proxy(
            &args(&[
                &format!("127.0.0.1:{port}"),
                &s.addr(),
                "--vnc-security",
                name,
                "--vnc-username",
                &creds.username,
                "--vnc-password-file",
                &pw,
            ]),
            port,
            &log,
        );
        let got = rfb_through_proxy(port, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = Image::from_fn(s.width, s.height, pattern_rgb);
        assert_same(
            &got,
            &want,
            &format!("scripted {name} server through the proxy"),
        );
        drop(p);
    }
    let ra2ne = ScriptCreds {
        username: String::new(),
        ..creds
    };
    let Some(s) = ScriptedServer::start_or_skip(Scheme::Ra2ne, &ra2ne) else {
        return;
    };
    let port = free_port();
    let _p = start_proxy(
        &args(&[
            &format!("127.0.0.1:{port}"),
            &s.addr(),
            "--vnc-security",
            "ra2ne",
            "--vnc-password-file",
            &pw,
        ]),
        port,
        &dir.join("proxy-ra2ne.log"),
    );
    let e = rfb_through_proxy(port, None).unwrap_err();
    let fp = s
        .rsa_fingerprint()
        .expect("the script prints its key's fingerprint");
    assert!(
        e.contains(&fp),
        "RA2ne key refused with its fingerprint: {e}"
    );
    let _ = fs::remove_dir_all(&dir);
}

// Per-token credentials: a JSONTokenApi answer (server to server; the browser never sees it)
// may carry `vnc_username` / `vnc_password`, used instead of the command line's.

/// An HTTP token API answering `GET /TOKEN` from `answers` (404 for others); serves until the
/// test process ends (one short-lived thread per request).
fn token_api(answers: Vec<(&'static str, String)>) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut head = Vec::new();
            let mut b = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&b[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let found = answers.iter().find(|(t, _)| path == format!("/{t}"));
            let resp = match found {
                Some((_, body)) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .into(),
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    port
}

#[test]
fn token_plugin_credentials_replace_the_command_lines() {
    let dir = temp_dir("rfbsec-token");
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let vnc_port = x.port();
    let api = token_api(vec![
        (
            "right",
            format!(r#"{{"host": "127.0.0.1", "port": {vnc_port}, "vnc_password": "{VNC_PW}"}}"#),
        ),
        (
            "wrong",
            format!(r#"{{"host": "127.0.0.1", "port": {vnc_port}, "vnc_password": "nope"}}"#),
        ),
        (
            "none",
            format!(r#"{{"host": "127.0.0.1", "port": {vnc_port}}}"#),
        ),
    ]);
    let port = free_port();
    let _p = start_proxy(
        &args(&[
            &format!("127.0.0.1:{port}"),
            "--token-plugin",
            "JSONTokenApi",
            "--token-source",
            &format!("http://127.0.0.1:{api}/%s"),
            "--vnc-security",
            "x509vnc",
            "--vnc-ca-file",
            &pki.path("ca.pem"),
        ]),
        port,
        &dir.join("proxy.log"),
    );
    let got =
        rfb_through_proxy_at(port, "/websockify?token=right", None).expect("the token's password");
    assert_same(
        &got,
        &x.xwd_root(),
        "through the proxy with the token's password",
    );
    let e = rfb_through_proxy_at(port, "/websockify?token=wrong", None).unwrap_err();
    assert!(e.contains("VNC server: authentication failed"), "{e}");
    // No password anywhere: said so, naming both places.
    let e = rfb_through_proxy_at(port, "/websockify?token=none", None).unwrap_err();
    assert!(e.contains("vnc_password from the token plugin"), "{e}");
    let log = fs::read_to_string(dir.join("proxy.log")).unwrap_or_default();
    assert!(!log.contains(VNC_PW), "a password in the log: {log}");
    let _ = fs::remove_dir_all(&dir);
}
