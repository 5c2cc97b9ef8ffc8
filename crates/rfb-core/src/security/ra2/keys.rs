//! RSA keys as RA2 puts them on the wire, their fingerprints, and the client's own key.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#rsa-aes-security-type>
//!
//! A public key on the wire is `U32` key length in bits, then the modulus and the public
//! exponent, each a big-endian number of exactly `ceil(bits / 8)` bytes. Those wire bytes are
//! what the session hashes cover and what the fingerprints are computed from.

use std::sync::Arc;

use rand_core::{CryptoRng, RngCore};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::security::ServerIdentity;

/// Smallest RSA key accepted from the server, in bits (as TigerVNC and noVNC).
pub const MIN_KEY_BITS: u32 = 1024;
/// Largest RSA key accepted from the server, in bits (as TigerVNC and noVNC); bounds what a
/// server can make the client buffer (2 × 1 KiB) and compute with.
pub const MAX_KEY_BITS: u32 = 8192;
/// Size of the key this client generates when the driver supplies none (noVNC's size; a
/// server accepts 1024–8192).
pub const DEFAULT_CLIENT_KEY_BITS: usize = 2048;

/// The driver's RNG, vouched for as cryptographic: `rsa` asks for [`CryptoRng`], and the
/// [`crate::Client`] contract already requires drivers to pass a CSPRNG.
pub(crate) struct DriverRng<'a>(pub(crate) &'a mut dyn RngCore);

impl RngCore for DriverRng<'_> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl CryptoRng for DriverRng<'_> {}

/// Bytes of a number field for a key of `bits` bits.
pub(crate) const fn field_len(bits: u32) -> usize {
    bits.div_ceil(8) as usize
}

/// `n` as exactly `len` big-endian bytes, or `None` when it does not fit.
fn fixed(n: &BigUint, len: usize) -> Option<Vec<u8>> {
    let b = n.to_bytes_be();
    let pad = len.checked_sub(b.len())?;
    let mut out = vec![0u8; pad];
    out.extend_from_slice(&b);
    Some(out)
}

/// A public key in its wire form: `U32` bits, modulus, exponent.
pub(crate) fn encode_public(key: &RsaPublicKey) -> Vec<u8> {
    let bits = key.n().bits() as u32;
    let len = field_len(bits);
    let mut out = Vec::with_capacity(4 + 2 * len);
    out.extend_from_slice(&bits.to_be_bytes());
    // The modulus has exactly `bits` bits and the exponent is below it, so both fit.
    out.extend(fixed(key.n(), len).unwrap_or_default());
    out.extend(fixed(key.e(), len).unwrap_or_default());
    out
}

/// The bit length announced by a server key header, checked against the accepted range
/// before anything sized by it is waited for.
pub(crate) fn check_bits(bits: u32) -> Result<(), Error> {
    if bits > MAX_KEY_BITS {
        return Err(Error::LimitExceeded {
            message: "RSA-AES server key",
            field: "key-length",
            value: u64::from(bits),
            limit: u64::from(MAX_KEY_BITS),
        });
    }
    if bits < MIN_KEY_BITS {
        return Err(Error::invalid(
            "RSA-AES server key",
            "key-length",
            format!("{bits} bits is below the {MIN_KEY_BITS}-bit minimum"),
        ));
    }
    Ok(())
}

/// Parses the server's key from its complete wire form (`wire.len() == 4 + 2 * field`).
pub(crate) fn parse_public(bits: u32, wire: &[u8]) -> Result<RsaPublicKey, Error> {
    let len = field_len(bits);
    let n = BigUint::from_bytes_be(&wire[4..4 + len]);
    let e = BigUint::from_bytes_be(&wire[4 + len..4 + 2 * len]);
    let bad = |detail: String| Error::invalid("RSA-AES server key", "modulus/exponent", detail);
    // Ciphertexts to this key are `ceil(bits / 8)` bytes on the wire, so the modulus must
    // fill that many bytes.
    if field_len(n.bits() as u32) != len {
        return Err(bad(format!(
            "the modulus has {} bits, the header says {bits}",
            n.bits()
        )));
    }
    RsaPublicKey::new_with_max_size(n, e, MAX_KEY_BITS as usize)
        .map_err(|e| bad(format!("not a usable RSA public key ({e})")))
}

/// SHA-256 of a key's wire bytes.
pub fn key_fingerprint(wire: &[u8]) -> [u8; 32] {
    Sha256::digest(wire).into()
}

/// Lower-case hex bytes joined by `sep`.
fn hex_join(bytes: &[u8], sep: &str) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

/// Formats a SHA-256 fingerprint as lower-case hex bytes joined by colons.
pub fn format_key_fingerprint(fp: &[u8; 32]) -> String {
    hex_join(fp, ":")
}

/// Parses 64 hex digits, with or without `:` separators, either case, optionally prefixed
/// by `sha256:` / `sha256=` (the forms users paste).
pub fn parse_key_fingerprint(s: &str) -> Option<[u8; 32]> {
    let lower = s.trim().to_ascii_lowercase();
    let body = lower
        .strip_prefix("sha256:")
        .or_else(|| lower.strip_prefix("sha256="))
        .unwrap_or(&lower);
    let hex: Vec<u8> = body.bytes().filter(|&c| c != b':').collect();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let d = |c: u8| (c as char).to_digit(16);
        *o = (d(pair[0])? * 16 + d(pair[1])?) as u8;
    }
    Some(out)
}

