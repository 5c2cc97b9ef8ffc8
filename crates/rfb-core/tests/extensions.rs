//! Extensions against the scripted server, with byte vectors written from rfbproto's tables:
//! ExtendedDesktopSize / SetDesktopSize, DesktopName, Fence, ContinuousUpdates, the update
//! request pipeline, xvp, ExtendedMouseButtons and PointerPos. Every server message is fed all
//! at once, byte by byte and in 7-byte chunks.

use rfb_core::{
    Config, Error, Event, FenceFlags, LayoutChange, ResizeReason, ResizeStatus, Screen, XvpAction,
    XvpMessage,
};
use rfb_encodings::{Encoding, PixelFormat};
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, script};

const CHUNKINGS: [usize; 3] = [usize::MAX, 1, 7];

fn session_with(config: Config, steps: Vec<Step>, chunk: usize) -> (Pair, Result<(), Error>) {
    let mut s = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 1]),
        Expect(vec![1]),
        Send(vec![0, 0, 0, 0]),
        Expect(vec![1]),
        Send(script::server_init(8, 6, &PixelFormat::RGBX8888, "t")),
        Capture(20),                             // SetPixelFormat
        Capture(4 + 4 * config.encodings.len()), // SetEncodings
        Capture(10),                             // first update request
    ];
    s.extend(steps);
    let mut p = Pair::new(config, s).chunked(chunk);
    let r = p.drive();
    (p, r)
}

fn session(steps: Vec<Step>, chunk: usize) -> (Pair, Result<(), Error>) {
    session_with(Config::default(), steps, chunk)
}

fn request(incremental: bool, w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![3, u8::from(incremental), 0, 0, 0, 0];
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b
}

fn screen_bytes(id: u32, x: u16, y: u16, w: u16, h: u16, flags: u32) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    for v in [x, y, w, h] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend_from_slice(&flags.to_be_bytes());
    b
}

/// A FramebufferUpdate with one ExtendedDesktopSize rectangle.
fn eds(reason: u16, status: u16, w: u16, h: u16, screens: &[Vec<u8>]) -> Vec<u8> {
    let mut m = script::fbu(1);
    m.extend(script::rect(reason, status, w, h, -308));
    m.extend([screens.len() as u8, 0, 0, 0]);
    for s in screens {
        m.extend(s);
    }
    m
}

fn layouts(p: &Pair) -> Vec<LayoutChange> {
    p.events
        .iter()
        .filter_map(|e| match e {
            Event::ScreenLayout(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}

const SERVER_FENCE_REQ: [u8; 11] = [248, 0, 0, 0, 0x80, 0, 0, 0x03, 2, 0xaa, 0xbb];
const END_OF_CU: [u8; 1] = [150];

#[test]
fn default_encodings_offer_the_extensions() {
    let e = Config::default().encodings;
    for want in [
        Encoding::ExtendedDesktopSize,
        Encoding::DesktopName,
        Encoding::Fence,
        Encoding::ContinuousUpdates,
        Encoding::ExtendedMouseButtons,
        Encoding::PointerPos,
        Encoding::Xvp,
    ] {
        assert!(e.contains(&want), "{want:?} offered");
    }
    // The wire values from the spec's encoding table.
    let wire: Vec<i32> = e.iter().map(|e| e.to_i32()).collect();
    assert!(
        wire.windows(7)
            .any(|w| w == [-308, -307, -312, -313, -316, -232, -309])
    );
}

#[test]
fn extended_desktop_size_reports_every_screen_and_resizes() {
    let m = eds(
        0,
        7, // status is undefined for reason 0 and must be ignored
        20,
        10,
        &[
            screen_bytes(1, 0, 0, 10, 10, 0),
            screen_bytes(0xdead_beef, 10, 0, 10, 10, 0x8000_0000),
        ],
    );
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone()), Expect(request(true, 20, 10))], chunk);
        r.unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
        assert_eq!(p.client.framebuffer_size(), (20, 10));
        assert_eq!((p.fb.width(), p.fb.height()), (20, 10));
        let want = LayoutChange {
            reason: ResizeReason::Server,
            status: ResizeStatus::Success,
            width: 20,
            height: 10,
            screens: vec![
                Screen::new(1, 0, 0, 10, 10),
                Screen {
                    flags: 0x8000_0000,
                    ..Screen::new(0xdead_beef, 10, 0, 10, 10)
                },
            ],
        };
        assert_eq!(layouts(&p), vec![want.clone()]);
        assert!(p.events.contains(&Event::Resized {
            width: 20,
            height: 10
        }));
        assert_eq!(p.client.screens(), Some(&want.screens[..]));
    }
}

