//! Vectors from RFC 6455 (§1.3, §5.7) and the failure paths, each fed whole and byte by byte.

use rfb_testkit::harness::TestRng;
use rfb_ws::*;

/// Feeds `bytes` in chunks of `chunk`, as a driver would; returns events or the error.
fn feed(ws: &mut WsConnection, bytes: &[u8], chunk: usize) -> Result<Vec<WsEvent>, WsError> {
    let mut buf = Vec::new();
    let mut events = Vec::new();
    for c in bytes.chunks(chunk.max(1)) {
        buf.extend_from_slice(c);
        let n = ws.handle_input(&buf)?;
        buf.drain(..n);
        events.extend(std::iter::from_fn(|| ws.poll_event()));
    }
    assert!(
        buf.len() < 14,
        "the connection should consume payload as it arrives"
    );
    Ok(events)
}

/// Joins data chunks into whole messages.
fn messages(events: &[WsEvent]) -> Vec<(bool, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for e in events {
        if let WsEvent::Data {
            text,
            data,
            first,
            last,
        } = e
        {
            if *first {
                cur.clear();
            }
            cur.extend_from_slice(data);
            if *last {
                out.push((*text, cur.clone()));
            }
        }
    }
    out
}

fn server() -> WsConnection {
    WsConnection::new(Role::Server, Limits::default(), None)
}

fn client() -> WsConnection {
    WsConnection::new(
        Role::Client,
        Limits::default(),
        Some(Box::new(TestRng::default())),
    )
}

const CHUNKS: [usize; 4] = [usize::MAX, 1, 2, 7];

