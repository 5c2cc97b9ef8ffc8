//! Server messages after a valid handshake (so the fuzzer spends its time on
//! FramebufferUpdate framing, colour maps, cut text and the decoders). The first byte picks
//! the pixel format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_core::{Config, PixelFormatChoice};
use rfb_encodings::{Encoding, Framebuffer, PixelFormat};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let pf = [
        PixelFormat::RGBX8888,
        PixelFormat::RGB565,
        PixelFormat::BGR233,
        PixelFormat::COLOUR_MAP8,
    ][usize::from(sel & 3)];
    let config = Config {
        pixel_format: PixelFormatChoice::Request(pf),
        encodings: Config::encodings_with_pseudo(&[Encoding::CopyRect, Encoding::Raw]),
        ..Config::default()
    };
    let mut c = common::client(config);
    let mut fb = Framebuffer::default();
    let mut hs = b"RFB 003.008\n".to_vec();
    hs.extend_from_slice(&[1, 1, 0, 0, 0, 0]);
    hs.extend_from_slice(&[0, 64, 0, 48]);
    hs.extend_from_slice(&PixelFormat::RGBX8888.to_bytes());
    hs.extend_from_slice(&[0, 0, 0, 1, b'f']);
    let used = c.handle_input(&hs, &mut fb).expect("valid handshake");
    assert_eq!(used, hs.len());
    assert!(c.is_connected());
    let sizes = [usize::from(sel >> 2) as u8 + 1];
    common::feed(&mut c, &mut fb, rest, &sizes);
});
