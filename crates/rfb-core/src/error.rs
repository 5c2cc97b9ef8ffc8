//! Errors, classified by whose fault they are (after rustls): a malformed message, a peer that
//! broke the protocol, something unsupported, failed authentication, an exceeded limit, or a
//! mistake by the caller. Every fatal error is sticky: the client refuses further input.

use rfb_encodings::{DecodeError, PixelFormatError};

/// Everything that can go wrong in the client state machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A message that cannot be parsed: names the message, the field and what was wrong.
    #[error("invalid {message}: {field} {detail}")]
    InvalidMessage {
        /// The message, e.g. `ProtocolVersion`.
        message: &'static str,
        /// The field, e.g. `version string`.
        field: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The server broke the protocol in a way parsing alone does not show.
    #[error("server misbehaved in {message}: {detail}")]
    PeerMisbehaved {
        /// The message, e.g. `FramebufferUpdate`.
        message: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Something this client does not support (a server message type, no common security type).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The server refused the connection before authentication (zero security types).
    #[error("server refused the connection: {reason}")]
    ConnectionRefused {
        /// The server's reason string.
        reason: String,
    },
    /// Authentication failed; `reason` is the server's text when it sent one.
    #[error("authentication failed: {reason}")]
    AuthFailed {
        /// The server's reason, or a description when the protocol version has none.
        reason: String,
    },
    /// A length from the server exceeds a configured [`crate::Limits`] value.
    #[error("{message} {field} of {value} exceeds the limit of {limit}")]
    LimitExceeded {
        /// The message.
        message: &'static str,
        /// The field.
        field: &'static str,
        /// The value the server sent.
        value: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A rectangle could not be decoded.
    #[error("{message}: {source}")]
    Decode {
        /// The message carrying the rectangle.
        message: &'static str,
        /// The decoder's error, which names the encoding.
        source: DecodeError,
    },
    /// A pixel format (from ServerInit or the configuration) cannot be used.
    #[error("{message}: {source}")]
    PixelFormat {
        /// Where the format came from.
        message: &'static str,
        /// What is wrong with it.
        source: PixelFormatError,
    },
    /// A deadline given in the configuration passed.
    #[error("timed out during {phase}")]
    Timeout {
        /// What was in progress.
        phase: &'static str,
    },
    /// The server closed the connection cleanly between messages.
    #[error("the server closed the connection")]
    Closed,
    /// The TLS layer failed (handshake, record protection, an alert from the server).
    #[error("TLS: {detail}")]
    Tls {
        /// What went wrong, from the TLS implementation.
        detail: String,
    },
    /// The server's certificate was not accepted: it does not chain to the configured CA,
    /// does not match the pinned fingerprint, or nothing was configured to trust it. The
    /// fingerprint lets an application ask the user and reconnect with it pinned (trust on
    /// first use).
    #[error("server certificate rejected ({reason}); its SHA-256 fingerprint is {fingerprint}")]
    CertificateRejected {
        /// Why it was rejected.
        reason: String,
        /// SHA-256 of the end-entity certificate (DER), lower-case hex, colon-separated.
        fingerprint: String,
    },
    /// The server's RSA key (RA2 security types) was not accepted: the application rejected
    /// it, or it does not match the pinned fingerprint. As with certificates, an application
    /// can show the fingerprint and reconnect with it pinned.
    #[error("server key rejected ({reason}); its SHA-256 fingerprint is {fingerprint}")]
    ServerKeyRejected {
        /// Why it was rejected.
        reason: String,
        /// SHA-256 of the key's wire bytes, lower-case hex, colon-separated.
        fingerprint: String,
    },
    /// The caller used the API out of order (not fatal: the client state is unchanged).
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
}

impl Error {
    /// Shorthand for [`Error::InvalidMessage`].
    pub(crate) fn invalid(
        message: &'static str,
        field: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self::InvalidMessage {
            message,
            field,
            detail: detail.into(),
        }
    }

    /// True for errors that end the connection.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::ApiMisuse(_))
    }
}