#[test]
fn rfc_examples_client_side() {
    for chunk in CHUNKS {
        // Unmasked "Hello", fragmented "Hel"+"lo", unmasked ping "Hello".
        let mut ws = client();
        let mut bytes = vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        bytes.extend([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
        bytes.extend([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        let ev = feed(&mut ws, &bytes, chunk).unwrap();
        assert_eq!(
            messages(&ev),
            vec![(true, b"Hello".to_vec()), (true, b"Hello".to_vec())]
        );
        assert!(ev.contains(&WsEvent::Ping(b"Hello".to_vec())));
        // The pong is masked (client role) and carries the same payload.
        let out = ws.poll_transmit().unwrap();
        assert_eq!(out[0], 0x8a);
        assert_eq!(out[1], 0x85);
        let mut p = out[6..].to_vec();
        apply_mask(&mut p, [out[2], out[3], out[4], out[5]], 0);
        assert_eq!(p, b"Hello");
    }
}

#[test]
fn rfc_examples_server_side() {
    for chunk in CHUNKS {
        let mut ws = server();
        // Masked "Hello" and the masked pong of §5.7.
        let mut bytes = vec![
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        bytes.extend([
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ]);
        let ev = feed(&mut ws, &bytes, chunk).unwrap();
        assert_eq!(messages(&ev), vec![(true, b"Hello".to_vec())]);
        assert!(ev.contains(&WsEvent::Pong(b"Hello".to_vec())));
    }
}

#[test]
fn binary_lengths_7_16_64_bit() {
    for len in [0usize, 125, 126, 256, 65535, 65536, 200_000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        let mut c = client();
        c.send_binary(&data);
        let wire = c.poll_transmit().unwrap();
        // RFC §5.7: 256 bytes use 0x7E + 16-bit length; 64 KiB uses 0x7F + 64-bit length.
        match len {
            256 => assert_eq!(&wire[..4], &[0x82, 0xfe, 0x01, 0x00]),
            65536 => assert_eq!(&wire[..10], &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0]),
            _ => {}
        }
        for chunk in [usize::MAX, 4093] {
            let mut s = server();
            let ev = feed(&mut s, &wire, chunk).unwrap();
            assert_eq!(
                messages(&ev),
                vec![(false, data.clone())],
                "len {len} chunk {chunk}"
            );
        }
    }
}

#[test]
fn server_to_client_round_trip_and_close_handshake() {
    let mut s = server();
    let mut c = client();
    s.send_binary(b"RFB 003.008\n");
    s.send_close(CloseCode::Normal, "Target closed");
    let wire = s.poll_transmit().unwrap();
    assert_eq!(&wire[..2], &[0x82, 12], "server frames are unmasked");
    let ev = feed(&mut c, &wire, 3).unwrap();
    assert_eq!(messages(&ev), vec![(false, b"RFB 003.008\n".to_vec())]);
    assert!(ev.contains(&WsEvent::Close {
        code: Some(CloseCode::Normal),
        reason: "Target closed".into()
    }));
    // The client echoed the close; both sides are now closed.
    let echo = c.poll_transmit().unwrap();
    assert!(c.is_closed());
    let ev = feed(&mut s, &echo, usize::MAX).unwrap();
    assert!(matches!(
        ev[0],
        WsEvent::Close {
            code: Some(CloseCode::Normal),
            ..
        }
    ));
    assert!(s.is_closed());
    assert!(s.poll_transmit().is_none(), "no second close frame");
}

#[test]
fn utf8_split_across_chunks_and_frames() {
    let text = "héllo wörld €𝄞";
    let mut c = client();
    let bytes = text.as_bytes();
    // Fragment in the middle of multi-byte sequences.
    let mut wire = Vec::new();
    let mask = [1, 2, 3, 4];
    for (i, part) in [&bytes[..2], &bytes[2..12], &bytes[12..]]
        .into_iter()
        .enumerate()
    {
        let op = if i == 0 {
            Opcode::Text
        } else {
            Opcode::Continuation
        };
        write_header(&mut wire, i == 2, op, Some(mask), part.len() as u64);
        let mut p = part.to_vec();
        apply_mask(&mut p, mask, 0);
        wire.extend(p);
    }
    let _ = c.poll_transmit();
    for chunk in CHUNKS {
        let mut s = server();
        let ev = feed(&mut s, &wire, chunk).unwrap();
        assert_eq!(messages(&ev), vec![(true, bytes.to_vec())]);
    }
}

fn masked(fin: bool, op: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let k = [9, 8, 7, 6];
    write_header(&mut v, fin, op, Some(k), payload.len() as u64);
    let mut p = payload.to_vec();
    apply_mask(&mut p, k, 0);
    v.extend(p);
    v
}

#[test]
fn protocol_errors_close_with_the_right_code() {
    let cases: Vec<(Vec<u8>, CloseCode, &str)> = vec![
        (vec![0x82, 0x01, 0x00], CloseCode::Protocol, "not masked"),
        (
            {
                let mut v = masked(true, Opcode::Binary, b"x");
                v[0] |= 0x40;
                v
            },
            CloseCode::Protocol,
            "reserved bits",
        ),
        (
            masked(true, Opcode::Reserved(3), b""),
            CloseCode::Protocol,
            "reserved opcode",
        ),
        (
            masked(false, Opcode::Ping, b""),
            CloseCode::Protocol,
            "fragmented control",
        ),
        (
            masked(true, Opcode::Ping, &[0; 126]),
            CloseCode::Protocol,
            "control frame of 126",
        ),
        (
            masked(true, Opcode::Continuation, b"x"),
            CloseCode::Protocol,
            "continuation frame without",
        ),
        (
            [
                masked(false, Opcode::Binary, b"a"),
                masked(true, Opcode::Binary, b"b"),
            ]
            .concat(),
            CloseCode::Protocol,
            "new message started",
        ),
        (
            masked(true, Opcode::Text, &[0xc3, 0x28]),
            CloseCode::InvalidPayload,
            "invalid UTF-8",
        ),
        (
            masked(true, Opcode::Text, &[0xe2, 0x82]),
            CloseCode::InvalidPayload,
            "invalid UTF-8",
        ),
        (
            masked(true, Opcode::Close, &[3]),
            CloseCode::Protocol,
            "one-byte",
        ),
        (
            masked(true, Opcode::Close, &999u16.to_be_bytes()),
            CloseCode::Protocol,
            "code 999",
        ),
        (
            masked(true, Opcode::Close, &1005u16.to_be_bytes()),
            CloseCode::Protocol,
            "code 1005",
        ),
        (
            masked(true, Opcode::Close, &[0x03, 0xe8, 0xff]),
            CloseCode::InvalidPayload,
            "invalid UTF-8",
        ),
        (
            vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
            CloseCode::Protocol,
            "most significant bit",
        ),
    ];
    for (wire, code, text) in cases {
        for chunk in [usize::MAX, 1] {
            let mut s = server();
            let e = feed(&mut s, &wire, chunk).unwrap_err();
            assert_eq!(e.code, code, "{text}: {e}");
            assert!(e.to_string().contains(text), "{e} should mention {text:?}");
            // A close frame with that code was queued, and the error is sticky.
            let out = s.poll_transmit().unwrap();
            assert_eq!(
                (out[0], u16::from_be_bytes([out[2], out[3]])),
                (0x88, code.to_u16())
            );
            assert_eq!(s.handle_input(&[0x82]).unwrap_err(), e);
        }
    }
}

#[test]
fn limits_are_enforced_before_buffering() {
    let limits = Limits {
        max_frame: 1000,
        max_message: 1500,
    };
    let mut s = WsConnection::new(Role::Server, limits, None);
    // Only the header of a huge frame is needed to refuse it.
    let mut hdr = Vec::new();
    write_header(&mut hdr, true, Opcode::Binary, Some([0; 4]), 1 << 40);
    let e = s.handle_input(&hdr).unwrap_err();
    assert_eq!(e.code, CloseCode::TooBig);
    let mut s = WsConnection::new(Role::Server, limits, None);
    let wire = [
        masked(false, Opcode::Binary, &[1; 900]),
        masked(true, Opcode::Continuation, &[1; 900]),
    ]
    .concat();
    let e = feed(&mut s, &wire, usize::MAX).unwrap_err();
    assert!(matches!(e.kind, WsErrorKind::MessageTooLarge { .. }));
}

#[test]
fn interleaved_control_frames_and_empty_messages() {
    let wire = [
        masked(false, Opcode::Binary, b"ab"),
        masked(true, Opcode::Ping, b"p"),
        masked(true, Opcode::Continuation, b"cd"),
        masked(true, Opcode::Binary, b""),
    ]
    .concat();
    for chunk in CHUNKS {
        let mut s = server();
        let ev = feed(&mut s, &wire, chunk).unwrap();
        assert_eq!(
            messages(&ev),
            vec![(false, b"abcd".to_vec()), (false, Vec::new())]
        );
        assert!(ev.contains(&WsEvent::Ping(b"p".to_vec())));
        assert_eq!(s.poll_transmit().unwrap(), vec![0x8a, 1, b'p']);
    }
}

#[test]
fn data_after_close_is_an_error_and_sends_after_close_are_dropped() {
    let mut s = server();
    let wire = [
        masked(true, Opcode::Close, &1000u16.to_be_bytes()),
        masked(true, Opcode::Binary, b"x"),
    ]
    .concat();
    let e = feed(&mut s, &wire, usize::MAX).unwrap_err();
    assert_eq!(e.kind, WsErrorKind::AfterClose);
    let mut s = server();
    s.send_close(CloseCode::Away, "bye");
    let _ = s.poll_transmit();
    s.send_binary(b"late");
    assert!(s.poll_transmit().is_none());
}

#[test]
fn handshake_rfc_example_and_websockify_subprotocols() {
    let req = |proto: Option<&str>| {
        let mut r = String::from(
            "GET /websockify?token=a HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\n",
        );
        if let Some(p) = proto {
            r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
        }
        r.push_str("\r\n");
        r.into_bytes()
    };
    let limits = HeadLimits::default();
    for (proto, want) in [
        (None, Ok(None)),
        (Some("binary"), Ok(Some("binary"))),
        (Some("binary, base64"), Ok(Some("binary"))),
        (Some("base64, binary"), Ok(Some("binary"))),
        (Some("base64"), Err(400)),
        (Some("chat"), Err(400)),
    ] {
        let bytes = req(proto);
        // Byte by byte: incomplete until the blank line.
        for i in 1..bytes.len() {
            assert!(parse_request(&bytes[..i], &limits).unwrap().is_none());
        }
        let (n, r) = parse_request(&bytes, &limits).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(r.path, "/websockify?token=a");
        match (validate_upgrade(&r), want) {
            (Ok(a), Ok(p)) => {
                assert_eq!(a.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
                assert_eq!(a.protocol.as_deref(), p);
                let resp = String::from_utf8(accept_response(&a)).unwrap();
                assert!(resp.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
                assert!(resp.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
                assert_eq!(resp.contains("Sec-WebSocket-Protocol: binary"), p.is_some());
                // The client side accepts it.
                let (m, got) =
                    client_verify_response(resp.as_bytes(), "dGhlIHNhbXBsZSBub25jZQ==", &limits)
                        .unwrap()
                        .unwrap();
                assert_eq!((m, got.as_deref()), (resp.len(), p));
            }
            (Err(e), Err(status)) => {
                assert_eq!(e.status(), status);
                assert!(e.to_string().contains("Invalid protocol selected"), "{e}");
            }
            (got, want) => panic!("{proto:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn bad_upgrades() {
    let limits = HeadLimits::default();
    let base = "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    let check = |head: String, status: u16, text: &str| {
        let (_, r) = parse_request(head.as_bytes(), &limits).unwrap().unwrap();
        let e = validate_upgrade(&r).unwrap_err();
        assert_eq!(e.status(), status, "{head}");
        assert!(e.to_string().contains(text), "{e} vs {text}");
    };
    check(format!("POST / HTTP/1.1\r\n{base}\r\n"), 405, "POST");
    check(format!("GET / HTTP/1.0\r\n{base}\r\n"), 400, "HTTP/1.1");
    check(
        format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            base.replace("Upgrade: websocket\r\n", "")
        ),
        400,
        "Upgrade",
    );
    check(
        format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            base.replace("Connection: Upgrade", "Connection: close")
        ),
        400,
        "Connection",
    );
    check(
        format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            base.replace("Version: 13", "Version: 8")
        ),
        426,
        "13",
    );
    check(
        format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            base.replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=")
        ),
        400,
        "16 bytes",
    );
    check(
        format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            base.replace("dGhlIHNhbXBsZSBub25jZQ==", "!!!")
        ),
        400,
        "base64",
    );
    assert!(matches!(
        parse_request(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", &limits),
        Err(HandshakeError::Malformed(_))
    ));
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(20_000));
    assert_eq!(
        parse_request(huge.as_bytes(), &limits)
            .unwrap_err()
            .status(),
        431
    );
    let many: String = (0..100).map(|i| format!("X{i}: y\r\n")).collect();
    assert_eq!(
        parse_request(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes(), &limits)
            .unwrap_err()
            .status(),
        431
    );
    let resp =
        String::from_utf8(error_response(426, "Upgrade Required\r\nInjected: x", &[])).unwrap();
    assert!(resp.starts_with("HTTP/1.1 426 Upgrade RequiredInjected: x\r\n"));
    assert!(resp.contains("Sec-WebSocket-Version: 13\r\n"));
    // Client side: a non-101 and a wrong accept.
    let e = client_verify_response(b"HTTP/1.1 403 Forbidden\r\n\r\n", "k", &limits).unwrap_err();
    assert!(matches!(e, HandshakeError::Status { status: 403, .. }));
    let e = client_verify_response(
        b"HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: nope\r\n\r\n",
        "k",
        &limits,
    )
    .unwrap_err();
    assert_eq!(e, HandshakeError::Accept);
    let req = String::from_utf8(client_request(
        "h:1",
        "/x",
        &client_key([0; 16]),
        &["binary"],
    ))
    .unwrap();
    assert!(
        req.contains("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n")
            && req.contains("Sec-WebSocket-Protocol: binary\r\n")
    );
}
