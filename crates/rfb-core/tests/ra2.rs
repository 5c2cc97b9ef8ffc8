//! RealVNC RSA-AES (RA2 5, RA2ne 6, RA2_256 129, RA2ne_256 130) against a server side written
//! here from rfbproto's "RSA-AES Security Type" section: RSA keys on the wire as `U32` bits,
//! modulus, exponent; randoms exchanged with RSAES-PKCS1-v1_5; session keys and key hashes
//! from SHA-1 / SHA-256; AES-EAX messages (`U16` length as associated data, 16-byte tag,
//! little-endian message counter as nonce). Encrypted RA2 and RA2_256 are self-consistent
//! only: no third-party client or server here speaks them.

use std::sync::OnceLock;

use aes::{Aes128, Aes256};
use eax::Eax;
use eax::aead::generic_array::GenericArray;
use eax::aead::{AeadInPlace, KeyInit};
use rand_core::{CryptoRng, RngCore};
use rfb_core::security::{
    Ra2ClientKey, Ra2Settings, ServerIdentity, key_fingerprint, parse_key_fingerprint,
};
use rfb_core::{Config, Credentials, Error, Event, SecurityType};
use rfb_encodings::{Encoding, PixelFormat};
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, TestRng, script};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};

const TYPES: [SecurityType; 4] = [
    SecurityType::Ra2,
    SecurityType::Ra2ne,
    SecurityType::Ra2_256,
    SecurityType::Ra2ne256,
];

/// The test's RNG, declared cryptographic so `rsa` takes it (tests only).
struct Rng(TestRng);
impl RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        self.0.fill_bytes(d)
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(d)
    }
}
impl CryptoRng for Rng {}

/// The server's 1024-bit key, made once.
fn server_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut Rng(TestRng::seeded(11)), 1024).unwrap())
}

/// The client's 1024-bit key, made once and handed to every connection (key generation is
/// the slow part of RA2; drivers do the same with `Ra2Settings::with_client_key`).
fn client_key() -> Ra2ClientKey {
    static KEY: OnceLock<Ra2ClientKey> = OnceLock::new();
    KEY.get_or_init(|| Ra2ClientKey::generate(&mut TestRng::seeded(22), 1024).unwrap())
        .clone()
}

/// A public key's wire form, written from the spec's table.
fn wire(bits: u32, n: &BigUint, e: &BigUint) -> Vec<u8> {
    let len = bits.div_ceil(8) as usize;
    let mut out = bits.to_be_bytes().to_vec();
    for v in [n, e] {
        let b = v.to_bytes_be();
        out.extend(vec![0; len - b.len()]);
        out.extend(b);
    }
    out
}

fn server_wire() -> Vec<u8> {
    let k = server_key();
    wire(k.n().bits() as u32, k.n(), k.e())
}

fn wide(t: SecurityType) -> bool {
    matches!(t, SecurityType::Ra2_256 | SecurityType::Ra2ne256)
}

fn encrypted(t: SecurityType) -> bool {
    matches!(t, SecurityType::Ra2 | SecurityType::Ra2_256)
}

