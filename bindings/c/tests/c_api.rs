//! librfb from C against a real TigerVNC Xvnc (started here, one per test): the examples are
//! compiled with `gcc -Wall -Werror` against `target/release/librfb.so` and the checked-in
//! header, their screenshot must equal `xwd -root` exactly (the default encodings are
//! lossless), typed text must arrive in an xterm, and every program must also run clean under
//! valgrind (no errors, no leaks). The header must be what cbindgen generates now.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rfb_testkit::pattern;
use rfb_testkit::peer::{require, workspace_root};
use rfb_testkit::ppm::read_ppm;
use rfb_testkit::tempdir::TempDir;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// `cargo build --release -p rfb-c`, once per test binary; returns `target/release`.
fn release_lib() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--release", "-p", "rfb-c"])
            .current_dir(workspace_root())
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "cargo build --release -p rfb-c failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = target_dir().join("release");
        assert!(
            dir.join("librfb.so").is_file(),
            "no librfb.so in {}",
            dir.display()
        );
        dir
    })
}

/// Compiles a C file (relative to the workspace root) into `dir` with the CI flags.
fn compile(source: &str, dir: &Path) -> PathBuf {
    if !require("gcc") {
        panic!("gcc is needed to build the C examples");
    }
    let lib = release_lib();
    let root = workspace_root();
    let exe = dir.join(Path::new(source).file_stem().unwrap());
    let out = Command::new("gcc")
        .args(["-Wall", "-Werror", "-O1", "-g"])
        .arg(format!("-I{}", root.join("bindings/c/include").display()))
        .arg(root.join(source))
        .arg(format!("-L{}", lib.display()))
        .args(["-lrfb", "-o"])
        .arg(&exe)
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc {source} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs `exe args` with librfb on the library path, optionally under valgrind.
fn run(exe: &Path, args: &[&str], valgrind: bool) -> Output {
    let mut cmd = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "-q",
            "--error-exitcode=97",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect,possible",
        ])
        .arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.args(args)
        .env("LD_LIBRARY_PATH", release_lib())
        // The deliberate panic of rfb_selftest_internal_error prints a backtrace otherwise.
        .env("RUST_BACKTRACE", "0");
    cmd.output().expect("run C program")
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn valgrind_available() -> bool {
    require("valgrind")
}

/// A desktop with variety (solid root, a many-coloured image, text), static.
fn desktop(opts: XvncOptions) -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(opts)?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(160, 100, 3), 10, 10);
    x.show_xterm("librfb from C: AZaz09", 120, 130, 26, 3);
    x.settle();
    Some(x)
}

fn screenshot_matches(x: &Xvnc, password: Option<&str>, valgrind: bool) {
    let exe = compile("bindings/c/examples/screenshot.c", x.dir());
    let want = x.xwd_root();
    let ppm = x.dir().join(if valgrind { "vg.ppm" } else { "shot.ppm" });
    let port = x.port().to_string();
    let mut args = vec!["127.0.0.1", port.as_str(), ppm.to_str().unwrap()];
    args.extend(password);
    let out = run(&exe, &args, valgrind);
    assert_ok(&out, "screenshot");
    let got = read_ppm(&std::fs::read(&ppm).expect("read PPM")).expect("parse PPM");
    assert_eq!((got.width, got.height), (want.width, want.height));
    let n = got.diff_count(&want);
    assert_eq!(n, 0, "{n} pixels differ, first {:?}", got.first_diff(&want));
}

#[test]
fn c_screenshot_matches_xwd_exactly() {
    let Some(x) = desktop(XvncOptions::new(320, 240)) else {
        return;
    };
    screenshot_matches(&x, None, false);
}

#[test]
fn c_screenshot_under_valgrind() {
    if !valgrind_available() {
        return;
    }
    let Some(x) = desktop(XvncOptions::new(200, 160)) else {
        return;
    };
    screenshot_matches(&x, None, true);
}

