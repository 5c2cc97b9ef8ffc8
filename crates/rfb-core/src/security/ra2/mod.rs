//! RealVNC's RSA-AES security types: RA2 (5), RA2ne (6), RA2_256 (129), RA2ne_256 (130).
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#rsa-aes-security-type>
//! (and the RA2ne, RA2_256 and RA2ne_256 sections after it).
//!
//! 1. The server sends its RSA public key ([`keys`] has the wire form). Keys outside
//!    1024–8192 bits are refused from the 4-byte header, before the key is waited for. The
//!    driver approves the key ([`crate::Event::ServerVerification`] with
//!    [`ServerIdentity::Rsa`](super::ServerIdentity::Rsa), then
//!    [`crate::Client::approve_server`] or [`crate::Client::reject_server`]) unless a pinned
//!    fingerprint already decides.
//! 2. The client sends its own public key, then a random (16 bytes, 32 for the 256 types, as
//!    TigerVNC's implementation, the reference one, does) encrypted to the server's key with
//!    RSAES-PKCS1-v1_5 behind a `U16` length. The server's random arrives the same way,
//!    encrypted to the client's key.
//! 3. Session keys: client→server = H(ServerRandom ‖ ClientRandom), server→client =
//!    H(ClientRandom ‖ ServerRandom), H = SHA-1 cut to 16 bytes (AES-128) or SHA-256
//!    (AES-256). From here on, messages are AES-EAX ([`eax`]).
//! 4. Each side sends H(own key ‖ other key) over the keys' wire bytes; a wrong server hash
//!    means a man in the middle or a broken server, and is fatal.
//! 5. The server sends the subtype (1: user name and password, 2: password only), the client
//!    its credentials (`U8` length + UTF-8, twice; the user name empty for subtype 2).
//! 6. RA2 and RA2_256 keep the AES-EAX layer for the rest of the connection (installed as a
//!    [`Transform`](super::Transform), counters continuing); RA2ne and RA2ne_256 drop it, and
//!    the SecurityResult arrives in clear.

mod eax;
mod keys;
mod settings;

use std::sync::{Arc, Mutex};

use rand_core::RngCore;
use rsa::RsaPublicKey;
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub use keys::{
    DEFAULT_CLIENT_KEY_BITS, MAX_KEY_BITS, MIN_KEY_BITS, Ra2ClientKey, format_key_fingerprint,
    key_fingerprint, parse_key_fingerprint,
};

use self::eax::{Direction, HEADER, Ra2Transform};
use self::settings::Shared;
pub use self::settings::{Ra2Factory, Ra2Settings};
use super::{
    Credentials, CredentialsNeeded, SecurityContext, SecurityHandler, SecurityStep, SecurityType,
};
use crate::error::Error;
use crate::event::Event;

/// What differs between the four types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Variant {
    /// SHA-256 and AES-256 (the `_256` types) rather than SHA-1 and AES-128.
    wide: bool,
    /// The AES-EAX layer stays for the whole session (RA2, RA2_256).
    encrypted_session: bool,
}

impl Variant {
    const fn of(t: SecurityType) -> Option<Self> {
        let (wide, encrypted_session) = match t {
            SecurityType::Ra2 => (false, true),
            SecurityType::Ra2ne => (false, false),
            SecurityType::Ra2_256 => (true, true),
            SecurityType::Ra2ne256 => (true, false),
            _ => return None,
        };
        Some(Self {
            wide,
            encrypted_session,
        })
    }

    /// Bytes of each side's random, of a session key and of a hash.
    const fn random_len(self) -> usize {
        if self.wide { 32 } else { 16 }
    }
    const fn hash_len(self) -> usize {
        if self.wide { 32 } else { 20 }
    }

    /// H(a ‖ b), full length.
    fn hash(self, a: &[u8], b: &[u8]) -> Vec<u8> {
        if self.wide {
            Sha256::new()
                .chain_update(a)
                .chain_update(b)
                .finalize()
                .to_vec()
        } else {
            Sha1::new()
                .chain_update(a)
                .chain_update(b)
                .finalize()
                .to_vec()
        }
    }

