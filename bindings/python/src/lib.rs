//! The `rfb` Python module: the sans-IO `Session` (rfb-core's client with its framebuffer),
//! immutable `Screenshot`s with a zero-copy buffer view, the stand-alone `Decoder`, the keysym
//! functions and the exception classes, in Rust; the blocking `Client` and the asyncio
//! `AsyncClient` are Python (`client.py`, embedded and run at import) over `Session`.

#![allow(unsafe_code)] // the buffer protocol is an unsafe C API; see `Screenshot::__getbuffer__`

mod decoder;
mod errors;
mod keysym;
mod screenshot;
mod security;
mod session;

use pyo3::prelude::*;
use pyo3::types::PyModule;

/// The Python part: blocking and asyncio clients driving `Session` over sockets.
const CLIENT_PY: &std::ffi::CStr = {
    match std::ffi::CStr::from_bytes_with_nul(concat!(include_str!("client.py"), "\0").as_bytes()) {
        Ok(s) => s,
        Err(_) => panic!("client.py contains a NUL byte"),
    }
};

/// Names the Python part defines and the module exports.
const CLIENT_EXPORTS: &[&str] = &[
    "Client",
    "AsyncClient",
    "connect",
    "connect_async",
    "parse_address",
];

/// Names of native items the Python part uses (looked up when its functions run).
const NATIVE_FOR_CLIENT: &[&str] = &[
    "Session",
    "Error",
    "ConnectError",
    "ClosedError",
    "WaitTimeout",
    "keysym_from_name",
    "keysym_from_char",
];

#[pymodule(name = "rfb")]
fn rfb_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    keysym::register(m)?;
    m.add_class::<session::Session>()?;
    m.add_class::<screenshot::Screenshot>()?;
    m.add_class::<session::LiveView>()?;
    m.add_class::<decoder::Decoder>()?;

    let py = m.py();
    let client = PyModule::from_code(py, CLIENT_PY, c"rfb/client.py", c"rfb._client")?;
    for name in NATIVE_FOR_CLIENT {
        client.setattr(*name, m.getattr(*name)?)?;
    }
    for name in CLIENT_EXPORTS {
        let item = client.getattr(*name)?;
        // Classes and functions defined in client.py report `rfb` as their module.
        if item.hasattr("__module__")? {
            let _ = item.setattr("__module__", "rfb");
        }
        m.add(*name, item)?;
    }
    m.add("_client", client)?;
    Ok(())
}