fn hash(t: SecurityType, a: &[u8], b: &[u8]) -> Vec<u8> {
    if wide(t) {
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

/// One direction of the AES-EAX message layer, server side.
enum Aead {
    A128(Eax<Aes128>),
    A256(Eax<Aes256>),
}
struct Dir {
    aead: Aead,
    counter: u128,
}
impl Dir {
    fn new(t: SecurityType, a: &[u8], b: &[u8]) -> Self {
        let h = hash(t, a, b);
        let aead = if wide(t) {
            Aead::A256(Eax::new(GenericArray::from_slice(&h[..32])))
        } else {
            Aead::A128(Eax::new(GenericArray::from_slice(&h[..16])))
        };
        Self { aead, counter: 0 }
    }
    fn nonce(&mut self) -> [u8; 16] {
        let n = self.counter.to_le_bytes();
        self.counter += 1;
        n
    }
    fn seal(&mut self, plain: &[u8]) -> Vec<u8> {
        let aad = (plain.len() as u16).to_be_bytes();
        let nonce = self.nonce();
        let n = GenericArray::from_slice(&nonce);
        let mut body = plain.to_vec();
        let tag = match &self.aead {
            Aead::A128(c) => c.encrypt_in_place_detached(n, &aad, &mut body),
            Aead::A256(c) => c.encrypt_in_place_detached(n, &aad, &mut body),
        }
        .unwrap();
        [&aad[..], &body, &tag].concat()
    }
    /// Opens every message in `wire` (which holds whole messages only).
    fn open_all(&mut self, mut wire: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while !wire.is_empty() {
            let len = usize::from(u16::from_be_bytes([wire[0], wire[1]]));
            let mut body = wire[2..2 + len].to_vec();
            let tag = GenericArray::clone_from_slice(&wire[2 + len..18 + len]);
            let nonce = self.nonce();
            let n = GenericArray::from_slice(&nonce);
            match &self.aead {
                Aead::A128(c) => c.decrypt_in_place_detached(n, &wire[..2], &mut body, &tag),
                Aead::A256(c) => c.decrypt_in_place_detached(n, &wire[..2], &mut body, &tag),
            }
            .expect("the client's message authenticates");
            out.extend(body);
            wire = &wire[18 + len..];
        }
        out
    }
}

fn config(t: SecurityType) -> Config {
    Config {
        security_types: vec![t],
        encodings: vec![Encoding::Raw],
        ..Config::default()
    }
}

fn opening(t: SecurityType, key: Vec<u8>) -> Vec<Step> {
    vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, t.to_u8()]),
        Expect(vec![t.to_u8()]),
        Send(key),
    ]
}

/// A pair whose client uses the shared test key, with optional pin.
fn pair(t: SecurityType, pin: Option<[u8; 32]>, script: Vec<Step>) -> Pair {
    let mut p = Pair::new(config(t), script);
    let mut settings = Ra2Settings::default().with_client_key(client_key());
    settings.pinned_fingerprint = pin;
    for f in settings.factories() {
        p.client.register_security(f);
    }
    p
}

/// The server's state after the key exchange.
struct Session {
    rx: Dir,
    tx: Dir,
    /// Everything the server sent after the opening, for recording fuzz seeds.
    sent: Vec<u8>,
}

/// Runs the handshake up to the credentials request: approves the server key when asked,
/// checks the client's key, random and hash, and sends `server_hash` (the right one when
/// `None`) and `subtype`. Returns the server's keys and how the client took it.
fn try_exchange(
    p: &mut Pair,
    t: SecurityType,
    server_hash: Option<Vec<u8>>,
    subtype: u8,
) -> (Session, Result<(), Error>) {
    let client_len = client_key().public_wire().len();
    p.server.extend(vec![Capture(client_len), Capture(2 + 128)]);
    p.drive().unwrap();
    if p.events
        .iter()
        .any(|e| matches!(e, Event::ServerVerification(_)))
    {
        assert!(
            p.server.captured.is_empty(),
            "nothing is sent before approval"
        );
        p.client.approve_server().unwrap();
        p.drive().unwrap();
    }
    assert_eq!(p.server.captured.len(), 2);
    let client_wire = p.server.captured[0].clone();
    assert_eq!(client_wire, client_key().public_wire());
    let client_pub = {
        let n = BigUint::from_bytes_be(&client_wire[4..132]);
        let e = BigUint::from_bytes_be(&client_wire[132..260]);
        RsaPublicKey::new(n, e).unwrap()
    };
    let enc = &p.server.captured[1];
    assert_eq!(&enc[..2], &[0, 128], "U16 length = ceil(server bits / 8)");
    let client_random = server_key().decrypt(Pkcs1v15Encrypt, &enc[2..]).unwrap();
    let rlen = if wide(t) { 32 } else { 16 };
    assert_eq!(client_random.len(), rlen);
    let mut server_random = vec![0u8; rlen];
    TestRng::seeded(33).fill_bytes(&mut server_random);
    let ct = client_pub
        .encrypt(
            &mut Rng(TestRng::seeded(44)),
            Pkcs1v15Encrypt,
            &server_random,
        )
        .unwrap();
    let sw = server_wire();
    let mut s = Session {
        // Client→server: SHA(ServerRandom ‖ ClientRandom); server→client the other way.
        rx: Dir::new(t, &server_random, &client_random),
        tx: Dir::new(t, &client_random, &server_random),
        sent: Vec::new(),
    };
    let hlen = if wide(t) { 32 } else { 20 };
    let good = hash(t, &sw, &client_wire);
    let mut msg = (ct.len() as u16).to_be_bytes().to_vec();
    msg.extend(ct);
    msg.extend(s.tx.seal(&server_hash.unwrap_or(good)));
    msg.extend(s.tx.seal(&[subtype]));
    s.sent.extend(&msg);
    p.server.extend(vec![Send(msg), Capture(2 + hlen + 16)]);
    p.server.captured.clear();
    let r = p.drive();
    if r.is_ok() {
        let client_hash = s.rx.open_all(&p.server.captured.remove(0));
        assert_eq!(client_hash, hash(t, &client_wire, &sw));
    }
    (s, r)
}