#[test]
fn c_screenshot_with_password_and_wrong_password() {
    let Some(x) = desktop(XvncOptions::new(160, 120).vnc_auth("secret12")) else {
        return;
    };
    screenshot_matches(&x, Some("secret12"), false);
    let exe = compile("bindings/c/examples/screenshot.c", x.dir());
    let port = x.port().to_string();
    let out = run(&exe, &["127.0.0.1", &port, "/dev/null", "wrongpw"], false);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("authentication failed"), "{err}");
    let out = run(&exe, &["127.0.0.1", &port, "/dev/null"], false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wants a password"));
}

#[test]
fn c_connection_refused_is_an_error_message() {
    let dir = TempDir::new("c-refused");
    let exe = compile("bindings/c/examples/screenshot.c", &dir);
    let port = rfb_testkit::net::free_port().to_string();
    let out = run(&exe, &["127.0.0.1", &port, "/dev/null"], false);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Connection refused"), "{err}");
}

/// A UTF-8 xterm filling the screen, running `cat > typed.txt`, with the pointer over it
/// (no window manager: keyboard focus follows the pointer).
fn typing_desktop() -> Option<(Xvnc, PathBuf)> {
    let x = Xvnc::start_or_skip(XvncOptions::new(640, 400))?;
    x.set_root_solid("#336699");
    let out = x.dir().join("typed.txt");
    let ready = x.dir().join("cat.ready");
    let script = format!(": > '{}'; exec cat > '{}'", ready.display(), out.display());
    x.spawn(
        "env",
        &[
            "LC_ALL=C.UTF-8",
            "LANG=C.UTF-8",
            "xterm",
            "-u8",
            "-geometry",
            "80x20+0+0",
            "-e",
            "sh",
            "-c",
            &script,
        ],
    );
    wait_for(|| ready.exists(), "xterm to start cat");
    x.park_pointer(200, 100);
    Some((x, out))
}

fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn typed_text_arrives(valgrind: bool) {
    let Some((x, out)) = typing_desktop() else {
        return;
    };
    let exe = compile("bindings/c/examples/type_text.c", x.dir());
    let text = "Hello, C! ÄÖü ß € Привет ☃\n";
    let port = x.port().to_string();
    let r = run(&exe, &["127.0.0.1", &port, text], valgrind);
    assert_ok(&r, "type_text");
    wait_for(
        || std::fs::read_to_string(&out).is_ok_and(|t| t.contains('\n')),
        "the typed line",
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
}

#[test]
fn c_type_text_reaches_xterm() {
    typed_text_arrives(false);
}

#[test]
fn c_type_text_under_valgrind() {
    if valgrind_available() {
        typed_text_arrives(true);
    }
}

#[test]
fn c_error_paths_and_keysyms() {
    let dir = TempDir::new("c-errors");
    let exe = compile("bindings/c/tests/errors.c", &dir);
    let out = run(&exe, &[], false);
    assert_ok(&out, "errors.c");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    // The deliberate internal error was caught: its message went to stderr by Rust's panic
    // hook, but the program went on and passed every check.
    assert!(String::from_utf8_lossy(&out.stderr).contains("panicked"));
    if valgrind_available() {
        let out = run(&exe, &[], true);
        assert_ok(&out, "errors.c under valgrind");
    }
}

#[test]
fn header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/rfb.h"));
    let path = workspace_root().join("bindings/c/include/rfb.h");
    let checked_in = std::fs::read_to_string(&path).expect("read bindings/c/include/rfb.h");
    assert!(
        generated == checked_in,
        "bindings/c/include/rfb.h is stale; regenerate it with \
         `RFB_C_WRITE_HEADER=1 cargo build -p rfb-c` and commit it"
    );
}

/// A CA and a server certificate for 127.0.0.1 it signed, as PEM files in `dir` (and the
/// server certificate's SHA-256 fingerprint, as `rfb_client_rejected_fingerprint` prints it).
fn make_pki(dir: &Path, ca_name: &str) -> String {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    std::fs::create_dir_all(dir).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, ca_name);
    let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
    let mut p = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "librfb test");
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let der = dir.join("cert.der");
    std::fs::write(&der, cert.der()).unwrap();
    let out = Command::new("sha256sum").arg(&der).output().unwrap();
    let hex = String::from_utf8_lossy(&out.stdout);
    let hex = hex.split_whitespace().next().unwrap().to_string();
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

