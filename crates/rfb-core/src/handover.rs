//! Handshake-only mode: run ProtocolVersion and security as a client, then hand the
//! (possibly transform-wrapped) stream to the driver instead of sending ClientInit.
//!
//! An RFB-aware proxy (`rfb-proxy --vnc-security`, like OpenStack Nova's console proxy)
//! authenticates to the VNC server itself, VeNCrypt TLS included, while a browser behind it
//! sees a simpler security type from the proxy. After SecurityResult the rest of the protocol
//! (ClientInit, ServerInit, messages) is identical in RFB 3.3, 3.7 and 3.8, so the proxy relays
//! those bytes, passing them through the [`Transform`] the security type installed.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#securityresult> (3.3
//! and 3.7 send no SecurityResult after None: security ends when the type is settled).

use crate::client::{Client, State};
use crate::error::Error;
use crate::security::{SecurityType, Transform};
use crate::version::Version;

/// The connection state handed over by [`Client::take_authenticated`].
pub struct Authenticated {
    /// The transform the security type installed (TLS for VeNCrypt), if any. From now on,
    /// bytes from the server go through [`Transform::decrypt`] and bytes to it through
    /// [`Transform::encrypt`].
    pub transform: Option<Box<dyn Transform>>,
    /// Plaintext the server sent after security that the client already decrypted (only with
    /// a transform; without one, unconsumed bytes stay with the driver as usual).
    pub plaintext: Vec<u8>,
    /// Wire bytes still owed to the server (the last security reply, TLS records); send them
    /// before anything else.
    pub to_server: Vec<u8>,
    /// The negotiated protocol version.
    pub version: Version,
    /// The security type used.
    pub security: SecurityType,
}

impl core::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Authenticated")
            .field("transform", &self.transform.is_some())
            .field("plaintext", &self.plaintext.len())
            .field("to_server", &self.to_server.len())
            .field("version", &self.version)
            .field("security", &self.security)
            .finish()
    }
}

impl Client {
    /// Stops the handshake once security succeeds (after SecurityResult OK, or, in RFB 3.3
    /// and 3.7 with no authentication, once the type is settled): no ClientInit is sent and
    /// [`Client::is_authenticated`] turns true. Call it before the first
    /// [`Client::handle_input`].
    pub fn stop_after_security(&mut self) {
        self.stop_after_security = true;
    }

    /// True when [`Client::stop_after_security`] was asked for and security has succeeded.
    pub fn is_authenticated(&self) -> bool {
        matches!(self.state, State::Authenticated)
    }

