//! websockify's `VNC_frame_data` recording format, written by `websockify --record` and
//! replayed by noVNC's playback page. Pure text↔bytes conversion: the driver does the I/O.
//!
//! The file is JavaScript: `var VNC_frame_data = [` then one single-quoted string per chunk,
//! each followed by `,\n`, closed by `'EOF'];`. A chunk is `{<ms>{<bytes>` for server → client
//! and `}<ms>}<bytes>` for client → server, `<ms>` being milliseconds since the connection
//! opened. Bytes are written as Latin-1 text with Python's `unicode_escape` rules (`\xNN` for
//! non-printable bytes, `\\`, `\n`, `\r`, `\t`) plus `\'`. Old recordings used base64 instead
//! (recognisable by a first server chunk starting `UkZC`, base64 for `RFB`); both are read.

use core::fmt::Write as _;

/// Which way a recorded chunk went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Server (VNC target) to client (browser).
    FromServer,
    /// Client to server.
    FromClient,
}

/// One recorded chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Milliseconds since the connection opened.
    pub ms: u64,
    /// Direction.
    pub direction: Direction,
    /// The bytes.
    pub data: Vec<u8>,
}

/// What is wrong with a recording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The `var VNC_frame_data = [` opening is missing.
    #[error("recording: no `VNC_frame_data = [` opening")]
    NoHeader,
    /// A string literal is malformed.
    #[error("recording: entry {index}: {detail}")]
    BadEntry {
        /// Zero-based entry number.
        index: usize,
        /// What was wrong.
        detail: String,
    },
}

/// The opening line.
pub const HEADER: &str = "var VNC_frame_data = [\n";
/// The closing line.
pub const FOOTER: &str = "'EOF'];\n";

/// Formats one chunk as a line of the file (with its trailing `,\n`).
pub fn format_frame(ms: u64, direction: Direction, data: &[u8]) -> String {
    let mark = match direction {
        Direction::FromServer => '{',
        Direction::FromClient => '}',
    };
    let mut s = String::with_capacity(data.len() * 2 + 16);
    s.push('\'');
    s.push(mark);
    let _ = write!(s, "{ms}");
    s.push(mark);
    for &b in data {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push_str("',\n");
    s
}

/// Parses a whole recording.
///
/// ```
/// use rfb_core::record::{self, Direction};
/// let mut file = String::from(record::HEADER);
/// file += &record::format_frame(0, Direction::FromServer, b"RFB 003.008\n");
/// file += &record::format_frame(5, Direction::FromClient, &[0, 0xff, b'\'']);
/// file += record::FOOTER;
/// let frames = record::parse(&file).unwrap();
/// assert_eq!(frames[0].data, b"RFB 003.008\n");
/// assert_eq!((frames[1].ms, frames[1].data.as_slice()), (5, &[0, 0xff, b'\''][..]));
/// ```
pub fn parse(text: &str) -> Result<Vec<Frame>, RecordError> {
    let start = text.find("VNC_frame_data").ok_or(RecordError::NoHeader)?;
    let open = text[start..].find('[').ok_or(RecordError::NoHeader)? + start + 1;
    let mut frames = Vec::new();
    let mut rest = &text[open..];
    let mut base64 = text.contains("VNC_frame_encoding = 'base64'");
    for index in 0.. {
        let Some(q) = rest.find(['\'', '"']) else {
            break;
        };
        let quote = rest.as_bytes()[q];
        let (lit, after) = unescape_literal(&rest[q + 1..], quote)
            .map_err(|detail| RecordError::BadEntry { index, detail })?;
        rest = after;
        if lit == b"EOF" {
            break;
        }
        let bad = |detail: &str| RecordError::BadEntry {
            index,
            detail: detail.into(),
        };
        let (direction, mark) = match lit.first() {
            Some(b'{') => (Direction::FromServer, b'{'),
            Some(b'}') => (Direction::FromClient, b'}'),
            _ => return Err(bad("does not start with { or }")),
        };
        let end = lit[1..]
            .iter()
            .position(|&c| c == mark)
            .ok_or_else(|| bad("no closing time mark"))?
            + 1;
        let ms = core::str::from_utf8(&lit[1..end])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("time is not a number"))?;
        let payload = &lit[end + 1..];
        if index == 0 && payload.starts_with(b"UkZC") {
            base64 = true;
        }
        let data = if base64 {
            base64_decode(payload).ok_or_else(|| bad("invalid base64"))?
        } else {
            payload.to_vec()
        };
        frames.push(Frame {
            ms,
            direction,
            data,
        });
    }
    Ok(frames)
}

/// Reads a quoted literal's body up to the closing `quote`; returns the bytes and the rest.
fn unescape_literal(s: &str, quote: u8) -> Result<(Vec<u8>, &str), String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c == quote => return Ok((out, &s[i + 1..])),
            b'\\' => {
                let Some(&e) = b.get(i + 1) else { break };
                i += 2;
                match e {
                    b'x' => {
                        let hex = s.get(i..i + 2).ok_or("truncated \\x escape")?;
                        out.push(
                            u8::from_str_radix(hex, 16)
                                .map_err(|_| format!("bad \\x escape {hex:?}"))?,
                        );
                        i += 2;
                    }
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'0' => out.push(0),
                    other => out.push(other),
                }
            }
            _ => {
                // Characters are Latin-1 code points (the escaping keeps them < 0x80 in
                // practice); a wider character is taken by its code point modulo 256.
                let ch = s[i..].chars().next().ok_or("bad character")?;
                out.push(u32::from(ch) as u8);
                i += ch.len_utf8();
            }
        }
    }
    Err("unterminated string".into())
}

fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s: Vec<u8> = s.iter().copied().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (k, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * k);
        }
        let n = chunk.len().saturating_sub(1);
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        let data: Vec<u8> = (0..=255).collect();
        let mut file = String::from(HEADER);
        file += &format_frame(12, Direction::FromServer, &data);
        file += &format_frame(13, Direction::FromClient, b"");
        file += FOOTER;
        let f = parse(&file).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0],
            Frame {
                ms: 12,
                direction: Direction::FromServer,
                data
            }
        );
        assert_eq!(f[1].direction, Direction::FromClient);
    }

    #[test]
    fn websockify_escaping_and_base64() {
        // As Python's unicode_escape writes it, then quote-escaped.
        let file =
            "var VNC_frame_data = [\n'{0{RFB 003.008\\n',\n'{3{\\x00\\x01\\\\\\'\\xff',\n'EOF'];\n";
        let f = parse(file).unwrap();
        assert_eq!(f[0].data, b"RFB 003.008\n");
        assert_eq!(f[1].data, [0, 1, b'\\', b'\'', 0xff]);
        let old = "var VNC_frame_data = [\n'{0{UkZCIDAwMy4wMDgK',\n'EOF'];";
        assert_eq!(parse(old).unwrap()[0].data, b"RFB 003.008\n");
        assert!(matches!(parse("nope"), Err(RecordError::NoHeader)));
        assert!(parse("var VNC_frame_data = [\n'x0x',\n'EOF'];").is_err());
        assert!(parse("var VNC_frame_data = [\n'{0{\\xZZ',\n'EOF'];").is_err());
    }
}
