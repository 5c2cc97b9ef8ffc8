//! Loopback load-generation pieces shared by `proxy-bench` and `proxy-soak`: a client that
//! speaks raw TCP or WebSocket (built on `rfb-ws`) and a cheap RNG for masking keys and
//! test data.
//!
//! The `try_` methods return errors (the soak expects failures); the others panic, which is
//! what a benchmark wants when its subject misbehaves.

use std::io;

use rfb_ws::{CloseCode, HeadLimits, Limits, Role, WsConnection, WsEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A client connection: raw TCP for the relay, WebSocket for the proxies.
pub struct Conn {
    /// The socket.
    pub s: TcpStream,
    /// The WebSocket state, `None` for raw TCP.
    pub ws: Option<WsConnection>,
    /// Received bytes not yet parsed.
    pub buf: Vec<u8>,
}

/// What [`Conn::try_recv_data`] got.
#[derive(Debug)]
pub enum Received {
    /// Payload bytes (one or more messages, concatenated).
    Data(Vec<u8>),
    /// A close frame, with its code.
    Closed(Option<CloseCode>),
    /// The TCP connection ended without a close frame.
    Eof,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// A WebSocket upgrade request for `path` with subprotocol `binary`, and its key.
pub fn upgrade_request(path: &str) -> (Vec<u8>, String) {
    let key = rfb_ws::client_key([3; 16]);
    let req = rfb_ws::client_request("127.0.0.1", path, &key, &["binary"]);
    (req, key)
}

impl Conn {
    /// Connects to 127.0.0.1:`port`; with `ws`, performs the WebSocket upgrade (path
    /// `/websockify`, subprotocol `binary`) first.
    pub async fn open(port: u16, ws: bool) -> Self {
        if !ws {
            let s = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            s.set_nodelay(true).ok();
            return Self {
                s,
                ws: None,
                buf: Vec::new(),
            };
        }
        Self::try_open_path(port, "/websockify")
            .await
            .expect("WebSocket upgrade")
    }

    /// Connects to 127.0.0.1:`port` and upgrades to WebSocket on `path`.
    pub async fn try_open_path(port: u16, path: &str) -> io::Result<Self> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.set_nodelay(true).ok();
        let (req, key) = upgrade_request(path);
        s.write_all(&req).await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some((n, _)) =
                rfb_ws::client_verify_response(&buf, &key, &HeadLimits::default()).map_err(other)?
            {
                buf.drain(..n);
                break;
            }
        }
        let ws = WsConnection::new(
            Role::Client,
            Limits {
                max_frame: u64::MAX,
                max_message: u64::MAX,
            },
            Some(Box::new(Xorshift(0x1234_5678))),
        );
        Ok(Self {
            s,
            ws: Some(ws),
            buf,
        })
    }

    /// Sends `data` (one binary message over WebSocket).
    pub async fn send(&mut self, data: &[u8]) {
        self.try_send(data).await.expect("send");
    }

    /// Sends `data` (one binary message over WebSocket), reporting failures.
    pub async fn try_send(&mut self, data: &[u8]) -> io::Result<()> {
        match self.ws.as_mut() {
            None => self.s.write_all(data).await,
            Some(ws) => {
                ws.send_binary(data);
                self.flush_ws().await
            }
        }
    }

    /// Sends a close frame with `code`.
    pub async fn try_close(&mut self, code: CloseCode) -> io::Result<()> {
        if let Some(ws) = self.ws.as_mut() {
            ws.send_close(code, "");
        }
        self.flush_ws().await
    }

    async fn flush_ws(&mut self) -> io::Result<()> {
        if let Some(ws) = self.ws.as_mut() {
            while let Some(b) = ws.poll_transmit() {
                self.s.write_all(&b).await?;
            }
        }
        Ok(())
    }

    /// Waits for the next payload bytes, a close frame or the end of the connection.
    pub async fn try_recv_data(&mut self, chunk: &mut [u8]) -> io::Result<Received> {
        let ws = self.ws.as_mut().ok_or_else(|| other("not a WebSocket"))?;
        loop {
            let n = ws.handle_input(&self.buf).map_err(other)?;
            self.buf.drain(..n);
            let mut data = Vec::new();
            while let Some(ev) = ws.poll_event() {
                match ev {
                    WsEvent::Data { data: d, .. } => data.extend_from_slice(&d),
                    WsEvent::Close { code, .. } if data.is_empty() => {
                        return Ok(Received::Closed(code));
                    }
                    _ => {}
                }
            }
            if !data.is_empty() {
                return Ok(Received::Data(data));
            }
            let n = self.s.read(chunk).await?;
            if n == 0 {
                return Ok(Received::Eof);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until at least `want` payload bytes arrived; returns how many.
    pub async fn recv(&mut self, want: u64, chunk: &mut [u8]) -> u64 {
        let mut got = 0u64;
        loop {
            if let Some(ws) = self.ws.as_mut() {
                let n = ws.handle_input(&self.buf).expect("ws");
                self.buf.drain(..n);
                while let Some(ev) = ws.poll_event() {
                    if let WsEvent::Data { data, .. } = ev {
                        got += data.len() as u64;
                    }
                }
            }
            if got >= want {
                return got;
            }
            let n = self.s.read(chunk).await.expect("recv");
            if n == 0 {
                return got;
            }
            if self.ws.is_some() {
                self.buf.extend_from_slice(&chunk[..n]);
            } else {
                got += n as u64;
            }
        }
    }
}

/// A xorshift64 generator: masking keys for the client side and reproducible test data (not
/// security-relevant). `fill_bytes` takes one step per byte, so a byte stream comes out the
/// same however it is cut into calls.
pub struct Xorshift(pub u64);

impl rand_core::RngCore for Xorshift {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        for b in d {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(d);
        Ok(())
    }
}
