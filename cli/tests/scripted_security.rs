//! The `rfb` CLI against the scripted security servers (rfb_testkit::scripted): Apple ARD (30),
//! UltraVNC MSLogonII (113), xvp (22), Plain inside VeNCrypt (19/256) and Tight (16, with VNC
//! Authentication and with Unix login). No installable Debian server offers these, so the server
//! side is a Python script written from rfbproto's descriptions, and it counts as a peer because
//! npm noVNC authenticates against the same script (proxy/tests/scripted_security.rs). Each type:
//! the right credentials give the server's pattern in a screenshot and an `auth ok` line in the
//! server's log; a wrong password is one "authentication failed" line and a non-zero exit.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use rfb_testkit::Image;
use rfb_testkit::scripted::{Credentials, Scheme, ScriptedServer, TightAuth, pattern_rgb};
use rfb_testkit::tempdir::TempDir;

fn rfb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
        .args(args)
        .output()
        .expect("run rfb")
}

/// A fresh directory per call (two tests may share a security name, e.g. the Tight ones),
/// removed when the test passes.
fn tmp(name: &str) -> TempDir {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    TempDir::new(&format!("cli-scripted-{name}-{n}"))
}

/// The `--security` name, the credentials the server accepts, and which of them the CLI is
/// given (`--username`, `--target`; the password always goes through `--password-file`).
struct Case {
    scheme: Scheme,
    security: &'static str,
    shown: &'static str,
    creds: Credentials,
    username: bool,
    target: bool,
}

/// Non-ASCII credentials: these types carry UTF-8 (ARD, MSLogonII and Plain by their
/// descriptions, Tight Unix login by recommendation).
fn utf8() -> Credentials {
    Credentials {
        username: "zoë".into(),
        password: "pässwörd-1".into(),
        target: String::new(),
    }
}

/// The options for `case` with `password` in a file under `dir`.
fn options(case: &Case, dir: &std::path::Path, password: &str) -> Vec<String> {
    let pw = dir.join(format!("pw-{}", password.len()));
    fs::write(&pw, format!("{password}\n")).unwrap();
    let mut o = vec![
        "--security".to_string(),
        case.security.to_string(),
        "--password-file".into(),
        pw.display().to_string(),
        "--timeout".into(),
        "20".into(),
    ];
    if case.username {
        o.extend(["--username".into(), case.creds.username.clone()]);
    }
    if case.target {
        o.extend(["--target".into(), case.creds.target.clone()]);
    }
    o
}

fn run(case: &Case) {
    let Some(server) = ScriptedServer::start_or_skip(case.scheme, &case.creds) else {
        return;
    };
    let dir = tmp(case.security);
    let addr = server.addr();
    let number = case.scheme.number();

    // The right credentials: info names the type, a screenshot shows the pattern.
    let good = options(case, &dir, &case.creds.password);
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    let o = rfb(&[&["info", &addr][..], &good].concat());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "rfb info failed: {}\nserver log:\n{}",
        String::from_utf8_lossy(&o.stderr),
        server.log()
    );
    assert!(
        out.contains(&format!("security used: {}", case.shown)),
        "{out}"
    );
    assert!(out.contains("size: 64x48"), "{out}");
    let png = dir.join("shot.png");
    let o = rfb(&[&["screenshot", &addr, png.to_str().unwrap()][..], &good].concat());
    assert!(
        o.status.success(),
        "rfb screenshot failed: {}\nserver log:\n{}",
        String::from_utf8_lossy(&o.stderr),
        server.log()
    );
    let img = Image::read_png(&png).unwrap();
    assert_eq!((img.width, img.height), (server.width, server.height));
    for y in 0..img.height {
        for x in 0..img.width {
            let [r, g, b] = pattern_rgb(x, y);
            assert_eq!(img.pixel(x, y), [r, g, b, 255], "pixel ({x}, {y})");
        }
    }
    let log = server.wait_log("update sent");
    let ok_line = format!("auth ok type={number}");
    assert_eq!(log.matches(&ok_line).count(), 2, "{log}");
    if case.scheme == Scheme::Xvp {
        // Our client asks for the xvp extension (-309) and the server answers XVP_INIT.
        assert!(log.contains("xvp init sent"), "{log}");
    }

    // A wrong password: one clear line, a failure exit, and the server saw the failure.
    let bad = options(case, &dir, "wrong-pw");
    let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
    let o = rfb(&[&["info", &addr][..], &bad].concat());
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(e.contains("authentication failed"), "{e}");
    let log = server.wait_log("auth failed");
    assert!(log.contains(&format!("auth failed type={number}")), "{log}");
}

#[test]
fn ard_scripted_server() {
    run(&Case {
        scheme: Scheme::Ard,
        security: "ard",
        shown: "ard(30)",
        creds: utf8(),
        username: true,
        target: false,
    });
}

#[test]
fn mslogon2_scripted_server() {
    run(&Case {
        scheme: Scheme::MsLogonII,
        security: "mslogon2",
        shown: "mslogon2(113)",
        creds: utf8(),
        username: true,
        target: false,
    });
}

