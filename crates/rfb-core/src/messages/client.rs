//! Client-to-server message encoders, each byte-exact with the spec's tables.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#client-to-server-messages>

use rfb_encodings::{Encoding, PixelFormat, Rect};

/// SetPixelFormat (0): 3 padding bytes, then the 16-byte `PIXEL_FORMAT`.
pub fn set_pixel_format(out: &mut Vec<u8>, pf: &PixelFormat) {
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&pf.to_bytes());
}

/// SetEncodings (2): padding, `U16` count, then one `S32` per encoding.
///
/// At most 65535 encodings fit; extra ones are dropped (no real list comes near that).
pub fn set_encodings(out: &mut Vec<u8>, encodings: &[Encoding]) {
    let list = &encodings[..encodings.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&[2, 0]);
    out.extend_from_slice(&(list.len() as u16).to_be_bytes());
    for e in list {
        out.extend_from_slice(&e.to_i32().to_be_bytes());
    }
}

/// FramebufferUpdateRequest (3): incremental flag, then x, y, width, height.
pub fn framebuffer_update_request(out: &mut Vec<u8>, incremental: bool, rect: Rect) {
    out.extend_from_slice(&[3, u8::from(incremental)]);
    for v in [rect.x, rect.y, rect.width, rect.height] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// KeyEvent (4): down flag, 2 padding bytes, `U32` keysym.
pub fn key_event(out: &mut Vec<u8>, keysym: u32, down: bool) {
    out.extend_from_slice(&[4, u8::from(down), 0, 0]);
    out.extend_from_slice(&keysym.to_be_bytes());
}

/// PointerEvent (5): button mask (bit 0 = button 1), x, y.
pub fn pointer_event(out: &mut Vec<u8>, button_mask: u8, x: u16, y: u16) {
    out.extend_from_slice(&[5, button_mask]);
    out.extend_from_slice(&x.to_be_bytes());
    out.extend_from_slice(&y.to_be_bytes());
}

/// Encodes text as Latin-1 for the legacy cut-text messages. Characters outside Latin-1 become
/// `?`, so the length is always one byte per character and nothing is silently dropped.
pub fn latin1_encode(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// Decodes Latin-1: every byte is the code point of the same value.
pub fn latin1_decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// ClientCutText (6): 3 padding bytes, `U32` length, Latin-1 text (see [`latin1_encode`]).
///
/// Text longer than `u32::MAX` bytes is cut at that length.
pub fn client_cut_text(out: &mut Vec<u8>, text: &str) {
    let bytes = latin1_encode(text);
    let n = bytes.len().min(u32::MAX as usize);
    out.extend_from_slice(&[6, 0, 0, 0]);
    out.extend_from_slice(&(n as u32).to_be_bytes());
    out.extend_from_slice(&bytes[..n]);
}

/// ClientInit: the shared flag.
pub fn client_init(out: &mut Vec<u8>, shared: bool) {
    out.push(u8::from(shared));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    // Golden vectors written out from the spec's tables, field by field.
    #[test]
    fn set_pixel_format_bytes() {
        assert_eq!(
            enc(|o| set_pixel_format(o, &PixelFormat::RGB565)),
            [
                0, 0, 0, 0, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn set_encodings_bytes() {
        assert_eq!(
            enc(|o| set_encodings(o, &[Encoding::Raw, Encoding::CopyRect, Encoding::Cursor])),
            [2, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x11]
        );
        assert_eq!(enc(|o| set_encodings(o, &[])), [2, 0, 0, 0]);
    }

    #[test]
    fn update_request_bytes() {
        assert_eq!(
            enc(|o| framebuffer_update_request(o, true, Rect::new(1, 0x0203, 1024, 768))),
            [3, 1, 0, 1, 2, 3, 4, 0, 3, 0]
        );
        assert_eq!(
            enc(|o| framebuffer_update_request(o, false, Rect::new(0, 0, 1, 1)))[1],
            0
        );
    }

    #[test]
    fn key_event_bytes() {
        assert_eq!(
            enc(|o| key_event(o, 0xff0d, true)),
            [4, 1, 0, 0, 0, 0, 0xff, 0x0d]
        );
        assert_eq!(
            enc(|o| key_event(o, 0x1000_20ac, false)),
            [4, 0, 0, 0, 0x10, 0, 0x20, 0xac]
        );
    }

    #[test]
    fn pointer_event_bytes() {
        assert_eq!(
            enc(|o| pointer_event(o, 0b101, 300, 2)),
            [5, 5, 1, 44, 0, 2]
        );
    }

    #[test]
    fn cut_text_bytes() {
        assert_eq!(
            enc(|o| client_cut_text(o, "aé€")),
            [6, 0, 0, 0, 0, 0, 0, 3, b'a', 0xe9, b'?']
        );
        assert_eq!(latin1_decode(&[b'a', 0xe9, 0xff]), "aéÿ");
    }

    #[test]
    fn client_init_bytes() {
        assert_eq!(enc(|o| client_init(o, true)), [1]);
        assert_eq!(enc(|o| client_init(o, false)), [0]);
    }
}
