//! The subject and issuer of a certificate as RFC 4514 strings, for showing to the user.
//!
//! Certificates are DER (X.690) `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE {
//! [0] version OPTIONAL, serialNumber, signature, issuer Name, validity, subject Name, ... }
//! ... }` (RFC 5280 §4.1). Only this path is walked; the bytes come from the server and are
//! not yet trusted, so every length is checked against what is there and anything unexpected
//! gives `None` (the dialog then shows the fingerprint alone). Names are capped at
//! [`MAX_NAME`] characters.

use core::fmt::Write as _;

/// Longest name returned; longer ones are cut with an ellipsis (a dialog, not a parser, reads
/// them).
pub(crate) const MAX_NAME: usize = 512;

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// One DER element: tag and contents, and the bytes after it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        // Long form: at most 4 length bytes (a certificate is far below 4 GiB).
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The contents of an element that must have `tag`, and the rest.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, body, rest) = element(input)?;
    (t == tag).then_some((body, rest))
}

/// `(subject, issuer)` of a DER certificate.
pub(crate) fn subject_and_issuer(der: &[u8]) -> Option<(String, String)> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (tbs, _) = expect(cert, SEQUENCE)?;
    let mut rest = tbs;
    // [0] EXPLICIT version, when not v1.
    if let Some((0xa0, _, after)) = element(rest) {
        rest = after;
    }
    let (_serial, rest) = expect(rest, 0x02)?;
    let (_signature, rest) = expect(rest, SEQUENCE)?;
    let (issuer, rest) = expect(rest, SEQUENCE)?;
    let (_validity, rest) = expect(rest, SEQUENCE)?;
    let (subject, _) = expect(rest, SEQUENCE)?;
    Some((name(subject)?, name(issuer)?))
}

/// RFC 4514: relative distinguished names last to first, joined by `,`; the attributes of one
/// by `+`.
fn name(mut rdns: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (set, rest) = expect(rdns, SET)?;
        rdns = rest;
        let mut attrs = Vec::new();
        let mut set = set;
        while !set.is_empty() {
            let (atv, rest) = expect(set, SEQUENCE)?;
            set = rest;
            let (oid, value) = expect(atv, OID)?;
            let (tag, value, _) = element(value)?;
            attrs.push(format!(
                "{}={}",
                attribute_name(oid)?,
                attribute_value(tag, value)
            ));
        }
        parts.push(attrs.join("+"));
    }
    parts.reverse();
    let mut s = parts.join(",");
    if s.chars().count() > MAX_NAME {
        s = s.chars().take(MAX_NAME).collect::<String>() + "…";
    }
    Some(s)
}

/// The short name RFC 4514 gives the attribute, or its dotted OID.
fn attribute_name(oid: &[u8]) -> Option<String> {
    let short = match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "STREET",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return dotted(oid),
    };
    Some(short.into())
}

/// An OID as dotted decimal (X.690 §8.19); `None` when malformed.
fn dotted(oid: &[u8]) -> Option<String> {
    let mut arcs = Vec::new();
    let mut v: u64 = 0;
    for (i, &b) in oid.iter().enumerate() {
        if v > u64::MAX >> 7 {
            return None;
        }
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (v / 40).min(2);
                arcs.push(first);
                arcs.push(v - first * 40);
            } else {
                arcs.push(v);
            }
            v = 0;
        } else if i + 1 == oid.len() {
            return None;
        }
    }
    if arcs.is_empty() {
        return None;
    }
    Some(
        arcs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// A string value escaped per RFC 4514 §2.4; other types as `#` and their hex DER contents.
fn attribute_value(tag: u8, value: &[u8]) -> String {
    let text = match tag {
        // UTF8String, PrintableString, IA5String, VisibleString.
        0x0c | 0x13 | 0x16 | 0x1a => core::str::from_utf8(value).ok().map(str::to_owned),
        // TeletexString: treated as Latin-1, as most software does.
        0x14 => Some(value.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE.
        0x1e if value.len() % 2 == 0 => {
            let units = value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    };
    let Some(text) = text else {
        let mut s = String::from("#");
        for b in value {
            let _ = write!(s, "{b:02x}");
        }
        return s;
    };
    let n = text.chars().count();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i + 1 == n && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\{b:02x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if body.len() < 0x80 {
            v.push(body.len() as u8);
        } else {
            v.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        v.extend_from_slice(body);
        v
    }

    fn rdn(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        let atv = [tlv(OID, oid), tlv(tag, value)].concat();
        tlv(SET, &tlv(SEQUENCE, &atv))
    }

    fn cert(issuer: &[u8], subject: &[u8]) -> Vec<u8> {
        let tbs = [
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[1, 2, 3]),
            tlv(SEQUENCE, &tlv(OID, &[0x2a, 0x86, 0x48])),
            tlv(SEQUENCE, issuer),
            tlv(SEQUENCE, &[]),
            tlv(SEQUENCE, subject),
            tlv(SEQUENCE, &[]),
        ]
        .concat();
        tlv(
            SEQUENCE,
            &[tlv(SEQUENCE, &tbs), tlv(SEQUENCE, &[])].concat(),
        )
    }

    #[test]
    fn names_in_rfc4514_order_with_escapes() {
        let subject = [
            rdn(&[0x55, 4, 0x0a], 0x13, b"rfb tests"),
            rdn(&[0x55, 4, 3], 0x0c, "séance, #1 ".as_bytes()),
        ]
        .concat();
        let issuer = [
            rdn(&[0x55, 4, 3], 0x1e, &[0, b'C', 0, b'A']),
            rdn(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d], 0x04, &[0xde, 0xad]),
        ]
        .concat();
        let (s, i) = subject_and_issuer(&cert(&issuer, &subject)).unwrap();
        assert_eq!(s, "CN=séance\\, #1\\ ,O=rfb tests");
        assert_eq!(i, "1.2.840.113549=#dead,CN=CA");
    }

    #[test]
    fn malformed_input_is_none_not_a_panic() {
        let good = cert(&rdn(&[0x55, 4, 3], 0x0c, b"a"), &[]);
        assert!(subject_and_issuer(&good).is_some());
        for cut in 0..good.len() {
            let _ = subject_and_issuer(&good[..cut]);
        }
        assert!(subject_and_issuer(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(subject_and_issuer(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(dotted(&[0x80]).is_none());
        assert!(dotted(&[0xff; 12]).is_none());
    }
}
