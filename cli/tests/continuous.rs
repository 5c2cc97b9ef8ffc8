//! Fence, ContinuousUpdates, DesktopName, Bell and update pipelining against a real TigerVNC Xvnc
//! (started by each test on its own display and port), through `rfb-core` directly: these
//! are visible as core events, which the CLI does not print.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod ext_driver;

use std::time::Duration;

use ext_driver::Conn;
use rfb_core::{Config, Event, FenceFlags};
use rfb_encodings::PixelFormat;
use rfb_testkit::Image;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

const W: u32 = 320;
const H: u32 = 240;
/// Bound on waiting for the server (never reached when things work).
const LIMIT: Duration = Duration::from_secs(20);

fn desktop() -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(XvncOptions::new(W, H))?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.settle();
    Some(x)
}

fn fb_image(c: &Conn) -> Image {
    let (w, h) = (u32::from(c.fb.width()), u32::from(c.fb.height()));
    Image::from_fn(w, h, |x, y| {
        let p = c.fb.pixel(x as u16, y as u16).unwrap_or([0; 4]);
        [p[0], p[1], p[2]]
    })
}

/// Applies updates until the client's picture equals the X server's (or the bound passes).
fn converge(c: &mut Conn, x: &Xvnc) -> bool {
    let want = x.xwd_root();
    if fb_image(c).diff_count(&want) == 0 {
        return true;
    }
    // Each FramebufferUpdated event comes after its rectangles were drawn.
    for _ in 0..50 {
        if fb_image(c).diff_count(&want) == 0 {
            return true;
        }
        if !c.until(Duration::from_secs(1), |e| {
            matches!(e, Event::FramebufferUpdated { .. })
        }) {
            break;
        }
    }
    fb_image(c).diff_count(&want) == 0
}

#[test]
fn xvnc_fence_round_trip_and_continuous_updates() {
    let Some(x) = desktop() else { return };
    let mut c = Conn::connect(x.port(), Config::default());
    // Xvnc announces Fence (a ServerFence, answered by the core) and ContinuousUpdates (an
    // EndOfContinuousUpdates); the core then enables continuous updates by itself.
    assert!(
        c.until(LIMIT, |e| *e == Event::ContinuousUpdatesStarted),
        "events: {:?}",
        c.events
    );
    assert!(c.client.fence_supported());
    assert!(c.events.contains(&Event::ContinuousUpdatesSupported));
    assert!(c.client.continuous_updates_active());
    // A client-initiated fence comes back with its payload and the flags Xvnc understands.
    c.client
        .send_fence(
            FenceFlags::BLOCK_BEFORE | FenceFlags::BLOCK_AFTER,
            b"ping-42",
        )
        .unwrap();
    assert!(c.until(
        LIMIT,
        |e| matches!(e, Event::FenceResponse { payload, .. } if payload == b"ping-42")
    ));
    let flags = c.events.iter().find_map(|e| match e {
        Event::FenceResponse { flags, .. } => Some(*flags),
        _ => None,
    });
    assert_eq!(
        flags,
        Some(FenceFlags::BLOCK_BEFORE | FenceFlags::BLOCK_AFTER),
        "Request cleared, known flags kept"
    );
    assert!(converge(&mut c, &x), "initial picture");
    // From now on updates arrive without any FramebufferUpdateRequest.
    let requests_before = c.requests_sent();
    let updates_before = c.updates();
    x.set_root_solid("#cc3311");
    x.settle();
    assert!(
        converge(&mut c, &x),
        "picture after a change, under continuous updates"
    );
    assert!(c.updates() > updates_before);
    assert_eq!(
        c.requests_sent(),
        requests_before,
        "no update request sent while continuous updates run"
    );
    // Switching them off is confirmed by EndOfContinuousUpdates; requests resume.
    c.client.enable_continuous_updates(false).unwrap();
    assert!(c.until(LIMIT, |e| *e
        == Event::ContinuousUpdatesEnded { was_active: true }));
    assert!(c.requests_sent() > requests_before);
    x.set_root_solid("#11aa44");
    x.settle();
    assert!(
        converge(&mut c, &x),
        "picture after a change, with requests again"
    );
}

#[test]
fn xvnc_pipelined_requests_without_continuous_updates() {
    let Some(x) = desktop() else { return };
    let config = Config {
        continuous_updates: false,
        update_pipeline: 3,
        ..Config::default()
    };
    let mut c = Conn::connect(x.port(), config);
    assert!(c.until(LIMIT, |e| *e == Event::ContinuousUpdatesSupported));
    assert!(converge(&mut c, &x), "initial picture");
    assert!(!c.client.continuous_updates_active());
    // The first update's header already triggered three incremental requests.
    let n = c.requests_sent();
    assert!(n >= 4, "{n} requests");
    for colour in ["#cc3311", "#11aa44", "#112233"] {
        x.set_root_solid(colour);
        x.settle();
        assert!(converge(&mut c, &x), "picture after {colour}");
    }
}

#[test]
fn xvnc_desktop_name_change() {
    let Some(x) = desktop() else { return };
    let mut c = Conn::connect(x.port(), Config::default());
    assert!(c.until(LIMIT, |e| matches!(e, Event::FramebufferUpdated { .. })));
    // vncconfig sets Xvnc's "desktop" parameter at run time; Xvnc then sends DesktopName.
    x.run("vncconfig", &["-set", "desktop=renamed by test"]);
    assert!(
        c.until(LIMIT, |e| *e
            == Event::DesktopName("renamed by test".into())),
        "events: {:?}",
        c.events
    );
    assert_eq!(c.client.server_info().unwrap().name, "renamed by test");
}

/// Pixel-format changes while continuous updates stream in from a busy screen: each change is
/// fenced (BlockBefore | SyncNext), so no update is decoded in the wrong format (which would
/// desynchronise the stream and fail here), and the final picture equals the X server's.
#[test]
fn xvnc_pixel_format_changes_under_continuous_updates() {
    let Some(x) = desktop() else { return };
    let pid = x.spawn(
        "xterm",
        &[
            "-geometry",
            "40x10+0+0",
            "-fn",
            "fixed",
            "+sb",
            "-e",
            "seq",
            "1000000000",
        ],
    );
    let mut c = Conn::connect(x.port(), Config::default());
    assert!(c.until(LIMIT, |e| *e == Event::ContinuousUpdatesStarted));
    for pf in [
        PixelFormat::RGB565,
        PixelFormat::BGR233,
        PixelFormat::RGB565,
        PixelFormat::RGBX8888,
    ] {
        c.client.set_pixel_format(pf).unwrap();
        // Several updates in each format (the busy xterm keeps them coming).
        let mut n = 0;
        assert!(c.until(LIMIT, |e| {
            n += usize::from(matches!(e, Event::FramebufferUpdated { .. }));
            n >= 5
        }));
        assert_eq!(c.client.server_info().unwrap().pixel_format, pf);
    }
    // Stop the scrolling, then the picture must converge exactly (32 bpp again).
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
    x.settle();
    assert!(converge(&mut c, &x), "final picture");
}

/// Bell (server message 2): `xkbbell` on the X server reaches the client as Event::Bell.
#[test]
fn xvnc_bell() {
    let Some(x) = desktop() else { return };
    let mut c = Conn::connect(x.port(), Config::default());
    assert!(c.until(LIMIT, |e| matches!(e, Event::FramebufferUpdated { .. })));
    x.run("xkbbell", &[]);
    assert!(
        c.until(LIMIT, |e| *e == Event::Bell),
        "events: {:?}",
        c.events
    );
}
