//! Security options of a connection: the accepted security types in order, VeNCrypt subtypes,
//! and how a TLS certificate is trusted (CA PEM, pinned SHA-256 fingerprint, or nothing, in
//! which case the handshake fails with the certificate's fingerprint for the caller to show
//! and pin on the next connection).
//!
//! The same choices as the `rfb` CLI's `--security`, `--ca-file` and `--fingerprint`
//! (`cli/src/security.rs`) and librfb's options (`bindings/c/src/security.rs`, which this
//! file mirrors); kept here because a driver crate cannot depend on another.

use std::sync::Arc;
use std::time::SystemTime;

use rfb_core::security::{
    SecurityType, TlsConnector, TlsKind, TlsSession, Transform, VeNCryptFactory, VeNCryptSubtype,
};
use rfb_core::{Client, Config, Error};
use rfb_tls::{RustlsConnector, TimeProvider, TlsSettings, UnixTime, Verify};

/// Subtypes tried when VeNCrypt is accepted without a subtype list: every TLS subtype this
/// build can run, then the plain types TigerVNC lists inside VeNCrypt. Plain (256, the
/// password in clear) and TLSPlain (a password over unauthenticated TLS) only when named.
const DEFAULT_SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
    VeNCryptSubtype::TlsVnc,
    VeNCryptSubtype::TlsNone,
    VeNCryptSubtype::VncAuth,
    VeNCryptSubtype::None,
];

/// Subtypes when trust was configured (CA or fingerprint) but no list: TLS is then required.
const TLS_SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
];

/// Name used for the TLS session when the caller gave none and no CA check needs one: an IP
/// address, so no SNI is sent; pinned and "ask" modes do not check names.
const NO_SERVER_NAME: &str = "127.0.0.1";

fn setting(detail: String) -> Error {
    Error::Tls { detail }
}

/// Parses a comma-separated list of security type names or numbers (`"x509vnc,vncauth"`,
/// `"19,2"`): VeNCrypt subtype names and numbers from 256 select VeNCrypt subtypes, and
/// VeNCrypt takes the place of the first of them in the main list.
pub(crate) fn parse_list(s: &str) -> Result<(Vec<SecurityType>, Vec<VeNCryptSubtype>), Error> {
    let mut types = Vec::new();
    let mut subtypes = Vec::new();
    for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let lower = word.to_ascii_lowercase();
        let number = lower.parse::<u32>().ok();
        let sub = VeNCryptSubtype::from_name(&lower)
            .filter(|_| number.is_none_or(|n| n >= 256))
            .filter(|s| !matches!(s, VeNCryptSubtype::Unknown(_)));
        let t = if let Some(sub) = sub {
            if !subtypes.contains(&sub) {
                subtypes.push(sub);
            }
            SecurityType::VeNCrypt
        } else if let Some(t) = SecurityType::from_name(&lower)
            .filter(|t| !matches!(t, SecurityType::Unknown(_) | SecurityType::Invalid))
        {
            t
        } else {
            let known: Vec<&str> = SecurityType::ALL_NAMED
                .iter()
                .filter(|t| **t != SecurityType::Invalid)
                .map(|t| t.name())
                .chain(VeNCryptSubtype::ALL_NAMED.iter().map(|t| t.name()))
                .collect();
            return Err(Error::Unsupported(format!(
                "unknown security type {word:?} (known: {})",
                known.join(", ")
            )));
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        return Err(Error::Unsupported("the security type list is empty".into()));
    }
    Ok((types, subtypes))
}

/// The security choices of one connection, checked when the client is created.
#[derive(Clone)]
pub(crate) struct Security {
    list: Option<(Vec<SecurityType>, Vec<VeNCryptSubtype>)>,
    verify: Option<Verify>,
    server_name: Option<String>,
    /// With no CA and no pin: pause for the application's approval (a `ServerVerification`
    /// event) instead of failing with the fingerprint.
    ask: bool,
}

