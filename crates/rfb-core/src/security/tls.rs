//! The seam between security types that run inside TLS and a TLS implementation.
//!
//! rfb-core does no cryptography beyond DES: a driver hands VeNCrypt a [`TlsConnector`]
//! (the `rfb-tls` crate's rustls one, or an OpenSSL one for anonymous TLS) and the handler
//! installs the session it returns as a [`Transform`].

use super::Transform;
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
}
