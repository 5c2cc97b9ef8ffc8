//! Tight security (16): a tunnel list, then an authentication list of capabilities.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#tight-security-type>
//!
//! Only the no-op tunnel (`TGHT`/`NOTUNNEL`) exists. Authentication capabilities supported:
//! None (`STDV`/`NOAUTH__`), VNC Authentication (`STDV`/`VNCAUTH_`) and Unix login
//! (`TGHT`/`ULGNAUTH`, the Plain message). A capability is used only when code, vendor and
//! signature all match. Choosing Tight also extends ServerInit with interaction capability
//! lists, which the handshake skips (see `handshake.rs`).

use super::{
    Credentials, NoneSecurity, Plain, SecurityContext, SecurityHandler, SecurityStep, SecurityType,
    VncAuth,
};
use crate::error::Error;

/// Bytes in one `CAPABILITY`: `S32` code, 4-byte vendor, 8-byte signature.
pub(crate) const CAPABILITY_LEN: usize = 16;
/// Most tunnel or authentication capabilities accepted (real servers send 1–4), checked
/// before the list is waited for.
const MAX_CAPABILITIES: u32 = 64;

/// One known capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Capability {
    code: i32,
    vendor: &'static [u8; 4],
    signature: &'static [u8; 8],
}

const NO_TUNNEL: Capability = Capability {
    code: 0,
    vendor: b"TGHT",
    signature: b"NOTUNNEL",
};

/// Authentication capabilities in the order this client looks for them among the server's.
const AUTH: &[(Capability, Inner)] = &[
    (
        Capability {
            code: 1,
            vendor: b"STDV",
            signature: b"NOAUTH__",
        },
        Inner::None,
    ),
    (
        Capability {
            code: 2,
            vendor: b"STDV",
            signature: b"VNCAUTH_",
        },
        Inner::Vnc,
    ),
    (
        Capability {
            code: 129,
            vendor: b"TGHT",
            signature: b"ULGNAUTH",
        },
        Inner::UnixLogin,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    None,
    Vnc,
    UnixLogin,
}

impl Capability {
    fn matches(&self, raw: &[u8]) -> bool {
        raw.len() == CAPABILITY_LEN
            && raw[..4] == self.code.to_be_bytes()
            && raw[4..8] == self.vendor[..]
            && raw[8..] == self.signature[..]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Tunnels,
    Auth,
    Inner,
}

/// Client side of Tight security.
pub struct TightSecurity {
    phase: Phase,
    inner: Option<Box<dyn SecurityHandler>>,
    inner_started: bool,
}

impl Default for TightSecurity {
    fn default() -> Self {
        Self {
            phase: Phase::Tunnels,
            inner: None,
            inner_started: false,
        }
    }
}

impl core::fmt::Debug for TightSecurity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TightSecurity")
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

/// Reads a `U32` count and its capability list from `rest`, or says how much is missing.
fn capability_list<'a>(
    rest: &'a [u8],
    what: &'static str,
) -> Result<Result<(usize, &'a [u8]), usize>, Error> {
    let Some(n) = rest.get(..4) else {
        return Ok(Err(4));
    };
    let n = u32::from_be_bytes([n[0], n[1], n[2], n[3]]);
    if n > MAX_CAPABILITIES {
        return Err(Error::LimitExceeded {
            message: "Tight security",
            field: what,
            value: u64::from(n),
            limit: u64::from(MAX_CAPABILITIES),
        });
    }
    let total = 4 + n as usize * CAPABILITY_LEN;
    match rest.get(4..total) {
        Some(list) => Ok(Ok((total, list))),
        None => Ok(Err(total)),
    }
}

impl TightSecurity {
    fn run_inner(
        &mut self,
        input: &[u8],
        before: usize,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let Some(h) = self.inner.as_mut() else {
            return Err(Error::ApiMisuse(
                "Tight security has no inner authentication",
            ));
        };
        let step = if self.inner_started {
            h.handle_input(input, cx)?
        } else {
            self.inner_started = true;
            match h.start(cx)? {
                SecurityStep::NeedMore { consumed: 0, .. } if !input.is_empty() => {
                    h.handle_input(input, cx)?
                }
                s => s,
            }
        };
        Ok(match step {
            SecurityStep::NeedMore { consumed, needed } => SecurityStep::NeedMore {
                consumed: consumed + before,
                needed,
            },
            SecurityStep::Done {
                consumed,
                transform,
                expect_result,
            } => SecurityStep::Done {
                consumed: consumed + before,
                transform,
                expect_result,
            },
            SecurityStep::Wrap {
                consumed,
                transform,
                needed,
            } => SecurityStep::Wrap {
                consumed: consumed + before,
                transform,
                needed,
            },
        })
    }

    fn step(&mut self, input: &[u8], cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.phase {
                Phase::Tunnels => {
                    let (used, list) = match capability_list(rest, "tunnel-count")? {
                        Ok(v) => v,
                        Err(needed) => {
                            return Ok(SecurityStep::NeedMore {
                                consumed: pos,
                                needed,
                            });
                        }
                    };
                    if !list.is_empty() {
                        if !list
                            .chunks_exact(CAPABILITY_LEN)
                            .any(|c| NO_TUNNEL.matches(c))
                        {
                            return Err(Error::Unsupported(
                                "Tight security: the server offers only tunnels this client \
                                 does not know (no TGHT NOTUNNEL)"
                                    .into(),
                            ));
                        }
                        cx.to_server
                            .extend_from_slice(&NO_TUNNEL.code.to_be_bytes());
                    }
                    pos += used;
                    self.phase = Phase::Auth;
                }
                Phase::Auth => {
                    let (used, list) = match capability_list(rest, "auth-count")? {
                        Ok(v) => v,
                        Err(needed) => {
                            return Ok(SecurityStep::NeedMore {
                                consumed: pos,
                                needed,
                            });
                        }
                    };
                    pos += used;
                    let inner = if list.is_empty() {
                        // No list: the protocol proceeds as security type None.
                        Inner::None
                    } else {
                        // The server's order is its preference.
                        let found = list.chunks_exact(CAPABILITY_LEN).find_map(|raw| {
                            AUTH.iter()
                                .find(|(c, _)| c.matches(raw))
                                .map(|&(c, i)| (c, i))
                        });
                        let Some((cap, inner)) = found else {
                            return Err(Error::Unsupported(
                                "Tight security: no authentication capability this client \
                                 supports (None, VNC Authentication, Unix login)"
                                    .into(),
                            ));
                        };
                        cx.to_server.extend_from_slice(&cap.code.to_be_bytes());
                        inner
                    };
                    self.inner = Some(match inner {
                        Inner::None => Box::new(NoneSecurity),
                        Inner::Vnc => Box::new(VncAuth::default()),
                        Inner::UnixLogin => Box::new(Plain::default()),
                    });
                    self.phase = Phase::Inner;
                }
                Phase::Inner => return self.run_inner(rest, pos, cx),
            }
        }
    }
}

impl SecurityHandler for TightSecurity {
    fn security_type(&self) -> SecurityType {
        SecurityType::Tight
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
        self.step(input, cx)
    }

    fn supply_credentials(
        &mut self,
        credentials: &Credentials,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        match (self.phase, self.inner.as_mut()) {
            (Phase::Inner, Some(h)) => h.supply_credentials(credentials, cx),
            _ => Err(Error::ApiMisuse(
                "Tight security is not asking for credentials yet",
            )),
        }
    }
}
