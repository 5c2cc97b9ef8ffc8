//! A small blocking driver for `rfb-core` over a real TCP connection, shared by the extension
//! tests against real peers: they need the core's events (fences, layouts, continuous
//! updates), which the CLI does not print.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rfb_core::{Client, Config, Event};
use rfb_encodings::Framebuffer;
use rfb_testkit::harness::TestRng;

/// One connection and everything it produced.
pub(crate) struct Conn {
    pub(crate) stream: TcpStream,
    pub(crate) client: Client,
    pub(crate) fb: Framebuffer,
    inbuf: Vec<u8>,
    /// Every event so far, in order.
    pub(crate) events: Vec<Event>,
    /// Bytes written to the server so far.
    pub(crate) sent: Vec<u8>,
}

impl Conn {
    /// Connects to 127.0.0.1:`port` with `config` (security None).
    pub(crate) fn connect(port: u16, config: Config) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).ok();
        Self {
            stream,
            client: Client::new(config, Duration::ZERO, Box::new(TestRng::default())),
            fb: Framebuffer::default(),
            inbuf: Vec::new(),
            events: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// Writes what the client queued.
    pub(crate) fn flush(&mut self) {
        while let Some(b) = self.client.poll_transmit() {
            self.stream.write_all(&b).expect("write");
            self.sent.extend_from_slice(&b);
        }
    }

    /// Reads and processes until `done` holds for an event, or `limit` passes (a bound
    /// against hanging, not an assertion). Returns whether `done` held.
    pub(crate) fn until(&mut self, limit: Duration, mut done: impl FnMut(&Event) -> bool) -> bool {
        let end = Instant::now() + limit;
        let mut buf = vec![0u8; 256 * 1024];
        let mut from = self.events.len();
        loop {
            self.flush();
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            if self.events[from..].iter().any(&mut done) {
                return true;
            }
            from = self.events.len();
            let now = Instant::now();
            if now >= end {
                return false;
            }
            self.stream
                .set_read_timeout(Some((end - now).max(Duration::from_millis(1))))
                .ok();
            let n = match self.stream.read(&mut buf) {
                Ok(0) => panic!("server closed: {:?}", self.client.error()),
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => panic!("read: {e}"),
            };
            self.inbuf.extend_from_slice(&buf[..n]);
            let used = self
                .client
                .handle_input(&self.inbuf, &mut self.fb)
                .expect("protocol error");
            self.inbuf.drain(..used);
        }
    }

    /// FramebufferUpdateRequests sent so far (after sending what is queued).
    pub(crate) fn requests_sent(&mut self) -> usize {
        self.flush();
        count_requests(&self.sent)
    }

    /// Number of FramebufferUpdated events so far.
    pub(crate) fn updates(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::FramebufferUpdated { .. }))
            .count()
    }
}

/// Bytes a client sends before its first session message with RFB 3.8 and security None:
/// the version string, the security type and ClientInit.
pub(crate) const HANDSHAKE_LEN: usize = 12 + 1 + 1;

/// Counts FramebufferUpdateRequests in a client's byte stream (handshake included, security
/// None), walking the client message layouts of rfbproto.
pub(crate) fn count_requests(sent: &[u8]) -> usize {
    let mut i = HANDSHAKE_LEN;
    let mut n = 0;
    while let Some(&t) = sent.get(i) {
        let at = |k: usize| usize::from(*sent.get(i + k).unwrap_or(&0));
        let len = match t {
            0 => 20,
            2 => 4 + 4 * (at(2) << 8 | at(3)),
            3 => {
                n += 1;
                10
            }
            4 => 8,
            5 if at(1) & 0x80 != 0 => 7,
            5 => 6,
            6 => {
                // Extended Clipboard sends a negative length: its absolute value follows.
                let len = (at(4) << 24 | at(5) << 16 | at(6) << 8 | at(7)) as u32 as i32;
                8 + len.unsigned_abs() as usize
            }
            150 => 10,
            248 => 9 + at(8),
            250 => 4,
            251 => 8 + 16 * at(6),
            _ => panic!("unexpected client message type {t} at {i}"),
        };
        i += len;
    }
    n
}
