//! xvp authentication (22): VNC Authentication preceded by a user name and a target.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#xvp-authentication>
//!
//! The client sends `U8` user name length, `U8` target length, then both (UTF-8); the spec's
//! text says "the server sends", but the fields are the client's credentials and xvp servers
//! read them from the client. Then VNC Authentication runs as usual.

use super::{
    Credentials, CredentialsNeeded, SecurityContext, SecurityHandler, SecurityStep, SecurityType,
    VncAuth,
};
use crate::error::Error;
use crate::event::Event;

/// Client side of xvp authentication.
#[derive(Debug, Default)]
pub struct Xvp {
    inner: Option<VncAuth>,
    asked: bool,
}

/// The xvp header: lengths, user name, target. Both must fit a `U8` length.
pub fn xvp_header(username: &str, target: &str) -> Result<Vec<u8>, Error> {
    let (Ok(u), Ok(t)) = (u8::try_from(username.len()), u8::try_from(target.len())) else {
        return Err(Error::ApiMisuse(
            "xvp user name and target are at most 255 bytes each",
        ));
    };
    let mut b = vec![u, t];
    b.extend_from_slice(username.as_bytes());
    b.extend_from_slice(target.as_bytes());
    Ok(b)
}

impl SecurityHandler for Xvp {
    fn security_type(&self) -> SecurityType {
        SecurityType::Xvp
    }

    fn start(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        if !self.asked {
            self.asked = true;
            cx.events
                .push_back(Event::CredentialsRequired(CredentialsNeeded {
                    username: true,
                    password: true,
                    target: true,
                }));
        }
        Ok(SecurityStep::NeedMore {
            consumed: 0,
            needed: 0,
        })
    }

    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        match self.inner.as_mut() {
            Some(h) => h.handle_input(input, cx),
            // The server says nothing before the client's header.
            None => self.start(cx),
        }
    }

    fn supply_credentials(
        &mut self,
        credentials: &Credentials,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        if self.inner.is_some() {
            return Err(Error::ApiMisuse("xvp credentials were already supplied"));
        }
        let (Some(u), Some(t), Some(p)) = (
            &credentials.username,
            &credentials.target,
            &credentials.password,
        ) else {
            return Err(Error::ApiMisuse(
                "xvp needs a user name, a target and a password",
            ));
        };
        cx.to_server.extend_from_slice(&xvp_header(u, t)?);
        let mut inner = VncAuth::with_password(p.clone());
        let step = inner.start(cx)?;
        self.inner = Some(inner);
        Ok(step)
    }
}
