//! VeNCrypt (19), version 0.2: a subtype list, then TLS and/or an inner authentication.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#vencrypt>
//!
//! Wire: server version (2 bytes) → client version → server ack (`U8`, 0 = ok) → subtype list
//! (`U8` count, `U32` each) → client's choice (`U32`). For TLS/X509 subtypes the server acks
//! again (`U8`, 1 = ok) and the TLS handshake starts; the inner authentication (none, VNC
//! Authentication, Plain) and the SecurityResult run inside TLS. Plain subtypes and plain VNC
//! types in the list (TigerVNC lists 2) run without TLS.
//!
//! Only subtypes in the configured list are ever chosen, so a client configured for X509
//! subtypes never falls back to one without TLS.
//!
//! When the connector leaves trust to the application ([`TlsConnector::connect_with_status`]),
//! the inner authentication waits for the TLS handshake; an unverified certificate is raised
//! as [`Event::ServerVerification`] and nothing is sent inside TLS until
//! [`crate::Client::approve_server`].

use std::sync::Arc;

use super::{
    Credentials, NoneSecurity, Plain, SecurityContext, SecurityFactory, SecurityHandler,
    SecurityStep, SecurityType, ServerIdentity, TlsConnector, TlsKind, TlsStatus, VncAuth,
};
use crate::error::Error;
use crate::event::Event;

/// Longest subtype list accepted is the `U8` maximum, so no extra limit is needed; each entry
/// is 4 bytes.
const SUBTYPE_LEN: usize = 4;

/// Plaintext kept from the server while the application decides on its certificate: servers
/// send at most a challenge or a SecurityResult before the client answers.
const MAX_HELD: usize = 64 * 1024;

macro_rules! subtypes {
    ($( $(#[$doc:meta])* $variant:ident = $num:expr, $name:literal; )*) => {
        /// A VeNCrypt subtype number (`U32` on the wire); unknown numbers are kept.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum VeNCryptSubtype {
            $( $(#[$doc])* $variant, )*
            /// A number this client does not know.
            Unknown(u32),
        }

        impl VeNCryptSubtype {
            /// Maps a wire number.
            pub const fn from_u32(n: u32) -> Self {
                match n { $( $num => Self::$variant, )* other => Self::Unknown(other) }
            }
            /// The wire number.
            pub const fn to_u32(self) -> u32 {
                match self { $( Self::$variant => $num, )* Self::Unknown(n) => n }
            }
            /// Lower-case name used on the command line.
            pub const fn name(self) -> &'static str {
                match self { $( Self::$variant => $name, )* Self::Unknown(_) => "unknown" }
            }
            /// Every named subtype.
            pub const ALL_NAMED: &'static [Self] = &[ $( Self::$variant, )* ];
        }
    };
}

subtypes! {
    /// 1: a plain VNC type inside the list (no authentication).
    None = 1, "vencrypt-none";
    /// 2: a plain VNC type inside the list (VNC Authentication, listed by TigerVNC).
    VncAuth = 2, "vencrypt-vncauth";
    /// 256: Plain, user name and password in clear.
    Plain = 256, "plain";
    /// 257: anonymous TLS, no authentication.
    TlsNone = 257, "tlsnone";
    /// 258: anonymous TLS, VNC Authentication.
    TlsVnc = 258, "tlsvnc";
    /// 259: anonymous TLS, Plain.
    TlsPlain = 259, "tlsplain";
    /// 260: X.509 TLS, no authentication.
    X509None = 260, "x509none";
    /// 261: X.509 TLS, VNC Authentication.
    X509Vnc = 261, "x509vnc";
    /// 262: X.509 TLS, Plain.
    X509Plain = 262, "x509plain";
}

/// The authentication a subtype runs after (or without) TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    None,
    Vnc,
    Plain,
}

impl VeNCryptSubtype {
    /// Parses a name as printed by [`VeNCryptSubtype::name`] or a decimal number.
    pub fn from_name(s: &str) -> Option<Self> {
        if let Ok(n) = s.parse::<u32>() {
            return Some(Self::from_u32(n));
        }
        Self::ALL_NAMED.iter().copied().find(|t| t.name() == s)
    }

    /// The TLS kind this subtype runs in, if any.
    pub const fn tls(self) -> Option<TlsKind> {
        match self {
            Self::TlsNone | Self::TlsVnc | Self::TlsPlain => Some(TlsKind::Anonymous),
            Self::X509None | Self::X509Vnc | Self::X509Plain => Some(TlsKind::X509),
            _ => None,
        }
    }

    const fn inner(self) -> Option<Inner> {
        match self {
            Self::None | Self::TlsNone | Self::X509None => Some(Inner::None),
            Self::VncAuth | Self::TlsVnc | Self::X509Vnc => Some(Inner::Vnc),
            Self::Plain | Self::TlsPlain | Self::X509Plain => Some(Inner::Plain),
            Self::Unknown(_) => None,
        }
    }
}

impl core::fmt::Display for VeNCryptSubtype {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unknown(n) => write!(f, "unknown({n})"),
            t => write!(f, "{}({})", t.name(), t.to_u32()),
        }
    }
}

