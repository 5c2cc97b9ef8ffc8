//! Extended Clipboard message bodies (rfb_core::clipboard::parse_message): caps with their
//! size arrays, request/peek/notify, and provide with its bounded zlib inflate. The first
//! byte picks the inflate limit. Checks: no panic, provided data within the limit, and the
//! action messages survive an encode/parse round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_core::clipboard::{Message, encode, parse_message};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let limit = [0usize, 64, 4096, 1 << 20][usize::from(sel & 3)];
    let Ok(m) = parse_message(body, limit) else { return };
    match &m {
        Message::Provide(d, _) => {
            let kept = d.text.as_ref().map_or(0, String::len)
                + d.rtf.as_ref().map_or(0, Vec::len)
                + d.html.as_ref().map_or(0, Vec::len);
            // Text may grow by U+FFFD replacements (3 bytes for each bad byte) only.
            assert!(kept <= limit * 3, "{kept} bytes kept with limit {limit}");
        }
        other => {
            let mut wire = Vec::new();
            encode(&mut wire, other);
            assert_eq!(parse_message(&wire[8..], limit).as_ref(), Ok(other));
        }
    }
});
