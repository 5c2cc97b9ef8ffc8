//! The whole client from the first byte: version strings, security negotiation, VncAuth,
//! SecurityResult, ServerInit and whatever follows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_core::{Config, SecurityType};
use rfb_encodings::Framebuffer;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let (sizes, stream) = rest.split_at((usize::from(split) % 8).min(rest.len()));
    let config = Config {
        security_types: vec![SecurityType::VncAuth, SecurityType::None],
        repeater_id: Some("ID:1".into()),
        // Small limits keep each run fast; the limit checks themselves are what is exercised.
        limits: rfb_core::Limits {
            max_pixels: 1 << 20,
            max_cut_text: 1 << 20,
            ..Default::default()
        },
        ..Config::default()
    };
    let mut c = common::client(config);
    let mut fb = Framebuffer::default();
    common::feed(&mut c, &mut fb, stream, sizes);
});
