//! A connection's security choices as the native drivers take them: the accepted security
//! types in order (`"x509vnc,vncauth"`), VeNCrypt subtypes, and how a TLS certificate is
//! trusted (CA PEM, pinned SHA-256 fingerprint, or nothing). Shared by the `rfb` CLI,
//! rfb-proxy's upstream side, librfb (C) and the Python module, which cannot depend on each
//! other; each keeps only what differs on purpose (its error type, its option names, its own
//! clock) in a thin adapter.
//!
//! Pure: the clock comes in as the driver's [`TimeProvider`], files are read by the driver.
//! Security type names and numbers are rfbproto's
//! (<https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#security-types>), VeNCrypt
//! subtypes from <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#vencrypt>.

use std::sync::Arc;

use rfb_core::security::{
    SecurityType, TlsConnector, TlsKind, TlsSession, Transform, VeNCryptFactory, VeNCryptSubtype,
};
use rfb_core::{Client, Config, Error};

use crate::{RustlsConnector, TimeProvider, TlsSettings, Verify};

/// Subtypes tried when VeNCrypt is accepted without a subtype list: every TLS subtype the
/// build can run, then the plain types TigerVNC lists inside VeNCrypt. Plain (256, the
/// password in clear) and TLSPlain (a password inside anonymous TLS, which hides it from
/// eavesdroppers but not from a man in the middle) only when named.
pub const DEFAULT_SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
    VeNCryptSubtype::TlsVnc,
    VeNCryptSubtype::TlsNone,
    VeNCryptSubtype::VncAuth,
    VeNCryptSubtype::None,
];

/// Subtypes when trust was configured (CA or fingerprint) but no list: TLS is then required.
pub const TLS_SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
];

/// Name used for the TLS session when the driver gave none: an IP address, so no SNI is sent;
/// pinned and "ask" modes do not check names (a CA check requires a real one).
const NO_SERVER_NAME: &str = "127.0.0.1";

/// A parsed security type list: main types in order, and VeNCrypt subtypes in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityList {
    /// Security types offered to the server's list, in order of preference, no repeats.
    pub types: Vec<SecurityType>,
    /// VeNCrypt subtypes named in the list, in order, no repeats (empty: none named).
    pub subtypes: Vec<VeNCryptSubtype>,
}

/// Why a security type list was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListError {
    /// A word names no security type or VeNCrypt subtype.
    Unknown {
        /// The word as given.
        word: String,
    },
    /// A word names a type the caller cannot run (see [`parse_list_refusing`]).
    Refused {
        /// The word as given.
        word: String,
        /// The type it names.
        security_type: SecurityType,
    },
    /// The list names nothing.
    Empty,
}

impl core::fmt::Display for ListError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unknown { word } => {
                let known: Vec<&str> = SecurityType::ALL_NAMED
                    .iter()
                    .filter(|t| **t != SecurityType::Invalid)
                    .map(|t| t.name())
                    .chain(VeNCryptSubtype::ALL_NAMED.iter().map(|t| t.name()))
                    .collect();
                write!(
                    f,
                    "unknown security type {word:?} (known: {})",
                    known.join(", ")
                )
            }
            Self::Refused {
                security_type: t, ..
            } => write!(f, "security type {} is not accepted here", t.name()),
            Self::Empty => f.write_str("the security type list is empty"),
        }
    }
}

impl std::error::Error for ListError {}

impl From<ListError> for Error {
    fn from(e: ListError) -> Self {
        Self::Unsupported(e.to_string())
    }
}

/// Parses a comma-separated list of security type names or numbers (`"x509vnc,vncauth"`,
/// `"19,2"`, case-insensitive, `_` read as `-` so `ra2_256` names RA2_256). VeNCrypt subtype
/// names and numbers from 256 select VeNCrypt subtypes, and VeNCrypt takes the place of the
/// first of them in the main list.
pub fn parse_list(s: &str) -> Result<SecurityList, ListError> {
    parse_list_refusing(s, &[])
}

/// [`parse_list`], failing with [`ListError::Refused`] at the first word naming one of
/// `refused` (a driver that cannot run it, e.g. a proxy that cannot relay Tight's ServerInit).
pub fn parse_list_refusing(s: &str, refused: &[SecurityType]) -> Result<SecurityList, ListError> {
    let mut types = Vec::new();
    let mut subtypes = Vec::new();
    for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let lower = word.to_ascii_lowercase().replace('_', "-");
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
            if refused.contains(&t) {
                return Err(ListError::Refused {
                    word: word.to_owned(),
                    security_type: t,
                });
            }
            t
        } else {
            return Err(ListError::Unknown {
                word: word.to_owned(),
            });
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        return Err(ListError::Empty);
    }
    Ok(SecurityList { types, subtypes })
}

