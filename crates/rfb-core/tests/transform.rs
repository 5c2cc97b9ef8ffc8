//! The security interface accepts plugged-in types, and a transform a type installs wraps all
//! later traffic in both directions (the seam TLS and RA2 use). A toy XOR "cipher" stands in.

use std::sync::Arc;

use rfb_core::security::{
    Credentials, SecurityContext, SecurityFactory, SecurityHandler, SecurityStep, Transform,
};
use rfb_core::{Config, Error, Event, SecurityType};
use rfb_encodings::{Encoding, PixelFormat};
use rfb_testkit::harness::Step::*;
use rfb_testkit::harness::{Pair, script};

struct Xor(u8);

impl Transform for Xor {
    fn decrypt(
        &mut self,
        input: &[u8],
        plain: &mut Vec<u8>,
        _: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        plain.extend(input.iter().map(|b| b ^ self.0));
        Ok(input.len())
    }
    fn encrypt(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend(plain.iter().map(|b| b ^ self.0));
        Ok(())
    }
}

/// A made-up type 200: the server sends one key byte; everything after is XORed with it.
struct XorSecurity;

impl SecurityHandler for XorSecurity {
    fn security_type(&self) -> SecurityType {
        SecurityType::Unknown(200)
    }
    fn start(&mut self, _: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        Ok(SecurityStep::NeedMore {
            consumed: 0,
            needed: 1,
        })
    }
    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let Some(&k) = input.first() else {
            return Ok(SecurityStep::NeedMore {
                consumed: 0,
                needed: 1,
            });
        };
        // The handler's own reply goes out before the transform starts.
        cx.to_server.push(0xAA);
        Ok(SecurityStep::Done {
            consumed: 1,
            transform: Some(Box::new(Xor(k))),
            expect_result: true,
        })
    }
    fn supply_credentials(
        &mut self,
        _: &Credentials,
        _: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        Err(Error::ApiMisuse("none needed"))
    }
}

struct XorFactory;
impl SecurityFactory for XorFactory {
    fn security_type(&self) -> SecurityType {
        SecurityType::Unknown(200)
    }
    fn create(&self) -> Box<dyn SecurityHandler> {
        Box::new(XorSecurity)
    }
}

fn xor(b: &[u8]) -> Vec<u8> {
    b.iter().map(|x| x ^ 0x5c).collect()
}

#[test]
fn plugged_security_type_with_transform() {
    let config = Config {
        security_types: vec![SecurityType::Unknown(200)],
        encodings: vec![Encoding::Raw],
        ..Config::default()
    };
    let mut pf = vec![0, 0, 0, 0];
    pf.extend_from_slice(&PixelFormat::RGBX8888.to_bytes());
    let mut fbu = script::fbu(1);
    fbu.extend(script::rect(0, 0, 1, 1, 0));
    fbu.extend([7, 8, 9, 0]);
    // The key byte and the rest arrive in one segment: the client must switch to decrypting
    // mid-input.
    let mut first = vec![0x5c];
    first.extend(xor(&[0, 0, 0, 0]));
    for chunk in [usize::MAX, 1] {
        let steps = vec![
            Send(b"RFB 003.008\n".to_vec()),
            Expect(b"RFB 003.008\n".to_vec()),
            Send(vec![1, 200]),
            Expect(vec![200]),
            Send(first.clone()),
            Expect(vec![0xAA]),
            Expect(xor(&[1])),
            Send(xor(&script::server_init(
                2,
                2,
                &PixelFormat::RGBX8888,
                "enc",
            ))),
            Expect(xor(&pf)),
            Expect(xor(&[2, 0, 0, 1, 0, 0, 0, 0])),
            Expect(xor(&[3, 0, 0, 0, 0, 0, 0, 2, 0, 2])),
            Send(xor(&fbu)),
            Expect(xor(&[3, 1, 0, 0, 0, 0, 0, 2, 0, 2])),
        ];
        let mut p = Pair::new(config.clone(), steps).chunked(chunk);
        p.client.register_security(Arc::new(XorFactory));
        p.drive().unwrap();
        assert!(
            p.server.finished(),
            "chunk {chunk}: unmatched {:?} events {:?} inbuf {:?}",
            p.server.unmatched(),
            p.events,
            p.inbuf
        );
        assert_eq!(p.fb.pixel(0, 0), Some([7, 8, 9, 255]));
        assert!(
            p.events
                .iter()
                .any(|e| matches!(e, Event::Connected(i) if i.name == "enc"))
        );
    }
}