const TLS_VNC_PW: &str = "tlspw123";
/// The PAM user scripts/install-test-deps.sh creates for Plain.
const PLAIN_USER: &str = "vnctest";
const PLAIN_PW: &str = "plainpw1";

/// An Xvnc offering only `types` (X509Vnc, X509Plain, ...) with the certificate in `pki`.
fn tls_desktop(types: &str, pki: &Path) -> Option<Xvnc> {
    let p = |n: &str| pki.join(n).display().to_string();
    desktop(
        XvncOptions::new(200, 150)
            .vnc_auth(TLS_VNC_PW)
            .arg("-SecurityTypes")
            .arg(types)
            .arg("-X509Cert")
            .arg(p("cert.pem"))
            .arg("-X509Key")
            .arg(p("key.pem"))
            .arg("-PlainUsers")
            .arg(PLAIN_USER)
            .arg("-PAMService")
            .arg("tigervnc"),
    )
}

/// Runs the screenshot example with `flags` against `x`; on success the picture must equal
/// `xwd -root`.
fn tls_shot(x: &Xvnc, flags: &[&str], password: &str, valgrind: bool) -> Output {
    let exe = compile("bindings/c/examples/screenshot.c", x.dir());
    let ppm = x.dir().join("tls.ppm");
    let _ = std::fs::remove_file(&ppm);
    let port = x.port().to_string();
    let mut args: Vec<&str> = flags.to_vec();
    args.extend(["127.0.0.1", port.as_str(), ppm.to_str().unwrap(), password]);
    let out = run(&exe, &args, valgrind);
    if out.status.success() {
        let got = read_ppm(&std::fs::read(&ppm).expect("read PPM")).expect("parse PPM");
        let want = x.xwd_root();
        assert_eq!(got.diff_count(&want), 0, "{:?}", got.first_diff(&want));
    }
    out
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn c_vencrypt_x509vnc_and_x509plain_with_a_ca() {
    let dir = TempDir::new("c-tls-ca");
    make_pki(&dir, "librfb test CA");
    let ca = dir.join("ca.pem").display().to_string();
    let Some(x) = tls_desktop("X509Vnc,X509Plain", &dir) else {
        return;
    };
    // Named: with a CA and no list librfb prefers X509Plain, which needs a username.
    let out = tls_shot(&x, &["-s", "x509vnc", "-c", &ca], TLS_VNC_PW, false);
    assert_ok(&out, "X509Vnc with a CA");
    let out = tls_shot(
        &x,
        &["-s", "x509plain", "-u", PLAIN_USER, "-c", &ca],
        PLAIN_PW,
        false,
    );
    assert_ok(&out, "X509Plain with a CA");
    // Wrong passwords: AUTH_FAILED from inside TLS.
    let out = tls_shot(&x, &["-s", "x509vnc", "-c", &ca], "wrongpw9", false);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("authentication failed"),
        "{}",
        stderr_of(&out)
    );
    let out = tls_shot(
        &x,
        &["-s", "x509plain", "-u", PLAIN_USER, "-c", &ca],
        "wrongpw9",
        false,
    );
    assert!(
        stderr_of(&out).contains("authentication failed"),
        "{}",
        stderr_of(&out)
    );
    // Another CA: the certificate is rejected, with its fingerprint.
    let other = dir.join("other");
    make_pki(&other, "some other CA");
    let other_ca = other.join("ca.pem").display().to_string();
    let out = tls_shot(&x, &["-s", "x509vnc", "-c", &other_ca], TLS_VNC_PW, false);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("not trusted by the CA file"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn c_vencrypt_fingerprint_trust_on_first_use() {
    let dir = TempDir::new("c-tls-pin");
    let fp = make_pki(&dir, "librfb test CA");
    let Some(x) = tls_desktop("X509Vnc", &dir) else {
        return;
    };
    // Nothing trusted: CERTIFICATE_REJECTED and the certificate's fingerprint.
    let out = tls_shot(&x, &[], TLS_VNC_PW, false);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains(&format!("-f {fp}")),
        "{}",
        stderr_of(&out)
    );
    // Pinned: accepted (and clean under valgrind: the TLS path leaks nothing).
    let valgrind = valgrind_available();
    let out = tls_shot(&x, &["-f", &fp], TLS_VNC_PW, valgrind);
    assert_ok(&out, "pinned fingerprint");
    // Another fingerprint: rejected.
    let wrong = format!(
        "{}{}",
        if fp.starts_with("00") { "01" } else { "00" },
        &fp[2..]
    );
    let out = tls_shot(&x, &["-f", &wrong], TLS_VNC_PW, false);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("does not match the pinned"),
        "{}",
        stderr_of(&out)
    );
    // A malformed fingerprint fails in rfb_client_new, before any byte is sent.
    let out = tls_shot(&x, &["-f", "abc"], TLS_VNC_PW, false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("invalid SHA-256 fingerprint"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn c_xvp_target_against_the_scripted_server() {
    use rfb_testkit::scripted::{Credentials, Scheme, ScriptedServer, pattern_rgb};
    let creds = Credentials {
        username: "ops".into(),
        password: "xvppw123".into(),
        target: "vm7".into(),
    };
    let Some(server) = ScriptedServer::start_or_skip(Scheme::Xvp, &creds) else {
        return;
    };
    let dir = TempDir::new("c-xvp");
    let exe = compile("bindings/c/examples/screenshot.c", &dir);
    let port = server.port().to_string();
    let ppm = dir.join("xvp.ppm");
    let shot = |target: &str| {
        let args = [
            "-s",
            "xvp",
            "-u",
            "ops",
            "-t",
            target,
            "127.0.0.1",
            port.as_str(),
            ppm.to_str().unwrap(),
            "xvppw123",
        ];
        run(&exe, &args, false)
    };
    assert_ok(&shot("vm7"), "xvp with a target");
    let got = read_ppm(&std::fs::read(&ppm).unwrap()).unwrap();
    assert_eq!((got.width, got.height), (server.width, server.height));
    for (x, y) in [(0, 0), (17, 9), (63, 47)] {
        let p = got.pixel(x, y);
        assert_eq!([p[0], p[1], p[2]], pattern_rgb(x, y), "pixel ({x}, {y})");
    }
    assert!(server.log().contains("target='vm7'"), "{}", server.log());
    let out = shot("vm8");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("authentication failed"),
        "{}",
        stderr_of(&out)
    );
}

/// Runs `exe args` with `input` on its stdin (for the `-A` trust prompt).
fn run_with_stdin(exe: &Path, args: &[&str], input: &str, valgrind: bool) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "-q",
            "--error-exitcode=97",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect,possible",
        ])
        .arg(exe);
        c
    } else {
        Command::new(exe)
    };
    let mut child = cmd
        .args(args)
        .env("LD_LIBRARY_PATH", release_lib())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run C program");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn c_vencrypt_server_verification_event() {
    let dir = TempDir::new("c-tls-ask");
    let fp = make_pki(&dir, "librfb test CA");
    let Some(x) = tls_desktop("X509Vnc", &dir) else {
        return;
    };
    let exe = compile("bindings/c/examples/screenshot.c", x.dir());
    let ppm = x.dir().join("ask.ppm");
    let port = x.port().to_string();
    let args = [
        "-A",
        "127.0.0.1",
        port.as_str(),
        ppm.to_str().unwrap(),
        TLS_VNC_PW,
    ];
    // The user says yes: the handshake goes on and the picture is right (under valgrind too).
    let out = run_with_stdin(&exe, &args, "yes\n", valgrind_available());
    assert_ok(&out, "approved certificate");
    assert!(stderr_of(&out).contains(&fp), "{}", stderr_of(&out));
    let got = read_ppm(&std::fs::read(&ppm).unwrap()).unwrap();
    let want = x.xwd_root();
    assert_eq!(got.diff_count(&want), 0, "{:?}", got.first_diff(&want));
    // The user says no: CERTIFICATE_REJECTED, and nothing was sent inside TLS.
    let out = run_with_stdin(&exe, &args, "no\n", false);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("certificate rejected"),
        "{}",
        stderr_of(&out)
    );
}