#[test]
fn unknown_reason_and_zero_or_overlapping_screens_are_accepted() {
    // The Screen Model allows overlap; zero screens is a layout a basic server may send.
    let overlap = eds(
        9,
        0,
        8,
        6,
        &[
            screen_bytes(1, 0, 0, 8, 6, 0),
            screen_bytes(2, 2, 2, 4, 4, 0),
        ],
    );
    let mut m = overlap;
    m.extend(eds(0, 0, 8, 6, &[]));
    let (p, r) = session(
        vec![
            Send(m),
            Expect(request(true, 8, 6)),
            Expect(request(true, 8, 6)),
        ],
        1,
    );
    r.unwrap();
    let l = layouts(&p);
    assert_eq!(l[0].reason, ResizeReason::Unknown(9));
    assert_eq!(l[0].screens.len(), 2);
    assert!(l[1].screens.is_empty());
    assert!(!p.events.iter().any(|e| matches!(e, Event::Resized { .. })));
}

#[test]
fn oversized_extended_desktop_size_is_a_limit_error() {
    let m = eds(0, 0, 20000, 10, &[screen_bytes(1, 0, 0, 10, 10, 0)]);
    let (_, r) = session(vec![Send(m)], usize::MAX);
    assert!(matches!(
        r,
        Err(Error::LimitExceeded {
            message: "ExtendedDesktopSize",
            field: "width",
            ..
        })
    ));
}

#[test]
fn set_desktop_size_sends_the_layout_and_surfaces_the_answer() {
    for chunk in CHUNKINGS {
        let (mut p, r) = session(vec![], chunk);
        r.unwrap();
        // Not before the server has sent ExtendedDesktopSize.
        assert!(matches!(
            p.client.set_desktop_size(10, 6, &[]),
            Err(Error::ApiMisuse(_))
        ));
        p.server.extend(vec![
            Send(eds(0, 0, 8, 6, &[screen_bytes(7, 0, 0, 8, 6, 0x10)])),
            Expect(request(true, 8, 6)),
        ]);
        p.drive().unwrap();
        // Misuse is typed and not fatal.
        for (w, h, s) in [
            (16, 6, vec![Screen::new(1, 0, 0, 17, 6)]),
            (
                16,
                6,
                vec![Screen::new(1, 0, 0, 8, 6), Screen::new(1, 8, 0, 8, 6)],
            ),
            (0, 6, vec![]),
        ] {
            assert!(matches!(
                p.client.set_desktop_size(w, h, &s),
                Err(Error::ApiMisuse(_))
            ));
        }
        assert!(p.client.is_connected());
        // An empty list keeps the server screen's id and flags.
        p.client.set_desktop_size(16, 6, &[]).unwrap();
        let mut want = vec![251, 0, 0, 16, 0, 6, 1, 0];
        want.extend(screen_bytes(7, 0, 0, 16, 6, 0x10));
        // Refused, then a two-screen layout accepted.
        p.server.extend(vec![
            Expect(want),
            Send(eds(1, 3, 0, 0, &[])),
            Expect(request(true, 8, 6)),
        ]);
        p.drive().unwrap();
        let two = [Screen::new(7, 0, 0, 8, 6), Screen::new(8, 8, 0, 8, 6)];
        p.client.set_desktop_size(16, 6, &two).unwrap();
        let mut want = vec![251, 0, 0, 16, 0, 6, 2, 0];
        want.extend(screen_bytes(7, 0, 0, 8, 6, 0));
        want.extend(screen_bytes(8, 8, 0, 8, 6, 0));
        p.server.extend(vec![
            Expect(want),
            Send(eds(
                1,
                0,
                16,
                6,
                &[
                    screen_bytes(7, 0, 0, 8, 6, 0),
                    screen_bytes(8, 8, 0, 8, 6, 0),
                ],
            )),
            Expect(request(true, 16, 6)),
        ]);
        p.drive().unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
        let l = layouts(&p);
        assert_eq!(l.len(), 3);
        assert_eq!(
            (l[1].reason, l[1].status),
            (ResizeReason::ThisClient, ResizeStatus::InvalidLayout)
        );
        assert!(!l[1].applies());
        assert_eq!(l[2].status, ResizeStatus::Success);
        assert_eq!(l[2].screens, two);
        assert_eq!(p.client.framebuffer_size(), (16, 6));
    }
}

