//! Session messages against the scripted server: FramebufferUpdate framing with Raw, CopyRect,
//! Cursor, DesktopSize and LastRect; SetColourMapEntries; Bell; ServerCutText; and the failure
//! paths, each fed all at once and byte by byte.

use rfb_core::{Config, Error, Event, PixelFormatChoice};
use rfb_encodings::{Encoding, PixelFormat, Rect};
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, script};

const CHUNKINGS: [usize; 3] = [usize::MAX, 1, 7];

/// Connects a pair (8×6 desktop) and then plays `steps`.
fn session(steps: Vec<Step>, chunk: usize) -> (Pair, Result<(), Error>) {
    session_with(Config::default(), steps, chunk)
}

fn session_with(config: Config, steps: Vec<Step>, chunk: usize) -> (Pair, Result<(), Error>) {
    let mut s = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 1]),
        Expect(vec![1]),
        Send(vec![0, 0, 0, 0]),
        Expect(vec![1]),
        Send(script::server_init(8, 6, &PixelFormat::RGBX8888, "t")),
    ];
    if let PixelFormatChoice::Request(pf) = config.pixel_format {
        let mut b = vec![0, 0, 0, 0];
        b.extend_from_slice(&pf.to_bytes());
        s.push(Expect(b));
    }
    s.push(Capture(4 + 4 * config.encodings.len())); // SetEncodings
    s.push(Capture(10)); // first update request
    s.extend(steps);
    let mut p = Pair::new(config, s).chunked(chunk);
    let r = p.drive();
    (p, r)
}

fn incremental_request(w: u16, h: u16) -> Step {
    let mut b = vec![3, 1, 0, 0, 0, 0];
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    Expect(b)
}

fn updates(p: &Pair) -> Vec<Vec<Rect>> {
    p.events
        .iter()
        .filter_map(|e| match e {
            Event::FramebufferUpdated { damage } => Some(damage.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn raw_copyrect_and_lastrect_update() {
    let mut m = script::fbu(3);
    m.extend(script::rect(0, 0, 2, 1, 0));
    m.extend([10, 20, 30, 0, 40, 50, 60, 0]);
    m.extend(script::rect(5, 4, 2, 1, 1));
    m.extend([0, 0, 0, 0]);
    m.extend(script::rect(0, 0, 0, 0, -224));
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone()), incremental_request(8, 6)], chunk);
        r.unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
        assert_eq!(p.fb.pixel(1, 0), Some([40, 50, 60, 255]));
        assert_eq!(p.fb.pixel(5, 4), Some([10, 20, 30, 255]));
        assert_eq!(p.fb.pixel(6, 4), Some([40, 50, 60, 255]));
        assert_eq!(
            updates(&p),
            vec![vec![Rect::new(0, 0, 2, 1), Rect::new(5, 4, 2, 1)]]
        );
        let stats = p.client.decode_stats();
        assert_eq!(stats.rects_of(Encoding::Raw), 1);
        assert_eq!(stats.rects_of(Encoding::CopyRect), 1);
    }
}

#[test]
fn empty_update_and_bell() {
    let mut m = script::fbu(0);
    m.push(2);
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone()), incremental_request(8, 6)], chunk);
        r.unwrap();
        assert_eq!(updates(&p), vec![Vec::<Rect>::new()]);
        assert!(p.events.contains(&Event::Bell));
    }
}

#[test]
fn desktop_size_resizes_the_target() {
    let mut m = script::fbu(2);
    m.extend(script::rect(0, 0, 3, 2, -223));
    m.extend(script::rect(2, 1, 1, 1, 0));
    m.extend([1, 2, 3, 0]);
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone()), incremental_request(3, 2)], chunk);
        r.unwrap();
        assert!(p.server.finished());
        assert_eq!((p.fb.width(), p.fb.height()), (3, 2));
        assert_eq!(p.client.framebuffer_size(), (3, 2));
        assert!(p.events.contains(&Event::Resized {
            width: 3,
            height: 2
        }));
        assert_eq!(p.fb.pixel(2, 1), Some([1, 2, 3, 255]));
    }
}

