//! rfb-server against our own client core, in memory: every encoding and pixel format decodes
//! pixel-exact into an `rfb_encodings::Framebuffer`; plus golden bytes for each message.

use std::time::Duration;

use rfb_core::{Client, Config as ClientConfig, Credentials, Event as CEvent, PixelFormatChoice};
use rfb_encodings::{DrawTarget, Encoding, Framebuffer, PixelFormat, Rect, expand_component};
use rfb_server::{Config, Copy, Event, Security, Server, Version};
use rfb_testkit::harness::TestRng;

/// Server and client wired together in memory.
struct Link {
    server: Server,
    client: Client,
    fb: Framebuffer,
    s_in: Vec<u8>,
    c_in: Vec<u8>,
    s_events: Vec<Event>,
    c_events: Vec<CEvent>,
    password: Option<String>,
}

impl Link {
    fn new(cfg: Config, ccfg: ClientConfig) -> Self {
        let mut l = Self {
            server: Server::new(cfg),
            client: Client::new(ccfg, Duration::ZERO, Box::new(TestRng::default())),
            fb: Framebuffer::default(),
            s_in: Vec::new(),
            c_in: Vec::new(),
            s_events: Vec::new(),
            c_events: Vec::new(),
            password: None,
        };
        l.pump();
        l
    }

    /// Moves bytes both ways until neither side has anything left.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            if let Some(b) = self.server.poll_transmit() {
                self.c_in.extend(b);
                moved = true;
            }
            if let Some(b) = self.client.poll_transmit() {
                self.s_in.extend(b);
                moved = true;
            }
            if !self.s_in.is_empty() {
                let n = self.server.handle_input(&self.s_in).expect("server");
                self.s_in.drain(..n);
                moved |= n > 0;
            }
            self.s_events
                .extend(core::iter::from_fn(|| self.server.poll_event()));
            if !self.c_in.is_empty() {
                let n = self
                    .client
                    .handle_input(&self.c_in, &mut self.fb)
                    .expect("client");
                self.c_in.drain(..n);
                moved |= n > 0;
            }
            while let Some(e) = self.client.poll_event() {
                if matches!(e, CEvent::CredentialsRequired(_)) {
                    let c = Credentials {
                        password: self.password.clone(),
                        ..Default::default()
                    };
                    self.client.supply_credentials(&c).unwrap();
                    moved = true;
                }
                self.c_events.push(e);
            }
            if !moved {
                return;
            }
        }
        panic!("did not settle");
    }
}

/// A picture with gradients, noise, solid areas and few-colour areas: every ZRLE tile kind.
fn picture(w: u16, h: u16, seed: u32) -> Framebuffer {
    let mut fb = Framebuffer::new(w, h);
    let mut s = seed | 1;
    let mut rgba = Vec::with_capacity(usize::from(w) * usize::from(h) * 4);
    for y in 0..h {
        for x in 0..w {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let px = if x < 70 {
                [x as u8 * 3, y as u8, (x ^ y) as u8, 255]
            } else if x < 140 {
                [200, 10, 30, 255]
            } else if x < 180 {
                let c = ((x / 3 + y / 5) % 5) as u8 * 50;
                [c, 255 - c, c / 2, 255]
            } else {
                [s as u8, (s >> 8) as u8, (s >> 16) as u8, 255]
            };
            rgba.extend_from_slice(&px);
        }
    }
    fb.put_rgba(Rect::new(0, 0, w, h), &rgba);
    fb
}

/// What a lossless decode of `src` in `pf` must give.
fn quantised(src: &Framebuffer, pf: &PixelFormat) -> Vec<u8> {
    let pf = if pf.true_colour {
        *pf
    } else {
        PixelFormat {
            true_colour: true,
            ..PixelFormat::BGR233
        }
    };
    let q = |v: u8, max: u16| {
        let m = u32::from(max);
        expand_component((u32::from(v) * m + 127) / 255, m)
    };
    src.data()
        .chunks_exact(4)
        .flat_map(|p| {
            [
                q(p[0], pf.red_max),
                q(p[1], pf.green_max),
                q(p[2], pf.blue_max),
                255,
            ]
        })
        .collect()
}