/// The security choices of one client connection, checked before any I/O.
#[derive(Debug, Clone)]
pub struct SecurityOptions {
    list: Option<SecurityList>,
    verify: Option<Verify>,
    server_name: Option<String>,
    /// With no CA and no pin: pause for the application's approval (a `ServerVerification`
    /// event) instead of failing with the fingerprint.
    ask: bool,
    /// Whether anonymous TLS may be offered (see [`Connectors::with_anonymous`]).
    anonymous: bool,
    time: Arc<dyn TimeProvider>,
}

impl SecurityOptions {
    /// Options from an already parsed list and trust; no server name (pinned and ask modes do
    /// not need one), unverified certificates fail with their fingerprint, rustls only.
    pub fn new(
        list: Option<SecurityList>,
        verify: Option<Verify>,
        time: Arc<dyn TimeProvider>,
    ) -> Self {
        Self {
            list,
            verify,
            server_name: None,
            ask: false,
            anonymous: false,
            time,
        }
    }

    /// Parses the options as the bindings take them: a list, CA certificates as PEM text or a
    /// fingerprint (not both; a CA check needs `server_name`), and `ask`: an unverified
    /// certificate raises `ServerVerification` instead of failing. A bad list, PEM,
    /// fingerprint or server name fails here.
    pub fn parse(
        list: Option<&str>,
        ca_pem: Option<&[u8]>,
        fingerprint: Option<&str>,
        server_name: Option<&str>,
        ask: bool,
        time: Arc<dyn TimeProvider>,
    ) -> Result<Self, Error> {
        let setting = |detail: &str| Error::Tls {
            detail: detail.into(),
        };
        let list = list.map(parse_list).transpose()?;
        let verify = match (ca_pem, fingerprint) {
            (Some(_), Some(_)) => {
                return Err(setting(
                    "give either a CA certificate or a fingerprint, not both",
                ));
            }
            (Some(pem), None) => {
                if server_name.is_none() {
                    return Err(setting(
                        "a CA check needs the server's name (the certificate must carry it)",
                    ));
                }
                Some(Verify::Ca(crate::ca_from_pem(pem)?))
            }
            (None, Some(f)) => Some(Verify::Fingerprint(crate::parse_fingerprint(f)?)),
            (None, None) => None,
        };
        let mut s = Self::new(list, verify, time).ask_user(ask);
        s.server_name = server_name.map(str::to_owned);
        // Build the connector once now so an invalid server name fails early too.
        s.connectors()?;
        Ok(s)
    }

    /// The name the certificate must carry (DNS name or IP address).
    #[must_use]
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// `true`: with no CA and no pin, the handshake completes and the session pauses for the
    /// application's approval ([`Verify::Approve`]) instead of failing ([`Verify::AskUser`]).
    #[must_use]
    pub fn ask_user(mut self, ask: bool) -> Self {
        self.ask = ask;
        self
    }

    /// Offers anonymous TLS too; see [`Connectors::with_anonymous`].
    #[must_use]
    pub fn with_anonymous(mut self, on: bool) -> Self {
        self.anonymous = on;
        self
    }

    /// The parsed list, if one was given.
    pub fn list(&self) -> Option<&SecurityList> {
        self.list.as_ref()
    }

    /// The configured trust (CA or pin), if any.
    pub fn verify(&self) -> Option<&Verify> {
        self.verify.as_ref()
    }

    /// Sets the accepted types: the list, or only VeNCrypt when trust was configured without
    /// a list, or the config's own list plus VeNCrypt.
    pub fn configure(&self, config: &mut Config) {
        match (&self.list, &self.verify) {
            (Some(l), _) => config.security_types = l.types.clone(),
            (None, Some(_)) => config.security_types = vec![SecurityType::VeNCrypt],
            (None, None) => {
                if !config.security_types.contains(&SecurityType::VeNCrypt) {
                    config.security_types.push(SecurityType::VeNCrypt);
                }
            }
        }
    }

    /// The VeNCrypt subtypes to offer: those named, else [`TLS_SUBTYPES`] when trust was
    /// configured without a list, else [`DEFAULT_SUBTYPES`].
    pub fn subtypes(&self) -> Vec<VeNCryptSubtype> {
        match (&self.list, &self.verify) {
            (Some(l), _) if !l.subtypes.is_empty() => l.subtypes.clone(),
            (None, Some(_)) => TLS_SUBTYPES.to_vec(),
            _ => DEFAULT_SUBTYPES.to_vec(),
        }
    }

