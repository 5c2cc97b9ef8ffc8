//! Certificate verification: CA chain, pinned fingerprint, or "ask the user".
//!
//! The verdict is also written to a per-connection slot, because rustls built without `std`
//! cannot carry a typed error through its own error type; the transform turns it into
//! [`Error::CertificateRejected`] with the certificate's fingerprint.

use std::sync::{Arc, Mutex};

use rfb_core::Error;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::Verify;
use crate::fingerprint::{format_fingerprint, sha256_fingerprint};
use crate::status::Status;

/// Why the certificate was rejected and its fingerprint, once the verifier has run.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    pub(crate) reason: String,
    pub(crate) fingerprint: String,
}

/// Where one connection's verifier leaves its rejection.
pub(crate) type Slot = Arc<Mutex<Option<Rejection>>>;

#[derive(Debug)]
enum Mode {
    Ca(Arc<WebPkiServerVerifier>),
    Pin([u8; 32]),
    AskUser,
    /// Accept provisionally and let the application decide ([`Verify::Approve`]).
    Approve(Arc<Status>),
}

/// The verifier installed in every connection's rustls configuration.
#[derive(Debug)]
pub(crate) struct Verifier {
    mode: Mode,
    provider: Arc<CryptoProvider>,
    slot: Slot,
}

impl Verifier {
    pub(crate) fn new(
        verify: &Verify,
        roots: Option<Arc<RootCertStore>>,
        provider: Arc<CryptoProvider>,
        slot: Slot,
        status: Arc<Status>,
    ) -> Result<Self, Error> {
        let mode = match (verify, roots) {
            (Verify::Ca(_), Some(roots)) => Mode::Ca(
                WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| Error::Tls {
                        detail: format!("certificate verifier: {e}"),
                    })?,
            ),
            (Verify::Fingerprint(fp), _) => Mode::Pin(*fp),
            (Verify::Approve, _) => Mode::Approve(status),
            _ => Mode::AskUser,
        };
        Ok(Self {
            mode,
            provider,
            slot,
        })
    }

    fn reject(&self, reason: String, fingerprint: &[u8; 32]) -> rustls::Error {
        if let Ok(mut s) = self.slot.lock() {
            *s = Some(Rejection {
                reason: reason.clone(),
                fingerprint: format_fingerprint(fingerprint),
            });
        }
        rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = sha256_fingerprint(end_entity);
        match &self.mode {
            Mode::Ca(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map_err(|e| self.reject(format!("not trusted by the CA file: {e}"), &fp)),
            Mode::Pin(pin) if *pin == fp => Ok(ServerCertVerified::assertion()),
            Mode::Pin(pin) => Err(self.reject(
                format!(
                    "its fingerprint does not match the pinned {}",
                    format_fingerprint(pin)
                ),
                &fp,
            )),
            Mode::Approve(status) => {
                // The signature checks below still run: the server must hold this
                // certificate's key. Only trust in the certificate is left to the user, and
                // the transform sends no plaintext until the user gives it.
                status.set_unverified(
                    format_fingerprint(&fp),
                    crate::names::subject_and_issuer(end_entity),
                    "no CA certificate or fingerprint was given to trust it".into(),
                );
                Ok(ServerCertVerified::assertion())
            }
            Mode::AskUser => Err(self.reject(
                "no CA file or fingerprint was given to trust it".into(),
                &fp,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Pinning trusts the key; the handshake must still prove possession of it.
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
