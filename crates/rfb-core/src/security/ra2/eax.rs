//! RA2's AES-EAX message layer, and the [`Transform`] that keeps it for a whole RA2 session.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#rsa-aes-security-type>
//!
//! Each message is `U16` length, that many bytes of AES-EAX ciphertext, then the 16-byte tag.
//! The length header is the associated data; the nonce is a 16-byte little-endian counter,
//! one per direction, starting at zero with the first message after the key exchange (the
//! hash) and never reset. Messages are not RFB messages: the layer is a byte stream, like TLS.

use aes::{Aes128, Aes256};
use eax::Eax;
use eax::aead::generic_array::GenericArray;
use eax::aead::{AeadInPlace, KeyInit};

use crate::error::Error;
use crate::security::Transform;

/// Length of the header (`U16` message length).
pub(crate) const HEADER: usize = 2;
/// Length of the AES-EAX tag.
pub(crate) const TAG: usize = 16;
/// Largest plaintext this client puts in one message. Any `U16` length is valid; 8 KiB keeps
/// messages in the size TigerVNC writes.
const MAX_OUT: usize = 8192;

enum Cipher {
    Aes128(Box<Eax<Aes128>>),
    Aes256(Box<Eax<Aes256>>),
}

/// One direction of the message layer: a key and its message counter.
pub(crate) struct Direction {
    cipher: Cipher,
    counter: u128,
}

impl Direction {
    /// A direction keyed with a 16-byte (AES-128) or 32-byte (AES-256) key.
    pub(crate) fn new(key: &[u8]) -> Self {
        let cipher = if key.len() == 32 {
            Cipher::Aes256(Box::new(Eax::new(GenericArray::from_slice(key))))
        } else {
            Cipher::Aes128(Box::new(Eax::new(GenericArray::from_slice(&key[..16]))))
        };
        Self { cipher, counter: 0 }
    }

    /// The next nonce, advancing the counter.
    fn next_nonce(&mut self) -> [u8; 16] {
        let n = self.counter.to_le_bytes();
        self.counter = self.counter.wrapping_add(1);
        n
    }

    /// Appends `plain` (at most 65535 bytes) as one message to `out`.
    pub(crate) fn seal(&mut self, plain: &[u8], out: &mut Vec<u8>) {
        let header = (plain.len() as u16).to_be_bytes();
        let nonce = self.next_nonce();
        let nonce = GenericArray::from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(&header);
        out.extend_from_slice(plain);
        let body = &mut out[start + HEADER..];
        // Encryption cannot fail for lengths that fit the header.
        let tag = match &self.cipher {
            Cipher::Aes128(c) => c.encrypt_in_place_detached(nonce, &header, body),
            Cipher::Aes256(c) => c.encrypt_in_place_detached(nonce, &header, body),
        };
        if let Ok(tag) = tag {
            out.extend_from_slice(&tag);
        }
    }

    /// Opens the message at the start of `input`: `Ok(None)` when it is not complete yet,
    /// else the bytes it took and its plaintext. A wrong tag is fatal.
    pub(crate) fn open(&mut self, input: &[u8]) -> Result<Option<(usize, Vec<u8>)>, Error> {
        let Some(h) = input.get(..HEADER) else {
            return Ok(None);
        };
        let header = [h[0], h[1]];
        let len = usize::from(u16::from_be_bytes(header));
        let total = HEADER + len + TAG;
        let Some(msg) = input.get(..total) else {
            return Ok(None);
        };
        let mut body = msg[HEADER..HEADER + len].to_vec();
        let tag = GenericArray::from_slice(&msg[HEADER + len..]);
        let nonce = self.next_nonce();
        let nonce = GenericArray::from_slice(&nonce);
        let ok = match &self.cipher {
            Cipher::Aes128(c) => c.decrypt_in_place_detached(nonce, &header, &mut body, tag),
            Cipher::Aes256(c) => c.decrypt_in_place_detached(nonce, &header, &mut body, tag),
        };
        if ok.is_err() {
            return Err(Error::PeerMisbehaved {
                message: "RSA-AES encrypted message",
                detail: "the AES-EAX tag does not match: the data was altered or \
                         mis-keyed"
                    .into(),
            });
        }
        Ok(Some((total, body)))
    }