#[test]
fn desktop_name_changes() {
    let mut m = script::fbu(1);
    m.extend(script::rect(0, 0, 0, 0, -307));
    m.extend([0, 0, 0, 5]);
    m.extend("dé…".as_bytes()[..5].iter());
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone()), Expect(request(true, 8, 6))], chunk);
        r.unwrap();
        assert!(p.server.finished());
        assert!(p.events.contains(&Event::DesktopName("dé\u{fffd}".into())));
        assert_eq!(p.client.server_info().unwrap().name, "dé\u{fffd}");
    }
}

#[test]
fn oversized_desktop_name_is_refused_before_allocation() {
    let mut m = script::fbu(1);
    m.extend(script::rect(0, 0, 0, 0, -307));
    m.extend([0xff, 0xff, 0xff, 0xff]);
    let (p, r) = session(vec![Send(m)], 1);
    assert!(matches!(
        r,
        Err(Error::LimitExceeded {
            message: "DesktopName",
            ..
        })
    ));
    assert!(p.client.bytes_needed() == 0);
}

#[test]
fn server_fence_requests_are_answered_and_responses_reported() {
    let mut m = SERVER_FENCE_REQ.to_vec();
    // A response (Request clear) to a client fence, with an unknown bit kept.
    m.extend([248, 0, 0, 0, 0x00, 0, 1, 0x04, 1, 0x42]);
    for chunk in CHUNKINGS {
        let (mut p, r) = session(
            vec![
                Send(m.clone()),
                // Request bit cleared, understood bits kept, payload echoed.
                Expect(vec![248, 0, 0, 0, 0, 0, 0, 0x03, 2, 0xaa, 0xbb]),
            ],
            chunk,
        );
        r.unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
        assert!(p.client.fence_supported());
        assert!(p.events.contains(&Event::FenceResponse {
            flags: FenceFlags(0x0104),
            payload: vec![0x42]
        }));
        // Client-initiated fence.
        p.client
            .send_fence(FenceFlags::BLOCK_BEFORE | FenceFlags::SYNC_NEXT, b"xy")
            .unwrap();
        assert!(matches!(
            p.client.send_fence(FenceFlags::BLOCK_BEFORE, &[0; 65]),
            Err(Error::ApiMisuse(_))
        ));
        p.server.extend(vec![Expect(vec![
            248, 0, 0, 0, 0x80, 0, 0, 0x05, 2, b'x', b'y',
        ])]);
        p.drive().unwrap();
        assert!(p.server.finished());
    }
}

#[test]
fn oversized_fence_payload_is_ignored_and_the_stream_continues() {
    let mut m = vec![248, 0, 0, 0, 0x80, 0, 0, 1, 200];
    m.extend([0x55; 200]);
    m.push(2); // Bell: proves the stream stayed in sync
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone())], chunk);
        r.unwrap();
        assert!(p.events.contains(&Event::FenceIgnored));
        assert!(p.events.contains(&Event::Bell));
        assert!(
            p.server.unmatched().is_empty(),
            "no answer to an ignored fence"
        );
        assert!(p.client.is_connected());
    }
}

