//! The seam between security types that run inside TLS and a TLS implementation.
//!
//! rfb-core does no cryptography beyond DES: a driver hands VeNCrypt a [`TlsConnector`]
//! (the `rfb-tls` crate's rustls one, or an OpenSSL one for anonymous TLS) and the handler
//! installs the session it returns as a [`Transform`].

use std::sync::Arc;

use super::{ServerIdentity, Transform};
use crate::error::Error;

/// Which kind of TLS a VeNCrypt subtype asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsKind {
    /// Anonymous TLS (VeNCrypt `TLS*` subtypes): no certificate, anonymous (EC)DH cipher
    /// suites. Servers in use negotiate TLS 1.2 `AECDH-AES256-SHA`, which rustls refuses.
    Anonymous,
    /// Certificate-based TLS (VeNCrypt `X509*` subtypes), verified as the connector is
    /// configured (CA, pinned fingerprint).
    X509,
}

/// Starts client TLS sessions; the returned transform is still handshaking.
pub trait TlsConnector: Send + Sync {
    /// True when this connector can do `kind`; a subtype needing another kind is not chosen.
    fn supports(&self, kind: TlsKind) -> bool;
    /// Starts a session, writing its first flight (ClientHello) to `to_server`. Certificate
    /// failures surface later, from [`Transform::decrypt`], as
    /// [`Error::CertificateRejected`] or [`Error::Tls`].
    fn connect(&self, kind: TlsKind, to_server: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error>;

    /// Like [`TlsConnector::connect`], also returning the session's [`TlsStatus`] when the
    /// connector can leave the trust decision to the application. VeNCrypt then waits for the
    /// handshake, raises [`crate::Event::ServerVerification`] for an unverified certificate
    /// and starts the inner authentication only once it is approved. The default has no
    /// status: certificate problems are errors.
    fn connect_with_status(
        &self,
        kind: TlsKind,
        to_server: &mut Vec<u8>,
    ) -> Result<TlsSession, Error> {
        Ok((self.connect(kind, to_server)?, None))
    }
}

/// A started session: its transform and, when the application decides trust, its status.
pub type TlsSession = (Box<dyn Transform>, Option<Arc<dyn TlsStatus>>);

/// A TLS session's progress, shared between its transform and the security type inside it.
pub trait TlsStatus: Send + Sync {
    /// True once the handshake has completed (the server proved it holds the certificate's
    /// key).
    fn established(&self) -> bool;
    /// The server's identity, when nothing configured verified it and it has not been
    /// approved yet. The transform sends no plaintext while this is `Some`.
    fn unverified(&self) -> Option<ServerIdentity>;
    /// The application accepted the identity: plaintext may flow.
    fn approve(&self);
}