    /// The TLS connectors these options describe.
    pub fn connectors(&self) -> Result<Connectors, Error> {
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
            time: self.time.clone(),
        };
        Ok(Connectors::new(settings)?.with_anonymous(self.anonymous))
    }

    /// Registers VeNCrypt with its subtypes and TLS on `client`.
    pub fn register(&self, client: &mut Client) -> Result<(), Error> {
        client.register_security(Arc::new(VeNCryptFactory::new(
            self.subtypes(),
            Some(Arc::new(self.connectors()?)),
        )));
        Ok(())
    }
}

/// rustls for X.509 subtypes and, when built with the `anon-openssl` feature and asked for,
/// OpenSSL for anonymous ones.
#[derive(Debug, Clone)]
pub struct Connectors {
    x509: RustlsConnector,
    #[cfg(feature = "anon-openssl")]
    anon: Option<crate::AnonTlsConnector>,
}

impl Connectors {
    /// rustls only; checks the settings as [`RustlsConnector::new`] does.
    pub fn new(settings: TlsSettings) -> Result<Self, Error> {
        Ok(Self {
            x509: RustlsConnector::new(settings)?,
            #[cfg(feature = "anon-openssl")]
            anon: None,
        })
    }

    /// Offers anonymous TLS too when `on` and this crate was built with `anon-openssl`
    /// (otherwise a no-op). A driver passes `cfg!(feature = "anon-tls")`, its own feature,
    /// rather than relying on this crate's: a workspace build unifies features, and a driver
    /// built without anonymous TLS must not start offering it because a sibling enables it.
    #[must_use]
    pub fn with_anonymous(self, on: bool) -> Self {
        #[cfg(feature = "anon-openssl")]
        {
            Self {
                anon: on.then_some(crate::AnonTlsConnector),
                ..self
            }
        }
        #[cfg(not(feature = "anon-openssl"))]
        {
            let _ = on;
            self
        }
    }

    /// The anonymous connector, when offered.
    #[cfg(feature = "anon-openssl")]
    fn anon(&self, kind: TlsKind) -> Option<&crate::AnonTlsConnector> {
        self.anon.as_ref().filter(|a| a.supports(kind))
    }
}

impl TlsConnector for Connectors {
    fn supports(&self, kind: TlsKind) -> bool {
        #[cfg(feature = "anon-openssl")]
        if self.anon(kind).is_some() {
            return true;
        }
        self.x509.supports(kind)
    }

