//! WebSocket frames from a peer, both roles, in chunks: never a panic, consumption never
//! exceeds the input, and data events never exceed the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_ws::{Limits, Role, WsConnection, WsEvent};

#[allow(dead_code)] // shares the RNG helper; the client helpers are for other targets
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let role = if sel & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let limits = Limits {
        max_frame: 4096,
        max_message: 8192,
    };
    let mut ws = WsConnection::new(role, limits, Some(Box::new(common::FixedRng)));
    let chunk = usize::from(sel >> 1).max(1);
    let mut buf = Vec::new();
    let mut total = 0u64;
    for c in rest.chunks(chunk) {
        buf.extend_from_slice(c);
        match ws.handle_input(&buf) {
            Ok(n) => {
                assert!(n <= buf.len());
                buf.drain(..n);
            }
            Err(_) => break,
        }
        while let Some(ev) = ws.poll_event() {
            if let WsEvent::Data { data, first, .. } = ev {
                if first {
                    total = 0;
                }
                total += data.len() as u64;
                assert!(total <= 8192);
            }
        }
        while ws.poll_transmit().is_some() {}
    }
});