#[test]
fn cursor_event() {
    let mut m = script::fbu(1);
    m.extend(script::rect(1, 0, 1, 1, -239));
    m.extend([9, 8, 7, 0, 0x80]);
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone()), incremental_request(8, 6)], chunk);
        r.unwrap();
        let c = p.events.iter().find_map(|e| match e {
            Event::Cursor(c) => Some(c.clone()),
            _ => None,
        });
        let c = c.expect("cursor event");
        assert_eq!(
            (c.hotspot_x, c.width, c.rgba.as_slice()),
            (1, 1, &[9, 8, 7, 255][..])
        );
        assert_eq!(
            updates(&p),
            vec![Vec::<Rect>::new()],
            "cursor is not damage"
        );
    }
}

#[test]
fn colour_map_session() {
    let config = Config {
        pixel_format: PixelFormatChoice::Request(PixelFormat::COLOUR_MAP8),
        ..Config::default()
    };
    let mut m = vec![1, 0, 0, 5, 0, 2];
    m.extend([0xff, 0xff, 0, 0, 0, 0]);
    m.extend([0, 0, 0xff, 0xff, 0, 0]);
    m.extend(script::fbu(1));
    m.extend(script::rect(0, 0, 2, 1, 0));
    m.extend([6, 5]);
    for chunk in CHUNKINGS {
        let (p, r) = session_with(
            config.clone(),
            vec![Send(m.clone()), incremental_request(8, 6)],
            chunk,
        );
        r.unwrap();
        assert!(
            p.events
                .contains(&Event::ColourMapUpdated { first: 5, count: 2 })
        );
        assert_eq!(p.fb.pixel(0, 0), Some([0, 255, 0, 255]));
        assert_eq!(p.fb.pixel(1, 0), Some([255, 0, 0, 255]));
    }
}

#[test]
fn rgb565_and_bgr233_sessions() {
    for (pf, px, want) in [
        (PixelFormat::RGB565, vec![0x00, 0xf8], [255, 0, 0, 255]),
        (PixelFormat::BGR233, vec![0b1100_0000], [0, 0, 255, 255]),
    ] {
        let config = Config {
            pixel_format: PixelFormatChoice::Request(pf),
            ..Config::default()
        };
        let mut m = script::fbu(1);
        m.extend(script::rect(3, 3, 1, 1, 0));
        m.extend(px);
        let (p, r) = session_with(config, vec![Send(m), incremental_request(8, 6)], 1);
        r.unwrap();
        assert_eq!(p.fb.pixel(3, 3), Some(want), "{pf:?}");
    }
}

#[test]
fn server_cut_text_latin1() {
    let mut m = vec![3, 0, 0, 0, 0, 0, 0, 4];
    m.extend([b'h', 0xe9, b'!', 0xff]);
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone())], chunk);
        r.unwrap();
        assert!(p.events.contains(&Event::ClipboardText("hé!ÿ".into())));
    }
}

