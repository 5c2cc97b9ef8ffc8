//! Handshake tests against the scripted server: every version string real servers send, both
//! security types, every failure path, each fed all at once and byte by byte.

use std::time::Duration;

use rfb_core::security::vnc_auth_response;
use rfb_core::{Config, Credentials, Error, Event, PixelFormatChoice, SecurityType, Version};
use rfb_encodings::PixelFormat;
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, script};

const CHUNKINGS: [usize; 3] = [usize::MAX, 1, 5];

fn run(config: Config, steps: Vec<Step>, chunk: usize) -> (Pair, Result<(), Error>) {
    let mut p = Pair::new(config, steps).chunked(chunk);
    let r = p.drive();
    (p, r)
}

fn connected_info(p: &Pair) -> rfb_core::ServerInfo {
    p.events
        .iter()
        .find_map(|e| match e {
            Event::Connected(i) => Some(i.clone()),
            _ => None,
        })
        .expect("no Connected event")
}

/// Security-None handshake for a server announcing `server_version`, with the bytes the
/// negotiated version implies.
fn none_handshake(server_version: &[u8; 12], chosen: Version) -> Vec<Step> {
    let mut s = vec![
        Send(server_version.to_vec()),
        Expect(chosen.wire().to_vec()),
    ];
    match chosen {
        // 3.3: the server imposes the type as a U32; no SecurityResult for None.
        Version::V3_3 => s.push(Send(vec![0, 0, 0, 1])),
        // 3.7: list, choice, and no SecurityResult for None.
        Version::V3_7 => s.extend([Send(vec![1, 1]), Expect(vec![1])]),
        // 3.8: list, choice, SecurityResult OK.
        Version::V3_8 => s.extend([Send(vec![2, 2, 1]), Expect(vec![1]), Send(vec![0, 0, 0, 0])]),
    }
    s.push(Expect(vec![1])); // ClientInit, shared
    s.push(Send(script::server_init(
        640,
        480,
        &PixelFormat::RGBX8888,
        "desk",
    )));
    s.extend(script::client_setup(640, 480, &Config::default().encodings));
    s
}

#[test]
fn every_real_version_string() {
    let cases: [(&[u8; 12], Version); 9] = [
        (b"RFB 003.003\n", Version::V3_3),
        (b"RFB 003.005\n", Version::V3_3),
        (b"RFB 003.006\n", Version::V3_3),
        (b"RFB 003.007\n", Version::V3_7),
        (b"RFB 003.008\n", Version::V3_8),
        (b"RFB 003.889\n", Version::V3_8),
        (b"RFB 004.000\n", Version::V3_8),
        (b"RFB 004.001\n", Version::V3_8),
        (b"RFB 005.000\n", Version::V3_8),
    ];
    for (s, v) in cases {
        for chunk in CHUNKINGS {
            let (p, r) = run(Config::default(), none_handshake(s, v), chunk);
            r.unwrap();
            assert!(
                p.server.finished(),
                "{s:?} chunk {chunk}: script not finished"
            );
            assert!(p.client.is_connected());
            let info = connected_info(&p);
            assert_eq!(info.version, v);
            assert_eq!(info.server_version, String::from_utf8_lossy(&s[..11]));
            assert_eq!(
                (info.width, info.height, info.name.as_str()),
                (640, 480, "desk")
            );
            assert_eq!(info.security, SecurityType::None);
            assert_eq!((p.fb.width(), p.fb.height()), (640, 480));
        }
    }
}

#[test]
fn malformed_version_is_a_named_error_and_sticky() {
    for chunk in CHUNKINGS {
        let (mut p, r) = run(
            Config::default(),
            vec![Send(b"RFB 003.0x8\n".to_vec())],
            chunk,
        );
        let e = r.unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidMessage {
                    message: "ProtocolVersion",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("003.0x8"), "{e}");
        assert!(
            p.events
                .iter()
                .any(|e| matches!(e, Event::Disconnected { .. }))
        );
        // Sticky: further input is refused with the same error.
        assert_eq!(
            p.client
                .handle_input(b"RFB 003.008\n", &mut p.fb)
                .unwrap_err(),
            e
        );
        assert_eq!(p.client.bytes_needed(), 0);
    }
}

