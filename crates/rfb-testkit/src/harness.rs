//! A deterministic two-party harness: the `rfb-core` client against a scripted server, both in
//! memory, with a virtual clock. No sockets, no threads, no real time: a failing test replays
//! bit for bit.
//!
//! ```
//! use rfb_testkit::harness::{Pair, script};
//! let mut pair = Pair::new(Default::default(), script::handshake_none_38(4, 2, "desk"));
//! pair.drive().unwrap();
//! assert!(pair.client.is_connected());
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use rfb_core::{Client, Config, Error, Event};
use rfb_encodings::Framebuffer;

/// One step of a scripted server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send these bytes to the client.
    Send(Vec<u8>),
    /// The client must send exactly these bytes next.
    Expect(Vec<u8>),
    /// The client sends `n` bytes whose content the test does not pin (e.g. a DES response);
    /// they are kept in [`ScriptedServer::captured`].
    Capture(usize),
}

/// A server that follows a script: it sends when every earlier expectation has been met.
#[derive(Debug, Default)]
pub struct ScriptedServer {
    script: VecDeque<Step>,
    received: Vec<u8>,
    /// Bytes captured by [`Step::Capture`], in order.
    pub captured: Vec<Vec<u8>>,
}

impl ScriptedServer {
    /// A server that will play `script`.
    pub fn new(script: Vec<Step>) -> Self {
        Self {
            script: script.into(),
            ..Self::default()
        }
    }

    /// Appends steps (e.g. after the test reacted to an event).
    pub fn extend(&mut self, steps: Vec<Step>) {
        self.script.extend(steps);
    }

    /// True when every step has run.
    pub fn finished(&self) -> bool {
        self.script.is_empty()
    }

    /// Bytes received but not yet matched against an expectation.
    pub fn unmatched(&self) -> &[u8] {
        &self.received
    }

    /// Takes bytes from the client and checks them against the script.
    ///
    /// # Panics
    /// When the client sent something other than the script expects: that is the test failing.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.received.extend_from_slice(bytes);
        self.match_expectations();
    }

    fn match_expectations(&mut self) {
        loop {
            match self.script.front() {
                Some(Step::Expect(want)) if self.received.len() >= want.len() => {
                    let got: Vec<u8> = self.received.drain(..want.len()).collect();
                    assert_eq!(&got, want, "client sent unexpected bytes");
                    self.script.pop_front();
                }
                Some(Step::Capture(n)) if self.received.len() >= *n => {
                    let n = *n;
                    let got = self.received.drain(..n).collect();
                    self.captured.push(got);
                    self.script.pop_front();
                }
                _ => return,
            }
        }
    }

    /// Bytes the server sends now: all leading `Send` steps.
    pub fn transmit(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(Step::Send(b)) = self.script.front() {
            out.extend_from_slice(b);
            self.script.pop_front();
        }
        out
    }
}

/// The client core wired to a [`ScriptedServer`], with a framebuffer and a virtual clock.
pub struct Pair {
    /// The client under test.
    pub client: Client,
    /// The scripted peer.
    pub server: ScriptedServer,
    /// The driver-owned framebuffer.
    pub fb: Framebuffer,
    /// Virtual time since the epoch the client was created at.
    pub now: Duration,
    /// Every event drained so far.
    pub events: Vec<Event>,
    /// Bytes delivered to the client but not yet consumed (what a driver keeps).
    pub inbuf: Vec<u8>,
    pending: VecDeque<u8>,
    chunk: usize,
}

/// A deterministic RNG for tests (never use outside tests).
#[derive(Debug, Clone, Default)]
pub struct TestRng(u64);

impl TestRng {
    /// An RNG whose sequence is fixed by `seed` (so a failing seed replays exactly).
    pub const fn seeded(seed: u64) -> Self {
        Self(seed)
    }
}

