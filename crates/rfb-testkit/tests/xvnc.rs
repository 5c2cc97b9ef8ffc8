//! The harness against a real TigerVNC Xvnc: what the helpers put on the screen must be exactly
//! what `xwd` reads back. Skips visibly (or fails in CI) when the X tools are not installed.

use rfb_testkit::image::Image;
use rfb_testkit::net::wait_for_port;
use rfb_testkit::pattern;
use rfb_testkit::peer::PeerError;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};
use rfb_testkit::xwd::{XwdFormat, visual_class};
use std::time::Duration;

const ROOT: &str = "#336699";

/// Asserts that `root` shows `want` with its top-left corner at `(x, y)`, pixel for pixel.
fn assert_shows(root: &Image, want: &Image, x: u32, y: u32) {
    let got = root.crop(x, y, want.width, want.height);
    assert_eq!(
        got.diff_count(want),
        0,
        "first difference at {:?}",
        got.first_diff(want)
    );
}

fn rgb(p: [u8; 4]) -> [u8; 3] {
    [p[0], p[1], p[2]]
}

#[test]
fn depth_24_shows_images_and_xterms_exactly() {
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(400, 300)) else {
        return;
    };
    assert_eq!(x.addr(), format!("127.0.0.1:{}", x.port()));
    assert!(x.display().starts_with(':'));
    assert!(x.password_file().is_none());

    x.set_root_solid(ROOT);
    x.park_pointer(399, 299);
    let dump = x.xwd_root_dump();
    assert_eq!(dump.header.visual_class, visual_class::TRUE_COLOR);
    assert_eq!(dump.format(), Some(XwdFormat::RGB888));
    assert_eq!((dump.image.width, dump.image.height), (400, 300));
    assert_eq!(dump.image.distinct_colors(), 1);
    assert_eq!(dump.image.pixel(17, 33), [0x33, 0x66, 0x99, 255]);

    let photo = pattern::photo_like(120, 80, 1);
    assert!(photo.distinct_colors() > 3000);
    assert_eq!(
        x.as_displayed(&photo),
        photo,
        "depth 24 holds 8-bit colour exactly"
    );
    let image_window = x.show_image(&photo, 30, 40);

    let xterm = x.show_xterm("HELLO FROM XVNC\nsecond line", 200, 150, 20, 3);

    let root = x.xwd_root();
    assert_shows(&root, &photo, 30, 40);
    // Just outside the image the root colour is untouched.
    for (px, py) in [(29, 40), (30, 39), (150, 40), (30, 120)] {
        assert_eq!(rgb(root.pixel(px, py)), [0x33, 0x66, 0x99], "({px}, {py})");
    }
    // The xterm is black text on white at the requested place and its own dump agrees.
    let term = x.xwd_window(xterm);
    assert_shows(&root, &term, 200, 150);
    assert_eq!(rgb(term.pixel(0, 0)), [255, 255, 255]);
    let dark = term
        .rgba
        .chunks_exact(4)
        .filter(|p| p[..3] == [0, 0, 0])
        .count();
    assert!(dark > 50, "xterm text should be drawn, {dark} black pixels");
    assert_eq!(
        term.distinct_colors(),
        2,
        "no cursor, no anti-aliasing: two colours"
    );

    // The screen stays still: a second dump is identical.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(x.xwd_root(), root);

    // Moving the image repaints it at the new place.
    x.move_window(image_window, 5, 7);
    let moved = x.xwd_root();
    assert_shows(&moved, &photo, 5, 7);
    assert_eq!(rgb(moved.pixel(140, 110)), [0x33, 0x66, 0x99]);

    // A window partly off screen shows its visible part.
    let checker = pattern::checker(64, 64, 8, [255, 0, 0], [0, 0, 255]);
    x.show_image(&checker, 370, -20);
    let edge = x.xwd_root();
    assert_shows(&edge, &checker.crop(0, 20, 30, 44), 370, 0);
}

