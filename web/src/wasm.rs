//! The wasm-bindgen surface: [`Session`] (protocol, in the worker), [`Input`] (main thread)
//! and small helpers `rfb.js` exposes as noVNC's statics.

mod convert;
mod input;
mod rng;
mod session;
mod tls;

pub use input::Input;
pub use session::Session;

use wasm_bindgen::prelude::*;

/// VNC Authentication's response to `challenge` for `password` (noVNC's `RFB.genDES`).
#[wasm_bindgen(js_name = genDES)]
pub fn gen_des(password: &str, challenge: &[u8]) -> Result<Vec<u8>, JsError> {
    let challenge: [u8; 16] = challenge
        .try_into()
        .map_err(|_| JsError::new("the VNC challenge is 16 bytes"))?;
    Ok(rfb_core::security::vnc_auth_response(&challenge, password).to_vec())
}

/// The keysym for one character (`rfb_keysym::keysym_from_char`).
#[wasm_bindgen(js_name = keysymFromChar)]
pub fn keysym_from_char(c: char) -> u32 {
    rfb_keysym::keysym_from_char(c)
}

/// The XT scancode of a DOM `code`, or -1.
#[wasm_bindgen(js_name = xtScancode)]
pub fn xt_scancode(code: &str) -> i32 {
    rfb_keysym::xt_scancode(code).map_or(-1, i32::from)
}
