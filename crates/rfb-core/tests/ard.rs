//! Apple Remote Desktop authentication (30) against a server side written here from the
//! spec's description: it derives the secret from the client's public value, hashes it with
//! MD5 and decrypts the credentials with AES-128-ECB. Self-consistent only (no ARD server is
//! installable here; noVNC speaks ARD but was not driven against this script).

use aes::Aes128;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, KeyInit};
use md5::{Digest, Md5};
use num_bigint::BigUint;
use rfb_core::{Config, Credentials, Error, Event, SecurityType};
use rfb_encodings::Encoding;
use rfb_testkit::harness::Pair;
use rfb_testkit::harness::Step::{self, *};

const KEY: usize = 128;

fn config() -> Config {
    Config {
        security_types: vec![SecurityType::AppleArd],
        encodings: vec![Encoding::Raw],
        ..Config::default()
    }
}

fn fixed(n: &BigUint) -> Vec<u8> {
    let b = n.to_bytes_be();
    [vec![0; KEY - b.len()], b].concat()
}

fn opening(body: Vec<u8>) -> Vec<Step> {
    vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 30]),
        Expect(vec![30]),
        Send(body),
    ]
}

#[test]
fn server_recovers_the_credentials() {
    // Any modulus works for the algebra; the top bit is set so the key size is 128 bytes.
    let modulus = (BigUint::from(1u8) << 1023u32) + BigUint::from(0x1234_5677u32);
    let g = BigUint::from(2u8);
    let server_private = BigUint::from(0xdead_beef_cafe_u64) << 300u32;
    let server_public = g.modpow(&server_private, &modulus);
    let mut body = vec![0, 2, 0, KEY as u8];
    body.extend(fixed(&modulus));
    body.extend(fixed(&server_public));
    for chunk in [usize::MAX, 7] {
        let mut p = Pair::new(config(), opening(body.clone())).chunked(chunk);
        p.drive().unwrap();
        assert!(p.events.iter().any(|e| matches!(
            e,
            Event::CredentialsRequired(n) if n.username && n.password
        )));
        p.client
            .supply_credentials(&Credentials {
                username: Some("apple".into()),
                password: Some("ard secret".into()),
                target: None,
            })
            .unwrap();
        p.drive().unwrap();
        let reply = p.server.unmatched().to_vec();
        assert_eq!(reply.len(), 128 + KEY);
        let client_public = BigUint::from_bytes_be(&reply[128..]);
        let secret = fixed(&client_public.modpow(&server_private, &modulus));
        let aes = Aes128::new(&Md5::digest(&secret));
        let mut plain = reply[..128].to_vec();
        for b in plain.chunks_exact_mut(16) {
            aes.decrypt_block(GenericArray::from_mut_slice(b));
        }
        assert_eq!(&plain[..6], b"apple\0");
        assert_eq!(&plain[64..75], b"ard secret\0");
    }
}

#[test]
fn key_sizes_and_parameters_are_checked() {
    // 8 bytes: below the 16-byte minimum, refused before waiting for the modulus.
    let mut p = Pair::new(config(), opening(vec![0, 2, 0, 8]));
    assert!(matches!(p.drive(), Err(Error::LimitExceeded { .. })));
    // 4096 bytes: above the maximum.
    let mut p = Pair::new(config(), opening(vec![0, 2, 0x10, 0]));
    assert!(matches!(p.drive(), Err(Error::LimitExceeded { .. })));
    // Public value 1: degenerate.
    let mut body = vec![0, 2, 0, 16];
    body.extend([0xff; 16]);
    body.extend([[0u8; 15].as_slice(), &[1]].concat());
    let mut p = Pair::new(config(), opening(body));
    assert!(matches!(p.drive(), Err(Error::PeerMisbehaved { .. })));
}
