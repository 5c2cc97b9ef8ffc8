//! Security options of a connection: the accepted security types in order, VeNCrypt subtypes,
//! and how a TLS certificate is trusted (CA PEM, pinned SHA-256 fingerprint, or nothing, in
//! which case the handshake fails with the certificate's fingerprint for the caller to show
//! and pin on the next connection).
//!
//! The same choices as the `rfb` CLI's `--security`, `--ca-file` and `--fingerprint`; the
//! parsing and the connectors live in `rfb_tls::options`, shared by every driver. This file
//! adds only what is the binding's own: its clock and its `anon-tls` feature.

use std::sync::Arc;
use std::time::SystemTime;

use rfb_core::Error;
use rfb_tls::options::SecurityOptions;
use rfb_tls::{TimeProvider, UnixTime};

/// The security choices of one connection (list, trust, server name), shared with the CLI and
/// the other bindings through `rfb_tls::options`.
pub(crate) type Security = SecurityOptions;

/// Parses the options; a bad list, CA PEM or fingerprint fails here, before any I/O.
/// `ask`: an unverified certificate raises `ServerVerification` instead of failing.
/// Anonymous TLS is offered when this crate is built with its `anon-tls` feature.
pub(crate) fn security(
    list: Option<&str>,
    ca_pem: Option<&[u8]>,
    fingerprint: Option<&str>,
    server_name: Option<&str>,
    ask: bool,
) -> Result<Security, Error> {
    Ok(SecurityOptions::parse(
        list,
        ca_pem,
        fingerprint,
        server_name,
        ask,
        Arc::new(SystemClock),
    )?
    .with_anonymous(cfg!(feature = "anon-tls")))
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
