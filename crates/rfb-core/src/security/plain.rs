//! VeNCrypt's Plain authentication (subtype 256, and inside TLSPlain / X509Plain): user name
//! and password sent as they are, so only ever used inside TLS unless the user asks for it.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#plain-subtype>

use super::{
    Credentials, CredentialsNeeded, SecurityContext, SecurityHandler, SecurityStep, SecurityType,
};
use crate::error::Error;
use crate::event::Event;

/// The Plain message: `U32` user name length, `U32` password length, then both strings.
///
/// ```
/// let m = rfb_core::security::plain_message("u", "pw").unwrap();
/// assert_eq!(m, [0, 0, 0, 1, 0, 0, 0, 2, b'u', b'p', b'w']);
/// ```
pub fn plain_message(username: &str, password: &str) -> Result<Vec<u8>, Error> {
    let len = |s: &str| {
        u32::try_from(s.len()).map_err(|_| Error::ApiMisuse("a Plain credential exceeds 4 GiB"))
    };
    let mut m = Vec::with_capacity(8 + username.len() + password.len());
    m.extend_from_slice(&len(username)?.to_be_bytes());
    m.extend_from_slice(&len(password)?.to_be_bytes());
    m.extend_from_slice(username.as_bytes());
    m.extend_from_slice(password.as_bytes());
    Ok(m)
}

/// Client side of Plain: asks for a user name and password, sends them, and expects a
/// SecurityResult.
#[derive(Debug, Default)]
pub struct Plain {
    asked: bool,
}

impl SecurityHandler for Plain {
    fn security_type(&self) -> SecurityType {
        // Plain is a VeNCrypt subtype with no number of its own in the main list.
        SecurityType::VeNCrypt
    }

    fn start(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        if !self.asked {
            self.asked = true;
            cx.events
                .push_back(Event::CredentialsRequired(CredentialsNeeded {
                    username: true,
                    password: true,
                    target: false,
                }));
        }
        Ok(SecurityStep::NeedMore {
            consumed: 0,
            needed: 0,
        })
    }

    fn handle_input(
        &mut self,
        _: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        // Nothing comes from the server before the credentials are sent.
        self.start(cx)
    }

    fn supply_credentials(
        &mut self,
        credentials: &Credentials,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let (Some(u), Some(p)) = (&credentials.username, &credentials.password) else {
            return Err(Error::ApiMisuse(
                "Plain authentication needs a user name and a password",
            ));
        };
        cx.to_server.extend_from_slice(&plain_message(u, p)?);
        Ok(SecurityStep::Done {
            consumed: 0,
            transform: None,
            expect_result: true,
        })
    }
}
