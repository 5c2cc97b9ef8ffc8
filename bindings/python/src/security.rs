//! Security options of a connection: the accepted security types in order, VeNCrypt subtypes,
//! and how a TLS certificate is trusted (CA PEM, pinned SHA-256 fingerprint, or nothing, in
//! which case the handshake fails with the certificate's fingerprint for the caller to show
//! and pin on the next connection).
//!
//! The same choices as the `rfb` CLI's `--security`, `--ca-file` and `--fingerprint`; the
//! parsing and the connectors live in `rfb_tls::options`, shared by every driver (the
//! `Session` constructor calls it). This file holds only what is the module's own: its clock.

use std::time::SystemTime;

use rfb_tls::{TimeProvider, UnixTime};

/// The wall clock, for certificate validity (rustls reads it while it verifies, inside
/// `Session.feed`).
#[derive(Debug)]
pub(crate) struct SystemClock;

impl TimeProvider for SystemClock {
    #[allow(clippy::disallowed_methods)] // a driver crate: the ban is for core crates
    fn current_time(&self) -> Option<UnixTime> {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(UnixTime::since_unix_epoch)
    }
}