/// The server key as the driver is asked to approve it
/// ([`crate::Event::ServerVerification`]).
pub(crate) fn identity(bits: u32, wire: &[u8]) -> ServerIdentity {
    let short = Sha1::digest(wire);
    ServerIdentity::Rsa {
        bits,
        fingerprint: format_key_fingerprint(&key_fingerprint(wire)),
        short_fingerprint: hex_join(&short[..8], "-"),
        public_key: wire.to_vec(),
    }
}

/// The client's RSA key pair. Cloning shares it.
///
/// Generating one takes a noticeable time (a 2048-bit key: tenths of a second optimised,
/// seconds unoptimised or in a slow browser), so an application that connects often can
/// generate it once and hand it to every connection with [`super::Ra2Settings::with_client_key`].
/// Reusing it is safe for RA2: the key only protects the server's random in transit and is
/// authenticated by nothing.
#[derive(Clone)]
pub struct Ra2ClientKey {
    key: Arc<RsaPrivateKey>,
    wire: Arc<[u8]>,
}

impl core::fmt::Debug for Ra2ClientKey {
    // Never print the private key.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ra2ClientKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl Ra2ClientKey {
    /// Generates a key of `bits` bits (1024–8192, the range servers accept) with `rng`, which
    /// must be a cryptographic RNG.
    pub fn generate(rng: &mut dyn RngCore, bits: usize) -> Result<Self, Error> {
        if !(MIN_KEY_BITS as usize..=MAX_KEY_BITS as usize).contains(&bits) {
            return Err(Error::ApiMisuse(
                "RSA-AES client keys are 1024 to 8192 bits",
            ));
        }
        let key = RsaPrivateKey::new(&mut DriverRng(rng), bits).map_err(|_| {
            Error::ApiMisuse("RSA key generation failed (the RNG gave unusable output)")
        })?;
        let wire = encode_public(&key.to_public_key()).into();
        Ok(Self {
            key: Arc::new(key),
            wire,
        })
    }

    /// Key length in bits.
    pub fn bits(&self) -> u32 {
        self.key.n().bits() as u32
    }

    /// The public key's wire bytes (`U32` bits, modulus, exponent).
    pub fn public_wire(&self) -> &[u8] {
        &self.wire
    }

    /// Bytes of one number field (and of every ciphertext made with this key).
    pub(crate) fn field_len(&self) -> usize {
        self.key.size()
    }

    /// RSAES-PKCS1-v1_5 decryption (blinded with `rng`).
    pub(crate) fn decrypt(&self, rng: &mut dyn RngCore, ct: &[u8]) -> Option<Vec<u8>> {
        self.key
            .decrypt_blinded(&mut DriverRng(rng), Pkcs1v15Encrypt, ct)
            .ok()
    }
}

/// RSAES-PKCS1-v1_5 encryption of `msg` to `key`, as exactly `key.size()` bytes.
pub(crate) fn encrypt_to(
    key: &RsaPublicKey,
    rng: &mut dyn RngCore,
    msg: &[u8],
) -> Result<Vec<u8>, Error> {
    key.encrypt(&mut DriverRng(rng), Pkcs1v15Encrypt, msg)
        .map_err(|e| Error::invalid("RSA-AES server key", "modulus", format!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_and_fingerprints() {
        // A 1024-bit modulus (top bit set, odd) and e = 65537, as a server would send them.
        let mut n = vec![0u8; 128];
        n[0] = 0xc0;
        n[127] = 0x01;
        let e = BigUint::from(65537u32);
        let key = RsaPublicKey::new(BigUint::from_bytes_be(&n), e).unwrap();
        let wire = encode_public(&key);
        // U32 1024, 128 modulus bytes, then 65537 left-padded to 128 bytes.
        assert_eq!(&wire[..4], &[0, 0, 4, 0]);
        assert_eq!(&wire[4..132], n.as_slice());
        assert_eq!(&wire[132..257], &[0u8; 125][..]);
        assert_eq!(&wire[257..], &[1, 0, 1]);
        assert_eq!(wire.len(), 4 + 2 * 128);
        let parsed = parse_public(1024, &wire).unwrap();
        assert_eq!(parsed, key);
        // The header must match the modulus.
        assert!(parse_public(1024, &[&[0, 0, 4, 0][..], &[0; 256]].concat()).is_err());

        let ServerIdentity::Rsa {
            bits,
            fingerprint,
            short_fingerprint,
            public_key,
        } = identity(1024, &wire)
        else {
            panic!("an RSA identity");
        };
        assert_eq!((bits, public_key), (1024, wire.clone()));
        assert_eq!(fingerprint.len(), 32 * 3 - 1);
        assert_eq!(short_fingerprint.len(), 8 * 3 - 1);
        assert_eq!(
            parse_key_fingerprint(&fingerprint),
            Some(key_fingerprint(&wire))
        );
        let upper = fingerprint.to_uppercase().replace(':', "");
        assert_eq!(
            parse_key_fingerprint(&format!("SHA256={upper}")),
            Some(key_fingerprint(&wire))
        );
        assert_eq!(parse_key_fingerprint("ab:cd"), None);
    }

    #[test]
    fn bit_range() {
        assert!(check_bits(1024).is_ok());
        assert!(check_bits(8192).is_ok());
        assert!(matches!(
            check_bits(1023),
            Err(Error::InvalidMessage { .. })
        ));
        assert!(matches!(check_bits(8193), Err(Error::LimitExceeded { .. })));
        assert!(matches!(
            check_bits(u32::MAX),
            Err(Error::LimitExceeded { .. })
        ));
    }
}
