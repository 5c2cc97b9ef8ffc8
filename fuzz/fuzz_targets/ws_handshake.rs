//! HTTP upgrade heads, server and client side.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_ws::{HeadLimits, client_verify_response, parse_request, validate_upgrade};

fuzz_target!(|data: &[u8]| {
    let limits = HeadLimits {
        max_head: 4096,
        max_headers: 32,
    };
    if let Ok(Some((n, req))) = parse_request(data, &limits) {
        assert!(n <= data.len());
        let _ = validate_upgrade(&req).map(|a| rfb_ws::accept_response(&a));
    }
    let _ = client_verify_response(data, "dGhlIHNhbXBsZSBub25jZQ==", &limits);
});