#[test]
fn vnc_auth_success_with_credentials_event() {
    let challenge: Vec<u8> = (1..=16).collect();
    let response = vnc_auth_response(challenge.as_slice().try_into().unwrap(), "secret12");
    for chunk in CHUNKINGS {
        let steps = vec![
            Send(b"RFB 003.008\n".to_vec()),
            Expect(b"RFB 003.008\n".to_vec()),
            Send(vec![1, 2]),
            Expect(vec![2]),
            Send(challenge.clone()),
        ];
        let (mut p, r) = run(Config::default(), steps, chunk);
        r.unwrap();
        let needed = p.events.iter().find_map(|e| match e {
            Event::CredentialsRequired(n) => Some(*n),
            _ => None,
        });
        let needed = needed.expect("credentials event");
        assert!(needed.password && !needed.username && !needed.target);
        p.server.extend(vec![
            Expect(response.to_vec()),
            Send(vec![0, 0, 0, 0]),
            Expect(vec![1]),
            Send(script::server_init(8, 8, &PixelFormat::RGBX8888, "x")),
        ]);
        p.server
            .extend(script::client_setup(8, 8, &Config::default().encodings));
        p.client
            .supply_credentials(&Credentials {
                password: Some("secret12".into()),
                ..Default::default()
            })
            .unwrap();
        p.drive().unwrap();
        assert!(p.client.is_connected(), "chunk {chunk}");
        assert!(p.server.finished());
        assert!(p.events.contains(&Event::SecurityResultOk));
    }
}

#[test]
fn vnc_auth_failure_with_reason_38() {
    for chunk in CHUNKINGS {
        let steps = vec![
            Send(b"RFB 003.008\n".to_vec()),
            Expect(b"RFB 003.008\n".to_vec()),
            Send(vec![1, 2]),
            Expect(vec![2]),
            Send(vec![0; 16]),
        ];
        let (mut p, _) = run(Config::default(), steps, chunk);
        let reason = b"Authentication failure";
        let mut fail = vec![0, 0, 0, 1, 0, 0, 0, reason.len() as u8];
        fail.extend_from_slice(reason);
        p.server.extend(vec![Capture(16), Send(fail)]);
        p.client
            .supply_credentials(&Credentials {
                password: Some("wrong".into()),
                ..Default::default()
            })
            .unwrap();
        let e = p.drive().unwrap_err();
        assert_eq!(
            e,
            Error::AuthFailed {
                reason: "Authentication failure".into()
            }
        );
        assert!(!p.client.is_connected());
    }
}

/// A failed SecurityResult followed by a close before (all of) the 3.8 reason arrived is a
/// failed authentication, not a protocol error: x11vnc over TLS closes right after the result.
#[test]
fn a_close_before_the_failure_reason_is_still_an_auth_failure() {
    for tail in [vec![], vec![0, 0], vec![0, 0, 0, 20, b'p', b'a']] {
        let steps = vec![
            Send(b"RFB 003.008\n".to_vec()),
            Expect(b"RFB 003.008\n".to_vec()),
            Send(vec![1, 2]),
            Expect(vec![2]),
            Send(vec![0; 16]),
        ];
        let (mut p, _) = run(Config::default(), steps, 1);
        let mut result = vec![0, 0, 0, 1];
        result.extend_from_slice(&tail);
        p.server.extend(vec![Capture(16), Send(result)]);
        p.client
            .supply_credentials(&Credentials {
                password: Some("wrong".into()),
                ..Default::default()
            })
            .unwrap();
        p.drive().unwrap();
        let held = p.inbuf.len();
        let e = p.client.handle_eof(held).unwrap_err();
        assert!(matches!(e, Error::AuthFailed { .. }), "{tail:?}: {e}");
        // Sticky, as every fatal error.
        assert_eq!(p.client.handle_eof(held).unwrap_err(), e);
    }
}

/// x11vnc answers a wrong X509Plain password with the text "unixpw failed" where the U32
/// result belongs: that is a failed authentication, not a 1.9 GB reason length.
#[test]
fn text_where_the_result_belongs_is_an_auth_failure() {
    let steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 2]),
        Expect(vec![2]),
        Send(vec![0; 16]),
    ];
    let (mut p, _) = run(Config::default(), steps, 1);
    p.server
        .extend(vec![Capture(16), Send(b"unixpw failed".to_vec())]);
    p.client
        .supply_credentials(&Credentials {
            password: Some("wrong".into()),
            ..Default::default()
        })
        .unwrap();
    let e = p.drive().unwrap_err();
    assert_eq!(
        e,
        Error::AuthFailed {
            reason: "the server answered SecurityResult with 0x756e6978 (text \"unix\" where the \
                     result code belongs)"
                .into()
        }
    );
}