fn exchange(p: &mut Pair, t: SecurityType, server_hash: Option<Vec<u8>>, subtype: u8) -> Session {
    let (s, r) = try_exchange(p, t, server_hash, subtype);
    r.unwrap();
    s
}

fn credentials(user: Option<&str>, pass: &str) -> Credentials {
    Credentials {
        username: user.map(Into::into),
        password: Some(pass.into()),
        target: None,
    }
}

/// Supplies credentials and returns their plaintext as the server decrypts it.
fn send_credentials(p: &mut Pair, s: &mut Session, c: &Credentials, subtype: u8) -> Vec<u8> {
    let ulen = if subtype == 1 {
        c.username.as_ref().map_or(0, String::len)
    } else {
        0
    };
    let plen = c.password.as_ref().map_or(0, String::len);
    p.server.extend(vec![Capture(2 + 2 + ulen + plen + 16)]);
    p.client.supply_credentials(c).unwrap();
    p.drive().unwrap();
    s.rx.open_all(&p.server.captured.remove(0))
}

/// Wraps server bytes after authentication as the type requires.
fn after_auth(t: SecurityType, s: &mut Session, bytes: &[u8]) -> Vec<u8> {
    if encrypted(t) {
        s.tx.seal(bytes)
    } else {
        bytes.to_vec()
    }
}

#[test]
fn every_type_authenticates_and_runs_a_session() {
    for t in TYPES {
        for chunk in [usize::MAX, 1] {
            let mut p = pair(t, None, opening(t, server_wire())).chunked(chunk);
            let mut s = exchange(&mut p, t, None, 1);
            let identity = p.events.iter().find_map(|e| match e {
                Event::ServerVerification(ServerIdentity::Rsa {
                    bits, fingerprint, ..
                }) => Some((*bits, fingerprint.clone())),
                _ => None,
            });
            let (bits, fingerprint) = identity.expect("the server key was raised for approval");
            assert_eq!(bits, 1024);
            assert_eq!(
                parse_key_fingerprint(&fingerprint),
                Some(key_fingerprint(&server_wire()))
            );
            assert!(p.events.iter().any(|e| matches!(
                e,
                Event::CredentialsRequired(n) if n.username && n.password && !n.target
            )));
            let plain = send_credentials(&mut p, &mut s, &credentials(Some("ann"), "pw €"), 1);
            assert_eq!(plain, [&[3][..], b"ann", &[6], "pw €".as_bytes()].concat());

            // SecurityResult OK, then (after ClientInit) ServerInit.
            let ok = after_auth(t, &mut s, &[0, 0, 0, 0]);
            let init = script::server_init(4, 2, &PixelFormat::RGBX8888, "ra2 desk");
            let init = after_auth(t, &mut s, &init);
            p.server.extend(vec![Send(ok), Send(init)]);
            p.drive().unwrap();
            assert!(p.client.is_connected(), "{t} chunk {chunk}");
            // The client's messages: ClientInit (shared), SetPixelFormat, SetEncodings, FBUR.
            let sent = p.server.unmatched().to_vec();
            let sent = if encrypted(t) {
                s.rx.open_all(&sent)
            } else {
                sent
            };
            assert_eq!(sent[0], 1, "ClientInit shared");
            assert_eq!(sent[1], 0, "SetPixelFormat");
            assert_eq!(sent.len(), 1 + 20 + 8 + 10);

            // A Bell inside the session.
            let bell = after_auth(t, &mut s, &[2]);
            p.server.extend(vec![Send(bell)]);
            p.drive().unwrap();
            assert!(p.events.iter().any(|e| matches!(e, Event::Bell)), "{t}");
        }
    }
}

