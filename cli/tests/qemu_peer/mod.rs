//! Shared pieces of the QEMU-extension tests against real peers: a small blocking driver for
//! `rfb-core` (the tests need the core's events, which the CLI does not all print) and the
//! boot sector that makes QEMU's guest beep and keep its keyboard LEDs up to date.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rfb_core::{Client, Config, Event};
use rfb_encodings::Framebuffer;
use rfb_testkit::harness::TestRng;

/// One connection and every event it produced.
pub(crate) struct Conn {
    stream: TcpStream,
    pub(crate) client: Client,
    fb: Framebuffer,
    inbuf: Vec<u8>,
    /// Every event so far, in order.
    pub(crate) events: Vec<Event>,
}

impl Conn {
    /// Connects to `addr` with the default configuration (security None).
    pub(crate) fn connect(addr: &str) -> Self {
        Self::connect_with(addr, Config::default())
    }

    /// Connects to `addr` with `config` (security None).
    pub(crate) fn connect_with(addr: &str, config: Config) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).ok();
        Self {
            stream,
            client: Client::new(config, Duration::ZERO, Box::new(TestRng::default())),
            fb: Framebuffer::default(),
            inbuf: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Writes what the client queued.
    pub(crate) fn flush(&mut self) {
        while let Some(b) = self.client.poll_transmit() {
            self.stream.write_all(&b).expect("write");
        }
    }

    /// Reads and processes until `done` holds for the events so far, or `limit` passes (a
    /// bound against hanging, not a timed assertion). Returns whether `done` held.
    pub(crate) fn until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&[Event]) -> bool,
    ) -> bool {
        let end = Instant::now() + limit;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            self.flush();
            self.events
                .extend(std::iter::from_fn(|| self.client.poll_event()));
            if done(&self.events) {
                return true;
            }
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
}

pub(crate) use rfb_testkit::qemu::beep_mbr;

#[test]
fn mbr_layout() {
    let m = beep_mbr();
    assert_eq!(m.len(), 512);
    assert_eq!(&m[510..], [0x55, 0xaa]);
    // The jump lands on `mov ah, 1`, 13 bytes back from its end.
    let jmp = m.iter().position(|&b| b == 0xeb).unwrap();
    assert_eq!(m[jmp + 2 - 13..jmp + 2 - 11], [0xb4, 0x01]);
}
