//! Security options: which types to accept (`--security`), credentials (`--username`,
//! `--password-file`) and TLS trust (`--ca-file`, `--fingerprint`), applied to a connection.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, bail};
use rfb_core::security::{
    Ra2Settings, SecurityType, TlsConnector, TlsKind, Transform, VeNCryptFactory, VeNCryptSubtype,
};
use rfb_core::{Client, Config, Error as RfbError};
use rfb_tls::{RustlsConnector, TimeProvider, TlsSettings, UnixTime, Verify};

/// Subtypes tried when VeNCrypt is accepted without a subtype list: every TLS subtype this
/// build can run, then the plain VNC types TigerVNC lists inside VeNCrypt. Plain (256) sends
/// the password in clear and is used only when named.
const DEFAULT_SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
    // Anonymous TLS (built with `anon-tls`) hides traffic from eavesdroppers but not from a
    // man in the middle, so TLSPlain (a password inside it) is used only when named.
    VeNCryptSubtype::TlsVnc,
    VeNCryptSubtype::TlsNone,
    VeNCryptSubtype::VncAuth,
    VeNCryptSubtype::None,
];

/// Subtypes when TLS is required (a CA file or fingerprint was given, no `--security`).
const TLS_SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
];

/// The parsed `--security` list: main types in order, and VeNCrypt subtypes in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecurityList {
    types: Vec<SecurityType>,
    subtypes: Vec<VeNCryptSubtype>,
}

/// Parses `--security`: comma-separated names or numbers. Numbers from 256 and VeNCrypt
/// subtype names (`x509plain`, `plain`, ...) select VeNCrypt subtypes; VeNCrypt itself takes
/// the place of the first subtype in the main list.
pub(crate) fn parse_list(s: &str) -> anyhow::Result<SecurityList> {
    let mut types = Vec::new();
    let mut subtypes = Vec::new();
    let push = |t: SecurityType, types: &mut Vec<SecurityType>| {
        if !types.contains(&t) {
            types.push(t);
        }
    };
    for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        // `ra2_256` and `ra2-256` both name RA2_256.
        let lower = word.to_ascii_lowercase().replace('_', "-");
        let as_number = lower.parse::<u32>().ok();
        if let Some(sub) = VeNCryptSubtype::from_name(&lower)
            .filter(|_| as_number.is_none_or(|n| n >= 256))
            .filter(|s| !matches!(s, VeNCryptSubtype::Unknown(_)))
        {
            push(SecurityType::VeNCrypt, &mut types);
            if !subtypes.contains(&sub) {
                subtypes.push(sub);
            }
        } else if let Some(t) = SecurityType::from_name(&lower)
            .filter(|t| !matches!(t, SecurityType::Unknown(_) | SecurityType::Invalid))
        {
            push(t, &mut types);
        } else {
            let names: Vec<&str> = SecurityType::ALL_NAMED
                .iter()
                .filter(|t| **t != SecurityType::Invalid)
                .map(|t| t.name())
                .chain(VeNCryptSubtype::ALL_NAMED.iter().map(|t| t.name()))
                .collect();
            bail!(
                "--security: unknown security type {word:?} (known: {})",
                names.join(", ")
            );
        }
    }
    if types.is_empty() {
        bail!("--security: the list is empty");
    }
    Ok(SecurityList { types, subtypes })
}

/// The driver's clock for certificate validity.
#[derive(Debug)]
struct SystemClock;

impl TimeProvider for SystemClock {
    fn current_time(&self) -> Option<UnixTime> {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(UnixTime::since_unix_epoch)
    }
}

/// Credentials and security choices for one connection.
#[derive(Clone, Default)]
pub(crate) struct Auth {
    pub(crate) username: Option<String>,
    pub(crate) target: Option<String>,
    pub(crate) password: Option<String>,
    list: Option<SecurityList>,
    verify: Option<Verify>,
}

impl Auth {
    /// Reads files named by the options (the CA file is parsed now, so a bad one fails early).
    pub(crate) fn new(
        username: Option<String>,
        target: Option<String>,
        password: Option<String>,
        security: Option<&str>,
        ca_file: Option<&Path>,
        fingerprint: Option<&str>,
    ) -> anyhow::Result<Self> {
        let list = security.map(parse_list).transpose()?;
        let verify = match (ca_file, fingerprint) {
            (Some(_), Some(_)) => bail!("give either --ca-file or --fingerprint, not both"),
            (Some(path), None) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read --ca-file {}", path.display()))?;
                Some(Verify::Ca(
                    rfb_tls::ca_from_pem(&pem).with_context(|| path.display().to_string())?,
                ))
            }
            (None, Some(f)) => Some(Verify::Fingerprint(
                rfb_tls::parse_fingerprint(f).context("--fingerprint")?,
            )),
            (None, None) => None,
        };
        Ok(Self {
            username,
            target,
            password,
            list,
            verify,
        })
    }

    /// Sets the accepted types in `config`: the `--security` list, or only TLS subtypes when a
    /// CA file or fingerprint was given, or the command's own list plus VeNCrypt.
    pub(crate) fn configure(&self, config: &mut Config) {
        match (&self.list, &self.verify) {
            (Some(list), _) => config.security_types = list.types.clone(),
            (None, Some(_)) => config.security_types = vec![SecurityType::VeNCrypt],
            (None, None) => {
                if !config.security_types.contains(&SecurityType::VeNCrypt) {
                    config.security_types.push(SecurityType::VeNCrypt);
                }
            }
        }
    }

    /// Registers VeNCrypt with TLS for a server reached as `addr` (`host:port`), and the RA2
    /// types with `--fingerprint` pinning the server's RSA key too.
    pub(crate) fn register(&self, client: &mut Client, addr: &str) -> anyhow::Result<()> {
        let ra2 = match &self.verify {
            Some(Verify::Fingerprint(fp)) => Ra2Settings::pinned(*fp),
            _ => Ra2Settings::default(),
        };
        for f in ra2.factories() {
            client.register_security(f);
        }
        let subtypes = match (&self.list, &self.verify) {
            (Some(l), _) if !l.subtypes.is_empty() => l.subtypes.clone(),
            (None, Some(_)) => TLS_SUBTYPES.to_vec(),
            _ => DEFAULT_SUBTYPES.to_vec(),
        };
        let settings = TlsSettings {
            server_name: host_of(addr).to_string(),
            verify: self.verify.clone().unwrap_or(Verify::AskUser),
            time: Arc::new(SystemClock),
        };
        let x509 = RustlsConnector::new(settings).context("TLS settings")?;
        let tls = Connectors {
            x509,
            #[cfg(feature = "anon-tls")]
            anon: rfb_tls::AnonTlsConnector,
        };
        client.register_security(Arc::new(VeNCryptFactory::new(
            subtypes,
            Some(Arc::new(tls)),
        )));
        Ok(())
    }
}

/// rustls for X.509 subtypes, OpenSSL (when built with `anon-tls`) for anonymous ones.
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

    fn connect(
        &self,
        kind: TlsKind,
        to_server: &mut Vec<u8>,
    ) -> Result<Box<dyn Transform>, RfbError> {
        #[cfg(feature = "anon-tls")]
        if kind == TlsKind::Anonymous {
            return self.anon.connect(kind, to_server);
        }
        self.x509.connect(kind, to_server)
    }
}

/// The host of `host:port` / `[v6]:port`.
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(parse_list("bogus").is_err());
        assert!(parse_list("").is_err());
        assert_eq!(host_of("[::1]:5900"), "::1");
        assert_eq!(host_of("127.0.0.1:5901"), "127.0.0.1");
    }
}
