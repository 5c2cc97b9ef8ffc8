//! Extension messages after a valid handshake: ExtendedDesktopSize, DesktopName, PointerPos,
//! ExtendedMouseButtons rectangles and ServerFence, EndOfContinuousUpdates and xvp messages,
//! mixed with anything else. Then the client API that depends on what the server announced
//! (SetDesktopSize with a layout from the input, fences, xvp, extended pointer events) must
//! fail cleanly or queue bytes, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_core::{Config, FenceFlags, Screen, XvpAction};
use rfb_encodings::{Framebuffer, PixelFormat};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let config = Config {
        update_pipeline: sel & 3,
        continuous_updates: sel & 4 != 0,
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
    // The last 34 bytes (when present) drive the API afterwards.
    let (stream, api) = rest.split_at(rest.len().saturating_sub(34));
    let sizes = [(sel >> 3) + 1];
    common::feed(&mut c, &mut fb, stream, &sizes);
    let u16_at = |i: usize| {
        u16::from_be_bytes([
            api.get(i).copied().unwrap_or(0),
            api.get(i + 1).copied().unwrap_or(0),
        ])
    };
    let screens: Vec<Screen> = (0..usize::from(u16_at(0) % 3))
        .map(|k| {
            Screen::new(
                u32::from(u16_at(2 + 8 * k)),
                u16_at(4 + 8 * k),
                u16_at(6 + 8 * k),
                u16_at(8 + 8 * k),
                u16_at(10 + 8 * k),
            )
        })
        .collect();
    let _ = c.set_desktop_size(u16_at(26), u16_at(28), &screens);
    let _ = c.send_fence(FenceFlags(u32::from(u16_at(30))), &api[..api.len().min(3)]);
    let _ = c.xvp(XvpAction::Reset);
    let _ = c.send_pointer_buttons(u16_at(32), 5, 5);
    let _ = c.enable_continuous_updates(sel & 0x80 != 0);
    while c.poll_transmit().is_some() {}
    while c.poll_event().is_some() {}
});
