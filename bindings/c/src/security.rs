//! Security options of a connection: the accepted security types in order, VeNCrypt subtypes,
//! and how a TLS certificate is trusted (CA PEM, pinned SHA-256 fingerprint, or nothing, in
//! which case the handshake fails with the certificate's fingerprint for the caller to show
//! and pin on the next connection).
//!
//! The same choices as the `rfb` CLI's `--security`, `--ca-file` and `--fingerprint`; the
//! parsing and the connectors live in `rfb_tls::options`, shared by every driver. This file
//! adds only what is the binding's own: its clock and its `anon-tls` feature.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::SystemTime;

use rfb_core::{Client, Credentials, Error};
use rfb_tls::options::SecurityOptions;
use rfb_tls::{TimeProvider, UnixTime};

use crate::client::{RfbClient, RfbClientOptions, call};
use crate::error::{Failure, RfbStatus, status};

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

/// The wall clock, for certificate validity only (the one clock librfb reads: rustls needs
/// the time while it verifies, which is inside `rfb_client_feed`).
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

/// Reads the security fields of `RfbClientOptions`.
///
/// # Safety
/// Each string field is NULL or NUL-terminated.
pub(crate) unsafe fn from_options(o: &RfbClientOptions) -> Result<Security, Failure> {
    let opt = |p: *const c_char, what| -> Result<Option<&str>, Failure> {
        if p.is_null() {
            Ok(None)
        } else {
            // SAFETY: caller's contract.
            unsafe { crate::c_str(p, what) }.map(Some)
        }
    };
    let list = opt(o.security_types, "security_types")?;
    let ca = opt(o.tls_ca_pem, "tls_ca_pem")?;
    let fp = opt(o.tls_fingerprint, "tls_fingerprint")?;
    let name = opt(o.tls_server_name, "tls_server_name")?;
    security(
        list,
        ca.map(str::as_bytes),
        fp,
        name,
        o.ask_server_verification,
    )
    .map_err(|e| Failure::new(RfbStatus::InvalidArgument, e.to_string()))
}

/// Answers `CREDENTIALS_REQUIRED` like `rfb_client_supply_credentials`, with a `target`
/// too (xvp's machine name; event flag bit 2). Each string is NUL-terminated UTF-8 or NULL.
///
/// # Safety
/// `c` is a client handle; strings are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_supply_credentials_target(
    c: *mut RfbClient,
    username: *const c_char,
    password: *const c_char,
    target: *const c_char,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            let opt = |p: *const c_char, what| -> Result<Option<String>, Failure> {
                if p.is_null() {
                    Ok(None)
                } else {
                    // SAFETY: caller's contract.
                    crate::c_str(p, what).map(|s| Some(s.to_owned()))
                }
            };
            let creds = Credentials {
                username: opt(username, "username")?,
                password: opt(password, "password")?,
                target: opt(target, "target")?,
            };
            h.act(|cl| cl.supply_credentials(&creds))?;
            // Input held back while waiting for the credentials can go on now.
            h.feed(&[])
        })
    })
}

/// The SHA-256 fingerprint (lower-case hex, colon-separated) of the server certificate that
/// the last `RFB_STATUS_CERTIFICATE_REJECTED` on this handle rejected, or "" if none. Valid
/// until the next call on the handle. To trust it, create a new client with
/// `tls_fingerprint` set to this string and connect again.
///
/// # Safety
/// `c` is NULL or a handle from `rfb_client_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_rejected_fingerprint(c: *const RfbClient) -> *const c_char {
    // SAFETY: caller's contract.
    match unsafe { crate::client::peek(c) } {
        Some(h) => h.rejected_fingerprint.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// Accepts the identity of the last `RFB_EVENT_KIND_SERVER_VERIFICATION`: the handshake goes
/// on (feed input as before).
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_approve_server(c: *mut RfbClient) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            h.pending_certificate = None;
            h.act(Client::approve_server)?;
            // Input that arrived while waiting can go on now.
            h.feed(&[])
        })
    })
}

/// Refuses the identity of the last `RFB_EVENT_KIND_SERVER_VERIFICATION`: the connection
/// ends with `RFB_STATUS_CERTIFICATE_REJECTED` (also for an RSA key), which this returns; the
/// fingerprint is in `rfb_client_rejected_fingerprint`.
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_reject_server(c: *mut RfbClient) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            let pending = h.pending_certificate.take();
            match (h.act(Client::reject_server), pending) {
                // rfb-core ended the connection with its typed error (RA2 keys).
                (Err(e), _) if e.status != RfbStatus::Misuse => Err(e),
                // VeNCrypt in this rfb-core cannot reject a certificate itself (it answers
                // misuse and stays paused): librfb ends the connection with the same error a
                // rejected certificate gives elsewhere; nothing was sent inside TLS.
                (_, Some(fingerprint)) => {
                    let mut f = Failure::new(
                        RfbStatus::CertificateRejected,
                        format!(
                            "server certificate rejected (the application did not approve \
                             it); its SHA-256 fingerprint is {fingerprint}"
                        ),
                    );
                    f.fingerprint = Some(fingerprint);
                    h.failed = Some(f.clone());
                    Err(f)
                }
                (r, None) => r,
            }
        })
    })
}
