//! VeNCrypt in the browser: TLS inside RFB, run by rustls compiled to wasm (`rfb-tls`).
//!
//! The page's TLS engine cannot wrap bytes that travel inside a WebSocket, so noVNC has no
//! VeNCrypt; this client runs rustls itself. Trust comes from the RFB options
//! `tlsCaCertificates` (PEM text) or `tlsFingerprint` (SHA-256 hex); with neither, the
//! certificate is shown to the page as a `serververification` event and the session waits
//! for `approveServer()`. `tlsServerName` is the name the certificate must carry (the page may
//! only know a proxy's address, not the VNC host behind it).
//!
//! Time is `Date.now()` (rustls's own clock does not exist on wasm32); randomness is
//! `crypto.getRandomValues` (getrandom's `js` backend, switched on in this crate's manifest).

use std::sync::Arc;

use rfb_core::security::{
    SecurityType, TlsConnector, TlsKind, TlsSession, Transform, VeNCryptFactory, VeNCryptSubtype,
};
use rfb_core::{Client, Config, Error};
use rfb_tls::{RustlsConnector, TimeProvider, TlsSettings, UnixTime, Verify};

/// Why VeNCrypt's anonymous subtypes do not work here, and what does.
pub(crate) const ANONYMOUS_REFUSED: &str = "the server offers only anonymous TLS (VeNCrypt \
     TLSNone/TLSVnc/TLSPlain), which needs TLS 1.2 anonymous Diffie-Hellman: rustls, the TLS \
     this browser client runs, does not implement it (no certificate means no protection \
     against a man in the middle). Give the server an X.509 certificate (X509None/X509Vnc/\
     X509Plain), or connect through rfb-proxy's RFB-aware security mode, which speaks \
     anonymous TLS to the server and None or VNC authentication to the browser";

/// Subtypes tried, in order: certificate TLS first; the plain VNC types TigerVNC lists inside
/// VeNCrypt, and Plain (user name and password in the clear, as noVNC also sends them: the
/// server asked for nothing better); anonymous TLS last, only to refuse it with
/// [`ANONYMOUS_REFUSED`].
const SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
    VeNCryptSubtype::VncAuth,
    VeNCryptSubtype::None,
    VeNCryptSubtype::Plain,
    VeNCryptSubtype::TlsPlain,
    VeNCryptSubtype::TlsVnc,
    VeNCryptSubtype::TlsNone,
];

/// When a CA or a pin is configured, TLS is required: no subtype without it is chosen.
const TLS_SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
];

/// The page's clock.
#[derive(Debug)]
struct DateNow;

impl TimeProvider for DateNow {
    fn current_time(&self) -> Option<UnixTime> {
        let ms = js_sys::Date::now();
        (ms.is_finite() && ms >= 0.0)
            .then(|| UnixTime::since_unix_epoch(core::time::Duration::from_millis(ms as u64)))
    }
}

/// rustls for X.509 subtypes; anonymous ones are accepted only to be refused with a reason.
struct BrowserTls(RustlsConnector);

impl TlsConnector for BrowserTls {
    fn supports(&self, _kind: TlsKind) -> bool {
        true
    }

    fn connect(&self, kind: TlsKind, to_server: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error> {
        self.connect_with_status(kind, to_server).map(|(t, _)| t)
    }

    fn connect_with_status(
        &self,
        kind: TlsKind,
        to_server: &mut Vec<u8>,
    ) -> Result<TlsSession, Error> {
        if kind == TlsKind::Anonymous {
            return Err(Error::Unsupported(ANONYMOUS_REFUSED.into()));
        }
        self.0.connect_with_status(kind, to_server)
    }
}

/// The TLS options of one session, as given to the RFB constructor.
pub(crate) struct TlsOptions {
    /// `tlsServerName` (rfb.js fills in the WebSocket URL's host when the page gave none).
    pub(crate) server_name: Option<String>,
    /// `tlsCaCertificates`: PEM text.
    pub(crate) ca_pem: Option<String>,
    /// `tlsFingerprint`: SHA-256 of the server certificate.
    pub(crate) fingerprint: Option<String>,
    /// The page listed the security types itself (`securityTypes`): keep its order.
    pub(crate) explicit_types: bool,
}

/// Lists VeNCrypt and the RA2 types in `config` (with a CA or pin, VeNCrypt alone) and builds
/// VeNCrypt's factory.
/// Errors are the page's configuration mistakes (unreadable PEM, malformed fingerprint).
pub(crate) fn configure(opts: &TlsOptions, config: &mut Config) -> Result<VeNCryptFactory, Error> {
    let verify = match (&opts.ca_pem, &opts.fingerprint) {
        (Some(_), Some(_)) => {
            return Err(Error::Tls {
                detail: "give tlsCaCertificates or tlsFingerprint, not both".into(),
            });
        }
        (Some(pem), None) => Verify::Ca(rfb_tls::ca_from_pem(pem.as_bytes())?),
        (None, Some(fp)) => Verify::Fingerprint(rfb_tls::parse_fingerprint(fp)?),
        (None, None) => Verify::Approve,
    };
    let required = !matches!(verify, Verify::Approve);
    let settings = TlsSettings {
        // Only SNI and CA checks use the name; an address works when none was given.
        server_name: opts
            .server_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "localhost".into()),
        verify,
        time: Arc::new(DateNow),
    };
    let tls = BrowserTls(RustlsConnector::new(settings)?);
    if required {
        config.security_types = vec![SecurityType::VeNCrypt];
    } else if !opts.explicit_types {
        // Encrypting types first: VeNCrypt, then RealVNC's RSA-AES (its key is shown as
        // `serververification` with type 'RSA', as noVNC does), then the configured rest.
        let preferred = [
            SecurityType::VeNCrypt,
            SecurityType::Ra2_256,
            SecurityType::Ra2,
            SecurityType::Ra2ne256,
            SecurityType::Ra2ne,
        ];
        config.security_types.retain(|t| !preferred.contains(t));
        config.security_types.splice(0..0, preferred);
    }
    let subtypes = if required { TLS_SUBTYPES } else { SUBTYPES };
    Ok(VeNCryptFactory::new(subtypes.to_vec(), Some(Arc::new(tls))))
}

/// Registers the factory made by [`configure`].
pub(crate) fn register(client: &mut Client, factory: VeNCryptFactory) {
    client.register_security(Arc::new(factory));
}
