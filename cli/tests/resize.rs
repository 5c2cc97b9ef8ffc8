//! `rfb resize` (SetDesktopSize) and ExtendedDesktopSize against real peers started by each
//! test: TigerVNC Xvnc (accepts layouts through RandR, refuses when told to) and QEMU.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod ext_driver;

use std::process::{Command, Output};
use std::time::Duration;

use ext_driver::Conn;
use rfb_core::{Config, Event, ResizeReason, ResizeStatus, Screen};
use rfb_testkit::Image;
use rfb_testkit::qemu::Qemu;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

const LIMIT: Duration = Duration::from_secs(20);

fn rfb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rfb"))
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("run rfb");
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    let se = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, so, se)
}

fn desktop(opts: XvncOptions) -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(opts)?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.settle();
    Some(x)
}

#[test]
fn xvnc_resize_then_screenshot_has_the_new_size_and_equals_the_root() {
    let Some(x) = desktop(XvncOptions::new(400, 300)) else {
        return;
    };
    let (out, so, se) = run(rfb().args(["resize", &x.addr(), "1024x768", "--timeout", "30"]));
    assert!(out.status.success(), "stdout {so}\nstderr {se}");
    assert!(so.contains("status: success"), "{so}");
    assert!(so.contains("size: 1024x768"), "{so}");
    assert!(so.contains("screens: 1"), "{so}");
    x.settle();
    let shot = x.dir().join("after-resize.png");
    let (out, so, se) = run(rfb()
        .args(["screenshot", &x.addr()])
        .arg(&shot)
        .args(["--timeout", "30"]));
    assert!(out.status.success(), "stdout {so}\nstderr {se}");
    let got = Image::read_png(&shot).expect("read PNG");
    let want = x.xwd_root();
    assert_eq!(
        (want.width, want.height),
        (1024, 768),
        "the X server resized"
    );
    assert_eq!((got.width, got.height), (1024, 768));
    let n = got.diff_count(&want);
    assert_eq!(n, 0, "{n} pixels differ, first {:?}", got.first_diff(&want));
}

