//! TLS for RFB security types, as a sans-IO byte transform.
//!
//! VeNCrypt's `X509*` subtypes run the RFB stream inside TLS
//! (<https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#vencrypt>). This crate gives
//! rfb-core a [`TlsConnector`](rfb_core::security::TlsConnector) built on rustls's unbuffered
//! client: bytes in, bytes out, no sockets, no clock and no threads of its own. Register it
//! with a [`VeNCryptFactory`](rfb_core::security::VeNCryptFactory).
//!
//! # Decisions
//! - **Provider: `rustls-rustcrypto` (pure Rust), not `ring`.** ring builds for
//!   wasm32-unknown-unknown with clang, but there it implements its (sealed) random source only
//!   with its `wasm32_unknown_unknown_js` feature, i.e. getrandom's `js` backend, which puts
//!   wasm-bindgen and js-sys into this core crate's graph, and ring's key generation takes no
//!   injected generator. The RustCrypto provider needs no C toolchain and reaches randomness
//!   only through `rand_core`'s getrandom 0.2, whose `custom` backend lets the final wasm
//!   binary register the source. Its cost: it is an alpha release whose primitives (RustCrypto
//!   AES-GCM, ChaCha20-Poly1305, P-256/P-384, X25519, RSA verification) are not audited as a
//!   TLS provider, and it is slower than ring.
//! - **Time from the driver.** rustls's default clock reads `SystemTime`, which panics on
//!   wasm32; [`TlsSettings::time`] is the driver's clock. rustls is built without `std`, so
//!   the default clock does not even exist here.
//! - **Randomness.** rustls takes randomness from its provider, so it cannot be the core's
//!   injected `RngCore`: getrandom is the one ambient source allowed in this crate (an explicit
//!   exception in `cargo xtask check-tiers`).
//! - **Trust.** A CA file (PEM), a pinned SHA-256 fingerprint of the server's certificate, or
//!   nothing: then either the handshake fails with
//!   [`Error::CertificateRejected`](rfb_core::Error::CertificateRejected) carrying the
//!   fingerprint ([`Verify::AskUser`], for a CLI that pins it on the next run), or
//!   ([`Verify::Approve`]) the handshake completes, VeNCrypt raises
//!   [`Event::ServerVerification`](rfb_core::Event::ServerVerification) and the session sends
//!   no plaintext until the application approves (the browser's dialog, trust on first use).
//! - Anonymous TLS (VeNCrypt `TLS*`, TLS 1.2 anonymous ECDH) is not offered by rustls:
//!   [`RustlsConnector`] says it does not support [`TlsKind::Anonymous`], so those subtypes
//!   are never chosen through it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "anon-openssl")]
mod anon;
mod fingerprint;
mod names;
pub mod options;
mod status;
mod transform;
mod verify;

use std::sync::{Arc, Mutex};

use rfb_core::Error;
use rfb_core::security::{TlsConnector, TlsKind, TlsSession, TlsStatus, Transform};
use rustls::ClientConfig;
use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::{CertificateDer, ServerName};

#[cfg(feature = "anon-openssl")]
pub use anon::AnonTlsConnector;
pub use fingerprint::{format_fingerprint, parse_fingerprint, sha256_fingerprint};
pub use rustls::pki_types::UnixTime;
pub use rustls::time_provider::TimeProvider;

/// How the server's certificate is trusted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Verify {
    /// The chain must lead to one of these CA certificates, and the certificate must name the
    /// server (DNS name or IP address) and be valid at the driver's time.
    Ca(Vec<CertificateDer<'static>>),
    /// The end-entity certificate's SHA-256 must equal this (names and dates are not checked:
    /// the user pinned this exact certificate).
    Fingerprint([u8; 32]),
    /// Nothing is trusted: every certificate is rejected with its fingerprint, for the
    /// application to ask the user about.
    AskUser,
    /// Nothing is trusted automatically, but the handshake completes (the server must still
    /// prove it holds the certificate's key) and the session pauses for the application:
    /// [`RustlsConnector`] reports the certificate through
    /// [`TlsConnector::connect_with_status`] and sends no plaintext before
    /// [`TlsStatus::approve`].
    Approve,
}

