//! Status codes, the thread-local last error and the panic guard.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Result of every fallible librfb call. `RFB_STATUS_OK` is 0; failures are small
/// positive numbers so a C caller can test `if (status != RFB_STATUS_OK)`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RfbStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A handle argument is not a live handle of the expected kind.
    InvalidHandle = 2,
    /// An argument is out of range or not valid UTF-8.
    InvalidArgument = 3,
    /// The caller's buffer is too small; nothing was written.
    BufferTooSmall = 4,
    /// The server sent something that breaks the protocol (or a decoder rejected it).
    Protocol = 5,
    /// The server refused the connection before authentication (its reason is the message).
    Refused = 6,
    /// Authentication failed (wrong password, or no password supplied when one is needed).
    AuthFailed = 7,
    /// The server closed the connection.
    Closed = 8,
    /// The handshake deadline passed.
    Timeout = 9,
    /// The server chose something this library does not implement.
    Unsupported = 10,
    /// The server asked for more than the configured limits allow.
    LimitExceeded = 11,
    /// The call is not valid in the current state (e.g. sending keys before `CONNECTED`);
    /// the connection is still usable.
    Misuse = 12,
    /// An internal error (a caught Rust panic). The handle must not be used again except for
    /// `*_error_message` and `*_free`.
    Panic = 13,
    /// The server's TLS certificate (or RA2 RSA key) was not trusted: not signed by the
    /// configured CA, not the pinned fingerprint, no trust was configured, or the caller
    /// rejected it. `rfb_client_rejected_fingerprint` has
    /// its SHA-256 fingerprint: show it to the user and reconnect with `tls_fingerprint` set
    /// to it to trust this certificate (trust on first use).
    CertificateRejected = 14,
    /// The TLS layer failed (handshake, an alert from the server, a record that does not
    /// decrypt).
    Tls = 15,
}

/// A failure: the status and its message.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) status: RfbStatus,
    pub(crate) message: String,
    /// The rejected certificate's SHA-256 fingerprint (`CertificateRejected` only).
    pub(crate) fingerprint: Option<String>,
}

impl Failure {
    pub(crate) fn new(status: RfbStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            fingerprint: None,
        }
    }
}

impl From<rfb_core::Error> for Failure {
    fn from(e: rfb_core::Error) -> Self {
        use rfb_core::Error as E;
        let status = match &e {
            E::ConnectionRefused { .. } => RfbStatus::Refused,
            E::AuthFailed { .. } => RfbStatus::AuthFailed,
            E::Closed => RfbStatus::Closed,
            E::Timeout { .. } => RfbStatus::Timeout,
            E::Unsupported(_) => RfbStatus::Unsupported,
            E::LimitExceeded { .. } => RfbStatus::LimitExceeded,
            E::ApiMisuse(_) => RfbStatus::Misuse,
            E::CertificateRejected { .. } | E::ServerKeyRejected { .. } => {
                RfbStatus::CertificateRejected
            }
            E::Tls { .. } => RfbStatus::Tls,
            _ => RfbStatus::Protocol,
        };
        let mut f = Self::new(status, e.to_string());
        if let E::CertificateRejected { fingerprint, .. }
        | E::ServerKeyRejected { fingerprint, .. } = &e
        {
            f.fingerprint = Some(fingerprint.clone());
        }
        f
    }
}

/// Turns a message into a C string, replacing interior NULs so nothing is lost silently.
pub(crate) fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_last_error(message: &str) {
    LAST_ERROR.with(|e| *e.borrow_mut() = to_cstring(message));
}

/// The message of the last failure on this thread (also set by failures that have a handle),
/// or "" if none. Valid until the next librfb call on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn rfb_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("internal error (please report): {text}")
}

/// Runs `f`, catching any panic so that it never unwinds into C. `record` stores the
/// failure's message (in the handle, when there is one); the thread-local copy is always set.
pub(crate) fn guard<T>(
    record: impl FnOnce(&Failure),
    f: impl FnOnce() -> Result<T, Failure>,
) -> Result<T, Failure> {
    let result = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Failure::new(RfbStatus::Panic, panic_message(&*payload))),
    };
    if let Err(failure) = &result {
        set_last_error(&failure.message);
        // The recorder touches handle memory; a panic there must not escape either.
        let _ = catch_unwind(AssertUnwindSafe(|| record(failure)));
    }
    result
}

/// `guard` for calls that only report a status.
pub(crate) fn status(r: Result<(), Failure>) -> RfbStatus {
    match r {
        Ok(()) => RfbStatus::Ok,
        Err(f) => f.status,
    }
}

/// Provokes an internal error (a Rust panic) inside the library and returns what any call
/// returns then: `RFB_STATUS_PANIC`, with the message in `rfb_last_error_message()`. Exists
/// so that tests (and cautious integrators) can check that panics never cross into C.
#[unsafe(no_mangle)]
pub extern "C" fn rfb_selftest_internal_error() -> RfbStatus {
    status(guard(
        |_| {},
        || -> Result<(), Failure> {
            let v: Vec<u8> = Vec::new();
            // An out-of-bounds index: a genuine panic from the standard library.
            let i = v.len() + usize::from(std::hint::black_box(3u8));
            let _ = v[i];
            Ok(())
        },
    ))
}
