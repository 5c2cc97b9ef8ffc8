//! MSLogonII (113) against a server side written here from the spec's description: the server
//! picks its own private key, derives the shared secret from the client's public value and
//! decrypts the DES-CBC fields with `des` directly. Self-consistent only (no MSLogonII server
//! is installable here; noVNC speaks it but was not driven against this script).

use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, KeyInit};
use rfb_core::security::mod_pow;
use rfb_core::{Config, Credentials, Error, Event, SecurityType};
use rfb_encodings::Encoding;
use rfb_testkit::harness::Pair;
use rfb_testkit::harness::Step::*;

const G: u64 = 5;
const M: u64 = 0xffff_ffff_ffff_ffc5; // the largest 64-bit prime
const SERVER_PRIVATE: u64 = 0x1234_5678_9abc_def1;

fn config() -> Config {
    Config {
        security_types: vec![SecurityType::MsLogonII],
        encodings: vec![Encoding::Raw],
        ..Config::default()
    }
}

fn params(g: u64, m: u64, public: u64) -> Vec<u8> {
    [g.to_be_bytes(), m.to_be_bytes(), public.to_be_bytes()].concat()
}

/// The server's view: decrypts one field with the VNC DES key convention, CBC, IV = secret.
fn decrypt(secret: u64, data: &[u8]) -> Vec<u8> {
    let key = secret.to_be_bytes().map(u8::reverse_bits);
    let des = Des::new(GenericArray::from_slice(&key));
    let mut prev = secret.to_be_bytes().to_vec();
    let mut out = Vec::new();
    for block in data.chunks(8) {
        let mut b = GenericArray::clone_from_slice(block);
        des.decrypt_block(&mut b);
        out.extend(b.iter().zip(&prev).map(|(x, p)| x ^ p));
        prev = block.to_vec();
    }
    out
}

fn until_nul(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).expect("NUL terminator")]
}

#[test]
fn server_recovers_user_and_password() {
    let server_public = mod_pow(G, SERVER_PRIVATE, M);
    let steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 113]),
        Expect(vec![113]),
        Send(params(G, M, server_public)),
    ];
    let mut p = Pair::new(config(), steps);
    p.drive().unwrap();
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::CredentialsRequired(n) if n.username && n.password && !n.target
    )));
    p.client
        .supply_credentials(&Credentials {
            username: Some("administrator".into()),
            password: Some("ultra pw".into()),
            target: None,
        })
        .unwrap();
    p.drive().unwrap();
    let reply = p.server.unmatched().to_vec();
    assert_eq!(reply.len(), 8 + 256 + 64);
    let client_public = u64::from_be_bytes(reply[..8].try_into().unwrap());
    let secret = mod_pow(client_public, SERVER_PRIVATE, M);
    assert_eq!(
        until_nul(&decrypt(secret, &reply[8..264])),
        b"administrator"
    );
    assert_eq!(until_nul(&decrypt(secret, &reply[264..])), b"ultra pw");
    // A wrong secret does not decrypt to the name.
    assert_ne!(until_nul(&decrypt(secret ^ 1, &reply[8..264])).len(), 13);
}

#[test]
fn bad_parameters_are_refused() {
    for (g, m, public) in [(5, 2, 1), (0, M, 7), (M, M, 7), (5, M, 0), (5, M, M)] {
        let steps = vec![
            Send(b"RFB 003.008\n".to_vec()),
            Expect(b"RFB 003.008\n".to_vec()),
            Send(vec![1, 113]),
            Expect(vec![113]),
            Send(params(g, m, public)),
        ];
        let mut p = Pair::new(config(), steps);
        assert!(
            matches!(p.drive(), Err(Error::PeerMisbehaved { .. })),
            "{g} {m} {public}"
        );
    }
}