#[test]
fn password_only_subtype_sends_an_empty_user_name() {
    for t in [SecurityType::Ra2ne, SecurityType::Ra2_256] {
        let mut p = pair(t, None, opening(t, server_wire()));
        let mut s = exchange(&mut p, t, None, 2);
        assert!(p.events.iter().any(|e| matches!(
            e,
            Event::CredentialsRequired(n) if !n.username && n.password
        )));
        let plain = send_credentials(&mut p, &mut s, &credentials(None, "secret"), 2);
        assert_eq!(plain, [&[0, 6][..], b"secret"].concat());
    }
}

#[test]
fn wrong_password_is_a_security_result_failure() {
    for t in TYPES {
        let mut p = pair(t, None, opening(t, server_wire()));
        let mut s = exchange(&mut p, t, None, 1);
        send_credentials(&mut p, &mut s, &credentials(Some("ann"), "wrong"), 1);
        let reason = b"Authentication failed";
        let mut fail = vec![0, 0, 0, 1];
        fail.extend((reason.len() as u32).to_be_bytes());
        fail.extend(reason);
        let fail = after_auth(t, &mut s, &fail);
        p.server.extend(vec![Send(fail)]);
        match p.drive() {
            Err(Error::AuthFailed { reason }) => assert_eq!(reason, "Authentication failed"),
            other => panic!("{t}: {other:?}"),
        }
    }
}

#[test]
fn a_wrong_server_hash_is_fatal() {
    for t in TYPES {
        let mut p = pair(t, None, opening(t, server_wire()));
        // The keys hashed in the client's order instead of the server's.
        let bad = hash(t, client_key().public_wire(), &server_wire());
        match try_exchange(&mut p, t, Some(bad), 1).1 {
            Err(Error::PeerMisbehaved { message, .. }) => {
                assert_eq!(message, "RSA-AES server hash");
            }
            other => panic!("{t}: {other:?}"),
        }
        assert!(
            !p.events
                .iter()
                .any(|e| matches!(e, Event::CredentialsRequired(_))),
            "no credentials are asked for"
        );
    }
}

#[test]
fn server_keys_outside_1024_to_8192_bits_are_refused_from_the_header() {
    for (bits, small) in [(512u32, true), (1023, true), (8193, false), (65536, false)] {
        // Only the 4-byte header is sent: the check does not wait for the key.
        let mut p = pair(
            SecurityType::Ra2,
            None,
            opening(SecurityType::Ra2, bits.to_be_bytes().to_vec()),
        );
        match (p.drive(), small) {
            (Err(Error::InvalidMessage { field, .. }), true) => assert_eq!(field, "key-length"),
            (Err(Error::LimitExceeded { value, limit, .. }), false) => {
                assert_eq!((value, limit), (u64::from(bits), 8192));
            }
            (other, _) => panic!("{bits} bits: {other:?}"),
        }
    }
    // A modulus shorter than its header announces.
    let mut key = 1024u32.to_be_bytes().to_vec();
    key.extend([0u8; 256]);
    key[4 + 127] = 0x0b;
    key[4 + 255] = 3;
    let mut p = pair(SecurityType::Ra2ne, None, opening(SecurityType::Ra2ne, key));
    assert!(matches!(p.drive(), Err(Error::InvalidMessage { .. })));
}

