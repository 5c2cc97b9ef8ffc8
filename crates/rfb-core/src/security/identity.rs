//! Server identities a security type cannot verify on its own, for the application to approve.
//!
//! VeNCrypt's X509 subtypes without a configured CA or pinned fingerprint learn who the
//! server claims to be but have nothing to check it against. Instead of failing they pause: the client queues [`crate::Event::ServerVerification`] and sends
//! nothing more (no credentials, no ClientInit) until the driver calls
//! [`crate::Client::approve_server`] or drops the connection. Applications show the identity
//! to the user and may remember it (trust on first use).

/// What the server presented, as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerIdentity {
    /// An X.509 certificate from a TLS handshake (the handshake itself succeeded: the server
    /// proved it holds the certificate's key).
    X509 {
        /// SHA-256 of the end-entity certificate (DER), lower-case hex, colon-separated.
        fingerprint: String,
        /// The certificate's subject (RFC 4514 form), when it could be read.
        subject: Option<String>,
        /// The certificate's issuer (RFC 4514 form), when it could be read.
        issuer: Option<String>,
        /// Why it is not trusted automatically (no CA, no pin).
        reason: String,
    },
    /// An RSA public key (RA2 security types), before anything is sent with it.
    Rsa {
        /// Key length in bits.
        bits: u32,
        /// SHA-256 of the key's wire bytes (`U32` bits, modulus, exponent), lower-case hex,
        /// colon-separated: the form pinned fingerprints take.
        fingerprint: String,
        /// The first 8 bytes of SHA-1 of the same bytes, `xx-xx-…`: the form RealVNC and
        /// TigerVNC show, for comparing with what those servers print.
        short_fingerprint: String,
        /// The key's wire bytes, for applications that keep their own records.
        public_key: Vec<u8>,
    },
}
