//! The security handlers added for issue 11 from the first byte: VeNCrypt (subtype list, acks,
//! Plain, an inner VNC auth inside a transform installed mid-stream), Tight security (tunnel
//! and auth capability lists, the extended ServerInit), xvp and MSLogonII. The "TLS" is a XOR
//! stand-in so the fuzzer reaches the code after the handshake; rustls has its own fuzzing.
//! The RA2 types (5, 6, 129, 130) run with a fixed client key (the one rfb-core's
//! tests/ra2.rs uses), so seeds recorded there carry a valid key exchange and AES-EAX session
//! for the fuzzer to mutate.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

use rfb_core::security::{
    Ra2ClientKey, Ra2Settings, TlsConnector, TlsKind, Transform, VeNCryptFactory,
    VeNCryptSubtype,
};
use rfb_core::{Config, Error, SecurityType};
use rfb_encodings::Framebuffer;

#[path = "common.rs"]
mod common;

struct Xor;

impl Transform for Xor {
    fn decrypt(&mut self, i: &[u8], p: &mut Vec<u8>, _: &mut Vec<u8>) -> Result<usize, Error> {
        p.extend(i.iter().map(|b| b ^ 0x5c));
        Ok(i.len())
    }
    fn encrypt(&mut self, p: &[u8], o: &mut Vec<u8>) -> Result<(), Error> {
        o.extend(p.iter().map(|b| b ^ 0x5c));
        Ok(())
    }
}

struct XorTls;

impl TlsConnector for XorTls {
    fn supports(&self, _: TlsKind) -> bool {
        true
    }
    fn connect(&self, _: TlsKind, out: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error> {
        out.extend_from_slice(b"HELLO");
        Ok(Box::new(Xor))
    }
}

/// splitmix64, the same generator and seed as rfb-testkit's `TestRng::seeded(22)` in
/// tests/ra2.rs, so the key matches the recorded seeds.
struct SplitMix(u64);

impl rand_core::RngCore for SplitMix {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fn ra2_key() -> Ra2ClientKey {
    static KEY: OnceLock<Ra2ClientKey> = OnceLock::new();
    KEY.get_or_init(|| Ra2ClientKey::generate(&mut SplitMix(22), 1024).unwrap())
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let (sizes, stream) = rest.split_at((usize::from(split) % 8).min(rest.len()));
    let config = Config {
        security_types: vec![
            SecurityType::VeNCrypt,
            SecurityType::Tight,
            SecurityType::Xvp,
            SecurityType::MsLogonII,
            SecurityType::Ra2,
            SecurityType::Ra2ne,
            SecurityType::Ra2_256,
            SecurityType::Ra2ne256,
        ],
        limits: rfb_core::Limits {
            max_pixels: 1 << 20,
            max_cut_text: 1 << 20,
            max_string: 1 << 16,
            ..Default::default()
        },
        ..Config::default()
    };
    let mut c = common::client(config);
    c.register_security(Arc::new(VeNCryptFactory::new(
        VeNCryptSubtype::ALL_NAMED.to_vec(),
        Some(Arc::new(XorTls)),
    )));
    for f in Ra2Settings::default().with_client_key(ra2_key()).factories() {
        c.register_security(f);
    }
    let mut fb = Framebuffer::default();
    common::feed(&mut c, &mut fb, stream, sizes);
});