#[test]
fn vnc_auth_failure_without_reason_33_and_37() {
    for (v, sec) in [
        (Version::V3_3, vec![Send(vec![0, 0, 0, 2])]),
        (Version::V3_7, vec![Send(vec![1, 2]), Expect(vec![2])]),
    ] {
        let mut steps = vec![Send(v.wire().to_vec()), Expect(v.wire().to_vec())];
        steps.extend(sec);
        steps.extend([Send(vec![9; 16]), Capture(16), Send(vec![0, 0, 0, 1])]);
        let mut p = Pair::new(Config::default(), steps);
        p.drive().unwrap();
        p.client
            .supply_credentials(&Credentials {
                password: Some("pw".into()),
                ..Default::default()
            })
            .unwrap();
        let e = p.drive().unwrap_err();
        assert!(matches!(e, Error::AuthFailed { .. }), "{v}: {e}");
        assert_eq!(p.server.captured[0], vnc_auth_response(&[9; 16], "pw"));
    }
}

#[test]
fn server_refusal_with_reason() {
    // 3.8: zero security types, then a reason string.
    let mut refuse = vec![0, 0, 0, 0, 9];
    refuse.extend_from_slice(b"too many!");
    let steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(refuse),
    ];
    for chunk in CHUNKINGS {
        let (_, r) = run(Config::default(), steps.clone(), chunk);
        assert_eq!(
            r.unwrap_err(),
            Error::ConnectionRefused {
                reason: "too many!".into()
            }
        );
    }
    // 3.3: security type 0, then a reason string.
    let mut refuse = vec![0, 0, 0, 0, 0, 0, 0, 2];
    refuse.extend_from_slice(b"no");
    let steps = vec![
        Send(b"RFB 003.003\n".to_vec()),
        Expect(b"RFB 003.003\n".to_vec()),
        Send(refuse),
    ];
    let (_, r) = run(Config::default(), steps, 1);
    assert_eq!(
        r.unwrap_err(),
        Error::ConnectionRefused {
            reason: "no".into()
        }
    );
}

#[test]
fn no_common_security_type_names_both_lists() {
    let steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![2, 19, 30]),
    ];
    let (p, r) = run(Config::default(), steps, 1);
    let e = r.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("vencrypt(19)") && msg.contains("ard(30)") && msg.contains("none(1)"),
        "{msg}"
    );
    assert!(p.events.contains(&Event::SecurityTypes(vec![
        SecurityType::VeNCrypt,
        SecurityType::AppleArd
    ])));
}

#[test]
fn security_preference_is_the_clients() {
    let config = Config {
        security_types: vec![SecurityType::VncAuth, SecurityType::None],
        ..Config::default()
    };
    let steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![2, 1, 2]),
        Expect(vec![2]),
    ];
    let (p, r) = run(config, steps, 1);
    r.unwrap();
    assert!(p.server.finished());
}

#[test]
fn ultravnc_repeater_id_is_padded_to_250() {
    let mut id = b"ID:1234".to_vec();
    id.resize(250, 0);
    let mut steps = vec![Send(b"RFB 000.000\n".to_vec()), Expect(id)];
    steps.extend(none_handshake(b"RFB 003.008\n", Version::V3_8));
    let config = Config {
        repeater_id: Some("ID:1234".into()),
        ..Config::default()
    };
    for chunk in CHUNKINGS {
        let (p, r) = run(config.clone(), steps.clone(), chunk);
        r.unwrap();
        assert!(p.client.is_connected());
    }
    // Without an ID the repeater is a clear error.
    let (_, r) = run(Config::default(), vec![Send(b"RFB 000.000\n".to_vec())], 1);
    assert!(r.unwrap_err().to_string().contains("repeater"));
}

