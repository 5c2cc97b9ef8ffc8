//! The HTTP/1.1 upgrade handshake, server and client side (RFC 6455 §4).
//!
//! Spec: <https://www.rfc-editor.org/rfc/rfc6455#section-4>

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha1::{Digest, Sha1};

/// The GUID every accept key is derived with (RFC 6455 §1.3).
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Limits on a request or response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Longest head (request line plus headers) accepted, in bytes.
    pub max_head: usize,
    /// Most header lines accepted.
    pub max_headers: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        // Browsers send well under 2 KiB; 16 KiB leaves room for big cookies.
        Self {
            max_head: 16 * 1024,
            max_headers: 64,
        }
    }
}

/// Why a handshake was refused. Each maps to the HTTP status a server should answer with
/// ([`HandshakeError::status`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head is not valid HTTP/1.x.
    #[error("malformed HTTP head: {0}")]
    Malformed(String),
    /// The head is longer than [`HeadLimits::max_head`] or has too many headers.
    #[error("HTTP head too large (limit {limit} bytes / headers)")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// Not a GET.
    #[error("method {0} not allowed for a WebSocket upgrade")]
    Method(String),
    /// HTTP/1.0 or older.
    #[error("a WebSocket upgrade needs HTTP/1.1")]
    HttpVersion,
    /// `Upgrade: websocket` or `Connection: Upgrade` missing.
    #[error("not a WebSocket upgrade: {0}")]
    NotUpgrade(&'static str),
    /// `Sec-WebSocket-Version` is not 13.
    #[error("unsupported Sec-WebSocket-Version {0:?} (13 is required)")]
    Version(String),
    /// `Sec-WebSocket-Key` missing or not 16 bytes of base64.
    #[error("bad Sec-WebSocket-Key: {0}")]
    Key(&'static str),
    /// The client offered subprotocols, none of which is acceptable.
    #[error("Invalid protocol selected: offered {0:?}, only 'binary' is supported")]
    Subprotocol(String),
    /// Client side: the server did not answer 101.
    #[error("server answered {status} {reason} instead of 101 Switching Protocols")]
    Status {
        /// Status code.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// Client side: `Sec-WebSocket-Accept` does not match the key sent.
    #[error("Sec-WebSocket-Accept does not match the key sent")]
    Accept,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with: 426 for a wrong version (with a
    /// `Sec-WebSocket-Version: 13` header), 405 for a wrong method, 431 for an oversized
    /// head, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::Method(_) => 405,
            Self::Version(_) => 426,
            Self::TooLarge { .. } => 431,
            _ => 400,
        }
    }
}

/// A parsed request head. Header names keep their case; look-ups ignore it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Request target, e.g. `/websockify?token=abc`.
    pub path: String,
    /// Minor HTTP version (1 for HTTP/1.1).
    pub minor_version: u8,
    /// Headers in order.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Request {
    /// The first header called `name` (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| core::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// True when the comma-separated header `name` contains `token` (case-insensitive).
    pub fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| core::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// True when this asks for a WebSocket upgrade at all (so a server can serve plain HTTP
    /// otherwise).
    pub fn is_upgrade(&self) -> bool {
        self.header_has_token("upgrade", "websocket")
    }
}

/// Parses a request head. `Ok(None)` means more bytes are needed; `Ok(Some((n, req)))`
/// means the head is the first `n` bytes.
pub fn parse_request(
    buf: &[u8],
    limits: &HeadLimits,
) -> Result<Option<(usize, Request)>, HandshakeError> {
    let mut storage = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut storage);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            if n > limits.max_head {
                return Err(HandshakeError::TooLarge {
                    limit: limits.max_head,
                });
            }
            Ok(Some((
                n,
                Request {
                    method: req.method.unwrap_or_default().to_string(),
                    path: req.path.unwrap_or_default().to_string(),
                    minor_version: req.version.unwrap_or(0),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| (h.name.to_string(), h.value.to_vec()))
                        .collect(),
                },
            )))
        }
        Ok(httparse::Status::Partial) if buf.len() > limits.max_head => {
            Err(HandshakeError::TooLarge {
                limit: limits.max_head,
            })
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HandshakeError::TooLarge {
            limit: limits.max_headers,
        }),
        Err(e) => Err(HandshakeError::Malformed(e.to_string())),
    }
}

