//! SHA-256 certificate fingerprints, as users compare and paste them.

use rfb_core::Error;
use sha2::{Digest, Sha256};

/// SHA-256 of a DER certificate.
pub fn sha256_fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Lower-case hex bytes joined by colons (the form `openssl x509 -fingerprint` prints, in
/// lower case).
pub fn format_fingerprint(fp: &[u8; 32]) -> String {
    fp.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses 64 hex digits, with or without `:` separators, in either case, optionally
/// prefixed by `sha256:` / `SHA256=`.
///
/// ```
/// let fp = rfb_tls::parse_fingerprint(&["AB"; 32].join(":")).unwrap();
/// assert_eq!(fp, [0xab; 32]);
/// ```
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], Error> {
    let bad = |why: &str| Error::Tls {
        detail: format!("invalid SHA-256 fingerprint {s:?}: {why}"),
    };
    let body = s.trim();
    let lower = body.to_ascii_lowercase();
    let body = lower
        .strip_prefix("sha256:")
        .or_else(|| lower.strip_prefix("sha256="))
        .unwrap_or(&lower);
    let hex: Vec<u8> = body.bytes().filter(|&c| c != b':').collect();
    if hex.len() != 64 {
        return Err(bad("expected 64 hex digits"));
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16).ok_or_else(|| bad("not hex"));
        *o = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_forms() {
        let fp: [u8; 32] = core::array::from_fn(|i| i as u8 * 7);
        let s = format_fingerprint(&fp);
        assert_eq!(parse_fingerprint(&s).unwrap(), fp);
        assert_eq!(parse_fingerprint(&s.to_uppercase()).unwrap(), fp);
        assert_eq!(parse_fingerprint(&s.replace(':', "")).unwrap(), fp);
        assert_eq!(parse_fingerprint(&format!("SHA256={s}")).unwrap(), fp);
        assert!(parse_fingerprint(&s[..s.len() - 1]).is_err());
        assert!(parse_fingerprint(&s.replace('0', "g")).is_err());
    }
}
