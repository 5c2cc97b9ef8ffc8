//! Apple Remote Desktop authentication (30, "Diffie-Hellman" in the spec): DH with
//! server-chosen parameters, MD5 of the shared secret as an AES-128 key, and the credentials
//! encrypted with AES-ECB.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#diffie-hellman-authentication>
//!
//! Server: `U16` generator, `U16` key size, modulus and public value (key size bytes each).
//! Client: 128 bytes of AES-128-ECB ciphertext (user name and password, each UTF-8,
//! NUL-terminated and random-padded to 64 bytes), then its public value (key size bytes). The
//! secret is hashed as a key-size big-endian number. Key sizes outside 16–1024 bytes (128–8192
//! bits) are refused before anything is waited for.

use aes::Aes128;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};
use md5::{Digest, Md5};
use num_bigint::BigUint;

use super::{
    Credentials, CredentialsNeeded, SecurityContext, SecurityHandler, SecurityStep, SecurityType,
};
use crate::error::Error;
use crate::event::Event;

/// Smallest and largest key size (bytes) accepted.
const MIN_KEY: usize = 16;
const MAX_KEY: usize = 1024;
const FIELD: usize = 64;

/// The server's Diffie-Hellman parameters.
#[derive(Debug, Clone)]
struct Params {
    generator: BigUint,
    modulus: BigUint,
    public: BigUint,
    key_size: usize,
}

/// `n` as exactly `len` big-endian bytes (left-padded; `n` is below a `len`-byte modulus).
fn to_fixed(n: &BigUint, len: usize) -> Vec<u8> {
    let b = n.to_bytes_be();
    let mut out = vec![0u8; len.saturating_sub(b.len())];
    out.extend_from_slice(&b[b.len().saturating_sub(len)..]);
    out
}

/// Encrypts the 128-byte credentials block with AES-128-ECB under MD5(`secret`).
pub fn ard_encrypt(secret: &[u8], block: &mut [u8; 2 * FIELD]) {
    let key = Md5::digest(secret);
    let aes = Aes128::new(&key);
    for b in block.chunks_exact_mut(16) {
        aes.encrypt_block(GenericArray::from_mut_slice(b));
    }
}

/// Client side of Apple Remote Desktop authentication.
#[derive(Debug, Default)]
pub struct AppleArd {
    params: Option<Params>,
    credentials: Option<(String, String)>,
    asked: bool,
}

impl AppleArd {
    fn parse(input: &[u8]) -> Result<Result<(usize, Params), usize>, Error> {
        let Some(h) = input.get(..4) else {
            return Ok(Err(4));
        };
        let generator = u16::from_be_bytes([h[0], h[1]]);
        let key_size = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if !(MIN_KEY..=MAX_KEY).contains(&key_size) {
            return Err(Error::LimitExceeded {
                message: "Apple ARD",
                field: "key-size",
                value: key_size as u64,
                limit: MAX_KEY as u64,
            });
        }
        let total = 4 + 2 * key_size;
        let Some(body) = input.get(4..total) else {
            return Ok(Err(total));
        };
        let modulus = BigUint::from_bytes_be(&body[..key_size]);
        let public = BigUint::from_bytes_be(&body[key_size..]);
        let generator = BigUint::from(generator);
        let one = BigUint::from(1u8);
        if modulus <= BigUint::from(3u8)
            || generator <= one
            || generator >= modulus
            || public <= one
            || public >= modulus
        {
            return Err(Error::PeerMisbehaved {
                message: "Apple ARD",
                detail: "unusable Diffie-Hellman parameters".into(),
            });
        }
        Ok(Ok((
            total,
            Params {
                generator,
                modulus,
                public,
                key_size,
            },
        )))
    }

    fn try_respond(
        &mut self,
        consumed: usize,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let Some(p) = &self.params else {
            return Ok(SecurityStep::NeedMore {
                consumed,
                needed: 4,
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
        let mut private = vec![0u8; p.key_size];
        cx.rng.fill_bytes(&mut private);
        let private = BigUint::from_bytes_be(&private);
        let public = p.generator.modpow(&private, &p.modulus);
        let secret = p.public.modpow(&private, &p.modulus);
        let mut block = [0u8; 2 * FIELD];
        cx.rng.fill_bytes(&mut block);
        for (i, text) in [user, pass].into_iter().enumerate() {
            let f = &mut block[i * FIELD..(i + 1) * FIELD];
            f[..text.len()].copy_from_slice(text.as_bytes());
            f[text.len()] = 0;
        }
        ard_encrypt(&to_fixed(&secret, p.key_size), &mut block);
        cx.to_server.extend_from_slice(&block);
        cx.to_server
            .extend_from_slice(&to_fixed(&public, p.key_size));
        Ok(SecurityStep::Done {
            consumed,
            transform: None,
            expect_result: true,
        })
    }
}

impl SecurityHandler for AppleArd {
    fn security_type(&self) -> SecurityType {
        SecurityType::AppleArd
    }

    fn start(&mut self, _: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        Ok(SecurityStep::NeedMore {
            consumed: 0,
            needed: 4,
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
        match Self::parse(input)? {
            Err(needed) => Ok(SecurityStep::NeedMore {
                consumed: 0,
                needed,
            }),
            Ok((used, p)) => {
                self.params = Some(p);
                self.try_respond(used, cx)
            }
        }
    }

    fn supply_credentials(
        &mut self,
        credentials: &Credentials,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let (Some(u), Some(p)) = (&credentials.username, &credentials.password) else {
            return Err(Error::ApiMisuse(
                "Apple ARD needs a user name and a password",
            ));
        };
        if u.len() >= FIELD || p.len() >= FIELD {
            return Err(Error::ApiMisuse(
                "Apple ARD user names and passwords are under 64 bytes",
            ));
        }
        self.credentials = Some((u.clone(), p.clone()));
        self.try_respond(0, cx)
    }
}