fn client_config(pf: PixelFormat, enc: &[Encoding]) -> ClientConfig {
    ClientConfig {
        pixel_format: PixelFormatChoice::Request(pf),
        encodings: ClientConfig::encodings_with_pseudo(enc),
        auto_update: false,
        ..ClientConfig::default()
    }
}

const FORMATS: &[PixelFormat] = &[
    PixelFormat::RGBX8888,
    PixelFormat::RGB565,
    PixelFormat::BGR233,
    // 32-bit big-endian, colours in the top three bytes (ZRLE's CPIXEL from the high end).
    PixelFormat {
        bits_per_pixel: 32,
        depth: 24,
        big_endian: true,
        true_colour: true,
        red_max: 255,
        green_max: 255,
        blue_max: 255,
        red_shift: 8,
        green_shift: 16,
        blue_shift: 24,
    },
    // 16-bit big-endian 555.
    PixelFormat {
        bits_per_pixel: 16,
        depth: 15,
        big_endian: true,
        true_colour: true,
        red_max: 31,
        green_max: 31,
        blue_max: 31,
        red_shift: 10,
        green_shift: 5,
        blue_shift: 0,
    },
    PixelFormat::COLOUR_MAP8,
];

#[test]
fn every_encoding_and_format_decodes_pixel_exact() {
    let (w, h) = (203, 150);
    let src = picture(w, h, 7);
    for pf in FORMATS {
        for enc in [
            vec![Encoding::Raw],
            vec![Encoding::Zrle],
            vec![Encoding::CopyRect, Encoding::Zrle],
        ] {
            let mut l = Link::new(Config::new(w, h, "t"), client_config(*pf, &enc));
            assert!(l.server.is_connected() && l.client.is_connected());
            assert_eq!(l.server.pixel_format(), *pf);
            l.client.request_full_update(false).unwrap();
            l.pump();
            assert!(l.server.send_update(&src, &[], &[]).unwrap());
            l.pump();
            let want = quantised(&src, pf);
            assert!(
                l.fb.data() == &want[..],
                "full update differs for {pf:?} with {enc:?}"
            );
            let want_enc = if enc.contains(&Encoding::Zrle) {
                Encoding::Zrle
            } else {
                Encoding::Raw
            };
            assert!(l.client.decode_stats().rects.contains_key(&want_enc));

            // Incremental: a block moves (CopyRect when offered) and a strip changes.
            let mut next = src.clone();
            next.copy_rect(10, 20, Rect::new(100, 90, 60, 50));
            next.fill_rgba(Rect::new(0, 140, 203, 10), [1, 2, 3, 255]);
            let copy = Copy {
                src_x: 10,
                src_y: 20,
                dst: Rect::new(100, 90, 60, 50),
            };
            assert!(
                !l.server
                    .send_update(&next, &[Rect::new(0, 140, 203, 10)], &[copy])
                    .unwrap(),
                "no request outstanding: nothing sent"
            );
            l.client.request_full_update(true).unwrap();
            l.pump();
            assert!(
                l.server
                    .send_update(&next, &[Rect::new(0, 140, 203, 10)], &[copy])
                    .unwrap()
            );
            l.pump();
            let want = quantised(&next, pf);
            assert!(
                l.fb.data() == &want[..],
                "incremental update differs for {pf:?} with {enc:?}"
            );
            assert_eq!(
                l.client
                    .decode_stats()
                    .rects
                    .contains_key(&Encoding::CopyRect),
                enc.contains(&Encoding::CopyRect)
            );
        }
    }
}

#[test]
fn zrle_stream_persists_across_many_updates() {
    let (w, h) = (300, 200);
    let mut l = Link::new(
        Config::new(w, h, "z"),
        client_config(PixelFormat::RGBX8888, &[Encoding::Zrle]),
    );
    for i in 0..6 {
        let src = picture(w, h, i * 31 + 1);
        l.client.request_full_update(i > 0).unwrap();
        l.pump();
        let all = Rect::new(0, 0, w, h);
        assert!(l.server.send_update(&src, &[all], &[]).unwrap());
        l.pump();
        assert!(l.fb.data() == src.data(), "update {i}");
    }
}