#[test]
fn truncated_exchanges_wait_then_fail_at_eof() {
    // Half a server key.
    let w = server_wire();
    let mut p = pair(
        SecurityType::Ra2,
        None,
        opening(SecurityType::Ra2, w[..100].to_vec()),
    );
    p.drive().unwrap();
    assert_eq!(p.client.bytes_needed(), w.len(), "waits for the whole key");
    let held = p.inbuf.len();
    assert!(matches!(
        p.client.handle_eof(held),
        Err(Error::PeerMisbehaved { .. })
    ));

    // The key and half of the encrypted server random.
    for t in [SecurityType::Ra2ne, SecurityType::Ra2_256] {
        let mut p = pair(t, None, opening(t, server_wire()));
        p.server.extend(vec![
            Capture(260),
            Capture(130),
            Send(vec![0, 128, 1, 2, 3]),
        ]);
        p.drive().unwrap();
        p.client.approve_server().unwrap();
        p.drive().unwrap();
        assert_eq!(p.client.bytes_needed(), 130);
        let held = p.inbuf.len();
        assert!(matches!(
            p.client.handle_eof(held),
            Err(Error::PeerMisbehaved { .. })
        ));
    }
}

#[test]
fn tampered_ciphertext_in_an_ra2_session_is_fatal() {
    for t in [SecurityType::Ra2, SecurityType::Ra2_256] {
        let mut p = pair(t, None, opening(t, server_wire()));
        let mut s = exchange(&mut p, t, None, 1);
        send_credentials(&mut p, &mut s, &credentials(Some("ann"), "pw"), 1);
        let ok = s.tx.seal(&[0, 0, 0, 0]);
        let init =
            s.tx.seal(&script::server_init(4, 2, &PixelFormat::RGBX8888, "d"));
        p.server.extend(vec![Send(ok), Send(init)]);
        p.drive().unwrap();
        assert!(p.client.is_connected());
        let mut bell = s.tx.seal(&[2]);
        bell[2] ^= 1;
        p.server.extend(vec![Send(bell)]);
        match p.drive() {
            Err(Error::PeerMisbehaved { message, .. }) => {
                assert_eq!(message, "RSA-AES encrypted message");
            }
            other => panic!("{t}: {other:?}"),
        }
        assert!(!p.client.is_connected());
        assert!(!p.events.iter().any(|e| matches!(e, Event::Bell)));
    }
}

#[test]
fn a_rejected_key_ends_the_connection_before_anything_is_sent() {
    for t in TYPES {
        let mut p = pair(t, None, opening(t, server_wire()));
        p.drive().unwrap();
        assert!(p.server.unmatched().is_empty());
        let fp = match p.client.reject_server() {
            Err(Error::ServerKeyRejected { fingerprint, .. }) => fingerprint,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            parse_key_fingerprint(&fp),
            Some(key_fingerprint(&server_wire()))
        );
        assert!(p.client.poll_transmit().is_none());
        assert!(p.client.error().is_some());
    }
}

