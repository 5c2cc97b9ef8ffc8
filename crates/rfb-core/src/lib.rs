//! A sans-IO RFB (VNC) client: bytes in, bytes and events out.
//!
//! `rfb-core` implements the client side of the Remote Framebuffer protocol as a state machine
//! that never touches a socket, a clock, a thread or the DOM. A driver (the `rfb` CLI on tokio,
//! the wasm client in a browser worker, the C and Python bindings) moves bytes and time in and
//! out:
//!
//! ```text
//!  socket ──bytes──► Client::handle_input(&buf, &mut framebuffer) ──► consumed count
//!                        │            │
//!                        │            └─► rfb-encodings decoders ──► DrawTarget (driver-owned)
//!                        ├─► poll_transmit() ──bytes──► socket
//!                        └─► poll_event()    ──► Connected, FramebufferUpdated, Cursor, Bell …
//!  clock ──Duration──► handle_timeout(now);  poll_timeout() ──► next deadline
//! ```
//!
//! Every mutation (`handle_input`, `handle_timeout`, `supply_credentials`, `send_*`) must be
//! followed by draining `poll_transmit` and `poll_event` completely.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst>
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
pub mod clipboard;
mod config;
mod error;
mod event;
mod extensions;
pub mod extras;
pub mod fence;
pub mod handover;
mod handshake;
mod limits;
pub mod messages;
pub mod qemu;
pub mod record;
pub mod screen;
pub mod security;
mod session;
pub mod version;

pub use client::Client;
pub use config::{Config, PixelFormatChoice};
pub use error::Error;
pub use event::{Event, ServerInfo};
pub use extras::{XvpAction, XvpMessage};
pub use fence::FenceFlags;
pub use limits::Limits;
pub use qemu::{AudioEvent, AudioFormat, KeySent, LedSource, LedState, SampleFormat};
pub use rfb_encodings;
pub use screen::{LayoutChange, ResizeReason, ResizeStatus, Screen};
pub use security::{Credentials, CredentialsNeeded, SecurityType};
pub use version::Version;