    /// A session key: H(a ‖ b), cut to 16 bytes for AES-128.
    fn session_key(self, a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut h = self.hash(a, b);
        h.truncate(self.random_len());
        h
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    ServerKey,
    Approval,
    ServerRandom,
    ServerHash,
    Subtype,
    Credentials,
    Finished,
}

/// Client side of the RA2 types; [`Ra2::new`] for defaults, or made by [`Ra2Factory`].
pub struct Ra2 {
    security_type: SecurityType,
    variant: Variant,
    shared: Arc<Shared>,
    phase: Phase,
    server_key: Option<(RsaPublicKey, Vec<u8>, String)>,
    client_key: Option<Ra2ClientKey>,
    client_random: Vec<u8>,
    server_hash: Vec<u8>,
    rx: Option<Direction>,
    tx: Option<Direction>,
    /// Decrypted handshake bytes not used yet.
    plain: Vec<u8>,
    /// 1: user name and password; 2: password only.
    subtype: u8,
}

impl core::fmt::Debug for Ra2 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ra2")
            .field("security_type", &self.security_type)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

fn need(consumed: usize, needed: usize) -> SecurityStep {
    SecurityStep::NeedMore { consumed, needed }
}

/// Bytes needed before the AES-EAX message at the start of `rest` is complete.
fn message_needed(rest: &[u8]) -> usize {
    match rest.get(..HEADER) {
        None => HEADER,
        Some(h) => Direction::wire_len(usize::from(u16::from_be_bytes([h[0], h[1]]))),
    }
}

impl Ra2 {
    /// A handler for `t` with default settings (the driver approves the server key; a client
    /// key is generated for this connection). `None` when `t` is not an RA2 type.
    pub fn new(t: SecurityType) -> Option<Self> {
        Variant::of(t)?;
        let shared = Arc::new(Shared {
            settings: Ra2Settings::default(),
            key: Mutex::new(None),
        });
        Some(Self::with_shared(t, shared))
    }

    fn with_shared(t: SecurityType, shared: Arc<Shared>) -> Self {
        Self {
            security_type: t,
            // Factories and `new` only exist for RA2 types.
            variant: Variant::of(t).unwrap_or(Variant {
                wide: true,
                encrypted_session: true,
            }),
            shared,
            phase: Phase::ServerKey,
            server_key: None,
            client_key: None,
            client_random: Vec::new(),
            server_hash: Vec::new(),
            rx: None,
            tx: None,
            plain: Vec::new(),
            subtype: 0,
        }
    }

    /// The client key: given, kept from an earlier connection, or generated now.
    fn obtain_client_key(&mut self, rng: &mut dyn RngCore) -> Result<Ra2ClientKey, Error> {
        // A poisoned lock only means another connection panicked mid-generation; the
        // cached value (a complete key or none) is still sound.
        let mut cached = self
            .shared
            .key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(k) = cached.as_ref() {
            return Ok(k.clone());
        }
        let k = Ra2ClientKey::generate(rng, DEFAULT_CLIENT_KEY_BITS)?;
        *cached = Some(k.clone());
        Ok(k)
    }

    /// Step 2: the client's public key and its encrypted random.
    fn send_key_and_random(&mut self, cx: &mut SecurityContext<'_>) -> Result<(), Error> {
        let Some((server_key, _, _)) = &self.server_key else {
            return Err(Error::ApiMisuse("RSA-AES has no server key yet"));
        };
        let server_key = server_key.clone();
        let key = self.obtain_client_key(cx.rng)?;
        cx.to_server.extend_from_slice(key.public_wire());
        let mut random = vec![0u8; self.variant.random_len()];
        cx.rng.fill_bytes(&mut random);
        let ct = keys::encrypt_to(&server_key, cx.rng, &random)?;
        // At most 1024 bytes (8192 bits).
        cx.to_server
            .extend_from_slice(&(ct.len() as u16).to_be_bytes());
        cx.to_server.extend_from_slice(&ct);
        self.client_random = random;
        self.client_key = Some(key);
        self.phase = Phase::ServerRandom;
        Ok(())
    }