#[test]
fn a_pinned_fingerprint_decides_without_asking() {
    let t = SecurityType::Ra2;
    let right = key_fingerprint(&server_wire());
    let mut p = pair(t, Some(right), opening(t, server_wire()));
    let mut s = exchange(&mut p, t, None, 2);
    assert!(
        !p.events
            .iter()
            .any(|e| matches!(e, Event::ServerVerification(_)))
    );
    send_credentials(&mut p, &mut s, &credentials(None, "pw"), 2);

    let mut wrong = right;
    wrong[0] ^= 1;
    let mut p = pair(t, Some(wrong), opening(t, server_wire()));
    match p.drive() {
        Err(Error::ServerKeyRejected { reason, .. }) => assert!(reason.contains("pinned")),
        other => panic!("{other:?}"),
    }
    assert!(
        p.server.unmatched().is_empty(),
        "nothing was sent with a wrong key"
    );
}

#[test]
fn misuse_is_not_fatal() {
    let t = SecurityType::Ra2ne;
    let mut p = pair(t, None, opening(t, server_wire()));
    p.drive().unwrap();
    // Credentials before the key is approved: refused, and the approval still works.
    assert!(matches!(
        p.client.supply_credentials(&credentials(None, "x")),
        Err(Error::ApiMisuse(_))
    ));
    let mut s = exchange(&mut p, t, None, 1);
    // Subtype 1 needs a user name.
    assert!(matches!(
        p.client.supply_credentials(&credentials(None, "x")),
        Err(Error::ApiMisuse(_))
    ));
    send_credentials(&mut p, &mut s, &credentials(Some("u"), "x"), 1);
}

#[test]
fn without_a_given_key_the_client_generates_one() {
    let t = SecurityType::Ra2ne;
    // Default settings: the handler generates a 2048-bit key with the injected RNG.
    let mut p = Pair::new(config(t), opening(t, server_wire()));
    p.server
        .extend(vec![Capture(4 + 2 * 256), Capture(2 + 128)]);
    p.drive().unwrap();
    p.client.approve_server().unwrap();
    p.drive().unwrap();
    let key = &p.server.captured[0];
    assert_eq!(&key[..4], &2048u32.to_be_bytes());
}

/// A driver RNG that always gives 7s (the fuzz target's).
struct Sevens;
impl RngCore for Sevens {
    fn next_u32(&mut self) -> u32 {
        7
    }
    fn next_u64(&mut self) -> u64 {
        7
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        d.fill(7)
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
        d.fill(7);
        Ok(())
    }
}

/// Whole sessions with the fuzz target's client (RNG of 7s, the shared test key), recorded
/// as `fuzz/corpus/client_security` seeds when `RA2_FUZZ_SEEDS` names a directory: a split
/// byte of 0, then every byte the server sent.
#[test]
fn sessions_replay_for_fuzz_seeds() {
    for t in TYPES {
        let key = server_wire();
        let mut p = pair(t, None, opening(t, key.clone()));
        p.client = rfb_core::Client::new(config(t), core::time::Duration::ZERO, Box::new(Sevens));
        for f in Ra2Settings::default()
            .with_client_key(client_key())
            .factories()
        {
            p.client.register_security(f);
        }
        let mut s = exchange(&mut p, t, None, 1);
        send_credentials(&mut p, &mut s, &credentials(Some("u"), "p"), 1);
        let mut rest = after_auth(t, &mut s, &[0, 0, 0, 0]);
        rest.extend(after_auth(
            t,
            &mut s,
            &script::server_init(4, 2, &PixelFormat::RGBX8888, "f"),
        ));
        rest.extend(after_auth(t, &mut s, &[2]));
        p.server.extend(vec![Send(rest.clone())]);
        p.drive().unwrap();
        assert!(p.events.iter().any(|e| matches!(e, Event::Bell)), "{t}");
        if let Some(dir) = std::env::var_os("RA2_FUZZ_SEEDS") {
            let mut seed = vec![0u8];
            seed.extend(b"RFB 003.008\n");
            seed.extend([1, t.to_u8()]);
            seed.extend(&key);
            seed.extend(&s.sent);
            seed.extend(&rest);
            let name = format!("ra2_{}", t.name().replace('-', "_"));
            std::fs::write(std::path::Path::new(&dir).join(name), seed).unwrap();
        }
    }
}
