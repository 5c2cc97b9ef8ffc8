//! Sans-IO WebSocket (RFC 6455): the HTTP/1.1 upgrade handshake for servers and clients, and
//! a streaming frame codec with limits, masking, fragmentation, ping/pong, the close
//! handshake and UTF-8 validation.
//!
//! No sockets, no clocks, no threads: the driver (the `rfb-proxy` binary, a test client)
//! moves bytes in and out.
//!
//! ```text
//!  bytes ──► parse_request ──► validate_upgrade ──► accept_response ──► bytes
//!  bytes ──► WsConnection::handle_input ──► poll_event (Data chunks, Ping, Pong, Close)
//!            WsConnection::send_binary / send_close ──► poll_transmit ──► bytes
//!            WsConnection::send_binary_in_place (framed where the payload lies) ──► bytes
//! ```
//!
//! Spec: <https://www.rfc-editor.org/rfc/rfc6455>
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod close;
mod conn;
mod frame;
mod handshake;

pub use close::CloseCode;
pub use conn::{Limits, Role, WsConnection, WsError, WsErrorKind, WsEvent};
pub use frame::{FrameHeader, MAX_HEADER, Opcode, apply_mask, write_header};
pub use handshake::{
    Accepted, HandshakeError, HeadLimits, Request, accept_key, accept_response, client_key,
    client_request, client_verify_response, error_response, parse_request, validate_upgrade,
};
