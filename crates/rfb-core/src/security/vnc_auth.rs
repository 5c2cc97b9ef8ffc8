//! VNC Authentication (2): DES challenge/response.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#vnc-authentication>
//!
//! The server sends a 16-byte challenge; the client encrypts it with DES (ECB, two blocks) keyed
//! by the password truncated or zero-padded to 8 bytes, each key byte with its bits reversed
//! (the historical quirk every VNC implementation follows), and sends the 16-byte result.

use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};

use super::{
    Credentials, CredentialsNeeded, SecurityContext, SecurityHandler, SecurityStep, SecurityType,
};
use crate::error::Error;
use crate::event::Event;

const CHALLENGE_LEN: usize = 16;

/// Computes the VNC Authentication response to `challenge` for `password`.
///
/// ```
/// // Re-derived by hand from the spec: an all-zero key encrypts zero blocks to 8CA64DE9C1B123A7.
/// let r = rfb_core::security::vnc_auth_response(&[0; 16], "");
/// assert_eq!(r[..8], [0x8c, 0xa6, 0x4d, 0xe9, 0xc1, 0xb1, 0x23, 0xa7]);
/// ```
pub fn vnc_auth_response(challenge: &[u8; CHALLENGE_LEN], password: &str) -> [u8; CHALLENGE_LEN] {
    let mut key = [0u8; 8];
    for (k, p) in key.iter_mut().zip(password.as_bytes()) {
        *k = p.reverse_bits();
    }
    let cipher = Des::new(GenericArray::from_slice(&key));
    let mut out = *challenge;
    for block in out.chunks_exact_mut(8) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    out
}

/// Client side of VNC Authentication.
#[derive(Debug, Default)]
pub struct VncAuth {
    challenge: Option<[u8; CHALLENGE_LEN]>,
    password: Option<String>,
    asked: bool,
}

impl VncAuth {
    /// Answers once both the challenge and the password are known.
    fn try_respond(&mut self, consumed: usize, cx: &mut SecurityContext<'_>) -> SecurityStep {
        match (&self.challenge, &self.password) {
            (Some(c), Some(p)) => {
                cx.to_server.extend_from_slice(&vnc_auth_response(c, p));
                SecurityStep::Done {
                    consumed,
                    transform: None,
                    expect_result: true,
                }
            }
            (Some(_), None) => {
                if !self.asked {
                    self.asked = true;
                    cx.events
                        .push_back(Event::CredentialsRequired(CredentialsNeeded {
                            password: true,
                            ..Default::default()
                        }));
                }
                SecurityStep::NeedMore {
                    consumed,
                    needed: 0,
                }
            }
            (None, _) => SecurityStep::NeedMore {
                consumed,
                needed: CHALLENGE_LEN,
            },
        }
    }
}

impl SecurityHandler for VncAuth {
    fn security_type(&self) -> SecurityType {
        SecurityType::VncAuth
    }

    fn start(&mut self, _: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        Ok(SecurityStep::NeedMore {
            consumed: 0,
            needed: CHALLENGE_LEN,
        })
    }

    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        if self.challenge.is_some() {
            return Ok(self.try_respond(0, cx));
        }
        let Some(c) = input.get(..CHALLENGE_LEN) else {
            return Ok(SecurityStep::NeedMore {
                consumed: 0,
                needed: CHALLENGE_LEN,
            });
        };
        let mut challenge = [0u8; CHALLENGE_LEN];
        challenge.copy_from_slice(c);
        self.challenge = Some(challenge);
        Ok(self.try_respond(CHALLENGE_LEN, cx))
    }

    fn supply_credentials(
        &mut self,
        credentials: &Credentials,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let Some(p) = &credentials.password else {
            return Err(Error::ApiMisuse("VNC Authentication needs a password"));
        };
        self.password = Some(p.clone());
        Ok(self.try_respond(0, cx))
    }
}

impl VncAuth {
    /// A handler that already knows the password, so no credentials event is raised.
    pub fn with_password(password: impl Into<String>) -> Self {
        Self {
            password: Some(password.into()),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_truncated_to_eight_bytes() {
        let c = [7u8; 16];
        assert_eq!(
            vnc_auth_response(&c, "secret12"),
            vnc_auth_response(&c, "secret12XYZ")
        );
        assert_ne!(
            vnc_auth_response(&c, "secret1"),
            vnc_auth_response(&c, "secret12")
        );
    }

    #[test]
    fn key_bits_are_reversed() {
        // Bit-reversing 0x01 gives 0x80. DES ignores each key byte's low (parity) bit, so an
        // unreversed 0x01 key equals the zero key while the reversed one does not: a
        // non-reversed implementation would answer like the empty password.
        let c = [0u8; 16];
        assert_ne!(vnc_auth_response(&c, "\u{1}"), vnc_auth_response(&c, ""));
        // "\u{80}" is two UTF-8 bytes (C2 80); reversed, C2 → 43 and 80 → 01.
        let direct = {
            let key = [0x43u8, 0x01, 0, 0, 0, 0, 0, 0];
            let cipher = Des::new(GenericArray::from_slice(&key));
            let mut b = [0u8; 8];
            cipher.encrypt_block(GenericArray::from_mut_slice(&mut b));
            b
        };
        assert_eq!(vnc_auth_response(&c, "\u{80}")[..8], direct);
    }
}
