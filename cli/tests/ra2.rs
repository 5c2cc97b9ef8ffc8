//! The `rfb` CLI with RA2ne (6) against the scripted RSA-AES server (rfb_testkit::scripted,
//! a Python script written from rfbproto that npm noVNC also authenticates against, so it
//! counts as a peer). The server's RSA key must be pinned with `--fingerprint`: unpinned or
//! pinned to another key, the CLI refuses it before sending any credential and names the
//! fingerprint to pin. RA2, RA2_256 and RA2ne_256 have no third-party peer here; they are
//! covered by rfb-core's tests/ra2.rs only.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::process::{Command, Output};

use rfb_testkit::scripted::{Credentials, Scheme, ScriptedServer};
use rfb_testkit::tempdir::TempDir;

fn rfb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
        .args(args)
        .output()
        .expect("run rfb")
}

#[test]
fn ra2ne_needs_the_pinned_key_then_authenticates() {
    let creds = Credentials {
        username: "ra2 user".into(),
        password: "ra2-pässword".into(),
        target: String::new(),
    };
    let Some(server) = ScriptedServer::start_or_skip(Scheme::Ra2ne, &creds) else {
        return;
    };
    let fp = server
        .rsa_fingerprint()
        .expect("the script prints its key's fingerprint");
    let dir = TempDir::new("cli-ra2");
    let pw = |name: &str, text: &str| {
        let p = dir.join(name);
        fs::write(&p, format!("{text}\n")).unwrap();
        p.display().to_string()
    };
    let good = pw("good", &creds.password);
    let bad = pw("bad", "wrong");
    let addr = server.addr();
    let base = |pwfile: &str| {
        vec![
            "info".to_string(),
            addr.clone(),
            "--security".into(),
            "ra2ne".into(),
            "--username".into(),
            creds.username.clone(),
            "--password-file".into(),
            pwfile.to_string(),
            "--timeout".into(),
            "20".into(),
        ]
    };
    let run = |mut args: Vec<String>, extra: &[&str]| {
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rfb(&args)
    };

    // Unpinned: refused, naming the fingerprint the script computed from the wire form.
    let o = run(base(&good), &[]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("server RSA key rejected"), "{e}");
    assert!(e.contains(&format!("--fingerprint {fp}")), "{e}\nwant {fp}");

    // Pinned to another key: refused too.
    let mut other: Vec<&str> = fp.split(':').collect();
    other[0] = if other[0] == "00" { "01" } else { "00" };
    let other = other.join(":");
    let o = run(base(&good), &["--fingerprint", &other]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("pinned"), "{e}");
    assert!(
        !server.log().contains("auth "),
        "credentials reached the server:\n{}",
        server.log()
    );

    // Pinned (upper case, no colons: the forms users paste): authenticated, then the
    // session continues in plaintext up to ServerInit.
    let pasted = fp.replace(':', "").to_uppercase();
    let o = run(base(&good), &["--fingerprint", &pasted]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{}\nserver log:\n{}",
        String::from_utf8_lossy(&o.stderr),
        server.log()
    );
    assert!(out.contains("security used: ra2ne(6)"), "{out}");
    let log = server.wait_log("auth ok");
    assert!(
        log.contains("auth ok type=6 user='ra2 user' subtype=1"),
        "{log}"
    );

    // A wrong password: the server's SecurityResult failure.
    let o = run(base(&bad), &["--fingerprint", &fp]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("authentication failed"), "{e}");
    assert!(
        server
            .wait_log("auth failed")
            .contains("auth failed type=6")
    );
}
