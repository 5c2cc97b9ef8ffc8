//! x11vnc (LibVNCServer) on Xvfb, started by each test: what it offers of the extensions in
//! `rfb-core`'s default list. It moves the client's pointer with PointerPos (-232) when the
//! pointer moves on the X server; it sends its one-screen ExtendedDesktopSize layout, refuses
//! SetDesktopSize (x11vnc installs no resize hook) and reports a RandR resize of the X server
//! (`-xrandr`), with plain DesktopSize (-223) when ExtendedDesktopSize is not offered; it
//! announces neither Fence nor ContinuousUpdates.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod ext_driver;

use std::time::Duration;

use ext_driver::Conn;
use rfb_core::{Config, Event, ResizeReason, ResizeStatus};
use rfb_encodings::Encoding;
use rfb_testkit::x11vnc::{X11vnc, X11vncOptions};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn x11vnc_pointer_position_follows_the_x_pointer() {
    let Some(x) = X11vnc::start_or_skip_with(X11vncOptions::new(320, 240).show_cursor()) else {
        return;
    };
    let mut c = Conn::connect(x.port(), Config::default());
    assert!(c.until(LIMIT, |e| matches!(e, Event::FramebufferUpdated { .. })));
    x.run("xdotool", &["mousemove", "123", "45"]);
    assert!(
        c.until(LIMIT, |e| *e == Event::PointerPosition { x: 123, y: 45 }),
        "events: {:?}",
        c.events
    );
    x.run("xdotool", &["mousemove", "7", "200"]);
    assert!(c.until(LIMIT, |e| *e == Event::PointerPosition { x: 7, y: 200 }));
    // Nothing x11vnc does not offer was switched on.
    assert!(!c.client.fence_supported());
    assert!(!c.client.continuous_updates_active());
}

#[test]
fn x11vnc_layout_refusal_and_xrandr_resize_reported() {
    let opts = X11vncOptions::new(320, 240).arg("-xrandr");
    let Some(x) = X11vnc::start_or_skip_with(opts) else {
        return;
    };
    let mut c = Conn::connect(x.port(), Config::default());
    // LibVNCServer answers the first full request with its single-screen layout...
    assert!(c.until(LIMIT, |e| matches!(e, Event::ScreenLayout(_))));
    assert_eq!(c.client.screens().map(<[_]>::len), Some(1));
    // ...and x11vnc installs no resize hook, so SetDesktopSize is refused.
    c.client.set_desktop_size(300, 200, &[]).unwrap();
    assert!(c.until(LIMIT, |e| matches!(
        e,
        Event::ScreenLayout(l) if l.reason == ResizeReason::ThisClient && l.status == ResizeStatus::Prohibited
    )));
    assert_eq!(c.client.framebuffer_size(), (320, 240));
    shrink_to_200x150(&x);
    assert!(
        c.until(LIMIT, |e| *e
            == Event::Resized {
                width: 200,
                height: 150
            }),
        "events: {:?}",
        c.events
            .iter()
            .filter(|e| !matches!(e, Event::FramebufferUpdated { .. }))
            .collect::<Vec<_>>()
    );
    assert_eq!((c.fb.width(), c.fb.height()), (200, 150));
    // LibVNCServer reports it with ExtendedDesktopSize (we offer it), as a server-side change.
    assert!(c.events.iter().any(|e| matches!(
        e,
        Event::ScreenLayout(l) if l.reason == ResizeReason::Server && (l.width, l.height) == (200, 150)
    )));
}

/// With only the plain DesktopSize pseudo-encoding offered, the same RandR change arrives as a
/// DesktopSize (-223) rectangle: a resize without any layout.
#[test]
fn x11vnc_desktop_size_without_extended_desktop_size() {
    let opts = X11vncOptions::new(320, 240).arg("-xrandr");
    let Some(x) = X11vnc::start_or_skip_with(opts) else {
        return;
    };
    let config = Config {
        encodings: Config::default()
            .encodings
            .into_iter()
            .filter(|e| *e != Encoding::ExtendedDesktopSize)
            .collect(),
        ..Config::default()
    };
    let mut c = Conn::connect(x.port(), config);
    assert!(c.until(LIMIT, |e| matches!(e, Event::FramebufferUpdated { .. })));
    shrink_to_200x150(&x);
    assert!(c.until(LIMIT, |e| *e
        == Event::Resized {
            width: 200,
            height: 150
        }));
    assert_eq!((c.fb.width(), c.fb.height()), (200, 150));
    assert!(!c.events.iter().any(|e| matches!(e, Event::ScreenLayout(_))));
    assert!(c.client.decode_stats().rects_of(Encoding::DesktopSize) >= 1);
}

/// A RandR mode change on the X server: Xvfb has only its start-up mode and cannot grow, so a
/// smaller mode is added first.
fn shrink_to_200x150(x: &X11vnc) {
    let modeline = [
        "--newmode",
        "200x150",
        "1",
        "200",
        "200",
        "200",
        "200",
        "150",
        "150",
        "150",
        "150",
    ];
    for args in [
        &modeline[..],
        &["--addmode", "screen", "200x150"],
        &["--output", "screen", "--mode", "200x150"],
    ] {
        let out = x.command("xrandr").args(args).output().expect("xrandr");
        assert!(
            out.status.success(),
            "xrandr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