#[test]
fn handshake_timeout_uses_the_virtual_clock() {
    let config = Config {
        handshake_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    };
    let mut p = Pair::new(
        config,
        vec![
            Send(b"RFB 003.008\n".to_vec()),
            Expect(b"RFB 003.008\n".to_vec()),
        ],
    );
    p.drive().unwrap();
    assert_eq!(p.client.poll_timeout(), Some(Duration::from_secs(5)));
    p.advance(Duration::from_secs(4)).unwrap();
    let e = p.advance(Duration::from_secs(1)).unwrap_err();
    assert_eq!(
        e,
        Error::Timeout {
            phase: "security negotiation"
        }
    );
    assert_eq!(p.client.poll_timeout(), None);
    // Once connected there is no deadline.
    let config = Config {
        handshake_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    };
    let mut p = Pair::new(config, script::handshake_none_38(2, 2, "d"));
    p.drive().unwrap();
    assert_eq!(p.client.poll_timeout(), None);
    p.advance(Duration::from_secs(60)).unwrap();
}

#[test]
fn oversized_strings_are_limit_errors() {
    let mut refuse = vec![0];
    refuse.extend_from_slice(&u32::MAX.to_be_bytes());
    let steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(refuse),
    ];
    let (_, r) = run(Config::default(), steps, usize::MAX);
    assert!(matches!(
        r.unwrap_err(),
        Error::LimitExceeded {
            field: "reason-length",
            ..
        }
    ));

    let mut init = script::server_init(4, 4, &PixelFormat::RGBX8888, "");
    init.truncate(20);
    init.extend_from_slice(&u32::MAX.to_be_bytes());
    let steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 1]),
        Expect(vec![1]),
        Send(vec![0, 0, 0, 0]),
        Expect(vec![1]),
        Send(init),
    ];
    let (_, r) = run(Config::default(), steps, 3);
    assert!(matches!(
        r.unwrap_err(),
        Error::LimitExceeded {
            message: "ServerInit",
            field: "name-length",
            ..
        }
    ));
}

#[test]
fn huge_framebuffer_is_refused_before_allocation() {
    let mut steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 1]),
        Expect(vec![1]),
        Send(vec![0, 0, 0, 0]),
        Expect(vec![1]),
    ];
    steps.push(Send(script::server_init(
        65535,
        65535,
        &PixelFormat::RGBX8888,
        "big",
    )));
    let (p, r) = run(Config::default(), steps, usize::MAX);
    assert!(matches!(
        r.unwrap_err(),
        Error::LimitExceeded {
            message: "ServerInit",
            field: "width",
            ..
        }
    ));
    assert_eq!(p.fb.width(), 0);
}

#[test]
fn invalid_native_pixel_format_is_named() {
    let mut bad = PixelFormat::RGBX8888;
    bad.bits_per_pixel = 24;
    let mut steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 1]),
        Expect(vec![1]),
        Send(vec![0, 0, 0, 0]),
        Expect(vec![1]),
    ];
    steps.push(Send(script::server_init(4, 4, &bad, "x")));
    let config = Config {
        pixel_format: PixelFormatChoice::Native,
        ..Config::default()
    };
    let (_, r) = run(config, steps, usize::MAX);
    let e = r.unwrap_err();
    assert!(
        e.to_string().contains("ServerInit pixel format") && e.to_string().contains("24"),
        "{e}"
    );
}

#[test]
fn non_utf8_name_is_lossy() {
    let mut steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 1]),
        Expect(vec![1]),
        Send(vec![0, 0, 0, 0]),
        Expect(vec![1]),
    ];
    let mut init = script::server_init(2, 2, &PixelFormat::RGBX8888, "");
    init.truncate(20);
    init.extend_from_slice(&[0, 0, 0, 3, b'a', 0xff, b'b']);
    steps.push(Send(init));
    let (p, r) = run(Config::default(), steps, 1);
    r.unwrap();
    assert_eq!(connected_info(&p).name, "a\u{fffd}b");
}

#[test]
fn api_misuse_is_not_fatal() {
    let mut p = Pair::new(Config::default(), vec![Send(b"RFB 003.008\n".to_vec())]);
    assert_eq!(
        p.client.send_key(0x61, true),
        Err(Error::ApiMisuse(
            "the session has not started (wait for Event::Connected)"
        ))
    );
    assert!(
        p.client
            .supply_credentials(&Credentials::default())
            .is_err()
    );
    p.drive().unwrap();
    assert!(p.client.error().is_none());
}