#[test]
fn fence_before_announcement_is_misuse() {
    let (mut p, r) = session(vec![], 1);
    r.unwrap();
    assert!(matches!(
        p.client.send_fence(FenceFlags::BLOCK_BEFORE, b""),
        Err(Error::ApiMisuse(_))
    ));
    assert!(matches!(
        p.client.enable_continuous_updates(true),
        Err(Error::ApiMisuse(_))
    ));
}

fn fence_answer() -> Vec<u8> {
    vec![248, 0, 0, 0, 0, 0, 0, 0x03, 2, 0xaa, 0xbb]
}

fn enable_cu(enable: bool, w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![150, u8::from(enable), 0, 0, 0, 0];
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b
}

#[test]
fn continuous_updates_switch_on_when_fence_and_cu_are_announced() {
    // Both orders of the two announcements.
    for fence_first in [true, false] {
        for chunk in CHUNKINGS {
            let steps = if fence_first {
                vec![
                    Send(SERVER_FENCE_REQ.to_vec()),
                    Expect(fence_answer()),
                    Send(END_OF_CU.to_vec()),
                    Expect(enable_cu(true, 8, 6)),
                ]
            } else {
                vec![
                    Send(END_OF_CU.to_vec()),
                    Send(SERVER_FENCE_REQ.to_vec()),
                    Expect(fence_answer()),
                    Expect(enable_cu(true, 8, 6)),
                ]
            };
            let (mut p, r) = session(steps, chunk);
            r.unwrap();
            assert!(
                p.server.finished(),
                "fence_first {fence_first} chunk {chunk}"
            );
            assert!(p.client.continuous_updates_active());
            assert!(p.events.contains(&Event::ContinuousUpdatesSupported));
            assert!(p.events.contains(&Event::ContinuousUpdatesStarted));
            // Updates now arrive without requests, and none is sent after them.
            let mut m = script::fbu(0);
            m.extend(script::fbu(0));
            p.server.extend(vec![Send(m)]);
            p.drive().unwrap();
            assert!(p.server.unmatched().is_empty(), "no request under CU");
            // A resize re-targets continuous updates at the new area.
            let mut m = script::fbu(1);
            m.extend(script::rect(0, 0, 4, 3, -223));
            p.server
                .extend(vec![Send(m), Expect(enable_cu(true, 4, 3))]);
            p.drive().unwrap();
            assert!(p.server.finished());
            assert!(p.server.unmatched().is_empty());
            // Turned off: the server confirms and requests resume.
            p.client.enable_continuous_updates(false).unwrap();
            p.server.extend(vec![
                Expect(enable_cu(false, 4, 3)),
                Send(END_OF_CU.to_vec()),
                Expect(request(true, 4, 3)),
            ]);
            p.drive().unwrap();
            assert!(p.server.finished());
            assert!(!p.client.continuous_updates_active());
            assert!(
                p.events
                    .contains(&Event::ContinuousUpdatesEnded { was_active: true })
            );
        }
    }
}

#[test]
fn no_continuous_updates_without_fence_or_when_disabled() {
    // CU announced without Fence: stay with requests.
    let mut m = END_OF_CU.to_vec();
    m.extend(script::fbu(0));
    let (p, r) = session(vec![Send(m.clone()), Expect(request(true, 8, 6))], 1);
    r.unwrap();
    assert!(p.server.finished());
    assert!(p.server.unmatched().is_empty());
    assert!(!p.client.continuous_updates_active());
    // Both announced but the policy is off.
    let config = Config {
        continuous_updates: false,
        ..Config::default()
    };
    let mut m = SERVER_FENCE_REQ.to_vec();
    m.extend(END_OF_CU);
    m.extend(script::fbu(0));
    let (p, r) = session_with(
        config,
        vec![Send(m), Expect(fence_answer()), Expect(request(true, 8, 6))],
        7,
    );
    r.unwrap();
    assert!(p.server.finished());
    assert!(p.server.unmatched().is_empty());
    assert!(!p.client.continuous_updates_active());
}

