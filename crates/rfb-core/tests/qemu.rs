//! QEMU extensions against the scripted server, with byte vectors written from rfbproto's
//! tables: Extended Key Event (-258 and client message 255/0), LED State (-261) and VMware LED
//! State (0x574d5668), Audio (-259, client and server message 255/1). Every server message is
//! fed all at once, byte by byte and in 7-byte chunks; bad input ends in a typed error or a
//! counted drop, never a panic.

use rfb_core::qemu::VMWARE_LED_STATE;
use rfb_core::{
    AudioEvent, AudioFormat, Config, Error, Event, KeySent, LedSource, LedState, SampleFormat,
};
use rfb_encodings::{Encoding, PixelFormat};
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, script};

const CHUNKINGS: [usize; 3] = [usize::MAX, 1, 7];

fn config() -> Config {
    Config {
        auto_update: false,
        ..Config::default()
    }
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
        Capture(20),                             // SetPixelFormat
        Capture(4 + 4 * config.encodings.len()), // SetEncodings
    ];
    s.extend(steps);
    let mut p = Pair::new(config, s).chunked(chunk);
    let r = p.drive();
    (p, r)
}

fn session(steps: Vec<Step>, chunk: usize) -> (Pair, Result<(), Error>) {
    session_with(config(), steps, chunk)
}

/// A FramebufferUpdate of empty pseudo-rectangles (each followed by its body bytes).
fn update(rects: &[(i32, &[u8])]) -> Vec<u8> {
    let mut m = script::fbu(rects.len() as u16);
    for (enc, body) in rects {
        m.extend(script::rect(0, 0, 0, 0, *enc));
        m.extend_from_slice(body);
    }
    m
}

const ACK_KEYS: (i32, &[u8]) = (-258, &[]);
const ACK_AUDIO: (i32, &[u8]) = (-259, &[]);

fn audio_data(bytes: &[u8]) -> Vec<u8> {
    let mut m = vec![255, 1, 0, 2];
    m.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    m.extend_from_slice(bytes);
    m
}

/// Concatenated Data payloads, and whether every one carried `format`.
fn audio_bytes(events: &[Event], format: Option<AudioFormat>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        if let Event::Audio(AudioEvent::Data { format: f, bytes }) = e {
            assert_eq!(*f, format);
            out.extend_from_slice(bytes);
        }
    }
    out
}

#[test]
fn default_config_offers_the_qemu_pseudo_encodings() {
    let e = Config::default().encodings;
    for want in [
        Encoding::QemuExtendedKeyEvent,
        Encoding::QemuLedState,
        Encoding::QemuAudio,
        VMWARE_LED_STATE,
    ] {
        assert!(e.contains(&want), "{want} not offered");
    }
    let (p, r) = session(vec![], usize::MAX);
    r.unwrap();
    // -258, -261, 0x574d5668, -259 on the wire in SetEncodings.
    let set_enc = &p.server.captured[1];
    for v in [-258i32, -261, 0x574d_5668, -259] {
        assert!(
            set_enc.chunks(4).skip(1).any(|c| c == v.to_be_bytes()),
            "{v} missing from SetEncodings"
        );
    }
}

#[test]
fn extended_key_ack_switches_send_key_scancode() {
    for chunk in CHUNKINGS {
        let (mut p, r) = session(vec![], chunk);
        r.unwrap();
        // Before the ack: plain KeyEvents, keysym 0 dropped.
        assert!(!p.client.qemu_extended_keys());
        assert_eq!(
            p.client.send_key_scancode(0x41, 0x1e, true).unwrap(),
            KeySent::Keysym
        );
        assert_eq!(
            p.client.send_key_scancode(0, 0x1e, true).unwrap(),
            KeySent::Dropped
        );
        p.server
            .extend(vec![Expect(vec![4, 1, 0, 0, 0, 0, 0, 0x41])]);
        p.server.extend(vec![Send(update(&[ACK_KEYS, ACK_KEYS]))]);
        p.drive().unwrap();
        let ev = p.take_events();
        // Announced once, even when acknowledged twice.
        let acks = ev
            .iter()
            .filter(|e| matches!(e, Event::QemuExtendedKeyEvents))
            .count();
        assert_eq!(acks, 1, "chunk {chunk}: {ev:?}");
        assert!(p.client.qemu_extended_keys());
        // The spec's example rows, then an unknown keysym with a known keycode, then a
        // scancode without a keycode falling back to the keysym.
        assert_eq!(
            p.client.send_key_scancode(0x41, 0x1e, true).unwrap(),
            KeySent::Extended
        );
        p.client.send_key_scancode(0x41, 0x1e, false).unwrap();
        p.client.send_key_scancode(0xff53, 0xe04d, true).unwrap();
        p.client.send_key_scancode(0xff53, 0xe04d, false).unwrap();
        p.client.send_key_scancode(0, 0xe046, true).unwrap();
        assert_eq!(
            p.client.send_key_scancode(0xff61, 0xe12a, true).unwrap(),
            KeySent::Keysym
        );
        p.server.extend(vec![
            Expect(vec![255, 0, 0, 1, 0, 0, 0, 0x41, 0, 0, 0, 0x1e]),
            Expect(vec![255, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 0, 0x1e]),
            Expect(vec![255, 0, 0, 1, 0, 0, 0xff, 0x53, 0, 0, 0, 0xcd]),
            Expect(vec![255, 0, 0, 0, 0, 0, 0xff, 0x53, 0, 0, 0, 0xcd]),
            Expect(vec![255, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xc6]),
            Expect(vec![4, 1, 0, 0, 0, 0, 0xff, 0x61]),
        ]);
        p.drive().unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
    }
}