#[test]
fn depth_16_holds_rgb565_scaled_as_x_does() {
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(320, 200).depth(16)) else {
        return;
    };
    x.set_root_solid(ROOT);
    let dump = x.xwd_root_dump();
    assert_eq!(dump.header.bits_per_pixel, 16);
    assert_eq!(dump.header.pixmap_depth, 16);
    assert_eq!(dump.header.visual_class, visual_class::TRUE_COLOR);
    assert_eq!(dump.format(), Some(XwdFormat::RGB565));
    // #336699 is stored as 0x3333; X reports it as (49, 101, 156).
    assert_eq!(rgb(dump.image.pixel(0, 0)), [49, 101, 156]);
    // xwd also stores the server's answers to XQueryColors for 64 pixel values: our scaling
    // must agree with every one of them.
    assert_eq!(dump.colors.len(), 64);
    let format = XwdFormat::RGB565;
    for c in &dump.colors {
        let entry = [
            (c.red >> 8) as u8,
            (c.green >> 8) as u8,
            (c.blue >> 8) as u8,
        ];
        assert_eq!(entry, format.rgb_of(c.pixel), "colour entry {c:?}");
    }

    let photo = pattern::photo_like(100, 60, 2);
    let shown = x.as_displayed(&photo);
    assert_ne!(shown, photo, "16-bit cannot hold every 8-bit colour");
    assert!(shown.distinct_colors() > 1000);
    x.show_image(&photo, 11, 13);
    x.show_xterm("depth 16", 150, 120, 10, 2);
    let root = x.xwd_root();
    assert_shows(&root, &shown, 11, 13);
}

#[test]
fn depth_8_is_reported_as_unsupported() {
    // TigerVNC 1.11+ has no 8-bit mode; the harness must say so rather than hang or crash.
    if !rfb_testkit::peer::require("Xvnc") {
        return;
    }
    match Xvnc::start(XvncOptions::new(64, 48).depth(8)) {
        Err(PeerError::Unsupported { reason, .. }) => {
            assert!(reason.contains("-depth 8"), "{reason}");
            rfb_testkit::peer::skip(&format!("Xvnc depth 8: {reason}"));
        }
        // A server that can do 8 bits after all: then it must produce a usable dump.
        Ok(x) => {
            x.set_root_solid(ROOT);
            let dump = x.xwd_root_dump();
            assert_eq!(dump.header.pixmap_depth, 8);
        }
        Err(e) => panic!("unexpected error for depth 8: {e}"),
    }
}

#[test]
fn two_servers_run_at_once_and_vnc_auth_files() {
    let opts = XvncOptions::new(160, 120).vnc_auth("secret12");
    let Some(a) = Xvnc::start_or_skip(opts) else {
        return;
    };
    let Some(b) = Xvnc::start_or_skip(XvncOptions::new(200, 100)) else {
        return;
    };
    assert_ne!(a.display(), b.display());
    assert_ne!(a.port(), b.port());
    a.set_root_solid("#102030");
    b.set_root_solid("#405060");
    assert_eq!(rgb(a.xwd_root().pixel(5, 5)), [0x10, 0x20, 0x30]);
    assert_eq!(rgb(b.xwd_root().pixel(5, 5)), [0x40, 0x50, 0x60]);
    assert_eq!((b.xwd_root().width, b.xwd_root().height), (200, 100));

    let pw = a.password_file().expect("VncAuth has a password file");
    assert_eq!(std::fs::read_to_string(&pw).unwrap(), "secret12");
    assert!(b.password_file().is_none());

    // Both speak RFB: the server greets with its version.
    for x in [&a, &b] {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(x.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut hello = [0; 12];
        s.read_exact(&mut hello).unwrap();
        assert_eq!(&hello, b"RFB 003.008\n");
    }

    // Dropping one stops it and frees its port; the other keeps running.
    let (port_a, dir_a) = (a.port(), a.dir().to_owned());
    drop(a);
    assert!(!wait_for_port(port_a, Duration::from_millis(100)));
    assert!(!dir_a.exists(), "temp dir removed");
    assert!(wait_for_port(b.port(), Duration::from_secs(1)));
}
