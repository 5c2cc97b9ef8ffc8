//! The browser VNC client's WebAssembly half.
//!
//! Compiled only for `wasm32` (on other targets this crate is empty so the workspace builds).
//! `rfb.js` (in `web/js/`) loads the module once, instantiates it on the main thread for input
//! ([`Input`]: the keyboard, pointer and touch state machines, which must answer `keydown`
//! synchronously) and in a dedicated module worker for the protocol ([`Session`]: rfb-core and
//! the decoders, writing into the framebuffer that is the only truth for the picture). With
//! `worker: false` one instance does both on the main thread.
//!
//! The JS side reads pixels through a view over wasm memory at [`Session::fb_ptr`], rebuilt
//! whenever the memory grows; no `unsafe` is needed on this side.
//! The one part that is plain Rust, [`deferred`] (wire-order keeping while the browser
//! decodes images), is compiled on every target so its rules are unit-tested on the host.
#![forbid(unsafe_code)]

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod deferred;

#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(target_arch = "wasm32")]
pub use wasm::*;