    /// Decrypts AES-EAX messages from `input[*pos..]` until `self.plain` holds `want` bytes;
    /// false when a message is still incomplete.
    fn fill_plain(&mut self, input: &[u8], pos: &mut usize, want: usize) -> Result<bool, Error> {
        let Some(rx) = self.rx.as_mut() else {
            return Err(Error::ApiMisuse("RSA-AES has no session keys yet"));
        };
        while self.plain.len() < want {
            match rx.open(&input[*pos..])? {
                Some((used, text)) => {
                    *pos += used;
                    self.plain.extend_from_slice(&text);
                }
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    fn step(&mut self, input: &[u8], cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.phase {
                Phase::ServerKey => {
                    let Some(h) = rest.get(..4) else {
                        return Ok(need(pos, 4));
                    };
                    let bits = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                    keys::check_bits(bits)?;
                    let total = 4 + 2 * keys::field_len(bits);
                    let Some(wire) = rest.get(..total) else {
                        return Ok(need(pos, total));
                    };
                    let key = keys::parse_public(bits, wire)?;
                    let fp = key_fingerprint(wire);
                    let fingerprint = format_key_fingerprint(&fp);
                    self.server_key = Some((key, wire.to_vec(), fingerprint.clone()));
                    pos += total;
                    match self.shared.settings.pinned_fingerprint {
                        Some(pin) if pin == fp => self.send_key_and_random(cx)?,
                        Some(pin) => {
                            return Err(Error::ServerKeyRejected {
                                reason: format!(
                                    "it does not match the pinned fingerprint {}",
                                    format_key_fingerprint(&pin)
                                ),
                                fingerprint,
                            });
                        }
                        None => {
                            cx.events
                                .push_back(Event::ServerVerification(keys::identity(bits, wire)));
                            self.phase = Phase::Approval;
                        }
                    }
                }
                Phase::Approval | Phase::Credentials | Phase::Finished => {
                    return Ok(need(pos, 0));
                }
                Phase::ServerRandom => {
                    let Some(h) = rest.get(..2) else {
                        return Ok(need(pos, 2));
                    };
                    let len = usize::from(u16::from_be_bytes([h[0], h[1]]));
                    let Some(client_key) = self.client_key.clone() else {
                        return Err(Error::ApiMisuse("RSA-AES has no client key yet"));
                    };
                    if len != client_key.field_len() {
                        return Err(Error::invalid(
                            "RSA-AES server random",
                            "length",
                            format!(
                                "{len} bytes; the client's {}-bit key makes {}",
                                client_key.bits(),
                                client_key.field_len()
                            ),
                        ));
                    }
                    let Some(ct) = rest.get(2..2 + len) else {
                        return Ok(need(pos, 2 + len));
                    };
                    let server_random = client_key
                        .decrypt(cx.rng, ct)
                        .filter(|r| r.len() == self.variant.random_len())
                        .ok_or_else(|| Error::PeerMisbehaved {
                            message: "RSA-AES server random",
                            detail: format!(
                                "not a {}-byte random encrypted to the client's key",
                                self.variant.random_len()
                            ),
                        })?;
                    pos += 2 + len;
                    self.keys_and_hash(&server_random, client_key.public_wire(), cx)?;
                    self.phase = Phase::ServerHash;
                }
                Phase::ServerHash => {
                    let want = self.variant.hash_len();
                    if !self.fill_plain(input, &mut pos, want)? {
                        return Ok(need(pos, message_needed(&input[pos..])));
                    }
                    let got: Vec<u8> = self.plain.drain(..want).collect();
                    if got != self.server_hash {
                        return Err(Error::PeerMisbehaved {
                            message: "RSA-AES server hash",
                            detail: "the hash of the public keys does not match: another \
                                     party is in the middle, or the server is broken"
                                .into(),
                        });
                    }
                    self.phase = Phase::Subtype;
                }
                Phase::Subtype => {
                    if !self.fill_plain(input, &mut pos, 1)? {
                        return Ok(need(pos, message_needed(&input[pos..])));
                    }
                    let sub = self.plain.remove(0);
                    if !self.plain.is_empty() {
                        return Err(Error::PeerMisbehaved {
                            message: "RSA-AES subtype",
                            detail: "data followed the subtype before the credentials".into(),
                        });
                    }
                    if sub != 1 && sub != 2 {
                        return Err(Error::invalid(
                            "RSA-AES subtype",
                            "subtype",
                            format!("{sub} (1 is user name and password, 2 password only)"),
                        ));
                    }
                    self.subtype = sub;
                    self.phase = Phase::Credentials;
                    cx.events
                        .push_back(Event::CredentialsRequired(CredentialsNeeded {
                            username: sub == 1,
                            password: true,
                            target: false,
                        }));
                }
            }
        }
    }

    /// Step 3 and the client's half of step 4.
    fn keys_and_hash(
        &mut self,
        server_random: &[u8],
        client_wire: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<(), Error> {
        let Some((_, server_wire, _)) = &self.server_key else {
            return Err(Error::ApiMisuse("RSA-AES has no server key yet"));
        };
        let v = self.variant;
        let client_session = v.session_key(server_random, &self.client_random);
        let server_session = v.session_key(&self.client_random, server_random);
        let mut tx = Direction::new(&client_session);
        tx.seal(&v.hash(client_wire, server_wire), cx.to_server);
        self.server_hash = v.hash(server_wire, client_wire);
        self.tx = Some(tx);
        self.rx = Some(Direction::new(&server_session));
        // The randoms are not needed again.
        self.client_random.fill(0);
        Ok(())
    }
}

impl SecurityHandler for Ra2 {
    fn security_type(&self) -> SecurityType {
        self.security_type
    }

    fn start(&mut self, _: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        Ok(need(0, 4))
    }

    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        self.step(input, cx)
    }

    fn approve_server(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        if self.phase != Phase::Approval {
            return Err(Error::ApiMisuse(
                "RSA-AES is not waiting for a server key approval",
            ));
        }
        self.send_key_and_random(cx)?;
        Ok(need(0, 2))
    }

    fn reject_server(&mut self) -> Error {
        match (&self.server_key, self.phase) {
            (Some((_, _, fingerprint)), Phase::Approval) => Error::ServerKeyRejected {
                reason: "the application did not approve it".into(),
                fingerprint: fingerprint.clone(),
            },
            _ => Error::ApiMisuse("RSA-AES is not waiting for a server key approval"),
        }
    }

    fn supply_credentials(
        &mut self,
        credentials: &Credentials,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        if self.phase != Phase::Credentials {
            return Err(Error::ApiMisuse(
                "RSA-AES is not asking for credentials yet",
            ));
        }
        let Some(password) = &credentials.password else {
            return Err(Error::ApiMisuse("RSA-AES needs a password"));
        };
        let username = match (self.subtype, &credentials.username) {
            (1, Some(u)) => u.as_str(),
            (1, None) => return Err(Error::ApiMisuse("this RSA-AES server needs a user name")),
            _ => "",
        };
        if username.len() > 255 || password.len() > 255 {
            return Err(Error::ApiMisuse(
                "RSA-AES user names and passwords are at most 255 bytes",
            ));
        }
        let mut msg = Vec::with_capacity(2 + username.len() + password.len());
        msg.push(username.len() as u8);
        msg.extend_from_slice(username.as_bytes());
        msg.push(password.len() as u8);
        msg.extend_from_slice(password.as_bytes());
        let (Some(mut tx), Some(rx)) = (self.tx.take(), self.rx.take()) else {
            return Err(Error::ApiMisuse("RSA-AES has no session keys yet"));
        };
        tx.seal(&msg, cx.to_server);
        msg.fill(0);
        self.phase = Phase::Finished;
        let transform: Option<Box<dyn super::Transform>> = if self.variant.encrypted_session {
            Some(Box::new(Ra2Transform::new(rx, tx)))
        } else {
            None
        };
        Ok(SecurityStep::Done {
            consumed: 0,
            transform,
            expect_result: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn key_derivation_concatenates_then_hashes_and_cuts() {
        // SHA-1("abc") and SHA-256("abc") (FIPS 180 examples): H(a ‖ b) over the joined bytes.
        let narrow = Variant::of(SecurityType::Ra2ne).unwrap();
        assert_eq!(
            hex(&narrow.hash(b"ab", b"c")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        // AES-128 keys are the first 16 bytes of the SHA-1.
        assert_eq!(
            hex(&narrow.session_key(b"a", b"bc")),
            "a9993e364706816aba3e25717850c26c"
        );
        let wide = Variant::of(SecurityType::Ra2_256).unwrap();
        assert_eq!(
            hex(&wide.session_key(b"", b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!((narrow.random_len(), narrow.hash_len()), (16, 20));
        assert_eq!((wide.random_len(), wide.hash_len()), (32, 32));
        assert!(Variant::of(SecurityType::Ra2).unwrap().encrypted_session);
        assert!(
            !Variant::of(SecurityType::Ra2ne256)
                .unwrap()
                .encrypted_session
        );
        assert_eq!(Variant::of(SecurityType::VncAuth), None);
    }

    #[test]
    fn message_needs_are_counted_from_the_header() {
        assert_eq!(message_needed(&[]), HEADER);
        assert_eq!(message_needed(&[0]), HEADER);
        // Header, 20 bytes of hash, 16 of tag.
        assert_eq!(message_needed(&[0, 20, 1, 2]), 2 + 20 + 16);
    }
}