impl rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        // splitmix64: deterministic, good enough to exercise code paths.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl Pair {
    /// A pair whose server plays `script`; bytes reach the client all at once.
    pub fn new(config: Config, script: Vec<Step>) -> Self {
        Self {
            client: Client::new(config, Duration::ZERO, Box::new(TestRng::default())),
            server: ScriptedServer::new(script),
            fb: Framebuffer::default(),
            now: Duration::ZERO,
            events: Vec::new(),
            inbuf: Vec::new(),
            pending: VecDeque::new(),
            chunk: usize::MAX,
        }
    }

    /// Delivers server bytes to the client at most `n` at a time (1 = byte by byte).
    pub fn chunked(mut self, n: usize) -> Self {
        self.chunk = n.max(1);
        self
    }

    /// Runs both sides until neither makes progress. Returns the client's error, if any.
    pub fn drive(&mut self) -> Result<(), Error> {
        // Each round moves at least one byte or ends; the bound only guards against a bug.
        for _ in 0..10_000_000 {
            self.pending.extend(self.server.transmit());
            let mut progressed = false;
            if let Some(out) = self.client.poll_transmit() {
                self.server.receive(&out);
                progressed = true;
            }
            self.events
                .extend(core::iter::from_fn(|| self.client.poll_event()));
            let n = self.chunk.min(self.pending.len());
            if n > 0 {
                self.inbuf.extend(self.pending.drain(..n));
                progressed = true;
            }
            if !self.inbuf.is_empty() || progressed {
                let r = self.client.handle_input(&self.inbuf, &mut self.fb);
                // Drain before propagating: the Disconnected event accompanies the error.
                self.events
                    .extend(core::iter::from_fn(|| self.client.poll_event()));
                let used = r?;
                self.inbuf.drain(..used);
                if let Some(out) = self.client.poll_transmit() {
                    self.server.receive(&out);
                    progressed = true;
                }
                progressed |= used > 0;
            }
            if !progressed && self.pending.is_empty() {
                return Ok(());
            }
        }
        panic!("harness did not settle");
    }

    /// Advances the virtual clock and tells the client.
    pub fn advance(&mut self, d: Duration) -> Result<(), Error> {
        self.now += d;
        let r = self.client.handle_timeout(self.now);
        self.events
            .extend(core::iter::from_fn(|| self.client.poll_event()));
        r
    }

    /// Removes and returns the events collected so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.events)
    }
}

/// Ready-made script fragments built from the spec's message layouts.
pub mod script {
    use super::Step::{self, *};
    use rfb_encodings::PixelFormat;

    /// ServerInit bytes for a `w` × `h` desktop in `pf` named `name`.
    pub fn server_init(w: u16, h: u16, pf: &PixelFormat, name: &str) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&pf.to_bytes());
        b.extend_from_slice(&(name.len() as u32).to_be_bytes());
        b.extend_from_slice(name.as_bytes());
        b
    }

    /// A rectangle header.
    pub fn rect(x: u16, y: u16, w: u16, h: u16, encoding: i32) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [x, y, w, h] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&encoding.to_be_bytes());
        b
    }

    /// A FramebufferUpdate header for `n` rectangles.
    pub fn fbu(n: u16) -> Vec<u8> {
        let mut b = vec![0, 0];
        b.extend_from_slice(&n.to_be_bytes());
        b
    }

    /// What the default client sends after ServerInit: SetPixelFormat(RGBX8888), its
    /// SetEncodings, and a full non-incremental update request.
    pub fn client_setup(w: u16, h: u16, encodings: &[rfb_encodings::Encoding]) -> Vec<Step> {
        let mut pf = vec![0, 0, 0, 0];
        pf.extend_from_slice(&PixelFormat::RGBX8888.to_bytes());
        let mut enc = vec![2, 0];
        enc.extend_from_slice(&(encodings.len() as u16).to_be_bytes());
        for e in encodings {
            enc.extend_from_slice(&e.to_i32().to_be_bytes());
        }
        let mut req = vec![3, 0, 0, 0, 0, 0];
        req.extend_from_slice(&w.to_be_bytes());
        req.extend_from_slice(&h.to_be_bytes());
        vec![Expect(pf), Expect(enc), Expect(req)]
    }

    /// A whole RFB 3.8 handshake with security None, ending after the client's setup messages.
    pub fn handshake_none_38(w: u16, h: u16, name: &str) -> Vec<Step> {
        let mut s = vec![
            Send(b"RFB 003.008\n".to_vec()),
            Expect(b"RFB 003.008\n".to_vec()),
            Send(vec![1, 1]),
            Expect(vec![1]),
            Send(vec![0, 0, 0, 0]),
            Expect(vec![1]),
            Send(server_init(w, h, &PixelFormat::RGBX8888, name)),
        ];
        s.extend(client_setup(w, h, &rfb_core::Config::default().encodings));
        s
    }
}