#[test]
fn led_state_both_forms() {
    for chunk in CHUNKINGS {
        let (p, r) = session(
            vec![
                // QEMU form (one byte; reserved bits ignored), then VMware's (a U32), in one
                // update with a DesktopName-free ack in between.
                Send(update(&[
                    (-261, &[0b1111_1100]),
                    ACK_KEYS,
                    (0x574d_5668, &[0, 0, 0, 0b011]),
                ])),
            ],
            chunk,
        );
        r.unwrap();
        let leds: Vec<(LedState, LedSource)> = p
            .events
            .iter()
            .filter_map(|e| match e {
                Event::LedState { state, source } => Some((*state, *source)),
                _ => None,
            })
            .collect();
        assert_eq!(
            leds,
            [
                (
                    LedState {
                        scroll_lock: false,
                        num_lock: false,
                        caps_lock: true
                    },
                    LedSource::Qemu
                ),
                (
                    LedState {
                        scroll_lock: true,
                        num_lock: true,
                        caps_lock: false
                    },
                    LedSource::Vmware
                ),
            ],
            "chunk {chunk}"
        );
        assert_eq!(p.client.led_state().unwrap().bits(), 0b011);
        assert!(p.events.iter().any(|e| matches!(
            e,
            Event::FramebufferUpdated { damage } if damage.is_empty()
        )));
    }
}

#[test]
fn audio_stream_round_trip() {
    let fmt = AudioFormat {
        sample: SampleFormat::S16,
        channels: 2,
        frequency: 22_050,
    };
    let pcm: Vec<u8> = (0..64u8).collect();
    for chunk in CHUNKINGS {
        let (mut p, r) = session(vec![Send(update(&[ACK_AUDIO]))], chunk);
        r.unwrap();
        assert!(
            p.take_events()
                .contains(&Event::Audio(AudioEvent::Supported))
        );
        p.client.set_audio_format(fmt).unwrap();
        p.client.enable_audio().unwrap();
        p.server.extend(vec![
            Expect(vec![255, 1, 0, 2, 3, 2, 0, 0, 0x56, 0x22]),
            Expect(vec![255, 1, 0, 0]),
            Send(vec![255, 1, 0, 1]),
            Send(audio_data(&pcm)),
            Send(audio_data(&[])),
            Send(vec![255, 1, 0, 0]),
        ]);
        p.drive().unwrap();
        let ev = p.take_events();
        assert_eq!(ev.first(), Some(&Event::Audio(AudioEvent::Begin)));
        assert_eq!(ev.last(), Some(&Event::Audio(AudioEvent::End)));
        assert_eq!(audio_bytes(&ev, Some(fmt)), pcm, "chunk {chunk}");
        // Every piece is whole frames (4 bytes), however the bytes arrived.
        for e in &ev {
            if let Event::Audio(AudioEvent::Data { bytes, .. }) = e {
                assert!(!bytes.is_empty() && bytes.len() % 4 == 0, "{}", bytes.len());
            }
        }
        assert_eq!(p.client.audio_dropped_bytes(), 0);
        // Disabled: trailing data is read and dropped, and the session goes on.
        p.client.disable_audio().unwrap();
        p.server.extend(vec![
            Expect(vec![255, 1, 0, 1]),
            Send(audio_data(&[1, 2, 3, 4, 5, 6, 7, 8])),
            Send(vec![2]),
        ]);
        p.drive().unwrap();
        let ev = p.take_events();
        assert_eq!(ev, [Event::Bell], "chunk {chunk}");
        assert_eq!(p.client.audio_dropped_bytes(), 8);
    }
}

#[test]
fn audio_data_before_enable_or_begin_is_dropped() {
    for chunk in CHUNKINGS {
        let (mut p, r) = session(
            vec![
                Send(update(&[ACK_AUDIO])),
                // Not enabled yet: dropped.
                Send(audio_data(&[9; 6])),
            ],
            chunk,
        );
        r.unwrap();
        assert_eq!(p.client.audio_dropped_bytes(), 6);
        // Enabled but no begin yet, no format set: dropped too.
        p.client.enable_audio().unwrap();
        p.server.extend(vec![
            Expect(vec![255, 1, 0, 0]),
            Send(audio_data(&[9; 5])),
            Send(vec![255, 1, 0, 1]),
            // Inside the stream with no format: delivered with `format: None`, any length.
            Send(audio_data(&[7; 3])),
        ]);
        p.drive().unwrap();
        assert_eq!(p.client.audio_dropped_bytes(), 11);
        assert_eq!(audio_bytes(&p.take_events(), None), [7; 3]);
    }
}

