//! Frame headers and masking (RFC 6455 §5.2).
//!
//! Spec: <https://www.rfc-editor.org/rfc/rfc6455#section-5.2>

/// A frame opcode. Reserved values are kept so errors can name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0x0: continuation of a fragmented message.
    Continuation,
    /// 0x1: text (UTF-8).
    Text,
    /// 0x2: binary.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
    /// A reserved opcode (0x3–0x7, 0xB–0xF).
    Reserved(u8),
}

impl Opcode {
    /// From the low four bits of the first header byte.
    pub const fn from_u8(v: u8) -> Self {
        match v & 0x0f {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xa => Self::Pong,
            other => Self::Reserved(other),
        }
    }

    /// The four-bit value.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xa,
            Self::Reserved(v) => v & 0x0f,
        }
    }

    /// Close, ping and pong.
    pub const fn is_control(self) -> bool {
        self.to_u8() & 0x8 != 0
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN bit.
    pub fin: bool,
    /// RSV1–3 (must be zero without extensions).
    pub rsv: u8,
    /// Opcode.
    pub opcode: Opcode,
    /// Masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length.
    pub len: u64,
}

/// Parses a header from the start of `b`: `Ok(None)` when more bytes are needed (with the
/// count in `need`), `Err` for a 64-bit length with its top bit set.
pub(crate) fn parse_header(b: &[u8], need: &mut usize) -> Result<Option<(usize, FrameHeader)>, ()> {
    if b.len() < 2 {
        *need = 2;
        return Ok(None);
    }
    let masked = b[1] & 0x80 != 0;
    let len7 = b[1] & 0x7f;
    let ext = match len7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let total = 2 + ext + if masked { 4 } else { 0 };
    if b.len() < total {
        *need = total;
        return Ok(None);
    }
    let len = match ext {
        2 => u64::from(u16::from_be_bytes([b[2], b[3]])),
        8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[2..10]);
            let v = u64::from_be_bytes(a);
            if v >> 63 != 0 {
                return Err(());
            }
            v
        }
        _ => u64::from(len7),
    };
    let mask = masked.then(|| {
        let m = &b[2 + ext..6 + ext];
        [m[0], m[1], m[2], m[3]]
    });
    Ok(Some((
        total,
        FrameHeader {
            fin: b[0] & 0x80 != 0,
            rsv: (b[0] >> 4) & 0x7,
            opcode: Opcode::from_u8(b[0]),
            mask,
            len,
        },
    )))
}

/// The longest frame header: two bytes, an eight-byte length and a four-byte masking key.
pub const MAX_HEADER: usize = 14;

/// Appends a frame header with the shortest length encoding.
pub fn write_header(out: &mut Vec<u8>, fin: bool, opcode: Opcode, mask: Option<[u8; 4]>, len: u64) {
    let (h, n) = encode_header(fin, opcode, mask, len);
    out.extend_from_slice(&h[..n]);
}

/// A frame header with the shortest length encoding, in the first `.1` bytes of `.0`: a
/// fixed array, so that framing in place needs no allocation.
pub(crate) fn encode_header(
    fin: bool,
    opcode: Opcode,
    mask: Option<[u8; 4]>,
    len: u64,
) -> ([u8; MAX_HEADER], usize) {
    let mut h = [0u8; MAX_HEADER];
    h[0] = if fin { 0x80 } else { 0 } | opcode.to_u8();
    let m = if mask.is_some() { 0x80 } else { 0 };
    let mut n = 2;
    if len < 126 {
        h[1] = m | len as u8;
    } else if let Ok(l) = u16::try_from(len) {
        h[1] = m | 126;
        h[2..4].copy_from_slice(&l.to_be_bytes());
        n = 4;
    } else {
        h[1] = m | 127;
        h[2..10].copy_from_slice(&len.to_be_bytes());
        n = 10;
    }
    if let Some(k) = mask {
        h[n..n + 4].copy_from_slice(&k);
        n += 4;
    }
    (h, n)
}

/// XORs `data` with `key`, starting at byte `offset` of the frame payload. Works on eight
/// bytes at a time: this is the proxy's hot loop (websockify needs numpy for it).
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: u64) {
    let rot = (offset % 4) as usize;
    let k = [
        key[rot],
        key[(rot + 1) % 4],
        key[(rot + 2) % 4],
        key[(rot + 3) % 4],
    ];
    let k8 = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ k8;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= k[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_matches_bytewise_at_every_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let data: Vec<u8> = (0..37u8).collect();
        for off in 0..8u64 {
            let mut a = data.clone();
            apply_mask(&mut a, key, off);
            let b: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, &d)| d ^ key[((i as u64 + off) % 4) as usize])
                .collect();
            assert_eq!(a, b, "offset {off}");
        }
    }

    #[test]
    fn header_lengths() {
        for (len, size) in [(0u64, 2usize), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let mut v = Vec::new();
            write_header(&mut v, true, Opcode::Binary, None, len);
            assert_eq!(v.len(), size);
            let mut need = 0;
            let (n, h) = parse_header(&v, &mut need).unwrap().unwrap();
            assert_eq!(
                (n, h.len, h.fin, h.opcode),
                (size, len, true, Opcode::Binary)
            );
        }
        let mut need = 0;
        assert!(parse_header(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0], &mut need).is_err());
        assert!(parse_header(&[0x82, 0xfe, 0], &mut need).unwrap().is_none());
        assert_eq!(need, 8);
    }
}
