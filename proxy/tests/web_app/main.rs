//! The app `web/dist/vnc.html` (web/app, copied by `cargo xtask dist`) in headless Chromium
//! through `rfb-proxy --web` to a real TigerVNC Xvnc: connecting (autoconnect and the connect
//! dialog), credentials, settings and their sources, reconnect, extra keys, the clipboard
//! panel, translations, and the error banners. Screenshots go to `target/web-artifacts/`.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

#[path = "../common/mod.rs"]
mod common;
mod connection;
mod security;
mod support;
mod ui;