#[test]
fn xvp_scripted_server() {
    let case = Case {
        scheme: Scheme::Xvp,
        security: "xvp",
        shown: "xvp(22)",
        creds: Credentials {
            username: "alice".into(),
            password: "s3cret-pw".into(),
            target: "vm-7".into(),
        },
        username: true,
        target: true,
    };
    run(&case);
    // The target is checked too: the right password for another target is refused.
    let Some(server) = ScriptedServer::start_or_skip(case.scheme, &case.creds) else {
        return;
    };
    let dir = tmp("xvp-target");
    let other = Case {
        creds: Credentials {
            target: "vm-8".into(),
            ..case.creds.clone()
        },
        ..case
    };
    let opts = options(&other, &dir, &other.creds.password);
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    let o = rfb(&[&["info", &server.addr()][..], &opts].concat());
    assert!(!o.status.success());
    let log = server.wait_log("auth failed");
    assert!(log.contains("target='vm-8'"), "{log}");
}

#[test]
fn plain_scripted_server() {
    run(&Case {
        scheme: Scheme::Plain,
        security: "plain",
        shown: "vencrypt(19)",
        creds: utf8(),
        username: true,
        target: false,
    });
}

#[test]
fn tight_vnc_auth_scripted_server() {
    run(&Case {
        scheme: Scheme::Tight(TightAuth::Vnc),
        security: "tight",
        shown: "tight(16)",
        creds: Credentials {
            username: String::new(),
            password: "s3cret-pw".into(),
            target: String::new(),
        },
        username: false,
        target: false,
    });
}

#[test]
fn tight_unix_login_scripted_server() {
    run(&Case {
        scheme: Scheme::Tight(TightAuth::Unix),
        security: "tight",
        shown: "tight(16)",
        creds: utf8(),
        username: true,
        target: false,
    });
}

#[test]
fn tight_no_auth_scripted_server() {
    let creds = Credentials::default();
    let Some(server) = ScriptedServer::start_or_skip(Scheme::Tight(TightAuth::None), &creds) else {
        return;
    };
    let o = rfb(&["info", &server.addr(), "--security", "tight"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("security used: tight(16)"), "{out}");
    let log = server.wait_log("auth ok");
    assert!(log.contains("auth ok type=16 user='' auth=none"), "{log}");
}

/// RA2ne (6), complementing cli/tests/ra2.rs (pinning, refusal, wrong password): after the
/// encrypted authentication the session continues in plaintext, and a screenshot through it
/// shows the server's pattern exactly.
#[test]
fn ra2ne_session_after_authentication_shows_the_pattern() {
    let creds = utf8();
    let Some(server) = ScriptedServer::start_or_skip(Scheme::Ra2ne, &creds) else {
        return;
    };
    let fp = server
        .rsa_fingerprint()
        .expect("the script prints its key's fingerprint");
    let dir = tmp("ra2ne");
    let case = Case {
        scheme: Scheme::Ra2ne,
        security: "ra2ne",
        shown: "ra2ne(6)",
        creds: creds.clone(),
        username: true,
        target: false,
    };
    let png = dir.join("shot.png");
    let mut args = vec![
        "screenshot".to_string(),
        server.addr(),
        png.display().to_string(),
        "--fingerprint".into(),
        fp,
    ];
    args.extend(options(&case, &dir, &creds.password));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = rfb(&args);
    assert!(
        o.status.success(),
        "{}\nserver log:\n{}",
        String::from_utf8_lossy(&o.stderr),
        server.log()
    );
    let img = Image::read_png(&png).unwrap();
    assert_eq!((img.width, img.height), (server.width, server.height));
    for y in 0..img.height {
        for x in 0..img.width {
            let [r, g, b] = pattern_rgb(x, y);
            assert_eq!(img.pixel(x, y), [r, g, b, 255], "pixel ({x}, {y})");
        }
    }
    let log = server.wait_log("update sent");
    assert!(log.contains("auth ok type=6 user='zoë' subtype=1"), "{log}");
    let _ = case.shown;
}

/// RA2ne subtype 2: a server without user names asks for the password only, and the client
/// sends an empty user name.
#[test]
fn ra2ne_password_only_scripted_server() {
    let creds = Credentials {
        username: String::new(),
        password: "s3cret-pw".into(),
        target: String::new(),
    };
    let Some(server) = ScriptedServer::start_or_skip(Scheme::Ra2ne, &creds) else {
        return;
    };
    let fp = server.rsa_fingerprint().expect("fingerprint");
    let dir = tmp("ra2ne-pw");
    let pw = dir.join("pw");
    fs::write(&pw, "s3cret-pw\n").unwrap();
    let o = rfb(&[
        "info",
        &server.addr(),
        "--security",
        "ra2ne",
        "--fingerprint",
        &fp,
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("security used: ra2ne(6)"), "{out}");
    let log = server.wait_log("auth ok");
    assert!(log.contains("auth ok type=6 user='' subtype=2"), "{log}");
}
