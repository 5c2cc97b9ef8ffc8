//! Tight security (16) against TightVNC's `Xtightvnc` (Debian's `tightvncserver`), which offers
//! types [2, 16] and inside Tight no tunnel and VNC Authentication; choosing Tight also extends
//! ServerInit with capability lists the client must skip.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use rfb_testkit::Image;
use rfb_testkit::net::{free_port, wait_for_port};

const PASSWORD: &str = "tightpw1";

/// One Xtightvnc, stopped (by its PID) when dropped.
struct Tight {
    child: Child,
    port: u16,
    display: u32,
    dir: PathBuf,
}

impl Drop for Tight {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let dir = std::env::temp_dir().join(format!("rfb-tight-{}-{name}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
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
        let child = Command::new("Xtightvnc")
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
        let t = Tight {
            child,
            port,
            display,
            dir: dir.clone(),
        };
        if wait_for_port(port, Duration::from_secs(20)) {
            let ok = Command::new("xsetroot")
                .args(["-display", &format!(":{display}"), "-solid", "#336699"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "xsetroot on :{display}");
            return Some(t);
        }
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