#[test]
fn events_from_client_messages() {
    let mut l = Link::new(
        Config::new(64, 32, "e"),
        client_config(PixelFormat::RGBX8888, &[Encoding::Raw]),
    );
    l.client.send_key(0x61, true).unwrap();
    l.client.send_pointer(5, 10, 20).unwrap();
    l.client.send_clipboard_text("héllo").unwrap();
    l.client
        .request_update(true, Rect::new(1, 2, 3, 4))
        .unwrap();
    l.pump();
    let ev = &l.s_events;
    assert!(ev.contains(&Event::Version(Version::V3_8)));
    assert!(ev.contains(&Event::Initialised { shared: true }));
    assert!(ev.contains(&Event::PixelFormatChanged(PixelFormat::RGBX8888)));
    assert!(ev.contains(&Event::Key {
        keysym: 0x61,
        down: true
    }));
    assert!(ev.contains(&Event::Pointer {
        buttons: 5,
        x: 10,
        y: 20
    }));
    assert!(ev.contains(&Event::CutText("héllo".into())));
    assert!(ev.contains(&Event::UpdateRequested {
        incremental: true,
        rect: Rect::new(1, 2, 3, 4)
    }));
    assert_eq!(
        l.server.update_requested(),
        Some((true, Rect::new(1, 2, 3, 4)))
    );
    // Bell, cut text and DesktopSize reach our client.
    l.server.send_bell().unwrap();
    l.server.send_cut_text("clip").unwrap();
    assert!(l.server.send_desktop_size(32, 16).unwrap());
    l.pump();
    assert!(l.c_events.contains(&CEvent::Bell));
    assert!(l.c_events.contains(&CEvent::ClipboardText("clip".into())));
    assert!(l.c_events.contains(&CEvent::Resized {
        width: 32,
        height: 16
    }));
}

#[test]
fn vnc_auth_with_our_client() {
    let mut cfg = Config::new(8, 8, "a");
    cfg.security = Security::VncAuth {
        password: b"secret".to_vec(),
        challenge: *b"0123456789abcdef",
    };
    let mut ccfg = client_config(PixelFormat::RGBX8888, &[Encoding::Raw]);
    ccfg.security_types = vec![rfb_core::SecurityType::VncAuth];
    let mut l = Link {
        server: Server::new(cfg.clone()),
        client: Client::new(ccfg.clone(), Duration::ZERO, Box::new(TestRng::default())),
        fb: Framebuffer::default(),
        s_in: Vec::new(),
        c_in: Vec::new(),
        s_events: Vec::new(),
        c_events: Vec::new(),
        password: Some("secret".into()),
    };
    l.pump();
    assert!(l.client.is_connected());
    assert!(l.s_events.contains(&Event::Authenticated));

    // A wrong password: the server says why and fails.
    let mut server = Server::new(cfg);
    let mut client = Client::new(ccfg, Duration::ZERO, Box::new(TestRng::default()));
    let mut fb = Framebuffer::default();
    let mut failed = false;
    let mut last = Vec::new();
    for _ in 0..20 {
        if let Some(b) = server.poll_transmit() {
            let _ = client.handle_input(&b, &mut fb);
            last = b;
        }
        while let Some(e) = client.poll_event() {
            if matches!(e, CEvent::CredentialsRequired(_)) {
                let c = Credentials {
                    password: Some("wrong".into()),
                    ..Default::default()
                };
                client.supply_credentials(&c).unwrap();
            }
        }
        if let Some(b) = client.poll_transmit() {
            if let Err(e) = server.handle_input(&b) {
                assert_eq!(e, rfb_server::Error::AuthFailed);
                failed = true;
            }
        }
    }
    assert!(failed);
    assert_eq!(
        server.handle_input(b"x"),
        Err(rfb_server::Error::AuthFailed),
        "sticky"
    );
    let b = last;
    assert_eq!(&b[..8], &[0, 0, 0, 1, 0, 0, 0, 21]);
    assert_eq!(&b[8..], b"authentication failed");
}

// ---- Golden bytes (from the spec's message layouts) ----

