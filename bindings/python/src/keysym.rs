//! The keysym functions of rfb-keysym.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The X keysym that types `ch` (a one-character string): Latin-1 as itself, legacy keysyms
/// where X has one, else 0x01000000 + code point. 0 when the character has none.
#[pyfunction]
fn keysym_from_char(ch: &str) -> PyResult<u32> {
    let mut chars = ch.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(rfb_keysym::keysym_from_char(c)),
        _ => Err(PyValueError::new_err(format!(
            "keysym_from_char takes one character, got {ch:?}"
        ))),
    }
}

/// The character `keysym` types, or None (function keys, modifiers).
#[pyfunction]
fn char_from_keysym(keysym: u32) -> Option<char> {
    rfb_keysym::char_from_keysym(keysym)
}

/// The keysym named `name` as in keysymdef.h without `XK_` ("Return", "eacute"), or None.
#[pyfunction]
fn keysym_from_name(name: &str) -> Option<u32> {
    rfb_keysym::keysym_from_name(name)
}

/// The name of `keysym` ("Return"), or None.
#[pyfunction]
fn name_of_keysym(keysym: u32) -> Option<&'static str> {
    rfb_keysym::name_of_keysym(keysym)
}

/// The XT scancode of a DOM `code` ("KeyA" → 0x1e, "ArrowUp" → 0xe048), or None.
#[pyfunction]
fn xt_scancode(code: &str) -> Option<u16> {
    rfb_keysym::xt_scancode(code)
}

/// The keysym for a DOM KeyboardEvent (`key`, `code`, `location` 0-3), or None when the key
/// produces no single keysym (dead keys, IME composition, multi-character keys).
#[pyfunction]
#[pyo3(signature = (key, code = "", location = 0))]
fn keysym_from_dom(key: &str, code: &str, location: u32) -> Option<u32> {
    use rfb_keysym::dom::{Location, Resolved, resolve};
    match resolve(key, code, Location::from_dom(location)) {
        Ok(Resolved::Keysym(k)) => Some(k),
        _ => None,
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(keysym_from_char, m)?)?;
    m.add_function(wrap_pyfunction!(char_from_keysym, m)?)?;
    m.add_function(wrap_pyfunction!(keysym_from_name, m)?)?;
    m.add_function(wrap_pyfunction!(name_of_keysym, m)?)?;
    m.add_function(wrap_pyfunction!(xt_scancode, m)?)?;
    m.add_function(wrap_pyfunction!(keysym_from_dom, m)?)?;
    Ok(())
}
