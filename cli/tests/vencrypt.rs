//! VeNCrypt against a real TigerVNC Xvnc: X509None/X509Vnc/X509Plain over rustls with a CA
//! file or a pinned fingerprint, Plain without TLS, and the failures a user meets (wrong
//! password, wrong CA, an expired or misnamed certificate, fingerprint mismatch, no trust
//! configured, a server without TLS when TLS
//! is required). Certificates are made by the test (rcgen): a CA and a server certificate for
//! 127.0.0.1. Plain needs the PAM user `vnctest` (password `plainpw1`) that
//! scripts/install-test-deps.sh creates (gotcha G4).

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::process::{Command, Output};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rfb_testkit::Image;
use rfb_testkit::tempdir::TempDir;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};
use sha2_free::fingerprint;

const VNC_PW: &str = "vncpw123";
const PLAIN_USER: &str = "vnctest";
const PLAIN_PW: &str = "plainpw1";

/// SHA-256 without another dependency: `sha256sum` over the DER file.
mod sha2_free {
    use std::path::Path;
    use std::process::Command;

    pub(crate) fn fingerprint(der: &Path) -> String {
        let out = Command::new("sha256sum")
            .arg(der)
            .output()
            .expect("sha256sum");
        let hex = String::from_utf8_lossy(&out.stdout);
        let hex = hex.split_whitespace().next().expect("a digest");
        hex.as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":")
    }
}

struct Pki {
    dir: TempDir,
}

impl Pki {
    /// A CA and a server certificate it signed, written as PEM files (and the server's DER).
    fn new(dir: TempDir, ca_name: &str) -> Self {
        Self::with_server(dir, ca_name, &["localhost", "127.0.0.1"], false)
    }

    /// [`Pki::new`] with the server certificate naming `names`, and `expired` (valid only in
    /// 2020) when asked.
    fn with_server(dir: TempDir, ca_name: &str, names: &[&str], expired: bool) -> Self {
        fs::create_dir_all(&dir).unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, ca_name);
        let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut p = CertificateParams::new(names).unwrap();
        p.distinguished_name
            .push(DnType::CommonName, "rfb test server");
        if expired {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
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
}

/// A fresh directory for one test's files, removed when the test passes.
fn tmp(name: &str) -> TempDir {
    TempDir::new(&format!("vencrypt-{name}"))
}

/// Xvnc offering `types`, with the certificate from `pki` and Plain for `vnctest`.
fn server(types: &str, pki: &Pki) -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(
        XvncOptions::new(320, 200)
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
    x.set_root_solid("#336699");
    x.settle();
    Some(x)
}

fn rfb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
        .args(args)
        .output()
        .expect("run rfb")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "rfb failed: {}", stderr(o));
    stdout(o)
}

/// Fails with a one-line message containing `needle`.
fn fails_with(o: &Output, needle: &str) {
    assert!(
        !o.status.success(),
        "rfb should fail; stdout: {}",
        stdout(o)
    );
    let e = stderr(o);
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    assert!(e.contains(needle), "expected {needle:?} in: {e}");
}

fn password_file(dir: &std::path::Path, pw: &str) -> String {
    let p = dir.join(format!("pw-{pw}"));
    fs::write(&p, format!("{pw}\n")).unwrap();
    p.display().to_string()
}

#[test]
fn x509_subtypes_with_a_ca_file() {
    let pki = Pki::new(tmp("ca"), "rfb test CA");
    let Some(x) = server("X509Plain,X509Vnc,X509None", &pki) else {
        return;
    };
    let plain_pw = password_file(&pki.dir, PLAIN_PW);
    let vnc_pw = password_file(&pki.dir, VNC_PW);
    let ca = pki.path("ca.pem");
    for (sub, pw) in [
        ("x509plain", &plain_pw),
        ("x509vnc", &vnc_pw),
        ("x509none", &vnc_pw),
    ] {
        let out = ok(&rfb(&[
            "info",
            &x.addr(),
            "--security",
            sub,
            "--username",
            PLAIN_USER,
            "--password-file",
            pw,
            "--ca-file",
            &ca,
        ]));
        assert!(out.contains("security used: vencrypt(19)"), "{sub}: {out}");
        assert!(out.contains("size: 320x200"), "{sub}: {out}");
    }
}

