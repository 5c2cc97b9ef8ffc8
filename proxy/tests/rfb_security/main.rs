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

mod client;
#[path = "../common/mod.rs"]
mod common;
mod novnc;
mod scripted;

use base64::Engine as _;
use common::web::{browser, drive, eval, goto, wait};
use common::{Proc, TempDir, copy_dir, start_proxy, temp_dir};
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
