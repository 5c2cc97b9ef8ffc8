//! Text conversions between the driver's strings (LF line ends) and the two wire forms:
//! extended *text* (UTF-8, CRLF, terminating NUL) and legacy cut text (Latin-1, LF).
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#extended-clipboard-pseudo-encoding>

/// Extended *text* bytes for `text`: LF and CRLF both become CRLF, then a NUL is appended.
pub fn to_wire_text(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 16 + 1);
    let mut prev_cr = false;
    for &b in text.as_bytes() {
        if b == b'\n' && !prev_cr {
            out.push(b'\r');
        }
        out.push(b);
        prev_cr = b == b'\r';
    }
    out.push(0);
    out
}

/// The string carried by extended *text* bytes: up to the first NUL (all of it when the NUL
/// is missing), invalid UTF-8 replaced by U+FFFD, CRLF turned into LF (a lone CR stays).
pub fn from_wire_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).replace("\r\n", "\n")
}

/// Text prepared for legacy ClientCutText: CRLF becomes LF (the spec's line end there).
/// [`crate::messages::client::client_cut_text`] then writes it as Latin-1, turning each
/// character outside Latin-1 into one `?`.
pub fn to_legacy_text(text: &str) -> String {
    text.replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_text_round_trip() {
        assert_eq!(to_wire_text("a\nb\r\nc"), b"a\r\nb\r\nc\0");
        assert_eq!(to_wire_text(""), b"\0");
        assert_eq!(from_wire_text(b"a\r\nb\r\nc\0"), "a\nb\nc");
        assert_eq!(
            from_wire_text(to_wire_text("Grüße ✓ 日本\n").as_slice()),
            "Grüße ✓ 日本\n"
        );
    }

    #[test]
    fn lenient_decoding() {
        assert_eq!(from_wire_text(b"no nul"), "no nul");
        assert_eq!(from_wire_text(b"cut\0here"), "cut");
        assert_eq!(from_wire_text(b"bad \xff\xfe!\0"), "bad \u{fffd}\u{fffd}!");
        assert_eq!(from_wire_text(b"lone\rcr\0"), "lone\rcr");
    }

    #[test]
    fn legacy_line_ends() {
        assert_eq!(to_legacy_text("a\r\nb\nc"), "a\nb\nc");
    }
}
