//! Exception classes and the mapping from `rfb_core::Error`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(rfb, Error, PyException, "Base class of every rfb error.");
create_exception!(
    rfb,
    ConnectError,
    Error,
    "The TCP connection could not be made (refused, unreachable, name not found)."
);
create_exception!(
    rfb,
    RefusedError,
    Error,
    "The VNC server refused the connection during the handshake; the message has its reason."
);
create_exception!(
    rfb,
    AuthError,
    Error,
    "Authentication failed: wrong password, or none given where the server needs one."
);
create_exception!(
    rfb,
    ProtocolError,
    Error,
    "The server broke the protocol (or sent something no decoder accepts)."
);
create_exception!(
    rfb,
    UnsupportedError,
    Error,
    "The server chose something this library does not implement."
);
create_exception!(
    rfb,
    CertificateError,
    Error,
    "The server's TLS certificate was not trusted (not signed by the CA given, not the pinned \
     fingerprint, or nothing was given to trust it). `fingerprint` is its SHA-256: show it to \
     the user and connect again with fingerprint=... to trust it (trust on first use)."
);
create_exception!(
    rfb,
    TlsError,
    Error,
    "The TLS layer failed (handshake, an alert from the server, a record that does not decrypt)."
);
create_exception!(rfb, ClosedError, Error, "The connection is closed.");
create_exception!(
    rfb,
    WaitTimeout,
    Error,
    "The server did not answer within the timeout."
);
create_exception!(
    rfb,
    StateError,
    Error,
    "The call is not valid now (e.g. sending keys before the handshake finished)."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("ConnectError", py.get_type::<ConnectError>())?;
    m.add("RefusedError", py.get_type::<RefusedError>())?;
    m.add("AuthError", py.get_type::<AuthError>())?;
    m.add("ProtocolError", py.get_type::<ProtocolError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("ClosedError", py.get_type::<ClosedError>())?;
    m.add("CertificateError", py.get_type::<CertificateError>())?;
    m.add("TlsError", py.get_type::<TlsError>())?;
    m.add("WaitTimeout", py.get_type::<WaitTimeout>())?;
    m.add("StateError", py.get_type::<StateError>())?;
    Ok(())
}

/// The Python exception for a core error, with the core's message.
pub(crate) fn to_py(e: &rfb_core::Error) -> PyErr {
    use rfb_core::Error as E;
    let msg = e.to_string();
    match e {
        E::ConnectionRefused { .. } => RefusedError::new_err(msg),
        E::AuthFailed { .. } => AuthError::new_err(msg),
        E::Closed => ClosedError::new_err(msg),
        E::Timeout { .. } => WaitTimeout::new_err(msg),
        E::Unsupported(_) => UnsupportedError::new_err(msg),
        E::ApiMisuse(_) => StateError::new_err(msg),
        E::CertificateRejected { fingerprint, .. } | E::ServerKeyRejected { fingerprint, .. } => {
            let err = CertificateError::new_err(msg);
            // An attribute on the instance: what the caller pins on the next attempt.
            Python::attach(|py| {
                let _ = err.value(py).setattr("fingerprint", fingerprint.as_str());
            });
            err
        }
        E::Tls { .. } => TlsError::new_err(msg),
        _ => ProtocolError::new_err(msg),
    }
}