    /// Takes the stream over once [`Client::is_authenticated`]: the transform, decrypted
    /// leftovers and unsent bytes. The client is finished afterwards (every later call returns
    /// [`Error::ApiMisuse`]). `None` before security has succeeded.
    pub fn take_authenticated(&mut self) -> Option<Authenticated> {
        if !self.is_authenticated() {
            return None;
        }
        self.state = State::Failed;
        self.error = Some(Error::ApiMisuse(
            "the connection was handed over after security (Client::take_authenticated)",
        ));
        Some(Authenticated {
            transform: self.transform.take(),
            plaintext: core::mem::take(&mut self.plain_in),
            to_server: core::mem::take(&mut self.wire_out),
            version: self.version.unwrap_or(Version::V3_8),
            security: self.chosen.unwrap_or(SecurityType::None),
        })
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;
    use std::sync::Arc;

    use rfb_encodings::Framebuffer;

    use super::*;
    use crate::config::Config;
    use crate::security::{
        Credentials, SecurityContext, SecurityFactory, SecurityHandler, SecurityStep,
    };

    struct Rng;
    impl rand_core::RngCore for Rng {
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

    fn client(types: Vec<SecurityType>) -> Client {
        let config = Config {
            security_types: types,
            ..Config::default()
        };
        let mut c = Client::new(config, Duration::ZERO, Box::new(Rng));
        c.stop_after_security();
        c
    }

    fn sent(c: &mut Client) -> Vec<u8> {
        c.poll_transmit().unwrap_or_default()
    }

    #[test]
    fn stops_after_security_result_and_leaves_later_bytes() {
        let mut c = client(vec![SecurityType::None]);
        let mut fb = Framebuffer::default();
        // 3.8, one type (None), SecurityResult OK, then the start of what would be ServerInit.
        let input = b"RFB 003.008\n\x01\x01\x00\x00\x00\x00\x01\x40";
        let used = c.handle_input(input, &mut fb).unwrap();
        assert!(c.is_authenticated());
        assert_eq!(
            &input[used..],
            b"\x01\x40",
            "later bytes stay with the driver"
        );
        // Version and the chosen type, but no ClientInit.
        assert_eq!(sent(&mut c), b"RFB 003.008\n\x01");
        let a = c.take_authenticated().unwrap();
        assert!(a.transform.is_none());
        assert_eq!(a.version, Version::V3_8);
        assert_eq!(a.security, SecurityType::None);
        assert!(matches!(
            c.handle_input(b"x", &mut fb),
            Err(Error::ApiMisuse(_))
        ));
        assert!(c.take_authenticated().is_none());
    }

    #[test]
    fn rfb_3_3_none_has_no_security_result() {
        let mut c = client(vec![SecurityType::None]);
        let mut fb = Framebuffer::default();
        let input = b"RFB 003.003\n\x00\x00\x00\x01";
        assert_eq!(c.handle_input(input, &mut fb).unwrap(), input.len());
        assert!(c.is_authenticated());
        assert_eq!(sent(&mut c), b"RFB 003.003\n");
    }

    #[test]
    fn a_failed_security_result_is_an_error_not_a_handover() {
        let mut c = client(vec![SecurityType::None]);
        let mut fb = Framebuffer::default();
        let e = c
            .handle_input(
                b"RFB 003.008\n\x01\x01\x00\x00\x00\x01\x00\x00\x00\x03bad",
                &mut fb,
            )
            .unwrap_err();
        assert!(matches!(e, Error::AuthFailed { ref reason } if reason == "bad"));
        assert!(!c.is_authenticated());
        assert!(c.take_authenticated().is_none());
    }

    struct Xor;
    impl Transform for Xor {
        fn decrypt(
            &mut self,
            input: &[u8],
            plain: &mut Vec<u8>,
            _: &mut Vec<u8>,
        ) -> Result<usize, Error> {
            plain.extend(input.iter().map(|b| b ^ 0x5a));
            Ok(input.len())
        }
        fn encrypt(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
            out.extend(plain.iter().map(|b| b ^ 0x5a));
            Ok(())
        }
    }

    /// Type 200: wraps everything after the type choice in [`Xor`], then expects a result.
    struct Wrapping;
    impl SecurityHandler for Wrapping {
        fn security_type(&self) -> SecurityType {
            SecurityType::Unknown(200)
        }
        fn start(&mut self, _: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
            Ok(SecurityStep::Done {
                consumed: 0,
                transform: Some(Box::new(Xor)),
                expect_result: true,
            })
        }
        fn handle_input(
            &mut self,
            _: &[u8],
            _: &mut SecurityContext<'_>,
        ) -> Result<SecurityStep, Error> {
            Err(Error::ApiMisuse("not reached"))
        }
        fn supply_credentials(
            &mut self,
            _: &Credentials,
            _: &mut SecurityContext<'_>,
        ) -> Result<SecurityStep, Error> {
            Err(Error::ApiMisuse("not reached"))
        }
    }
    struct WrappingFactory;
    impl SecurityFactory for WrappingFactory {
        fn security_type(&self) -> SecurityType {
            SecurityType::Unknown(200)
        }
        fn create(&self) -> Box<dyn SecurityHandler> {
            Box::new(Wrapping)
        }
    }

    #[test]
    fn hands_over_the_transform_and_decrypted_leftovers() {
        let mut c = client(vec![SecurityType::Unknown(200)]);
        c.register_security(Arc::new(WrappingFactory));
        let mut fb = Framebuffer::default();
        let mut input = b"RFB 003.008\n\x01\xc8".to_vec();
        // SecurityResult OK and three bytes of "ServerInit", all XORed.
        input.extend([0u8, 0, 0, 0, 1, 2, 3].iter().map(|b| b ^ 0x5a));
        assert_eq!(c.handle_input(&input, &mut fb).unwrap(), input.len());
        assert!(c.is_authenticated());
        assert_eq!(sent(&mut c), b"RFB 003.008\n\xc8");
        let mut a = c.take_authenticated().unwrap();
        assert_eq!(a.plaintext, [1, 2, 3]);
        assert!(a.to_server.is_empty());
        // The transform keeps working for the driver: ClientInit goes out wrapped.
        let mut out = Vec::new();
        a.transform
            .as_mut()
            .unwrap()
            .encrypt(&[1], &mut out)
            .unwrap();
        assert_eq!(out, [1 ^ 0x5a]);
    }
}