fn session(cfg: Config) -> Server {
    let mut s = Server::new(cfg);
    s.handle_input(b"RFB 003.008\n\x01\x01").unwrap();
    s.poll_transmit();
    while s.poll_event().is_some() {}
    s
}

#[test]
fn golden_handshake_38_none() {
    let mut s = Server::new(Config::new(2, 1, "ab"));
    assert_eq!(s.poll_transmit().unwrap(), b"RFB 003.008\n");
    assert_eq!(s.handle_input(b"RFB 003.008\n").unwrap(), 12);
    assert_eq!(s.poll_transmit().unwrap(), [1, 1]);
    assert_eq!(s.handle_input(&[1]).unwrap(), 1);
    assert_eq!(s.poll_transmit().unwrap(), [0, 0, 0, 0]);
    assert_eq!(s.handle_input(&[0]).unwrap(), 1);
    let mut want = vec![0, 2, 0, 1];
    want.extend(PixelFormat::RGBX8888.to_bytes());
    want.extend([0, 0, 0, 2, b'a', b'b']);
    assert_eq!(s.poll_transmit().unwrap(), want);
    assert!(s.is_connected());
}

#[test]
fn golden_handshake_33_and_37() {
    let mut s = Server::new(Config::new(2, 1, "ab"));
    s.poll_transmit();
    s.handle_input(b"RFB 003.003\n").unwrap();
    // 3.3: the server imposes the type as a U32; no SecurityResult after None.
    assert_eq!(s.poll_transmit().unwrap(), [0, 0, 0, 1]);
    s.handle_input(&[1]).unwrap();
    assert_eq!(s.poll_transmit().unwrap().len(), 4 + 16 + 4 + 2);
    let mut s = Server::new(Config::new(2, 1, "ab"));
    s.poll_transmit();
    s.handle_input(b"RFB 003.007\n\x01").unwrap();
    // 3.7: type list, and no SecurityResult after None.
    assert_eq!(s.poll_transmit().unwrap(), [1, 1]);
    assert_eq!(s.version(), Version::V3_7);
}

#[test]
fn golden_vnc_auth() {
    let mut cfg = Config::new(2, 1, "ab");
    let challenge = [0u8; 16];
    cfg.security = Security::VncAuth {
        password: b"password".to_vec(),
        challenge,
    };
    let mut s = Server::new(cfg);
    s.poll_transmit();
    s.handle_input(b"RFB 003.008\n").unwrap();
    assert_eq!(s.poll_transmit().unwrap(), [1, 2]);
    s.handle_input(&[2]).unwrap();
    assert_eq!(s.poll_transmit().unwrap(), [0; 16]);
    // DES of zero blocks under the bit-reversed key of "password" (as rfb-core computes).
    let resp = rfb_core::security::vnc_auth_response(&challenge, "password");
    assert_eq!(rfb_server::vnc_auth_response(b"password", &challenge), resp);
    s.handle_input(&resp).unwrap();
    assert_eq!(s.poll_transmit().unwrap(), [0, 0, 0, 0]);
}

