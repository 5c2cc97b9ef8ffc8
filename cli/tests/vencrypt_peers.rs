//! VeNCrypt against TLS servers other than TigerVNC: QEMU's VNC server with a
//! `tls-creds-x509` object (X509None, and X509Vnc with `password=on` and the password set
//! over QMP) and x11vnc's `-ssl` mode (X509None, X509Vnc, and with the `anon-tls` feature
//! TLSNone/TLSVnc). Pictures through TLS must equal what the server shows (QMP `screendump`,
//! `xwd -root`) exactly; another CA, a wrong pin and a wrong password are typed errors.
//!
//! Certificates are RSA, made here with the `openssl` command: x11vnc's OpenSSL set-up insists
//! on an RSA key ("SSL_CTX_set_tmp_rsa ... expecting an rsa key" with an EC one).

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rfb_testkit::Image;
use rfb_testkit::pattern;
use rfb_testkit::peer;
use rfb_testkit::qemu::Qemu;
use rfb_testkit::tempdir::TempDir;
use rfb_testkit::x11vnc::{X11vnc, X11vncOptions};

/// QEMU's VNC passwords are at most 8 characters (DES key).
const QEMU_PW: &str = "qemupw12";
const X11VNC_PW: &str = "x11pw123";
/// How long x11vnc may take to poll a change into its framebuffer.
const X11VNC_CATCH_UP: Duration = Duration::from_secs(10);

/// A CA and a server certificate for 127.0.0.1 it signed, in the file names QEMU's
/// `tls-creds-x509` wants (`ca-cert.pem`, `server-cert.pem`, `server-key.pem`), plus
/// `server.pem` (key then certificate) for x11vnc's `-ssl`.
struct Pki {
    dir: TempDir,
    /// SHA-256 of the server certificate, lower-case hex with colons.
    fingerprint: String,
}