#[test]
fn pipelined_requests_go_out_at_the_start_of_each_update() {
    let config = Config {
        update_pipeline: 3,
        ..Config::default()
    };
    // The update's header alone triggers the requests (its rectangle has not arrived yet).
    let mut first = script::fbu(1);
    first.extend(script::rect(0, 0, 1, 1, 0));
    let mut steps = vec![Send(first)];
    for _ in 0..3 {
        steps.push(Expect(request(true, 8, 6)));
    }
    // Rest of the first update, then a second one: one more request tops up to 3.
    steps.push(Send(vec![1, 2, 3, 0]));
    steps.push(Send(script::fbu(0)));
    steps.push(Expect(request(true, 8, 6)));
    let (p, r) = session_with(config, steps, 1);
    r.unwrap();
    assert!(p.server.finished());
    assert!(p.server.unmatched().is_empty());
    assert_eq!(p.fb.pixel(0, 0), Some([1, 2, 3, 255]));
}

#[test]
fn xvp_init_operation_and_failure() {
    for chunk in CHUNKINGS {
        let (mut p, r) = session(vec![], chunk);
        r.unwrap();
        assert!(matches!(
            p.client.xvp(XvpAction::Reboot),
            Err(Error::ApiMisuse(_))
        ));
        p.server.extend(vec![Send(vec![250, 0, 1, 1])]);
        p.drive().unwrap();
        assert!(
            p.events
                .contains(&Event::Xvp(XvpMessage::Init { version: 1 }))
        );
        p.client.xvp(XvpAction::Reboot).unwrap();
        p.client.xvp(XvpAction::Shutdown).unwrap();
        p.client.xvp(XvpAction::Reset).unwrap();
        p.server.extend(vec![
            Expect(vec![250, 0, 1, 3, 250, 0, 1, 2, 250, 0, 1, 4]),
            Send(vec![250, 0, 1, 0, 250, 0, 1, 9]),
        ]);
        p.drive().unwrap();
        assert!(p.server.finished());
        assert!(
            p.events
                .contains(&Event::Xvp(XvpMessage::Fail { version: 1 }))
        );
        assert!(p.events.contains(&Event::Xvp(XvpMessage::Unknown {
            version: 1,
            code: 9
        })));
    }
}

#[test]
fn extended_mouse_buttons_only_after_the_server_acknowledged() {
    for chunk in CHUNKINGS {
        let (mut p, r) = session(vec![], chunk);
        r.unwrap();
        // Back + forward + left before the ack: forward is dropped, back is legacy bit 7.
        p.client.send_pointer_buttons(0b1_1000_0001, 3, 4).unwrap();
        p.server.extend(vec![Expect(vec![5, 0x81, 0, 3, 0, 4])]);
        p.drive().unwrap();
        let mut m = script::fbu(1);
        m.extend(script::rect(0, 0, 0, 0, -316));
        p.server.extend(vec![Send(m), Expect(request(true, 8, 6))]);
        p.drive().unwrap();
        assert!(p.events.contains(&Event::ExtendedMouseButtons));
        assert!(p.client.extended_mouse_buttons());
        p.client
            .send_pointer_buttons(0b1_1000_0001, 3, 400)
            .unwrap();
        p.client.send_pointer_buttons(0b100, 1, 1).unwrap();
        p.server.extend(vec![
            Expect(vec![5, 0x81, 0, 3, 0, 5, 0b11]),
            Expect(vec![5, 0x04, 0, 1, 0, 1]),
        ]);
        p.drive().unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
    }
}