impl Security {
    /// Parses the options; a bad list, CA PEM or fingerprint fails here, before any I/O.
    /// `ask`: an unverified certificate raises `ServerVerification` instead of failing.
    pub(crate) fn new(
        list: Option<&str>,
        ca_pem: Option<&[u8]>,
        fingerprint: Option<&str>,
        server_name: Option<&str>,
        ask: bool,
    ) -> Result<Self, Error> {
        let list = list.map(parse_list).transpose()?;
        let verify = match (ca_pem, fingerprint) {
            (Some(_), Some(_)) => {
                return Err(setting(
                    "give either a CA certificate or a fingerprint, not both".into(),
                ));
            }
            (Some(pem), None) => {
                if server_name.is_none() {
                    return Err(setting(
                        "a CA check needs the server's name (the certificate must carry it)".into(),
                    ));
                }
                Some(Verify::Ca(rfb_tls::ca_from_pem(pem)?))
            }
            (None, Some(f)) => Some(Verify::Fingerprint(rfb_tls::parse_fingerprint(f)?)),
            (None, None) => None,
        };
        let s = Self {
            list,
            verify,
            server_name: server_name.map(str::to_owned),
            ask,
        };
        // Build the connector once now so an invalid server name fails early too.
        s.connector()?;
        Ok(s)
    }

    /// Sets the accepted types: the list, or only VeNCrypt when trust was configured without
    /// a list, or the default list plus VeNCrypt.
    pub(crate) fn configure(&self, config: &mut Config) {
        match (&self.list, &self.verify) {
            (Some((types, _)), _) => config.security_types = types.clone(),
            (None, Some(_)) => config.security_types = vec![SecurityType::VeNCrypt],
            (None, None) => {
                if !config.security_types.contains(&SecurityType::VeNCrypt) {
                    config.security_types.push(SecurityType::VeNCrypt);
                }
            }
        }
    }

    fn connector(&self) -> Result<Connectors, Error> {
        let settings = TlsSettings {
            server_name: self
                .server_name
                .clone()
                .unwrap_or_else(|| NO_SERVER_NAME.into()),
            verify: self.verify.clone().unwrap_or(if self.ask {
                Verify::Approve
            } else {
                Verify::AskUser
            }),
            time: Arc::new(SystemClock),
        };
        Ok(Connectors {
            x509: RustlsConnector::new(settings)?,
            #[cfg(feature = "anon-tls")]
            anon: rfb_tls::AnonTlsConnector,
        })
    }

    /// Registers VeNCrypt with its subtypes and TLS on `client`.
    pub(crate) fn register(&self, client: &mut Client) -> Result<(), Error> {
        let subtypes = match (&self.list, &self.verify) {
            (Some((_, subs)), _) if !subs.is_empty() => subs.clone(),
            (None, Some(_)) => TLS_SUBTYPES.to_vec(),
            _ => DEFAULT_SUBTYPES.to_vec(),
        };
        client.register_security(Arc::new(VeNCryptFactory::new(
            subtypes,
            Some(Arc::new(self.connector()?)),
        )));
        Ok(())
    }
}

/// The wall clock, for certificate validity (rustls reads it while it verifies, inside
/// `Session.feed`).
#[derive(Debug)]
struct SystemClock;

impl TimeProvider for SystemClock {
    #[allow(clippy::disallowed_methods)] // a driver crate: the ban is for core crates
    fn current_time(&self) -> Option<UnixTime> {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(UnixTime::since_unix_epoch)
    }
}

/// rustls for X.509 subtypes, OpenSSL (feature `anon-tls`) for anonymous ones.
struct Connectors {
    x509: RustlsConnector,
    #[cfg(feature = "anon-tls")]
    anon: rfb_tls::AnonTlsConnector,
}

impl TlsConnector for Connectors {
    fn supports(&self, kind: TlsKind) -> bool {
        #[cfg(feature = "anon-tls")]
        if self.anon.supports(kind) {
            return true;
        }
        self.x509.supports(kind)
    }

    fn connect(&self, kind: TlsKind, to_server: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error> {
        #[cfg(feature = "anon-tls")]
        if kind == TlsKind::Anonymous {
            return self.anon.connect(kind, to_server);
        }
        self.x509.connect(kind, to_server)
    }

    fn connect_with_status(
        &self,
        kind: TlsKind,
        to_server: &mut Vec<u8>,
    ) -> Result<TlsSession, Error> {
        #[cfg(feature = "anon-tls")]
        if kind == TlsKind::Anonymous {
            return Ok((self.anon.connect(kind, to_server)?, None));
        }
        // rustls reports an unverified certificate here when `Verify::Approve` is set.
        self.x509.connect_with_status(kind, to_server)
    }
}
