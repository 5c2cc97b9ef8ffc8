//! rfb-server's SecurityGate (the browser side of rfb-proxy's `--vnc-security` mode) from the
//! client's first byte: ProtocolVersion, the security choice and a VncAuth response, fed in
//! chunks. Never a panic, consumption never exceeds the input, nothing is used once the gate
//! is ready, and accept/refuse work whenever it is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_server::{Security, SecurityGate};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let security = if sel & 1 == 1 {
        Security::VncAuth {
            password: b"pw".to_vec(),
            challenge: [sel; 16],
        }
    } else {
        Security::None
    };
    let mut g = SecurityGate::new(security);
    let chunk = usize::from(sel >> 2).max(1);
    let mut buf = Vec::new();
    for c in rest.chunks(chunk) {
        buf.extend_from_slice(c);
        match g.handle_input(&buf) {
            Ok(n) => {
                assert!(n <= buf.len());
                buf.drain(..n);
            }
            Err(_) => {
                let _ = g.take_output();
                return;
            }
        }
        let _ = g.take_output();
        if g.is_ready() {
            assert_eq!(g.handle_input(&buf), Ok(0), "a ready gate uses nothing");
            if sel & 2 == 2 {
                g.accept();
            } else {
                g.refuse("refused by the fuzzer");
            }
            let _ = g.take_output();
            return;
        }
    }
});
