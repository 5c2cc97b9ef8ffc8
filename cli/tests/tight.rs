//! Tight security (16) against TightVNC's `Xtightvnc` (Debian's `tightvncserver`), which offers
//! types [2, 16] and inside Tight no tunnel and VNC Authentication; choosing Tight also extends
//! ServerInit with capability lists the client must skip.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rfb_testkit::Image;
use rfb_testkit::net::{free_port, wait_for_port};
use rfb_testkit::tempdir::TempDir;

const PASSWORD: &str = "tightpw1";

/// One Xtightvnc, stopped (by its PID) when dropped; then its directory goes unless the test
/// failed.
struct Tight {
    child: Child,
    port: u16,
    display: u32,
    dir: TempDir,
}

impl Drop for Tight {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Stops Xtightvnc by its PID.
fn stop(child: &mut Child) {
    // SIGTERM first: killed outright, the X server leaves /tmp/.X<n>-lock and its socket
    // in /tmp/.X11-unix behind. SIGKILL only if it has not gone after a grace period.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Starts Xtightvnc on a free port and an unused display; `None` (test skipped, with a note)
/// when it is not installed.
fn start(name: &str) -> Option<Tight> {
    if !have("Xtightvnc") || !have("vncpasswd") || !have("xsetroot") {
        eprintln!(
            "skipping: Xtightvnc, vncpasswd or xsetroot missing (scripts/install-test-deps.sh)"
        );
        return None;
    }
    let dir = TempDir::new(&format!("tight-{name}"));
    let passwd = dir.join("passwd");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf %s {PASSWORD} | vncpasswd -f > {}",
            passwd.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "vncpasswd -f failed");
    // Xtightvnc has no -displayfd: take a display whose lock and socket are free.
    for _ in 0..50 {
        let port = free_port();
        let display = 300 + u32::from(port % 600);
        if Path::new(&format!("/tmp/.X{display}-lock")).exists()
            || Path::new(&format!("/tmp/.X11-unix/X{display}")).exists()
        {
            continue;
        }
        let log = fs::File::create(dir.join("Xtightvnc.log")).unwrap();
        let mut child = Command::new("Xtightvnc")
            .arg(format!(":{display}"))
            .args(["-rfbport", &port.to_string(), "-localhost"])
            .arg("-rfbauth")
            .arg(&passwd)
            .args(["-geometry", "320x200", "-depth", "24"])
            .args(["-fp", "/usr/share/fonts/X11/misc"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn Xtightvnc");
        if !wait_for_port(port, Duration::from_secs(20)) {
            stop(&mut child);
            continue;
        }
        let t = Tight {
            child,
            port,
            display,
            dir,
        };
        let ok = Command::new("xsetroot")
            .args(["-display", &format!(":{display}"), "-solid", "#336699"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "xsetroot on :{display}");
        return Some(t);
    }
    panic!("Xtightvnc did not start; see {}", dir.display());
}

fn rfb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
        .args(args)
        .output()
        .expect("run rfb")
}

fn pw_file(t: &Tight, pw: &str) -> String {
    let p = t.dir.join(format!("pw-{pw}"));
    fs::write(&p, format!("{pw}\n")).unwrap();
    p.display().to_string()
}

#[test]
fn tight_security_with_vnc_auth() {
    let Some(t) = start("ok") else {
        return;
    };
    let addr = format!("127.0.0.1:{}", t.port);
    let pw = pw_file(&t, PASSWORD);
    let o = rfb(&["info", &addr, "--security", "tight", "--password-file", &pw]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("security types: vncauth(2), tight(16)"),
        "{out}"
    );
    assert!(out.contains("security used: tight(16)"), "{out}");
    assert!(out.contains("size: 320x200"), "{out}");
    // The session after the extended ServerInit works: a screenshot of the solid root.
    let png = t.dir.join("shot.png");
    let o = rfb(&[
        "screenshot",
        &addr,
        png.to_str().unwrap(),
        "--security",
        "tight",
        "--password-file",
        &pw,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let img = Image::read_png(&png).unwrap();
    assert_eq!((img.width, img.height), (320, 200));
    assert_eq!(img.pixel(160, 100), [0x33, 0x66, 0x99, 255]);
}

#[test]
fn tight_security_wrong_password() {
    let Some(t) = start("bad") else {
        return;
    };
    let addr = format!("127.0.0.1:{}", t.port);
    let o = rfb(&[
        "info",
        &addr,
        "--security",
        "tight",
        "--password-file",
        &pw_file(&t, "wrongpw9"),
    ]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(e.contains("authentication failed"), "{e}");
    let _ = t.display;
}
