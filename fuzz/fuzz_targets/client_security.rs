//! The security handlers added for issue 11 from the first byte: VeNCrypt (subtype list, acks,
//! Plain, an inner VNC auth inside a transform installed mid-stream), Tight security (tunnel
//! and auth capability lists, the extended ServerInit), xvp and MSLogonII. The "TLS" is a XOR
//! stand-in so the fuzzer reaches the code after the handshake; rustls has its own fuzzing.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rfb_core::security::{TlsConnector, TlsKind, Transform, VeNCryptFactory, VeNCryptSubtype};
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

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let (sizes, stream) = rest.split_at((usize::from(split) % 8).min(rest.len()));
    let config = Config {
        security_types: vec![
            SecurityType::VeNCrypt,
            SecurityType::Tight,
            SecurityType::Xvp,
            SecurityType::MsLogonII,
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
    let mut fb = Framebuffer::default();
    common::feed(&mut c, &mut fb, stream, sizes);
});