/// Everything a TLS session needs from the driver.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// Name the certificate must carry: a DNS name or an IP address. In the browser this is an
    /// explicit option, because the page may not know the VNC host behind a proxy token.
    pub server_name: String,
    /// How to trust the certificate.
    pub verify: Verify,
    /// The driver's clock (certificate validity).
    pub time: Arc<dyn TimeProvider>,
}

/// The subject and issuer of a DER certificate as RFC 4514 strings (`CN=host,O=org`), for
/// showing to a user; `None` when the certificate cannot be read that far. The bytes are
/// untrusted: nothing here panics, and each name is capped at 512 characters.
pub fn certificate_names(der: &[u8]) -> Option<(String, String)> {
    names::subject_and_issuer(der)
}

/// Reads CA certificates from PEM text; fails when there are none.
pub fn ca_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    use rustls::pki_types::pem::PemObject;
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls {
            detail: format!("cannot read the CA file: {e}"),
        })?;
    if certs.is_empty() {
        return Err(Error::Tls {
            detail: "the CA file holds no PEM certificate".into(),
        });
    }
    Ok(certs)
}

/// A rustls-backed [`TlsConnector`] for VeNCrypt's X.509 subtypes.
#[derive(Debug, Clone)]
pub struct RustlsConnector {
    settings: TlsSettings,
    server_name: ServerName<'static>,
    roots: Option<Arc<rustls::RootCertStore>>,
}

impl RustlsConnector {
    /// Checks the settings (server name, CA certificates) up front, so a bad CA file fails
    /// before any connection.
    pub fn new(settings: TlsSettings) -> Result<Self, Error> {
        let server_name =
            ServerName::try_from(settings.server_name.clone()).map_err(|e| Error::Tls {
                detail: format!("invalid TLS server name {:?}: {e}", settings.server_name),
            })?;
        let roots = match &settings.verify {
            Verify::Ca(certs) => {
                let mut store = rustls::RootCertStore::empty();
                for c in certs {
                    store.add(c.clone()).map_err(|e| Error::Tls {
                        detail: format!("unusable CA certificate: {e}"),
                    })?;
                }
                Some(Arc::new(store))
            }
            _ => None,
        };
        Ok(Self {
            settings,
            server_name,
            roots,
        })
    }

    fn config(
        &self,
        slot: &verify::Slot,
        status: &Arc<status::Status>,
    ) -> Result<Arc<ClientConfig>, Error> {
        let provider = Arc::new(rustls_rustcrypto::provider());
        let verifier = verify::Verifier::new(
            &self.settings.verify,
            self.roots.clone(),
            provider.clone(),
            slot.clone(),
            status.clone(),
        )?;
        let config = ClientConfig::builder_with_details(provider, self.settings.time.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls {
                detail: format!("TLS configuration: {e}"),
            })?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

impl TlsConnector for RustlsConnector {
    fn supports(&self, kind: TlsKind) -> bool {
        kind == TlsKind::X509
    }

    fn connect(&self, kind: TlsKind, to_server: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error> {
        self.connect_with_status(kind, to_server).map(|(t, _)| t)
    }

    fn connect_with_status(
        &self,
        kind: TlsKind,
        to_server: &mut Vec<u8>,
    ) -> Result<TlsSession, Error> {
        if kind != TlsKind::X509 {
            return Err(Error::Unsupported(
                "anonymous TLS (VeNCrypt TLSNone/TLSVnc/TLSPlain) needs TLS 1.2 anonymous ECDH, \
                 which rustls does not offer"
                    .into(),
            ));
        }
        let slot: verify::Slot = Arc::new(Mutex::new(None));
        let status = Arc::new(status::Status::default());
        let config = self.config(&slot, &status)?;
        let conn =
            UnbufferedClientConnection::new(config, self.server_name.clone()).map_err(|e| {
                Error::Tls {
                    detail: e.to_string(),
                }
            })?;
        let mut t = transform::TlsTransform::new(conn, slot, status.clone());
        t.start(to_server)?;
        // Only sessions that may pause report their status: with a CA or a pin, certificate
        // problems are errors and VeNCrypt need not wait for the handshake.
        let status: Option<Arc<dyn TlsStatus>> =
            matches!(self.settings.verify, Verify::Approve).then(|| status as Arc<dyn TlsStatus>);
        Ok((Box::new(t), status))
    }
}
