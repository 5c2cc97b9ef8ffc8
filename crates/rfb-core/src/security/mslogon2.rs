//! UltraVNC MSLogonII (113): a 64-bit Diffie-Hellman exchange, then user name and password
//! encrypted with DES-CBC under the shared secret.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#mslogonii-authentication>
//!
//! The server sends generator, modulus and its public value (8 bytes each, big-endian). The
//! client answers with its public value, the user name (UTF-8, NUL-terminated, random-padded to
//! 256 bytes) and the password (likewise, 64 bytes), both DES-CBC encrypted with the secret as
//! key (bit-reversed bytes, as in VNC Authentication) and as IV. A 64-bit key exchange can be
//! broken at once: this authenticates, it does not protect the session.

use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};

use super::{
    Credentials, CredentialsNeeded, SecurityContext, SecurityHandler, SecurityStep, SecurityType,
};
use crate::error::Error;
use crate::event::Event;

const PARAMS_LEN: usize = 24;
const USER_LEN: usize = 256;
const PASS_LEN: usize = 64;

/// `base^exp mod m` on 64-bit numbers (128-bit intermediates).
pub fn mod_pow(base: u64, mut exp: u64, m: u64) -> u64 {
    if m == 1 {
        return 0;
    }
    let m128 = u128::from(m);
    let mut result: u128 = 1;
    let mut b = u128::from(base) % m128;
    while exp > 0 {
        if exp & 1 == 1 {
            result = result * b % m128;
        }
        b = b * b % m128;
        exp >>= 1;
    }
    result as u64
}

/// DES-CBC with the VNC key convention (each key byte bit-reversed), IV = the secret.
pub fn mslogon2_encrypt(secret: u64, data: &mut [u8]) {
    let raw = secret.to_be_bytes();
    let key = raw.map(u8::reverse_bits);
    let cipher = Des::new(GenericArray::from_slice(&key));
    let mut prev = raw;
    for block in data.chunks_exact_mut(8) {
        for (b, p) in block.iter_mut().zip(prev) {
            *b ^= p;
        }
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
        prev.copy_from_slice(block);
    }
}

/// Client side of MSLogonII.
#[derive(Debug, Default)]
pub struct MsLogonII {
    params: Option<(u64, u64, u64)>,
    credentials: Option<(String, String)>,
    asked: bool,
}

impl MsLogonII {
    fn try_respond(
        &mut self,
        consumed: usize,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let Some((g, m, server_pub)) = self.params else {
            return Ok(SecurityStep::NeedMore {
                consumed,
                needed: PARAMS_LEN,
            });
        };
        let Some((user, pass)) = &self.credentials else {
            if !self.asked {
                self.asked = true;
                cx.events
                    .push_back(Event::CredentialsRequired(CredentialsNeeded {
                        username: true,
                        password: true,
                        target: false,
                    }));
            }
            return Ok(SecurityStep::NeedMore {
                consumed,
                needed: 0,
            });
        };
        let private = cx.rng.next_u64() % m.max(2);
        let public = mod_pow(g, private, m);
        let secret = mod_pow(server_pub, private, m);
        let mut field = |text: &str, len: usize| {
            let mut b = vec![0u8; len];
            cx.rng.fill_bytes(&mut b);
            b[..text.len()].copy_from_slice(text.as_bytes());
            b[text.len()] = 0;
            mslogon2_encrypt(secret, &mut b);
            b
        };
        let user = field(user, USER_LEN);
        let pass = field(pass, PASS_LEN);
        cx.to_server.extend_from_slice(&public.to_be_bytes());
        cx.to_server.extend_from_slice(&user);
        cx.to_server.extend_from_slice(&pass);
        Ok(SecurityStep::Done {
            consumed,
            transform: None,
            expect_result: true,
        })
    }
}

impl SecurityHandler for MsLogonII {
    fn security_type(&self) -> SecurityType {
        SecurityType::MsLogonII
    }

    fn start(&mut self, _: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        Ok(SecurityStep::NeedMore {
            consumed: 0,
            needed: PARAMS_LEN,
        })
    }

    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        if self.params.is_some() {
            return self.try_respond(0, cx);
        }
        let Some(p) = input.get(..PARAMS_LEN) else {
            return Ok(SecurityStep::NeedMore {
                consumed: 0,
                needed: PARAMS_LEN,
            });
        };
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&p[i * 8..i * 8 + 8]);
            u64::from_be_bytes(b)
        };
        let (g, m, public) = (word(0), word(1), word(2));
        if m < 3 || g < 2 || g >= m || public < 2 || public >= m {
            return Err(Error::PeerMisbehaved {
                message: "MSLogonII",
                detail: format!(
                    "unusable Diffie-Hellman parameters (generator {g}, modulus {m}, public {public})"
                ),
            });
        }
        self.params = Some((g, m, public));
        self.try_respond(PARAMS_LEN, cx)
    }

    fn supply_credentials(
        &mut self,
        credentials: &Credentials,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let (Some(u), Some(p)) = (&credentials.username, &credentials.password) else {
            return Err(Error::ApiMisuse(
                "MSLogonII needs a user name and a password",
            ));
        };
        if u.len() >= USER_LEN || p.len() >= PASS_LEN {
            return Err(Error::ApiMisuse(
                "MSLogonII user names are under 256 bytes and passwords under 64",
            ));
        }
        self.credentials = Some((u.clone(), p.clone()));
        self.try_respond(0, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mod_pow_small_cases() {
        assert_eq!(mod_pow(4, 13, 497), 445);
        assert_eq!(mod_pow(2, 0, 7), 1);
        // Near the top of the range, where a 64-bit product would overflow.
        let m = u64::MAX - 58; // 2^64 - 59 is prime
        assert_eq!(mod_pow(m - 1, 2, m), 1);
    }
}