    fn connect(&self, kind: TlsKind, to_server: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error> {
        #[cfg(feature = "anon-openssl")]
        if let Some(a) = self.anon(kind) {
            return a.connect(kind, to_server);
        }
        self.x509.connect(kind, to_server)
    }

    fn connect_with_status(
        &self,
        kind: TlsKind,
        to_server: &mut Vec<u8>,
    ) -> Result<TlsSession, Error> {
        #[cfg(feature = "anon-openssl")]
        if let Some(a) = self.anon(kind) {
            return Ok((a.connect(kind, to_server)?, None));
        }
        // rustls reports an unverified certificate here when `Verify::Approve` is set; with a
        // CA, a pin or `Verify::AskUser` there is no status, as from `connect`.
        self.x509.connect_with_status(kind, to_server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UnixTime;

    #[derive(Debug)]
    struct Fixed;

    impl TimeProvider for Fixed {
        fn current_time(&self) -> Option<UnixTime> {
            Some(UnixTime::since_unix_epoch(core::time::Duration::from_secs(
                1_700_000_000,
            )))
        }
    }

    #[test]
    fn lists() {
        let l = parse_list("x509plain,vncauth,262,none").unwrap();
        assert_eq!(
            l.types,
            [
                SecurityType::VeNCrypt,
                SecurityType::VncAuth,
                SecurityType::None
            ]
        );
        assert_eq!(l.subtypes, [VeNCryptSubtype::X509Plain]);
        let l = parse_list("2,19,plain").unwrap();
        assert_eq!(l.types, [SecurityType::VncAuth, SecurityType::VeNCrypt]);
        assert_eq!(l.subtypes, [VeNCryptSubtype::Plain]);
        let l = parse_list("x509vnc,vncauth,262").unwrap();
        assert_eq!(l.types, [SecurityType::VeNCrypt, SecurityType::VncAuth]);
        assert_eq!(
            l.subtypes,
            [VeNCryptSubtype::X509Vnc, VeNCryptSubtype::X509Plain]
        );
        let l = parse_list("ra2,RA2ne,ra2_256,ra2ne-256,129").unwrap();
        assert_eq!(
            l.types,
            [
                SecurityType::Ra2,
                SecurityType::Ra2ne,
                SecurityType::Ra2_256,
                SecurityType::Ra2ne256
            ]
        );
        // Numbers below 256 are main types even where a subtype has the same number.
        assert_eq!(parse_list("2").unwrap().subtypes, []);
        let e = parse_list("x509vnc,bogus").unwrap_err();
        assert_eq!(
            e,
            ListError::Unknown {
                word: "bogus".into()
            }
        );
        assert!(e.to_string().contains("known: "), "{e}");
        assert_eq!(parse_list(""), Err(ListError::Empty));
        assert_eq!(parse_list(" , "), Err(ListError::Empty));
    }

    #[test]
    fn refusing() {
        assert_eq!(
            parse_list_refusing("vncauth,Tight", &[SecurityType::Tight]),
            Err(ListError::Refused {
                word: "Tight".into(),
                security_type: SecurityType::Tight
            })
        );
        // The first bad word decides, as the list is read in order.
        assert!(matches!(
            parse_list_refusing("bogus,tight", &[SecurityType::Tight]),
            Err(ListError::Unknown { .. })
        ));
        assert!(parse_list_refusing("vncauth", &[SecurityType::Tight]).is_ok());
    }

    fn parse(
        list: Option<&str>,
        fp: Option<&str>,
        name: Option<&str>,
    ) -> Result<SecurityOptions, Error> {
        SecurityOptions::parse(list, None, fp, name, false, Arc::new(Fixed))
    }

    #[test]
    fn types_and_subtypes_follow_the_options() {
        let pin = "00".repeat(32);
        let mut config = Config {
            security_types: vec![SecurityType::VncAuth],
            ..Config::default()
        };
        // Nothing given: the config's list plus VeNCrypt with every subtype.
        let o = parse(None, None, None).unwrap();
        o.configure(&mut config);
        assert_eq!(
            config.security_types,
            [SecurityType::VncAuth, SecurityType::VeNCrypt]
        );
        assert_eq!(o.subtypes(), DEFAULT_SUBTYPES);
        // Trust without a list: VeNCrypt with X.509 only.
        let o = parse(None, Some(&pin), None).unwrap();
        o.configure(&mut config);
        assert_eq!(config.security_types, [SecurityType::VeNCrypt]);
        assert_eq!(o.subtypes(), TLS_SUBTYPES);
        assert!(matches!(o.verify(), Some(Verify::Fingerprint(_))));
        // A list decides both.
        let o = parse(Some("tlsvnc,none"), Some(&pin), None).unwrap();
        o.configure(&mut config);
        assert_eq!(
            config.security_types,
            [SecurityType::VeNCrypt, SecurityType::None]
        );
        assert_eq!(o.subtypes(), [VeNCryptSubtype::TlsVnc]);
        // A list without subtypes keeps the default subtypes for a VeNCrypt it names.
        assert_eq!(
            parse(Some("vencrypt"), None, None).unwrap().subtypes(),
            DEFAULT_SUBTYPES
        );
    }

    #[test]
    fn bad_options_fail_before_any_connection() {
        let time = || -> Arc<dyn TimeProvider> { Arc::new(Fixed) };
        let pem = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
        let e = |r: Result<SecurityOptions, Error>| r.unwrap_err().to_string();
        assert!(e(parse(Some("bogus"), None, None)).contains("unknown security type"));
        assert!(e(parse(None, Some("zz"), None)).contains("fingerprint"));
        let both = SecurityOptions::parse(None, Some(pem), Some("00"), Some("h"), false, time());
        assert!(e(both).contains("not both"));
        let no_name = SecurityOptions::parse(None, Some(pem), None, None, false, time());
        assert!(e(no_name).contains("server's name"));
        assert!(parse(None, None, Some("not a name!")).is_err());
        assert!(parse(None, None, Some("vnc.example")).is_ok());
    }

    #[test]
    fn anonymous_only_when_asked() {
        let settings = TlsSettings {
            server_name: NO_SERVER_NAME.into(),
            verify: Verify::AskUser,
            time: Arc::new(Fixed),
        };
        let c = Connectors::new(settings).unwrap();
        assert!(c.supports(TlsKind::X509));
        assert!(!c.clone().with_anonymous(false).supports(TlsKind::Anonymous));
        assert_eq!(
            c.with_anonymous(true).supports(TlsKind::Anonymous),
            cfg!(feature = "anon-openssl")
        );
    }
}