/// What a valid upgrade request agreed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The `Sec-WebSocket-Accept` value to send.
    pub accept: String,
    /// The subprotocol chosen (`binary`), if the client offered any.
    pub protocol: Option<String>,
}

/// The `Sec-WebSocket-Accept` value for a key: base64(SHA-1(key + GUID)).
///
/// ```
/// // The example from RFC 6455 §1.3.
/// assert_eq!(rfb_ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    B64.encode(h.finalize())
}

/// Validates an upgrade request as websockify does: GET, HTTP/1.1, `Upgrade: websocket`,
/// `Connection: Upgrade`, version 13, a 16-byte key; subprotocol `binary` when offered
/// (tokens are trimmed, so `base64, binary` works, unlike websockify), none when none was
/// offered, an error when only others were offered.
pub fn validate_upgrade(req: &Request) -> Result<Accepted, HandshakeError> {
    if req.method != "GET" {
        return Err(HandshakeError::Method(req.method.clone()));
    }
    if req.minor_version < 1 {
        return Err(HandshakeError::HttpVersion);
    }
    if !req.is_upgrade() {
        return Err(HandshakeError::NotUpgrade("no `Upgrade: websocket` header"));
    }
    if !req.header_has_token("connection", "upgrade") {
        return Err(HandshakeError::NotUpgrade(
            "no `Connection: Upgrade` header",
        ));
    }
    match req.header("sec-websocket-version") {
        Some("13") => {}
        other => return Err(HandshakeError::Version(other.unwrap_or("").to_string())),
    }
    let key = req
        .header("sec-websocket-key")
        .ok_or(HandshakeError::Key("missing"))?;
    match B64.decode(key) {
        Ok(k) if k.len() == 16 => {}
        Ok(_) => return Err(HandshakeError::Key("does not decode to 16 bytes")),
        Err(_) => return Err(HandshakeError::Key("not base64")),
    }
    let protocol = match req.header("sec-websocket-protocol") {
        None => None,
        Some(offered) => {
            if offered.split(',').any(|p| p.trim() == "binary") {
                Some("binary".to_string())
            } else {
                return Err(HandshakeError::Subprotocol(offered.to_string()));
            }
        }
    };
    Ok(Accepted {
        accept: accept_key(key),
        protocol,
    })
}

/// The `101 Switching Protocols` response for an accepted upgrade.
pub fn accept_response(a: &Accepted) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        a.accept
    );
    if let Some(p) = &a.protocol {
        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// A plain error response with a short text body; `426` adds `Sec-WebSocket-Version: 13`.
pub fn error_response(status: u16, reason: &str, extra_headers: &[(&str, &str)]) -> Vec<u8> {
    // Reason phrases must not break the status line.
    let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
    let body = format!("{status} {reason}\n");
    let mut r = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status == 426 {
        r.push_str("Sec-WebSocket-Version: 13\r\n");
    }
    for (k, v) in extra_headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(&body);
    r.into_bytes()
}

/// Client side: a 16-byte nonce as the base64 key.
pub fn client_key(nonce: [u8; 16]) -> String {
    B64.encode(nonce)
}

/// Client side: the upgrade request for `path` on `host`, offering `protocols`.
pub fn client_request(host: &str, path: &str, key: &str, protocols: &[&str]) -> Vec<u8> {
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if !protocols.is_empty() {
        r.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            protocols.join(", ")
        ));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// Client side: checks the server's response head. `Ok(None)`: more bytes needed;
/// `Ok(Some((n, protocol)))`: accepted, the head was `n` bytes.
pub fn client_verify_response(
    buf: &[u8],
    key: &str,
    limits: &HeadLimits,
) -> Result<Option<(usize, Option<String>)>, HandshakeError> {
    let mut storage = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut resp = httparse::Response::new(&mut storage);
    let n = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > limits.max_head => {
            return Err(HandshakeError::TooLarge {
                limit: limits.max_head,
            });
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(HandshakeError::Malformed(e.to_string())),
    };
    let status = resp.code.unwrap_or(0);
    if status != 101 {
        return Err(HandshakeError::Status {
            status,
            reason: resp.reason.unwrap_or("").to_string(),
        });
    }
    let get = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| core::str::from_utf8(h.value).ok())
            .map(str::trim)
    };
    if get("sec-websocket-accept") != Some(accept_key(key).as_str()) {
        return Err(HandshakeError::Accept);
    }
    Ok(Some((n, get("sec-websocket-protocol").map(str::to_string))))
}