#[test]
fn golden_updates() {
    let mut fb = Framebuffer::new(2, 1);
    fb.put_rgba(Rect::new(0, 0, 2, 1), &[1, 2, 3, 255, 4, 5, 6, 255]);
    // Raw (no SetEncodings: Raw only).
    let mut s = session(Config::new(2, 1, "ab"));
    s.handle_input(&[3, 0, 0, 0, 0, 0, 0, 2, 0, 1]).unwrap();
    assert!(s.send_update(&fb, &[], &[]).unwrap());
    assert_eq!(
        s.poll_transmit().unwrap(),
        [
            0, 0, 0, 1, /* rect */ 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, /* px */ 1, 2, 3,
            0, 4, 5, 6, 0
        ]
    );
    // CopyRect when offered.
    s.handle_input(&[2, 0, 0, 1, 0, 0, 0, 1]).unwrap();
    s.handle_input(&[3, 1, 0, 0, 0, 0, 0, 2, 0, 1]).unwrap();
    let c = Copy {
        src_x: 1,
        src_y: 0,
        dst: Rect::new(0, 0, 1, 1),
    };
    assert!(s.send_update(&fb, &[], &[c]).unwrap());
    assert_eq!(
        s.poll_transmit().unwrap(),
        [0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0]
    );
    // ZRLE of a solid 2×1: one solid tile, zlib-wrapped.
    s.handle_input(&[2, 0, 0, 1, 0, 0, 0, 16]).unwrap();
    s.handle_input(&[3, 0, 0, 0, 0, 0, 0, 2, 0, 1]).unwrap();
    fb.fill_rgba(Rect::new(0, 0, 2, 1), [9, 8, 7, 255]);
    assert!(s.send_update(&fb, &[], &[]).unwrap());
    let b = s.poll_transmit().unwrap();
    assert_eq!(&b[..16], &[0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 16]);
    let n = u32::from_be_bytes([b[16], b[17], b[18], b[19]]) as usize;
    assert_eq!(b.len(), 20 + n);
    let mut z = flate2::Decompress::new(true);
    let mut out = Vec::with_capacity(64);
    z.decompress_vec(&b[20..], &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    assert_eq!(out, [1, 9, 8, 7]);
    // Bell, ServerCutText, DesktopSize.
    s.send_bell().unwrap();
    assert_eq!(s.poll_transmit().unwrap(), [2]);
    s.send_cut_text("hé€").unwrap();
    assert_eq!(
        s.poll_transmit().unwrap(),
        [3, 0, 0, 0, 0, 0, 0, 3, b'h', 0xe9, b'?']
    );
    assert!(!s.send_desktop_size(4, 4).unwrap(), "not offered");
    s.handle_input(&[2, 0, 0, 1, 0xff, 0xff, 0xff, 0x21])
        .unwrap();
    assert!(s.send_desktop_size(4, 4).unwrap());
    assert_eq!(
        s.poll_transmit().unwrap(),
        [0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 4, 0xff, 0xff, 0xff, 0x21]
    );
}

#[test]
fn colour_map_client_gets_fixed_palette() {
    let mut s = session(Config::new(2, 1, "ab"));
    let mut m = vec![0, 0, 0, 0];
    m.extend(PixelFormat::COLOUR_MAP8.to_bytes());
    s.handle_input(&m).unwrap();
    let b = s.poll_transmit().unwrap();
    assert_eq!(&b[..6], &[1, 0, 0, 0, 1, 0]);
    assert_eq!(b.len(), 6 + 256 * 6);
    // Entry 255 is white; entry 7 is full red.
    assert_eq!(&b[6 + 255 * 6..], &[0xff; 6]);
    assert_eq!(&b[6 + 7 * 6..6 + 8 * 6], &[0xff, 0xff, 0, 0, 0, 0]);
    // 16-bit colour map: rejected cleanly.
    let mut s = session(Config::new(2, 1, "ab"));
    let mut pf = PixelFormat::COLOUR_MAP8;
    pf.bits_per_pixel = 16;
    pf.depth = 16;
    let mut m = vec![0, 0, 0, 0];
    m.extend(pf.to_bytes());
    assert!(matches!(
        s.handle_input(&m),
        Err(rfb_server::Error::PixelFormat(_))
    ));
}

#[test]
fn limits_and_bad_input() {
    let mut cfg = Config::new(2, 1, "ab");
    cfg.limits.max_cut_text = 4;
    let mut s = session(cfg);
    // Partial messages consume nothing.
    assert_eq!(s.handle_input(&[4, 1, 0]).unwrap(), 0);
    assert_eq!(s.bytes_needed(), 8);
    assert!(matches!(
        s.handle_input(&[6, 0, 0, 0, 0, 0, 0, 5]),
        Err(rfb_server::Error::LimitExceeded { .. })
    ));
    let mut s = session(Config::new(2, 1, "ab"));
    assert_eq!(
        s.handle_input(&[99]),
        Err(rfb_server::Error::UnknownMessage(99))
    );
    assert_eq!(
        s.handle_input(&[]),
        Err(rfb_server::Error::UnknownMessage(99))
    );
    let mut s = Server::new(Config::new(2, 1, "ab"));
    assert!(matches!(
        s.handle_input(b"GET / HTTP/1.1\r\n"),
        Err(rfb_server::Error::Version(_))
    ));
}