/// Makes VeNCrypt handlers with a subtype preference list and an optional TLS connector;
/// register it with [`crate::Client::register_security`].
#[derive(Clone)]
pub struct VeNCryptFactory {
    subtypes: Vec<VeNCryptSubtype>,
    tls: Option<Arc<dyn TlsConnector>>,
}

impl VeNCryptFactory {
    /// Accepts `subtypes` in preference order; TLS subtypes need `tls`, and are skipped (never
    /// replaced by weaker ones outside the list) when it cannot do their kind.
    pub fn new(subtypes: Vec<VeNCryptSubtype>, tls: Option<Arc<dyn TlsConnector>>) -> Self {
        Self { subtypes, tls }
    }
}

impl SecurityFactory for VeNCryptFactory {
    fn security_type(&self) -> SecurityType {
        SecurityType::VeNCrypt
    }
    fn create(&self) -> Box<dyn SecurityHandler> {
        Box::new(VeNCrypt {
            config: self.clone(),
            phase: Phase::Version,
            inner: None,
            inner_started: false,
            status: None,
            pending_fingerprint: None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Version,
    VersionAck,
    Subtypes,
    TlsAck(VeNCryptSubtype),
    /// Waiting for the TLS handshake to finish before the inner authentication starts.
    Handshake,
    /// An unverified certificate was raised; waiting for the application's approval.
    Approval,
    /// The inner authentication runs (inside TLS for TLS subtypes).
    Inner,
}

/// Client side of VeNCrypt; made by [`VeNCryptFactory`].
pub struct VeNCrypt {
    config: VeNCryptFactory,
    phase: Phase,
    inner: Option<Box<dyn SecurityHandler>>,
    inner_started: bool,
    /// The TLS session's status, when the connector lets the application decide trust.
    status: Option<Arc<dyn TlsStatus>>,
    /// The certificate fingerprint raised for approval, for the error if it is rejected.
    pending_fingerprint: Option<String>,
}

impl VeNCrypt {
    fn need(consumed: usize, needed: usize) -> SecurityStep {
        SecurityStep::NeedMore { consumed, needed }
    }

    /// Picks the first configured subtype the server offers and this client can run.
    fn choose(&self, offered: &[VeNCryptSubtype]) -> Result<VeNCryptSubtype, Error> {
        let usable = |t: &VeNCryptSubtype| {
            t.inner().is_some()
                && match t.tls() {
                    None => true,
                    Some(k) => self.config.tls.as_ref().is_some_and(|c| c.supports(k)),
                }
        };
        if let Some(t) = self
            .config
            .subtypes
            .iter()
            .copied()
            .find(|t| offered.contains(t) && usable(t))
        {
            return Ok(t);
        }
        let list = |v: &[VeNCryptSubtype]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let anon_only = offered.iter().any(|t| t.tls() == Some(TlsKind::Anonymous))
            && self
                .config
                .subtypes
                .iter()
                .any(|t| t.tls() == Some(TlsKind::Anonymous) && offered.contains(t));
        Err(Error::Unsupported(format!(
            "no common VeNCrypt subtype: the server offers [{}], this client accepts [{}]{}",
            list(offered),
            list(&self.config.subtypes),
            if anon_only {
                " (anonymous TLS subtypes need TLS 1.2 anonymous ECDH, which this build cannot do)"
            } else {
                ""
            }
        )))
    }

    /// Runs the inner authentication on plaintext `input`.
    fn run_inner(
        &mut self,
        input: &[u8],
        consumed: usize,
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        let Some(h) = self.inner.as_mut() else {
            return Err(Error::ApiMisuse("VeNCrypt has no inner authentication"));
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
        Ok(add_consumed(step, consumed))
    }

    fn step(&mut self, input: &[u8], cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.phase {
                Phase::Version => {
                    let [major, minor, ..] = *rest else {
                        return Ok(Self::need(pos, 2));
                    };
                    if (major, minor) < (0, 2) {
                        return Err(Error::Unsupported(format!(
                            "VeNCrypt {major}.{minor}: only version 0.2 is supported"
                        )));
                    }
                    cx.to_server.extend_from_slice(&[0, 2]);
                    pos += 2;
                    self.phase = Phase::VersionAck;
                }
                Phase::VersionAck => {
                    let Some(&ack) = rest.first() else {
                        return Ok(Self::need(pos, 1));
                    };
                    if ack != 0 {
                        return Err(Error::ConnectionRefused {
                            reason: format!("the server refused VeNCrypt 0.2 (ack {ack})"),
                        });
                    }
                    pos += 1;
                    self.phase = Phase::Subtypes;
                }
                Phase::Subtypes => {
                    let Some(&count) = rest.first() else {
                        return Ok(Self::need(pos, 1));
                    };
                    if count == 0 {
                        return Err(Error::ConnectionRefused {
                            reason: "the server offers no VeNCrypt subtypes".into(),
                        });
                    }
                    let total = 1 + usize::from(count) * SUBTYPE_LEN;
                    let Some(list) = rest.get(1..total) else {
                        return Ok(Self::need(pos, total));
                    };
                    let offered: Vec<VeNCryptSubtype> = list
                        .chunks_exact(SUBTYPE_LEN)
                        .map(|c| {
                            VeNCryptSubtype::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                        })
                        .collect();
                    let chosen = self.choose(&offered)?;
                    cx.to_server
                        .extend_from_slice(&chosen.to_u32().to_be_bytes());
                    pos += total;
                    self.inner = Some(match chosen.inner() {
                        Some(Inner::None) | None => Box::new(NoneSecurity),
                        Some(Inner::Vnc) => Box::new(VncAuth::default()),
                        Some(Inner::Plain) => Box::new(Plain::default()),
                    });
                    if chosen.tls().is_some() {
                        self.phase = Phase::TlsAck(chosen);
                    } else {
                        self.phase = Phase::Inner;
                        return self.run_inner(&input[pos..], pos, cx);
                    }
                }
                Phase::TlsAck(chosen) => {
                    let Some(&ack) = rest.first() else {
                        return Ok(Self::need(pos, 1));
                    };
                    if ack != 1 {
                        return Err(Error::ConnectionRefused {
                            reason: format!(
                                "the server refused VeNCrypt subtype {chosen} (ack {ack})"
                            ),
                        });
                    }
                    pos += 1;
                    let (Some(kind), Some(tls)) = (chosen.tls(), self.config.tls.as_ref()) else {
                        return Err(Error::ApiMisuse("a TLS subtype was chosen without TLS"));
                    };
                    let (transform, status) = tls.connect_with_status(kind, cx.to_server)?;
                    self.phase = if status.is_some() {
                        Phase::Handshake
                    } else {
                        Phase::Inner
                    };
                    self.status = status;
                    return Ok(SecurityStep::Wrap {
                        consumed: pos,
                        transform,
                        needed: 1,
                    });
                }
                Phase::Handshake => {
                    let Some(status) = self.status.as_ref() else {
                        return Err(Error::ApiMisuse("VeNCrypt waits for TLS without a session"));
                    };
                    if !status.established() {
                        return Ok(Self::need(pos, 1));
                    }
                    match status.unverified() {
                        Some(identity) => {
                            if let ServerIdentity::X509 { fingerprint, .. } = &identity {
                                self.pending_fingerprint = Some(fingerprint.clone());
                            }
                            cx.events.push_back(Event::ServerVerification(identity));
                            self.phase = Phase::Approval;
                        }
                        None => self.phase = Phase::Inner,
                    }
                }
                // Plaintext the server sends meanwhile stays in the client until approval;
                // a server does not say much before the client answers, so a flood is an
                // error instead of unbounded memory.
                Phase::Approval => {
                    if rest.len() > MAX_HELD {
                        return Err(Error::LimitExceeded {
                            message: "VeNCrypt",
                            field: "data sent before the certificate was approved",
                            value: rest.len() as u64,
                            limit: MAX_HELD as u64,
                        });
                    }
                    return Ok(Self::need(pos, 0));
                }
                Phase::Inner => return self.run_inner(rest, pos, cx),
            }
        }
    }
}

/// Adds bytes this handler used before delegating to the inner handler's step.
fn add_consumed(step: SecurityStep, before: usize) -> SecurityStep {
    match step {
        SecurityStep::NeedMore { consumed, needed } => SecurityStep::NeedMore {
            consumed: consumed + before,
            needed,
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
        SecurityStep::Done {
            consumed,
            transform,
            ..
        } => SecurityStep::Done {
            consumed: consumed + before,
            transform,
            // Every VeNCrypt subtype ends with a SecurityResult, whatever the RFB version.
            expect_result: true,
        },
    }
}

impl SecurityHandler for VeNCrypt {
    fn security_type(&self) -> SecurityType {
        SecurityType::VeNCrypt
    }

    fn start(&mut self, _: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        Ok(Self::need(0, 2))
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
                "VeNCrypt is not asking for credentials yet",
            )),
        }
    }

    fn approve_server(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        if self.phase != Phase::Approval {
            return Err(Error::ApiMisuse(
                "no server identity is waiting for approval",
            ));
        }
        if let Some(status) = &self.status {
            status.approve();
        }
        self.phase = Phase::Inner;
        self.pending_fingerprint = None;
        // Starts the inner authentication (Plain asks for credentials at once); server
        // plaintext held by the client follows on the driver's next `handle_input`.
        self.run_inner(&[], 0, cx)
    }

    fn reject_server(&mut self) -> Error {
        match (self.phase, self.pending_fingerprint.take()) {
            (Phase::Approval, Some(fingerprint)) => Error::CertificateRejected {
                reason: "the application did not approve it".into(),
                fingerprint,
            },
            _ => Error::ApiMisuse("no server identity is waiting for approval"),
        }
    }
}