#[test]
fn oversized_cut_text_is_refused_before_allocation() {
    let m = vec![3, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff];
    let (mut p, r) = session(vec![Send(m)], 1);
    let e = r.unwrap_err();
    assert!(
        matches!(
            e,
            Error::LimitExceeded {
                message: "ServerCutText",
                field: "length",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        p.client.handle_input(&[0], &mut p.fb).unwrap_err(),
        e,
        "sticky"
    );
}

#[test]
fn rectangle_outside_the_framebuffer() {
    let mut m = script::fbu(1);
    m.extend(script::rect(7, 0, 2, 1, 0));
    for chunk in CHUNKINGS {
        let (_, r) = session(vec![Send(m.clone())], chunk);
        let e = r.unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(
                e,
                Error::Decode {
                    message: "FramebufferUpdate",
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            text.contains("raw rectangle") && text.contains("outside"),
            "{text}"
        );
    }
}

#[test]
fn copyrect_source_outside() {
    let mut m = script::fbu(1);
    m.extend(script::rect(0, 0, 2, 2, 1));
    m.extend([0, 7, 0, 5]);
    let (_, r) = session(vec![Send(m)], 1);
    assert!(r.unwrap_err().to_string().contains("copyrect"));
}

#[test]
fn unoffered_encoding_and_unknown_message() {
    let mut m = script::fbu(1);
    m.extend(script::rect(0, 0, 1, 1, 0x1234));
    let (_, r) = session(vec![Send(m)], 1);
    let e = r.unwrap_err();
    assert!(
        matches!(e, Error::PeerMisbehaved { .. })
            && e.to_string().contains("unknown encoding 4660"),
        "{e}"
    );
    let (_, r) = session(vec![Send(vec![77])], 1);
    assert!(matches!(r.unwrap_err(), Error::Unsupported(m) if m.contains("77")));
}

#[test]
fn colour_map_out_of_range() {
    let m = vec![1, 0, 0xff, 0xff, 0, 2];
    let (_, r) = session(vec![Send(m)], 1);
    let e = r.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidMessage {
                message: "SetColourMapEntries",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn truncated_message_then_eof() {
    let mut m = script::fbu(1);
    m.extend(script::rect(0, 0, 4, 1, 0));
    m.extend([1, 2, 3, 0, 4, 5]);
    let (mut p, r) = session(vec![Send(m)], 1);
    r.unwrap();
    assert_eq!(p.client.bytes_needed(), 4);
    let leftover = p.inbuf.len();
    let e = p.client.handle_eof(leftover).unwrap_err();
    assert!(
        e.to_string().contains("FramebufferUpdate") && e.to_string().contains("closed"),
        "{e}"
    );
    // A close between messages is clean.
    let (mut p, r) = session(vec![], 1);
    r.unwrap();
    p.client.handle_eof(0).unwrap();
    assert_eq!(p.client.error(), Some(&Error::Closed));
}

#[test]
fn input_methods_encode_after_connect() {
    let mut steps = vec![Expect(vec![4, 1, 0, 0, 0, 0, 0, 0x61])];
    steps.push(Expect(vec![5, 1, 0, 7, 0, 5])); // y clamped to height-1
    steps.push(Expect(vec![6, 0, 0, 0, 0, 0, 0, 2, b'h', b'?']));
    steps.push(Expect(vec![3, 0, 0, 1, 0, 1, 0, 2, 0, 2]));
    let (mut p, r) = session(steps, usize::MAX);
    r.unwrap();
    p.client.send_key(0x61, true).unwrap();
    p.client.send_pointer(1, 7, 99).unwrap();
    p.client.send_clipboard_text("h€").unwrap();
    p.client
        .request_update(false, Rect::new(1, 1, 2, 2))
        .unwrap();
    p.drive().unwrap();
    assert!(p.server.finished());
}

#[test]
fn byte_by_byte_equals_all_at_once() {
    // A long mixed stream: the framebuffer must be identical however it is chunked.
    let mut m = Vec::new();
    for i in 0..5u8 {
        m.extend(script::fbu(2));
        m.extend(script::rect(u16::from(i), 1, 3, 2, 0));
        for j in 0..6u8 {
            m.extend([i * 40, j * 30, i ^ j, 0]);
        }
        m.extend(script::rect(0, 4, 2, 2, 1));
        m.extend([0, u16::from(i).to_be_bytes()[1], 0, 1]);
    }
    let mut reference = None;
    for chunk in [usize::MAX, 1, 2, 3, 11, 13] {
        let mut steps = vec![Send(m.clone())];
        for _ in 0..5 {
            steps.push(incremental_request(8, 6));
        }
        let (p, r) = session(steps, chunk);
        r.unwrap();
        assert_eq!(updates(&p).len(), 5);
        match &reference {
            None => reference = Some(p.fb.clone()),
            Some(f) => assert_eq!(f, &p.fb, "chunk {chunk}"),
        }
    }
}

#[test]
fn quality_and_compression_levels_at_run_time() {
    let (mut p, r) = session(vec![], usize::MAX);
    r.unwrap();
    let mut want = Config::default().encodings;
    want.push(Encoding::QualityLevel(7));
    let mut bytes = vec![2, 0];
    bytes.extend((want.len() as u16).to_be_bytes());
    for e in &want {
        bytes.extend(e.to_i32().to_be_bytes());
    }
    p.server.extend(vec![Expect(bytes)]);
    p.client.set_quality_level(Some(7)).unwrap();
    p.drive().unwrap();
    assert!(p.server.finished());
    // Replacing the level keeps one entry; clearing removes it; out of range is refused.
    p.server.extend(vec![Capture(4 + 4 * (want.len() + 1))]);
    p.client.set_compress_level(Some(2)).unwrap();
    p.drive().unwrap();
    let sent = p.server.captured.last().unwrap().clone();
    assert!(sent.ends_with(&(-254i32).to_be_bytes()), "{sent:?}");
    p.server.extend(vec![Capture(4 + 4 * want.len())]);
    p.client.set_quality_level(None).unwrap();
    p.drive().unwrap();
    assert!(p.client.set_quality_level(Some(10)).is_err());
}