#[test]
fn screenshot_through_tls_matches_xwd() {
    // A whole framebuffer update crosses many TLS records.
    let pki = Pki::new(tmp("shot"), "rfb test CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    x.show_image(&rfb_testkit::pattern::photo_like(200, 150, 3), 10, 10);
    x.settle();
    let png = pki.dir.join("shot.png");
    ok(&rfb(&[
        "screenshot",
        &x.addr(),
        png.to_str().unwrap(),
        "--password-file",
        &password_file(&pki.dir, VNC_PW),
        "--ca-file",
        &pki.path("ca.pem"),
    ]));
    let got = Image::read_png(&png).unwrap();
    let want = x.xwd_root();
    assert_eq!(got.diff_count(&want), 0, "{:?}", got.first_diff(&want));
}

#[test]
fn pinned_fingerprint_and_trust_on_first_use() {
    let pki = Pki::new(tmp("pin"), "rfb test CA");
    let Some(x) = server("X509None", &pki) else {
        return;
    };
    let fp = fingerprint(&pki.dir.join("cert.der"));
    // No trust configured: refused, and the message carries the fingerprint to pin.
    let o = rfb(&["info", &x.addr(), "--security", "x509none"]);
    fails_with(&o, &format!("--fingerprint {fp}"));
    // Pinned: accepted, in upper case without colons too.
    ok(&rfb(&["info", &x.addr(), "--fingerprint", &fp]));
    ok(&rfb(&[
        "info",
        &x.addr(),
        "--fingerprint",
        &fp.replace(':', "").to_uppercase(),
    ]));
    // Another certificate's fingerprint: refused.
    let wrong = fp.replace(&fp[..2], if &fp[..2] == "00" { "01" } else { "00" });
    let o = rfb(&["info", &x.addr(), "--fingerprint", &wrong]);
    fails_with(&o, "does not match the pinned");
}

#[test]
fn wrong_ca_and_wrong_passwords_fail() {
    let pki = Pki::new(tmp("bad"), "rfb test CA");
    let other = Pki::new(tmp("other"), "some other CA");
    let Some(x) = server("X509Plain,X509Vnc", &pki) else {
        return;
    };
    let o = rfb(&[
        "info",
        &x.addr(),
        "--security",
        "x509vnc",
        "--password-file",
        &password_file(&pki.dir, VNC_PW),
        "--ca-file",
        &other.path("ca.pem"),
    ]);
    fails_with(&o, "not trusted by the CA file");
    let o = rfb(&[
        "info",
        &x.addr(),
        "--security",
        "x509plain",
        "--username",
        PLAIN_USER,
        "--password-file",
        &password_file(&pki.dir, "wrongpw9"),
        "--ca-file",
        &pki.path("ca.pem"),
    ]);
    fails_with(&o, "authentication failed");
    let o = rfb(&[
        "info",
        &x.addr(),
        "--security",
        "x509vnc",
        "--password-file",
        &password_file(&pki.dir, "wrongpw9"),
        "--ca-file",
        &pki.path("ca.pem"),
    ]);
    fails_with(&o, "authentication failed");
    // X509Plain without a user name: the message names the option.
    let o = rfb(&[
        "info",
        &x.addr(),
        "--security",
        "x509plain",
        "--password-file",
        &password_file(&pki.dir, PLAIN_PW),
        "--ca-file",
        &pki.path("ca.pem"),
    ]);
    fails_with(&o, "--username");
}

/// A certificate from the right CA that has expired, or that names another host, is refused
/// with rustls's reason: never a question, never a connection.
#[test]
fn expired_and_misnamed_certificates_fail() {
    for (tag, names, expired, needle) in [
        (
            "expired",
            &["localhost", "127.0.0.1"][..],
            true,
            "certificate expired",
        ),
        (
            "misnamed",
            &["vnc.example.org"][..],
            false,
            "not valid for name",
        ),
    ] {
        let pki = Pki::with_server(tmp(tag), "rfb test CA", names, expired);
        let Some(x) = server("X509Vnc", &pki) else {
            return;
        };
        let o = rfb(&[
            "info",
            &x.addr(),
            "--security",
            "x509vnc",
            "--password-file",
            &password_file(&pki.dir, VNC_PW),
            "--ca-file",
            &pki.path("ca.pem"),
        ]);
        // rustls's reason, shown with Display ("certificate not valid for name") or Debug
        // ("NotValidForName") depending on the path: compare without case and spaces.
        let squash = |s: &str| s.to_lowercase().replace(' ', "");
        assert!(
            squash(&stderr(&o)).contains(&squash(needle)),
            "expected {needle:?} in: {}",
            stderr(&o)
        );
        fails_with(&o, "not trusted by the CA file");
    }
}

#[test]
fn plain_without_tls_only_when_named() {
    let pki = Pki::new(tmp("plain"), "rfb test CA");
    let Some(x) = server("Plain", &pki) else {
        return;
    };
    let out = ok(&rfb(&[
        "info",
        &x.addr(),
        "--security",
        "plain",
        "--username",
        PLAIN_USER,
        "--password-file",
        &password_file(&pki.dir, PLAIN_PW),
    ]));
    assert!(out.contains("security used: vencrypt(19)"), "{out}");
    // Plain is never chosen unless named: the default list does not send a clear password.
    let o = rfb(&[
        "info",
        &x.addr(),
        "--username",
        PLAIN_USER,
        "--password-file",
        &password_file(&pki.dir, PLAIN_PW),
    ]);
    fails_with(&o, "no common VeNCrypt subtype");
}

#[test]
fn tls_required_refuses_a_server_without_tls() {
    let pki = Pki::new(tmp("notls"), "rfb test CA");
    // Only None and VNC Authentication on offer.
    let Some(x) = server("None,VncAuth", &pki) else {
        return;
    };
    let o = rfb(&["info", &x.addr(), "--ca-file", &pki.path("ca.pem")]);
    fails_with(&o, "no common security type");
    // And the VeNCrypt list's plain VNC entries are refused too when only X509 is accepted.
    let Some(y) = server("VeNCrypt,TLSVnc,VncAuth", &pki) else {
        return;
    };
    let o = rfb(&[
        "info",
        &y.addr(),
        "--security",
        "x509vnc,x509none",
        "--password-file",
        &password_file(&pki.dir, VNC_PW),
        "--ca-file",
        &pki.path("ca.pem"),
    ]);
    fails_with(&o, "no common VeNCrypt subtype");
}

/// Anonymous TLS subtypes (TLS 1.2 AECDH through OpenSSL, feature `anon-tls`, on by default).
#[cfg(feature = "anon-tls")]
#[test]
fn anonymous_tls_subtypes() {
    let pki = Pki::new(tmp("anon"), "rfb test CA");
    let Some(x) = server("TLSPlain,TLSVnc,TLSNone", &pki) else {
        return;
    };
    let plain_pw = password_file(&pki.dir, PLAIN_PW);
    let vnc_pw = password_file(&pki.dir, VNC_PW);
    for (sub, pw) in [
        ("tlsplain", &plain_pw),
        ("tlsvnc", &vnc_pw),
        ("tlsnone", &vnc_pw),
    ] {
        let out = ok(&rfb(&[
            "info",
            &x.addr(),
            "--security",
            sub,
            "--username",
            PLAIN_USER,
            "--password-file",
            pw,
        ]));
        assert!(out.contains("security used: vencrypt(19)"), "{sub}: {out}");
    }
    // The default list takes TLSVnc here (TLSPlain only when named).
    ok(&rfb(&["info", &x.addr(), "--password-file", &vnc_pw]));
    let o = rfb(&[
        "info",
        &x.addr(),
        "--security",
        "tlsvnc",
        "--password-file",
        &password_file(&pki.dir, "wrongpw9"),
    ]);
    fails_with(&o, "authentication failed");
    // A screenshot streams through the anonymous channel.
    let png = pki.dir.join("anon.png");
    ok(&rfb(&[
        "screenshot",
        &x.addr(),
        png.to_str().unwrap(),
        "--security",
        "tlsnone",
    ]));
    let got = Image::read_png(&png).unwrap();
    assert_eq!(got.diff_count(&x.xwd_root()), 0);
}
