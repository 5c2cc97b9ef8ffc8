//! Extended Clipboard (0xC0A1E5CE) and legacy cut text against the scripted server. Every
//! vector is written out from the spec's tables (rfbproto "Extended Clipboard
//! Pseudo-Encoding", "ServerCutText", "ClientCutText"); zlib streams are made with flate2 here.
//! Each exchange is fed all at once, byte by byte and in 7-byte chunks.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use flate2::{Decompress, FlushDecompress, Status};
use rfb_core::clipboard::{Actions, Caps, ClipboardData, ClipboardError, ClipboardEvent, Formats};
use rfb_core::{Config, Error, Event};
use rfb_encodings::{Encoding, PixelFormat};
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, script};

const CHUNKINGS: [usize; 3] = [usize::MAX, 1, 7];

/// Connects a pair (8×6 desktop) and then plays `steps`.
fn session_with(config: Config, steps: Vec<Step>, chunk: usize) -> (Pair, Result<(), Error>) {
    let mut s = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 1]),
        Expect(vec![1]),
        Send(vec![0, 0, 0, 0]),
        Expect(vec![1]),
        Send(script::server_init(8, 6, &PixelFormat::RGBX8888, "t")),
        Capture(20), // SetPixelFormat
        Capture(4 + 4 * config.encodings.len()),
        Capture(10), // first update request
    ];
    s.extend(steps);
    let mut p = Pair::new(config, s).chunked(chunk);
    let r = p.drive();
    (p, r)
}

fn session(steps: Vec<Step>, chunk: usize) -> (Pair, Result<(), Error>) {
    session_with(Config::default(), steps, chunk)
}