#[test]
fn pointer_position_from_the_server() {
    let mut m = script::fbu(2);
    m.extend(script::rect(5, 3, 0, 0, -232));
    m.extend(script::rect(1, 2, 1, 1, -232));
    for chunk in CHUNKINGS {
        let (p, r) = session(vec![Send(m.clone()), Expect(request(true, 8, 6))], chunk);
        r.unwrap();
        assert!(p.server.finished());
        let pos: Vec<_> = p
            .events
            .iter()
            .filter(|e| matches!(e, Event::PointerPosition { .. }))
            .cloned()
            .collect();
        assert_eq!(
            pos,
            [
                Event::PointerPosition { x: 5, y: 3 },
                Event::PointerPosition { x: 1, y: 2 }
            ]
        );
        assert!(
            p.events
                .contains(&Event::FramebufferUpdated { damage: vec![] })
        );
    }
}

#[test]
fn truncated_extension_messages_are_errors_at_eof() {
    for m in [
        vec![248, 0, 0, 0, 0x80, 0, 0, 1, 5, 1],
        vec![250, 0],
        eds(0, 0, 8, 6, &[screen_bytes(1, 0, 0, 8, 6, 0)])[..20].to_vec(),
    ] {
        let (mut p, r) = session(vec![Send(m.clone())], 1);
        r.unwrap();
        let left = p.inbuf.len();
        assert!(p.client.handle_eof(left).is_err(), "{m:?}");
    }
}

#[test]
fn pixel_format_change_is_fenced_when_the_server_supports_fences() {
    for chunk in CHUNKINGS {
        let (mut p, r) = session(
            vec![Send(SERVER_FENCE_REQ.to_vec()), Expect(fence_answer())],
            chunk,
        );
        r.unwrap();
        p.client.set_pixel_format(PixelFormat::RGB565).unwrap();
        let mut want = vec![248, 0, 0, 0, 0x80, 0, 0, 0x05, 21];
        want.extend_from_slice(b"rfb-core:pixel-format");
        want.extend([0, 0, 0, 0]);
        want.extend_from_slice(&PixelFormat::RGB565.to_bytes());
        // An update encoded before the change (32 bpp), the fence's answer, one after (16 bpp).
        let mut old = script::fbu(1);
        old.extend(script::rect(0, 0, 1, 1, 0));
        old.extend([10, 20, 30, 0]);
        let mut answer = vec![248, 0, 0, 0, 0, 0, 0, 0x05, 21];
        answer.extend_from_slice(b"rfb-core:pixel-format");
        let mut new = script::fbu(1);
        new.extend(script::rect(1, 0, 1, 1, 0));
        new.extend([0x00, 0xf8]); // pure red in RGB565, little-endian
        p.server.extend(vec![
            Expect(want),
            Send(old),
            Expect(request(true, 8, 6)),
            Send(answer),
            Expect(request(false, 8, 6)), // everything again, in the new format
            Send(new),
            Expect(request(true, 8, 6)),
        ]);
        p.drive().unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
        assert_eq!(
            p.fb.pixel(0, 0),
            Some([10, 20, 30, 255]),
            "old format until the answer"
        );
        assert_eq!(
            p.fb.pixel(1, 0),
            Some([255, 0, 0, 255]),
            "new format after it"
        );
        assert_eq!(
            p.client.server_info().unwrap().pixel_format,
            PixelFormat::RGB565
        );
        assert!(
            !p.events
                .iter()
                .any(|e| matches!(e, Event::FenceResponse { .. })),
            "the internal fence is not reported"
        );
    }
}

#[test]
fn held_update_requests_wait_for_the_driver() {
    for chunk in CHUNKINGS {
        let (mut p, r) = session(vec![], chunk);
        r.unwrap();
        // The driver is still drawing: the update that ends now must not trigger a request.
        p.client.hold_update_requests(true);
        p.server.extend(vec![Send(script::fbu(0))]);
        p.drive().unwrap();
        assert!(p.server.finished());
        assert!(
            p.server.unmatched().is_empty(),
            "nothing sent while held: {:?}",
            p.server.unmatched()
        );
        // Released: the held-back request goes out, once.
        p.server.extend(vec![Expect(request(true, 8, 6))]);
        p.client.hold_update_requests(false);
        p.client.hold_update_requests(false);
        p.drive().unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
        assert!(
            p.server.unmatched().is_empty(),
            "{:?}",
            p.server.unmatched()
        );
    }
}
