//! rfb-server from the client's first byte: ProtocolVersion, the security choice, a VncAuth
//! response, ClientInit and every client message, fed in chunks. Never a panic, consumption
//! never exceeds the input, errors are sticky, and an update can be sent whenever one is
//! requested.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_server::{Config, Copy, Framebuffer, Limits, Rect, Security, Server};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut config = Config::new(70, 40, "fuzz");
    if sel & 1 == 1 {
        config.security = Security::VncAuth {
            password: b"pw".to_vec(),
            challenge: [sel; 16],
        };
    }
    let mut limits = Limits::default();
    limits.max_cut_text = 4096;
    limits.max_encodings = 64;
    config.limits = limits;
    let mut s = Server::new(config);
    let fb = Framebuffer::new(70, 40);
    let chunk = usize::from(sel >> 1).max(1);
    let mut buf = Vec::new();
    for c in rest.chunks(chunk) {
        buf.extend_from_slice(c);
        match s.handle_input(&buf) {
            Ok(n) => {
                assert!(n <= buf.len());
                buf.drain(..n);
            }
            Err(e) => {
                assert_eq!(s.handle_input(b"x"), Err(e), "errors are sticky");
                return;
            }
        }
        while s.poll_event().is_some() {}
        if s.update_requested().is_some() {
            let copy = Copy {
                src_x: 3,
                src_y: 2,
                dst: Rect::new(10, 10, 30, 20),
            };
            s.send_update(&fb, &[Rect::new(0, 0, 70, 40)], &[copy])
                .expect("a requested update can be sent");
        }
        let _ = s.poll_transmit();
    }
});