/// Runs `openssl` in `dir` with `args` (split at spaces, so no argument may contain one).
fn openssl(dir: &Path, args: &str) -> String {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Pki {
    /// `ca_name` is the CA's common name (no spaces).
    fn new(name: &str, ca_name: &str) -> Self {
        let dir = TempDir::new(&format!("vencrypt-peers-{name}"));
        openssl(
            &dir,
            &format!(
                "req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca-cert.pem -days 30 \
                 -subj /CN={ca_name} -addext basicConstraints=critical,CA:TRUE \
                 -addext keyUsage=critical,keyCertSign,cRLSign"
            ),
        );
        openssl(
            &dir,
            "req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1",
        );
        fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            &dir,
            "x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial \
             -out server-cert.pem -days 30 -extfile ext.cnf",
        );
        let key = fs::read_to_string(dir.join("server-key.pem")).unwrap();
        let cert = fs::read_to_string(dir.join("server-cert.pem")).unwrap();
        fs::write(dir.join("server.pem"), format!("{key}{cert}")).unwrap();
        let text = openssl(&dir, "x509 -in server-cert.pem -noout -fingerprint -sha256");
        let fingerprint = text
            .trim()
            .split_once('=')
            .expect("openssl prints NAME=FINGERPRINT")
            .1
            .to_ascii_lowercase();
        Self { dir, fingerprint }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn password_file(&self, pw: &str) -> String {
        let p = self.dir.join(format!("pw-{pw}"));
        fs::write(&p, format!("{pw}\n")).unwrap();
        p.display().to_string()
    }
}

/// True when the `openssl` command is there (it makes the certificates).
fn have_openssl() -> bool {
    peer::require_all(&["openssl"])
}

fn rfb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
        .args(args)
        .output()
        .expect("run rfb")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails with a one-line message containing `needle`.
fn fails_with(o: &Output, needle: &str) {
    assert!(
        !o.status.success(),
        "rfb should fail; stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let e = stderr(o);
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    assert!(e.contains(needle), "expected {needle:?} in: {e}");
}

/// `rfb screenshot ADDR DIR/NAME --timeout 30 FLAGS...`; the picture, or the failed output.
fn screenshot(addr: &str, dir: &Path, name: &str, flags: &[&str]) -> Result<Image, Output> {
    let png = dir.join(name);
    let _ = fs::remove_file(&png);
    let out = Command::new(env!("CARGO_BIN_EXE_rfb"))
        .args(["screenshot", addr])
        .arg(&png)
        .args(["--timeout", "30"])
        .args(flags)
        .output()
        .expect("run rfb");
    if !out.status.success() {
        return Err(out);
    }
    Ok(Image::read_png(&png).expect("read PNG"))
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

fn shot_ok(addr: &str, dir: &Path, name: &str, flags: &[&str]) -> Image {
    screenshot(addr, dir, name, flags)
        .unwrap_or_else(|o| panic!("rfb screenshot {flags:?} failed: {}", stderr(&o)))
}

// ---------------------------------------------------------------------------------------
// QEMU

/// QEMU with its VNC server behind `tls-creds-x509` (server side, no client certificate);
/// `vnc_extra` goes after `tls-creds=tls0` (e.g. `,password=on`).
fn qemu_tls(pki: &Pki, vnc_extra: &str) -> Option<Qemu> {
    if !peer::require_all(&["qemu-system-x86_64"]) {
        return None;
    }
    let object = format!(
        "tls-creds-x509,id=tls0,dir={},endpoint=server,verify-peer=off",
        pki.dir.display()
    );
    let q = Qemu::start_with_files(
        &["-object", &object],
        &format!(",tls-creds=tls0{vnc_extra}"),
        |_| Ok(()),
    )
    .unwrap_or_else(|e| panic!("QEMU with TLS failed to start: {e}"));
    Some(q)
}

#[test]
fn qemu_x509none_with_a_ca_and_a_pin() {
    if !have_openssl() {
        return;
    }
    let pki = Pki::new("qemu-none", "rfb-QEMU-test-CA");
    let Some(q) = qemu_tls(&pki, "") else {
        return;
    };
    let want = q.screendump();
    assert!(
        want.distinct_colors() >= 2,
        "SeaBIOS text should be on screen"
    );
    let ca = pki.path("ca-cert.pem");
    let got = shot_ok(
        &q.addr(),
        q.dir(),
        "x509none.png",
        &["--security", "x509none", "--ca-file", &ca],
    );
    assert_same(&got, &want, "QEMU X509None with a CA");
    // Without a list: a CA means TLS is required, and QEMU's X509None is among the subtypes.
    let got = shot_ok(&q.addr(), q.dir(), "ca-only.png", &["--ca-file", &ca]);
    assert_same(&got, &want, "QEMU with --ca-file only");
    let got = shot_ok(
        &q.addr(),
        q.dir(),
        "pinned.png",
        &["--fingerprint", &pki.fingerprint],
    );
    assert_same(&got, &want, "QEMU X509None pinned");
    // Another CA and another certificate's pin: rejected, naming the certificate seen.
    let other = Pki::new("qemu-other", "some-other-CA");
    let o = rfb(&[
        "info",
        &q.addr(),
        "--security",
        "x509none",
        "--ca-file",
        &other.path("ca-cert.pem"),
    ]);
    fails_with(&o, "not trusted by the CA file");
    assert!(stderr(&o).contains(&pki.fingerprint), "{}", stderr(&o));
    let o = rfb(&["info", &q.addr(), "--fingerprint", &other.fingerprint]);
    fails_with(&o, "does not match the pinned");
    // The VeNCrypt-less default list: QEMU offers only VeNCrypt, and with nothing trusted
    // the certificate is refused with its fingerprint (never a silent plain connection).
    let o = rfb(&["info", &q.addr()]);
    fails_with(&o, &pki.fingerprint);
}

#[test]
fn qemu_x509vnc_with_a_password_set_over_qmp() {
    if !have_openssl() {
        return;
    }
    let pki = Pki::new("qemu-vnc", "rfb-QEMU-test-CA");
    let Some(q) = qemu_tls(&pki, ",password=on") else {
        return;
    };
    q.qmp(&format!(
        r#"{{"execute":"change-vnc-password","arguments":{{"password":"{QEMU_PW}"}}}}"#
    ));
    let want = q.screendump();
    let ca = pki.path("ca-cert.pem");
    let pw = pki.password_file(QEMU_PW);
    let got = shot_ok(
        &q.addr(),
        q.dir(),
        "x509vnc.png",
        &[
            "--security",
            "x509vnc",
            "--ca-file",
            &ca,
            "--password-file",
            &pw,
        ],
    );
    assert_same(&got, &want, "QEMU X509Vnc");
    let o = rfb(&[
        "info",
        &q.addr(),
        "--security",
        "x509vnc",
        "--ca-file",
        &ca,
        "--password-file",
        &pki.password_file("wrongpw9"),
    ]);
    fails_with(&o, "authentication failed");
    // X509None is not what this QEMU offers: a typed "no common subtype", not a downgrade.
    let o = rfb(&[
        "info",
        &q.addr(),
        "--security",
        "x509none",
        "--ca-file",
        &ca,
    ]);
    fails_with(&o, "no common VeNCrypt subtype");
}

// ---------------------------------------------------------------------------------------
// x11vnc

/// An OpenSSL configuration at security level 0, for x11vnc only: its anonymous
/// Diffie-Hellman mode (VeNCrypt TLSNone/TLSVnc) asks OpenSSL for ADH cipher suites without
/// lowering the level, and OpenSSL 3 at the default level 1 refuses them ("no shared
/// cipher" in x11vnc's log, a handshake_failure alert at the client).
fn seclevel0_conf(pki: &Pki) -> String {
    let p = pki.dir.join("openssl-seclevel0.cnf");
    fs::write(
        &p,
        "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n\
         [ssl_sect]\nsystem_default = system_default_sect\n\
         [system_default_sect]\nCipherString = DEFAULT:@SECLEVEL=0\n",
    )
    .unwrap();
    p.display().to_string()
}

/// x11vnc in `-ssl` mode with the certificate of `pki` (and `-passwd` when given), on a
/// static desktop.
fn x11vnc_tls(pki: &Pki, password: Option<&str>) -> Option<X11vnc> {
    let mut opts = X11vncOptions::new(320, 200)
        .arg("-ssl")
        .arg(pki.path("server.pem"))
        .env("OPENSSL_CONF", seclevel0_conf(pki));
    if let Some(pw) = password {
        opts = opts.arg("-passwd").arg(pw);
    }
    let x = X11vnc::start_or_skip_with(opts)?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(160, 100, 5), 20, 20);
    x.settle();
    Some(x)
}

/// Screenshots until the picture equals `xwd -root` (x11vnc polls the screen).
fn x11vnc_matches(x: &X11vnc, name: &str, flags: &[&str]) {
    let want = x.xwd_root();
    let deadline = Instant::now() + X11VNC_CATCH_UP;
    loop {
        let got = shot_ok(&x.addr(), x.dir(), name, flags);
        if got.diff_count(&want) == 0 || Instant::now() >= deadline {
            assert_same(&got, &want, name);
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn x11vnc_ssl_x509vnc_and_errors() {
    if !have_openssl() {
        return;
    }
    let pki = Pki::new("x11vnc-vnc", "rfb-x11vnc-test-CA");
    let Some(x) = x11vnc_tls(&pki, Some(X11VNC_PW)) else {
        return;
    };
    let ca = pki.path("ca-cert.pem");
    let pw = pki.password_file(X11VNC_PW);
    x11vnc_matches(
        &x,
        "x509vnc.png",
        &[
            "--security",
            "x509vnc",
            "--ca-file",
            &ca,
            "--password-file",
            &pw,
        ],
    );
    x11vnc_matches(
        &x,
        "pinned.png",
        &["--fingerprint", &pki.fingerprint, "--password-file", &pw],
    );
    let o = rfb(&[
        "info",
        &x.addr(),
        "--security",
        "x509vnc",
        "--ca-file",
        &ca,
        "--password-file",
        &pki.password_file("wrongpw9"),
    ]);
    fails_with(&o, "authentication failed");
    let other = Pki::new("x11vnc-other", "some-other-CA");
    let o = rfb(&[
        "info",
        &x.addr(),
        "--security",
        "x509vnc",
        "--ca-file",
        &other.path("ca-cert.pem"),
        "--password-file",
        &pw,
    ]);
    fails_with(&o, "not trusted by the CA file");
}

#[test]
fn x11vnc_ssl_x509none() {
    if !have_openssl() {
        return;
    }
    let pki = Pki::new("x11vnc-none", "rfb-x11vnc-test-CA");
    let Some(x) = x11vnc_tls(&pki, None) else {
        return;
    };
    x11vnc_matches(
        &x,
        "x509none.png",
        &[
            "--security",
            "x509none",
            "--ca-file",
            &pki.path("ca-cert.pem"),
        ],
    );
}

/// x11vnc's anonymous TLS (VeNCrypt TLSVnc/TLSNone; OpenSSL on our side, feature `anon-tls`).
#[cfg(feature = "anon-tls")]
#[test]
fn x11vnc_ssl_anonymous_tls() {
    if !have_openssl() {
        return;
    }
    let pki = Pki::new("x11vnc-anon", "rfb-x11vnc-test-CA");
    let Some(x) = x11vnc_tls(&pki, Some(X11VNC_PW)) else {
        return;
    };
    let pw = pki.password_file(X11VNC_PW);
    x11vnc_matches(
        &x,
        "tlsvnc.png",
        &["--security", "tlsvnc", "--password-file", &pw],
    );
    let Some(y) = x11vnc_tls(&pki, None) else {
        return;
    };
    x11vnc_matches(&y, "tlsnone.png", &["--security", "tlsnone"]);
}

/// QEMU with `tls-creds-anon`: VeNCrypt TLSNone, and TLSVnc with `password=on` (GnuTLS
/// anonymous Diffie-Hellman on QEMU's side, OpenSSL on ours: feature `anon-tls`).
#[cfg(feature = "anon-tls")]
#[test]
fn qemu_anonymous_tls() {
    if !peer::require_all(&["qemu-system-x86_64"]) {
        return;
    }
    let start = |vnc_extra: &str| {
        Qemu::start_with_files(
            &["-object", "tls-creds-anon,id=tls0,endpoint=server"],
            &format!(",tls-creds=tls0{vnc_extra}"),
            |_| Ok(()),
        )
        .unwrap_or_else(|e| panic!("QEMU with anonymous TLS failed to start: {e}"))
    };
    let q = start("");
    let want = q.screendump();
    let got = shot_ok(
        &q.addr(),
        q.dir(),
        "tlsnone.png",
        &["--security", "tlsnone"],
    );
    assert_same(&got, &want, "QEMU TLSNone");
    // Anonymous TLS is never chosen when a pin says the server must be authenticated.
    let o = rfb(&["info", &q.addr(), "--fingerprint", &"00".repeat(32)]);
    fails_with(&o, "no common VeNCrypt subtype");
    drop(q);

    let q = start(",password=on");
    q.qmp(&format!(
        r#"{{"execute":"change-vnc-password","arguments":{{"password":"{QEMU_PW}"}}}}"#
    ));
    let dir = q.dir().to_path_buf();
    let pw = dir.join("pw");
    fs::write(&pw, format!("{QEMU_PW}\n")).unwrap();
    let want = q.screendump();
    let got = shot_ok(
        &q.addr(),
        q.dir(),
        "tlsvnc.png",
        &[
            "--security",
            "tlsvnc",
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    assert_same(&got, &want, "QEMU TLSVnc");
}

/// True when this process runs as root (x11vnc's `-unixpw_nis` reads /etc/shadow).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// x11vnc's X509Plain: `-unixpw_nis` checks the PAM test user's password with crypt(3)
/// (plain `-unixpw` runs su(1), which fails for `vnctest`, whose shell is nologin), and
/// `-vencrypt plain:support` offers it as VeNCrypt Plain inside TLS.
#[test]
fn x11vnc_ssl_x509plain() {
    if !have_openssl() {
        return;
    }
    if !is_root() {
        peer::skip("x11vnc_ssl_x509plain: -unixpw_nis needs root to read /etc/shadow");
        return;
    }
    let pki = Pki::new("x11vnc-plain", "rfb-x11vnc-test-CA");
    let opts = X11vncOptions::new(320, 200)
        .arg("-ssl")
        .arg(pki.path("server.pem"))
        .arg("-unixpw_nis")
        .arg("vnctest")
        .arg("-vencrypt")
        .arg("plain:support")
        .env("OPENSSL_CONF", seclevel0_conf(&pki));
    let Some(x) = X11vnc::start_or_skip_with(opts) else {
        return;
    };
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(160, 100, 7), 30, 30);
    x.settle();
    let ca = pki.path("ca-cert.pem");
    x11vnc_matches(
        &x,
        "x509plain.png",
        &[
            "--security",
            "x509plain",
            "--ca-file",
            &ca,
            "--username",
            "vnctest",
            "--password-file",
            &pki.password_file("plainpw1"),
        ],
    );
    // A wrong password: x11vnc answers with a bare string ("unixpw failed", length first)
    // where rfbproto puts the SecurityResult word. A result other than 0, 1 or 2 is read as
    // a failed authentication (and no reason length is read from the string's bytes).
    let o = rfb(&[
        "info",
        &x.addr(),
        "--security",
        "x509plain",
        "--ca-file",
        &ca,
        "--username",
        "vnctest",
        "--password-file",
        &pki.password_file("wrongpw9"),
    ]);
    fails_with(&o, "authentication failed");
}