#[test]
fn audio_tail_shorter_than_a_frame_is_delivered() {
    let fmt = AudioFormat {
        sample: SampleFormat::S32,
        channels: 2,
        frequency: 8000,
    };
    for chunk in CHUNKINGS {
        let (mut p, r) = session(vec![Send(update(&[ACK_AUDIO]))], chunk);
        r.unwrap();
        p.client.set_audio_format(fmt).unwrap();
        p.client.enable_audio().unwrap();
        let odd: Vec<u8> = (0..19).collect();
        p.server.extend(vec![
            Capture(10),
            Capture(4),
            Send(vec![255, 1, 0, 1]),
            Send(audio_data(&odd)),
            Send(vec![2]),
        ]);
        p.drive().unwrap();
        let ev = p.take_events();
        assert_eq!(audio_bytes(&ev, Some(fmt)), odd, "chunk {chunk}");
        assert_eq!(ev.last(), Some(&Event::Bell));
    }
}

#[test]
fn audio_api_needs_the_ack_and_valid_formats() {
    let (mut p, r) = session(vec![], usize::MAX);
    r.unwrap();
    assert!(matches!(p.client.enable_audio(), Err(Error::ApiMisuse(_))));
    assert!(matches!(
        p.client.set_audio_format(AudioFormat::CD),
        Err(Error::ApiMisuse(_))
    ));
    p.server.extend(vec![Send(update(&[ACK_AUDIO]))]);
    p.drive().unwrap();
    let bad = AudioFormat {
        channels: 3,
        ..AudioFormat::CD
    };
    assert!(matches!(
        p.client.set_audio_format(bad),
        Err(Error::ApiMisuse(_))
    ));
    let bad = AudioFormat {
        frequency: 0,
        ..AudioFormat::CD
    };
    assert!(matches!(
        p.client.set_audio_format(bad),
        Err(Error::ApiMisuse(_))
    ));
    // Misuse is not fatal.
    assert!(p.client.is_connected());
    assert!(p.client.poll_transmit().is_none());
}

fn fails_with(steps: Vec<Step>, config: Config) -> Vec<Error> {
    CHUNKINGS
        .iter()
        .map(|&chunk| {
            let (p, r) = session_with(config.clone(), steps.clone(), chunk);
            let e = r.expect_err("must fail");
            assert!(
                p.events
                    .iter()
                    .any(|e| matches!(e, Event::Disconnected { .. }))
            );
            e
        })
        .collect()
}

#[test]
fn bad_server_messages_are_typed_errors() {
    // Audio message before the -259 acknowledgement.
    for e in fails_with(vec![Send(vec![255, 1, 0, 1])], config()) {
        assert!(matches!(e, Error::PeerMisbehaved { .. }), "{e:?}");
    }
    // Submessage 0 (the spec says the server never sends it) and an unknown one.
    for sub in [0, 2, 255] {
        let steps = vec![Send(update(&[ACK_AUDIO])), Send(vec![255, sub, 0, 1])];
        for e in fails_with(steps, config()) {
            assert!(
                matches!(
                    e,
                    Error::InvalidMessage {
                        field: "submessage-type",
                        ..
                    }
                ),
                "{e:?}"
            );
        }
    }
    // An undefined audio operation.
    let steps = vec![Send(update(&[ACK_AUDIO])), Send(vec![255, 1, 0, 3])];
    for e in fails_with(steps, config()) {
        assert!(
            matches!(
                e,
                Error::InvalidMessage {
                    field: "audio operation",
                    ..
                }
            ),
            "{e:?}"
        );
    }
    // A data length over the limit fails at the header, before any byte of it is read.
    let mut c = config();
    c.limits.max_audio_data = 1000;
    let steps = vec![
        Send(update(&[ACK_AUDIO])),
        Send(vec![255, 1, 0, 2, 0xff, 0xff, 0xff, 0xff]),
    ];
    for e in fails_with(steps, c) {
        assert!(
            matches!(
                e,
                Error::LimitExceeded {
                    field: "data-length",
                    value: 0xffff_ffff,
                    limit: 1000,
                    ..
                }
            ),
            "{e:?}"
        );
    }
    // Message 255 when QEMU Audio was not offered: its length is unknown.
    let mut c = config();
    c.encodings.retain(|e| *e != Encoding::QemuAudio);
    for e in fails_with(vec![Send(vec![255, 1, 0, 1])], c) {
        assert!(matches!(e, Error::Unsupported(_)), "{e:?}");
    }
}

#[test]
fn eof_inside_audio_data_names_the_message() {
    let (mut p, r) = session(
        vec![
            Send(update(&[ACK_AUDIO])),
            Send(vec![255, 1, 0, 2, 0, 0, 0, 9, 1, 2]),
        ],
        usize::MAX,
    );
    r.unwrap();
    let e = p.client.handle_eof(0).unwrap_err();
    assert!(
        matches!(
            e,
            Error::PeerMisbehaved {
                message: "QEMU Server Message",
                ..
            }
        ),
        "{e:?}"
    );
}