/// A ServerCutText with a negative length: `body` is flags onwards.
fn server_ext(body: &[u8]) -> Vec<u8> {
    let mut m = vec![3, 0, 0, 0];
    m.extend_from_slice(&(-(body.len() as i32)).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn be(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn zlib(plain: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(plain).unwrap();
    e.finish().unwrap()
}

/// Inflates a client provide stream: it must end with a sync flush, not the end marker
/// (LibVNCServer rejects the marker), and hold all of its data.
fn inflate_sync(z: &[u8]) -> Vec<u8> {
    let mut d = Decompress::new(true);
    let mut out = Vec::with_capacity(1 << 16);
    let st = d
        .decompress_vec(z, &mut out, FlushDecompress::Sync)
        .unwrap();
    assert_ne!(st, Status::StreamEnd, "the stream must not be finished");
    assert_eq!(d.total_in() as usize, z.len());
    assert_eq!(&z[z.len() - 4..], [0, 0, 0xff, 0xff], "sync flush marker");
    out
}

/// A provide body: flags, then the zlib stream of (size, data) pairs.
fn provide_body(flags: u32, pairs: &[&[u8]]) -> Vec<u8> {
    let mut plain = Vec::new();
    for p in pairs {
        plain.extend_from_slice(&be(p.len() as u32));
        plain.extend_from_slice(p);
    }
    let mut b = be(flags).to_vec();
    b.extend(zlib(&plain));
    b
}

/// Server caps as TigerVNC-style servers send them: text, rtf, html; caps, request, peek,
/// notify, provide; 10 MiB / 2 MiB / 2 MiB.
const SERVER_CAPS: [u8; 24] = [
    3, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0, // ServerCutText, length -16
    0x1f, 0x00, 0x00, 0x07, // flags: provide|notify|peek|request|caps, html|rtf|text
    0x00, 0xa0, 0x00, 0x00, // text: 10 MiB
    0x00, 0x20, 0x00, 0x00, // rtf: 2 MiB
    0x00, 0x20, 0x00, 0x00, // html: 2 MiB
];

/// Our caps answer: same flags (all actions but caps are ones we accept), sizes 0.
const CLIENT_CAPS: [u8; 24] = [
    6, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0, // ClientCutText, length -16
    0x1f, 0x00, 0x00, 0x07, // flags
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // sizes 0 (the spec's recommendation)
];

fn caps_exchange() -> Vec<Step> {
    vec![Send(SERVER_CAPS.to_vec()), Expect(CLIENT_CAPS.to_vec())]
}

fn clip_events(p: &Pair) -> Vec<ClipboardEvent> {
    p.events
        .iter()
        .filter_map(|e| match e {
            Event::Clipboard(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn texts(p: &Pair) -> Vec<String> {
    p.events
        .iter()
        .filter_map(|e| match e {
            Event::ClipboardText(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn default_config_offers_the_pseudo_encoding() {
    assert!(
        Config::default()
            .encodings
            .contains(&Encoding::ExtendedClipboard)
    );
    assert_eq!(Encoding::ExtendedClipboard.to_i32() as u32, 0xc0a1_e5ce);
}

#[test]
fn caps_are_parsed_and_answered() {
    for chunk in CHUNKINGS {
        let (p, r) = session(caps_exchange(), chunk);
        r.unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
        assert!(p.client.extended_clipboard_active());
        let want = Caps {
            formats: Formats::TEXT | Formats::RTF | Formats::HTML,
            actions: Actions::REQUEST | Actions::PEEK | Actions::NOTIFY | Actions::PROVIDE,
            max_sizes: vec![
                (Formats::TEXT, 10 << 20),
                (Formats::RTF, 2 << 20),
                (Formats::HTML, 2 << 20),
            ],
        };
        assert_eq!(clip_events(&p), [ClipboardEvent::ServerCaps(want)]);
    }
}

#[test]
fn notify_triggers_a_request_and_provide_delivers_utf8_text() {
    let notify = server_ext(&[0x08, 0, 0, 0x01]); // notify, text
    let request = vec![6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x02, 0, 0, 0x01];
    let provide = server_ext(&provide_body(
        0x1000_0001,
        &["Grüße\r\n✓ 日本\0".as_bytes()],
    ));
    for chunk in CHUNKINGS {
        let mut steps = caps_exchange();
        steps.extend([
            Send(notify.clone()),
            Expect(request.clone()),
            Send(provide.clone()),
        ]);
        let (p, r) = session(steps, chunk);
        r.unwrap();
        assert!(p.server.finished(), "chunk {chunk}");
        assert_eq!(texts(&p), ["Grüße\n✓ 日本"]);
        let ev = clip_events(&p);
        assert_eq!(ev[1], ClipboardEvent::Notify(Formats::TEXT));
        assert_eq!(
            ev[2],
            ClipboardEvent::Provide(ClipboardData::text("Grüße\n✓ 日本"))
        );
    }
}

#[test]
fn rtf_and_html_are_kept_dib_files_and_unknown_formats_skipped() {
    // text | rtf | html | dib | files | bit 9: six pairs, lowest bit first.
    let flags = 0x1000_0000 | 0b10_0001_1111;
    let body = provide_body(
        flags,
        &[
            b"t\0",
            b"{\\rtf1 x}",
            b"<b>h</b>",
            b"BMPDATA",
            b"files",
            b"bit9",
        ],
    );
    for chunk in CHUNKINGS {
        let mut steps = caps_exchange();
        steps.push(Send(server_ext(&body)));
        let (p, r) = session(steps, chunk);
        r.unwrap();
        let want = ClipboardData {
            text: Some("t".into()),
            rtf: Some(b"{\\rtf1 x}".to_vec()),
            html: Some(b"<b>h</b>".to_vec()),
        };
        assert_eq!(clip_events(&p)[1], ClipboardEvent::Provide(want));
    }
}

#[test]
fn invalid_utf8_and_missing_nul_are_decoded_predictably() {
    let bad = server_ext(&provide_body(0x1000_0001, &[b"a\xffb\0"]));
    let no_nul = server_ext(&provide_body(0x1000_0001, &[b"no\r\nnul"]));
    let mut steps = caps_exchange();
    steps.extend([Send(bad), Send(no_nul)]);
    let (p, r) = session(steps, 1);
    r.unwrap();
    assert_eq!(texts(&p), ["a\u{fffd}b", "no\nnul"]);
}

#[test]
fn server_request_is_answered_from_our_clipboard() {
    for chunk in CHUNKINGS {
        let (mut p, r) = session(caps_exchange(), chunk);
        r.unwrap();
        // The server accepts 10 MiB of text unsolicited: a provide goes out directly.
        p.client.send_clipboard_text("x\ny €").unwrap();
        let sent = p.client.poll_transmit().unwrap();
        assert_eq!(&sent[..4], [6, 0, 0, 0]);
        let len = i32::from_be_bytes(sent[4..8].try_into().unwrap());
        assert_eq!(-len as usize, sent.len() - 8);
        assert_eq!(&sent[8..12], [0x10, 0, 0, 0x01]);
        let plain = inflate_sync(&sent[12..]);
        let mut want = be(9).to_vec();
        want.extend_from_slice("x\r\ny €\0".as_bytes());
        assert_eq!(plain, want);

        // A request for text and html: only text is held, so only text is provided.
        p.server.extend(vec![
            Send(server_ext(&[0x02, 0, 0, 0x05])),
            Capture(8 + 4), // header and flags; the zlib stream is checked below
        ]);
        p.drive().unwrap();
        let tail = p.server.unmatched().to_vec();
        let got = &p.server.captured[3];
        assert_eq!(&got[..4], [6, 0, 0, 0]);
        assert_eq!(&got[8..12], [0x10, 0, 0, 0x01]);
        assert_eq!(inflate_sync(&tail), want);
        assert!(clip_events(&p).contains(&ClipboardEvent::Request(Formats::TEXT | Formats::HTML)));
    }
}

#[test]
fn peek_is_answered_with_notify() {
    for chunk in CHUNKINGS {
        let mut steps = caps_exchange();
        // Nothing held yet: notify with no formats.
        steps.push(Send(server_ext(&[0x04, 0, 0, 0])));
        steps.push(Expect(vec![
            6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x08, 0, 0, 0,
        ]));
        let (p, r) = session(steps, chunk);
        r.unwrap();
        assert!(p.server.finished());
        assert!(clip_events(&p).contains(&ClipboardEvent::Peek));
    }
}

#[test]
fn data_over_the_servers_unsolicited_size_is_announced_with_notify() {
    let mut caps = SERVER_CAPS;
    caps[12..16].copy_from_slice(&be(4)); // text: 4 bytes unsolicited
    let mut steps = vec![Send(caps.to_vec()), Expect(CLIENT_CAPS.to_vec())];
    steps.push(Expect(vec![
        6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x08, 0, 0, 1,
    ]));
    let (mut p, r) = session(steps, usize::MAX);
    r.unwrap();
    p.client.send_clipboard_text("four").unwrap(); // 5 bytes with the NUL
    p.drive().unwrap();
    assert!(p.server.finished());
    // "abc" fits (4 bytes with the NUL): provided at once.
    p.client.send_clipboard_text("abc").unwrap();
    let sent = p.client.poll_transmit().unwrap();
    assert_eq!(&sent[8..12], [0x10, 0, 0, 1]);
}

#[test]
fn legacy_fallback_without_server_caps() {
    for chunk in CHUNKINGS {
        // Latin-1 in: every byte is one character.
        let (mut p, r) = session(
            vec![Send(vec![3, 0, 0, 0, 0, 0, 0, 3, b'a', 0xe9, 0xff])],
            chunk,
        );
        r.unwrap();
        assert_eq!(texts(&p), ["aéÿ"]);
        assert!(!p.client.extended_clipboard_active());
        // Out: CRLF becomes LF; each character outside Latin-1 becomes one '?'.
        p.client.send_clipboard_text("a\r\nGrüße ✓ 日本").unwrap();
        let mut want = vec![6, 0, 0, 0, 0, 0, 0, 12];
        want.extend_from_slice(b"a\nGr\xfc\xdfe ? ??");
        assert_eq!(p.client.poll_transmit().unwrap(), want);
    }
}

#[test]
fn legacy_text_still_accepted_after_caps() {
    let mut steps = caps_exchange();
    steps.push(Send(vec![3, 0, 0, 0, 0, 0, 0, 2, b'o', 0xe9]));
    let (p, r) = session(steps, 1);
    r.unwrap();
    assert_eq!(texts(&p), ["oé"]);
}

#[test]
fn inflate_bomb_is_ignored_without_inflating_past_the_limit() {
    let mut config = Config::default();
    config.limits.max_cut_text = 4096;
    // 1 MiB of zeros compresses to about 1 KiB: under the wire limit, far over the inflate one.
    let big = vec![0u8; 1 << 20];
    let body = provide_body(0x1000_0001, &[&big]);
    assert!(body.len() < 4096);
    for chunk in [usize::MAX, 7] {
        let mut steps = caps_exchange();
        steps.push(Send(server_ext(&body)));
        steps.push(Send(vec![2])); // Bell: the session goes on
        let (p, r) = session_with(config.clone(), steps, chunk);
        r.unwrap();
        assert_eq!(
            clip_events(&p)[1],
            ClipboardEvent::Ignored(ClipboardError::InflatedTooLarge { limit: 4096 })
        );
        assert!(p.events.contains(&Event::Bell));
        assert!(texts(&p).is_empty());
    }
}

#[test]
fn size_field_past_the_limit_is_ignored() {
    let mut config = Config::default();
    config.limits.max_cut_text = 4096;
    let mut plain = be(0xffff_fff0).to_vec();
    plain.extend_from_slice(b"short");
    let mut body = be(0x1000_0001).to_vec();
    body.extend(zlib(&plain));
    let mut steps = caps_exchange();
    steps.push(Send(server_ext(&body)));
    let (p, r) = session_with(config, steps, 1);
    r.unwrap();
    assert_eq!(
        clip_events(&p)[1],
        ClipboardEvent::Ignored(ClipboardError::InflatedTooLarge { limit: 4096 })
    );
}

#[test]
fn oversized_extended_message_is_skipped_unbuffered() {
    let mut config = Config::default();
    config.limits.max_cut_text = 64;
    let mut big = be(0x1000_0001).to_vec();
    big.extend(vec![0xaa; 100]); // not even valid zlib: it is never looked at
    for chunk in CHUNKINGS {
        let mut steps = caps_exchange();
        steps.push(Send(server_ext(&big)));
        steps.push(Send(vec![2]));
        let (p, r) = session_with(config.clone(), steps, chunk);
        r.unwrap();
        assert_eq!(
            clip_events(&p)[1],
            ClipboardEvent::Ignored(ClipboardError::MessageTooLarge {
                len: 104,
                limit: 64
            })
        );
        assert!(p.events.contains(&Event::Bell));
    }
    // i32::MIN as the length: abs() does not overflow; skipped as it streams.
    let mut steps = caps_exchange();
    steps.push(Send(vec![3, 0, 0, 0, 0x80, 0, 0, 0, 1, 2, 3]));
    let (mut p, r) = session_with(config, steps, 1);
    r.unwrap();
    assert_eq!(
        clip_events(&p)[1],
        ClipboardEvent::Ignored(ClipboardError::MessageTooLarge {
            len: 1 << 31,
            limit: 64
        })
    );
    assert_eq!(p.client.bytes_needed(), 1);
    p.client.handle_eof(0).unwrap_err();
}

#[test]
fn malformed_messages_are_ignored_with_typed_reasons() {
    let cases: Vec<(Vec<u8>, ClipboardError)> = vec![
        (vec![0x08, 0], ClipboardError::Truncated("flags")),
        (
            vec![0x01, 0, 0, 0x03, 0, 0, 0, 0],
            ClipboardError::Truncated("sizes"),
        ),
        (
            vec![0x0a, 0, 0, 0x01],
            ClipboardError::BadActions { flags: 0x0a00_0001 },
        ),
        (vec![0, 0, 0, 0x01], ClipboardError::BadActions { flags: 1 }),
        (
            [be(0x1000_0001).to_vec(), zlib(&[0, 0, 0, 9, b'a'])].concat(),
            ClipboardError::Truncated("provide data"),
        ),
        (
            [be(0x1000_0003).to_vec(), zlib(&[0, 0, 0, 1, b'a'])].concat(),
            ClipboardError::Truncated("provide size"),
        ),
    ];
    for (body, want) in cases {
        let mut steps = caps_exchange();
        steps.push(Send(server_ext(&body)));
        steps.push(Send(vec![2]));
        let (p, r) = session(steps, 1);
        r.unwrap();
        assert_eq!(clip_events(&p)[1], ClipboardEvent::Ignored(want));
        assert!(p.events.contains(&Event::Bell));
    }
    // Corrupt zlib: the reason text comes from the inflater.
    let mut steps = caps_exchange();
    steps.push(Send(server_ext(&[0x10, 0, 0, 1, 0xff, 0xff, 0xff, 0xff])));
    let (p, r) = session(steps, 1);
    r.unwrap();
    assert!(matches!(
        clip_events(&p)[1],
        ClipboardEvent::Ignored(ClipboardError::Zlib(_))
    ));
}

#[test]
fn without_the_pseudo_encoding_a_negative_length_is_a_legacy_limit_error() {
    let config = Config {
        encodings: Config::encodings_with_pseudo(&[Encoding::Raw])
            .into_iter()
            .filter(|e| *e != Encoding::ExtendedClipboard)
            .collect(),
        ..Config::default()
    };
    let (_, r) = session_with(config, vec![Send(server_ext(&[0x08, 0, 0, 1]))], 1);
    assert!(matches!(
        r.unwrap_err(),
        Error::LimitExceeded {
            message: "ServerCutText",
            ..
        }
    ));
}

#[test]
fn request_and_peek_need_server_caps() {
    let (mut p, r) = session(vec![], usize::MAX);
    r.unwrap();
    assert!(matches!(
        p.client.request_clipboard(Formats::TEXT),
        Err(Error::ApiMisuse(_))
    ));
    assert!(matches!(
        p.client.peek_clipboard(),
        Err(Error::ApiMisuse(_))
    ));
    let (mut p, r) = session(caps_exchange(), usize::MAX);
    r.unwrap();
    p.client.request_clipboard(Formats::TEXT).unwrap();
    p.client.peek_clipboard().unwrap();
    assert_eq!(
        p.client.poll_transmit().unwrap(),
        [
            6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x02, 0, 0, 1, // request text
            6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc, 0x04, 0, 0, 0, // peek
        ]
    );
}

#[test]
fn type_text_sends_key_events() {
    let (mut p, r) = session(vec![], usize::MAX);
    r.unwrap();
    let skipped = p
        .client
        .type_text("a!\n", &|c| if c.is_ascii() { u32::from(c) } else { 0 })
        .unwrap();
    assert_eq!(skipped, 0);
    let key = |k: u32, d: u8| {
        let mut b = vec![4, d, 0, 0];
        b.extend_from_slice(&k.to_be_bytes());
        b
    };
    let want = [
        key(0x61, 1),
        key(0x61, 0),
        key(0xffe1, 1),
        key(0x21, 1),
        key(0x21, 0),
        key(0xffe1, 0),
        key(0xff0d, 1),
        key(0xff0d, 0),
    ]
    .concat();
    assert_eq!(p.client.poll_transmit().unwrap(), want);
}

#[test]
fn server_without_notify_gets_legacy_text_then_provide() {
    // LibVNCServer's caps: text up to 1 MiB; request, peek, provide; no notify.
    let caps = vec![
        3, 0, 0, 0, 0xff, 0xff, 0xff, 0xf8, // length -8
        0x17, 0, 0, 0x01, // caps|request|peek|provide, text
        0x00, 0x10, 0x00, 0x00, // 1 MiB
    ];
    let (mut p, r) = session(vec![Send(caps), Expect(CLIENT_CAPS.to_vec())], 1);
    r.unwrap();
    p.client.send_clipboard_text("é✓").unwrap();
    let sent = p.client.poll_transmit().unwrap();
    assert_eq!(&sent[..10], [6, 0, 0, 0, 0, 0, 0, 2, 0xe9, b'?']);
    let ext = &sent[10..];
    assert_eq!(&ext[..4], [6, 0, 0, 0]);
    assert_eq!(&ext[8..12], [0x10, 0, 0, 1]);
    let mut want = be(6).to_vec();
    want.extend_from_slice("é✓\0".as_bytes());
    assert_eq!(inflate_sync(&ext[12..]), want);
}