#[test]
fn xvnc_two_screen_layout_is_applied_and_reported() {
    let Some(x) = desktop(XvncOptions::new(400, 300)) else {
        return;
    };
    let (out, so, se) = run(rfb().args([
        "resize",
        &x.addr(),
        "1000x400",
        "--screens",
        "0,0,600,400;600,0,400,300",
        "--timeout",
        "30",
    ]));
    assert!(out.status.success(), "stdout {so}\nstderr {se}");
    assert!(so.contains("size: 1000x400"), "{so}");
    assert!(so.contains("screens: 2"), "{so}");
    assert!(so.contains("x=0 y=0 width=600 height=400"), "{so}");
    assert!(so.contains("x=600 y=0 width=400 height=300"), "{so}");
    // The X server itself now has two monitors (RandR), as a new client also learns.
    let mon = String::from_utf8_lossy(&x.run("xrandr", &["--listmonitors"])).into_owned();
    assert!(mon.starts_with("Monitors: 2"), "{mon}");
    let mut c = Conn::connect(x.port(), Config::default());
    assert!(c.until(LIMIT, |e| matches!(e, Event::ScreenLayout(_))));
    let l = c
        .events
        .iter()
        .find_map(|e| match e {
            Event::ScreenLayout(l) => Some(l.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(l.reason, ResizeReason::Server);
    assert_eq!((l.width, l.height), (1000, 400));
    let rects: Vec<_> = l
        .screens
        .iter()
        .map(|s| (s.x, s.y, s.width, s.height))
        .collect();
    assert_eq!(rects, [(0, 0, 600, 400), (600, 0, 400, 300)]);
}

#[test]
fn xvnc_refusal_is_reported_and_fails() {
    let Some(x) = desktop(XvncOptions::new(400, 300).arg("-AcceptSetDesktopSize=0")) else {
        return;
    };
    let (out, so, se) = run(rfb().args(["resize", &x.addr(), "640x480", "--timeout", "30"]));
    assert!(!out.status.success(), "stdout {so}");
    assert!(
        se.contains("refused the resize: resize is administratively prohibited"),
        "{se}"
    );
    // A layout that cannot be valid never reaches the server.
    let (out, _, se) =
        run(rfb().args(["resize", &x.addr(), "640x480", "--screens", "0,0,700,480"]));
    assert!(!out.status.success());
    assert!(se.contains("outside the framebuffer"), "{se}");
}

#[test]
fn xvnc_reports_the_change_to_other_clients() {
    let Some(x) = desktop(XvncOptions::new(400, 300)) else {
        return;
    };
    let mut watcher = Conn::connect(x.port(), Config::default());
    assert!(watcher.until(LIMIT, |e| matches!(e, Event::ScreenLayout(_))));
    let mut c = Conn::connect(x.port(), Config::default());
    assert!(c.until(LIMIT, |e| matches!(e, Event::ScreenLayout(_))));
    c.client
        .set_desktop_size(500, 200, &[Screen::new(0, 0, 0, 500, 200)])
        .or_else(|_| c.client.set_desktop_size(500, 200, &[]))
        .unwrap();
    assert!(c.until(
        LIMIT,
        |e| matches!(e, Event::ScreenLayout(l) if l.reason == ResizeReason::ThisClient)
    ));
    assert!(watcher.until(LIMIT, |e| matches!(
        e,
        Event::ScreenLayout(l) if l.reason == ResizeReason::OtherClient && (l.width, l.height) == (500, 200)
    )));
    assert!(watcher.events.contains(&Event::Resized {
        width: 500,
        height: 200
    }));
    assert_eq!(watcher.client.framebuffer_size(), (500, 200));
}

/// QEMU (std VGA, no guest): it reports its layout with ExtendedDesktopSize, so SetDesktopSize
/// is allowed, and it answers the request (with a refusal, see below).
#[test]
fn qemu_reports_its_layout_and_answers_set_desktop_size() {
    let Some(q) = Qemu::start_or_skip() else {
        return;
    };
    let mut c = Conn::connect(q.port(), Config::default());
    assert!(
        c.until(LIMIT, |e| matches!(e, Event::ScreenLayout(_))),
        "events: {:?}",
        c.events
    );
    let (w, h) = c.client.framebuffer_size();
    c.client
        .set_desktop_size(w.max(64) + 16, h, &[])
        .expect("allowed after ExtendedDesktopSize");
    assert!(
        c.until(
            LIMIT,
            |e| matches!(e, Event::ScreenLayout(l) if l.reason == ResizeReason::ThisClient)
        ),
        "events: {:?}",
        c.events
    );
    let answer = c
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::ScreenLayout(l) if l.reason == ResizeReason::ThisClient => Some(l.status),
            _ => None,
        })
        .unwrap();
    // QEMU forwards a request to the display device only when it supports guest-driven
    // resizing (ui-info, e.g. virtio-vga with a driver); the launcher's std VGA does not, and
    // QEMU 10 answers "invalid screen layout" (3) without touching the framebuffer.
    assert_eq!(answer, ResizeStatus::InvalidLayout);
    assert_eq!(c.client.framebuffer_size(), (w, h));
}

/// QEMU with virtio-vga: the display supports guest-driven resizing, so QEMU forwards the
/// request to the guest (status 4, "request forwarded"). With no guest driver nothing
/// follows: `rfb resize` prints the status and fails when its timeout ends.
#[test]
fn qemu_virtio_vga_forwards_set_desktop_size() {
    if !rfb_testkit::peer::require_all(&["qemu-system-x86_64"]) {
        return;
    }
    let q = Qemu::start_with_files(&["-vga", "virtio"], "", |_| Ok(())).expect("QEMU starts");
    let (out, so, se) = run(rfb().args(["resize", &q.addr(), "800x600", "--timeout", "10"]));
    assert!(!out.status.success(), "stdout {so}");
    assert!(so.contains("status: request forwarded"), "{so}");
    assert!(
        se.contains("the server forwarded the request but no resize followed"),
        "{se}"
    );
}