    /// Bytes one message with `len` plaintext bytes takes on the wire.
    pub(crate) const fn wire_len(len: usize) -> usize {
        HEADER + len + TAG
    }
}

/// The RA2 / RA2_256 session: every byte both ways inside AES-EAX messages, counters
/// continuing from the handshake.
pub(crate) struct Ra2Transform {
    pub(crate) rx: Direction,
    pub(crate) tx: Direction,
    /// Ciphertext of a message not complete yet (at most one message: 65553 bytes).
    pending: Vec<u8>,
}

impl Ra2Transform {
    pub(crate) fn new(rx: Direction, tx: Direction) -> Self {
        Self {
            rx,
            tx,
            pending: Vec::new(),
        }
    }
}

impl Transform for Ra2Transform {
    fn decrypt(
        &mut self,
        input: &[u8],
        plain: &mut Vec<u8>,
        _to_server: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        self.pending.extend_from_slice(input);
        let mut pos = 0;
        while let Some((used, text)) = self.rx.open(&self.pending[pos..])? {
            plain.extend_from_slice(&text);
            pos += used;
        }
        self.pending.drain(..pos);
        Ok(input.len())
    }

    fn encrypt(&mut self, plain: &[u8], to_server: &mut Vec<u8>) -> Result<(), Error> {
        for chunk in plain.chunks(MAX_OUT) {
            self.tx.seal(chunk, to_server);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_layout_and_counters() {
        let key = [7u8; 16];
        let mut tx = Direction::new(&key);
        let mut rx = Direction::new(&key);
        let mut wire = Vec::new();
        tx.seal(b"hello", &mut wire);
        tx.seal(b"", &mut wire);
        // U16 length 5, 5 ciphertext bytes, 16-byte tag; then an empty message.
        assert_eq!(&wire[..2], &[0, 5]);
        assert_eq!(wire.len(), Direction::wire_len(5) + Direction::wire_len(0));
        assert_ne!(&wire[2..7], b"hello");
        // Incomplete input waits; complete input opens in order.
        assert!(rx.open(&wire[..22]).unwrap().is_none());
        let (used, text) = rx.open(&wire).unwrap().unwrap();
        assert_eq!((used, text.as_slice()), (23, &b"hello"[..]));
        let (used, text) = rx.open(&wire[23..]).unwrap().unwrap();
        assert_eq!((used, text.len()), (18, 0));

        // The same plaintext under the next counter value gives other bytes.
        let mut again = Vec::new();
        tx.seal(b"hello", &mut again);
        assert_ne!(again, wire[..23]);

        // Nonce 0 is the all-zero 16-byte block: a fresh direction reproduces the first message.
        let mut fresh = Direction::new(&key);
        let mut first = Vec::new();
        fresh.seal(b"hello", &mut first);
        assert_eq!(first, wire[..23]);
    }

    #[test]
    fn tampering_is_fatal() {
        for key in [&[1u8; 16][..], &[2u8; 32][..]] {
            let mut wire = Vec::new();
            Direction::new(key).seal(b"secret", &mut wire);
            for i in 0..wire.len() {
                let mut bad = wire.clone();
                bad[i] ^= 0x40;
                let r = Direction::new(key).open(&bad);
                // A changed length may just look incomplete; anything else fails the tag.
                if i >= 2 {
                    assert!(matches!(r, Err(Error::PeerMisbehaved { .. })), "byte {i}");
                }
            }
            // A message opened under the wrong counter value fails too.
            let mut rx = Direction::new(key);
            rx.next_nonce();
            assert!(rx.open(&wire).is_err());
        }
    }

    #[test]
    fn transform_splits_and_reassembles() {
        let key = [9u8; 32];
        let mut t = Ra2Transform::new(Direction::new(&key), Direction::new(&key));
        let big = vec![0x5a; 20_000];
        let mut wire = Vec::new();
        t.encrypt(&big, &mut wire).unwrap();
        // 8192 + 8192 + 3616 bytes in three messages.
        assert_eq!(wire.len(), 20_000 + 3 * (HEADER + TAG));
        let mut plain = Vec::new();
        for b in wire.chunks(1000) {
            assert_eq!(t.decrypt(b, &mut plain, &mut Vec::new()).unwrap(), b.len());
        }
        assert_eq!(plain, big);
    }
}
