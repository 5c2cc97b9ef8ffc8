//! The client state machine: public API, byte plumbing and the optional transform.

use std::collections::VecDeque;
use std::sync::Arc;

use core::time::Duration;

use rand_core::RngCore;
use rfb_encodings::{DecodeStats, Decoders, DrawTarget, Encoding, PixelFormat, Rect};

use crate::config::{Config, PixelFormatChoice};
use crate::error::Error;
use crate::event::{Event, ServerInfo};
use crate::messages::client as msg;
use crate::security::{
    Credentials, SecurityContext, SecurityFactory, SecurityHandler, SecurityStep, SecurityType,
    Transform,
};
use crate::version::Version;

/// Where the protocol is. Handshake states come first, then the session.
pub(crate) enum State {
    Version,
    SecurityTypes,
    SecurityType33,
    FailureReason {
        after_result: bool,
    },
    Security(Box<dyn SecurityHandler>),
    SecurityResult,
    ServerInit,
    /// Security is over and the client was asked to stop there ([`Client::stop_after_security`]).
    Authenticated,
    Session(crate::session::Session),
    Failed,
}

/// A sans-IO RFB client: feed it the server's bytes, send what it queues, act on its events.
///
/// The driver owns the socket, the clock, the randomness and the framebuffer. After every call
/// that can change state (`handle_input`, `handle_timeout`, `supply_credentials`, any `send_*`),
/// drain [`Client::poll_transmit`] and [`Client::poll_event`] completely.
///
/// ```
/// use core::time::Duration;
/// use rfb_core::{Client, Config, Event};
/// use rfb_encodings::Framebuffer;
/// # struct Rng; // drivers pass a real CSPRNG, e.g. rand_core::OsRng
/// # impl rand_core::RngCore for Rng {
/// #     fn next_u32(&mut self) -> u32 { 4 }
/// #     fn next_u64(&mut self) -> u64 { 4 }
/// #     fn fill_bytes(&mut self, d: &mut [u8]) { d.fill(4) }
/// #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> { d.fill(4); Ok(()) }
/// # }
/// let mut client = Client::new(Config::default(), Duration::ZERO, Box::new(Rng));
/// let mut fb = Framebuffer::default();
/// let mut inbuf: Vec<u8> = b"RFB 003.008\n".to_vec(); // bytes read from the socket
/// let used = client.handle_input(&inbuf, &mut fb).unwrap();
/// inbuf.drain(..used);
/// assert_eq!(client.poll_transmit().unwrap(), b"RFB 003.008\n"); // write this to the socket
/// assert!(matches!(client.poll_event(), Some(Event::ProtocolVersion { .. })));
/// assert_eq!(client.bytes_needed(), 1); // the security type count comes next
/// ```
pub struct Client {
    pub(crate) config: Config,
    pub(crate) state: State,
    pub(crate) version: Option<Version>,
    pub(crate) server_version: String,
    pub(crate) offered: Vec<SecurityType>,
    pub(crate) chosen: Option<SecurityType>,
    factories: Vec<Arc<dyn SecurityFactory>>,
    pub(crate) decoders: Decoders,
    pub(crate) width: u16,
    pub(crate) height: u16,
    pub(crate) info: Option<ServerInfo>,
    pub(crate) wire_out: Vec<u8>,
    pub(crate) events: VecDeque<Event>,
    rng: Box<dyn RngCore + Send>,
    pub(crate) transform: Option<Box<dyn Transform>>,
    pub(crate) plain_in: Vec<u8>,
    pub(crate) needed: usize,
    pub(crate) error: Option<Error>,
    /// Stop after security instead of sending ClientInit (see crate::handover).
    pub(crate) stop_after_security: bool,
    deadline: Option<Duration>,
    pub(crate) ext: crate::extensions::ExtState,
    pub(crate) clipboard: crate::clipboard::ClipboardState,
    pub(crate) qemu: crate::qemu::QemuState,
}

impl core::fmt::Debug for Client {
    // Summarises: the RNG, handlers and transform have no useful Debug form.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase_name())
            .field("version", &self.version)
            .field("security", &self.chosen)
            .field("size", &(self.width, self.height))
            .field("needed", &self.needed)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// One step of the protocol: `Some(n)` made progress using `n` bytes (possibly 0 when only the
/// state changed); `None` is blocked until more bytes (or credentials) arrive.
pub(crate) type Step = Result<Option<usize>, Error>;

impl Client {
    /// A client at the start of the handshake. `now` is the driver's clock (any epoch), used
    /// for the handshake timeout; `rng` supplies randomness to security types that need it.
    pub fn new(config: Config, now: Duration, rng: Box<dyn RngCore + Send>) -> Self {
        let format = match config.pixel_format {
            PixelFormatChoice::Request(pf) => pf,
            PixelFormatChoice::Native => PixelFormat::RGBX8888,
        };
        // An invalid requested format is reported when the session starts, so the
        // constructor stays infallible; RGBX8888 stands in until then.
        let decoders = Decoders::new(format, config.limits.decoder)
            .or_else(|_| Decoders::new(PixelFormat::RGBX8888, config.limits.decoder))
            .expect("RGBX8888 is a valid pixel format");
        let deadline = config.handshake_timeout.map(|t| now.saturating_add(t));
        Self {
            config,
            state: State::Version,
            version: None,
            server_version: String::new(),
            offered: Vec::new(),
            chosen: None,
            factories: Vec::new(),
            decoders,
            width: 0,
            height: 0,
            info: None,
            wire_out: Vec::new(),
            events: VecDeque::new(),
            rng,
            transform: None,
            plain_in: Vec::new(),
            needed: crate::version::VERSION_LEN,
            error: None,
            stop_after_security: false,
            deadline,
            ext: Default::default(),
            clipboard: Default::default(),
            qemu: Default::default(),
        }
    }

    /// Adds (or replaces) the handler factory for a security type, e.g. VeNCrypt from
    /// `rfb-tls`. The type must also be listed in [`Config::security_types`] to be chosen.
    pub fn register_security(&mut self, factory: Arc<dyn SecurityFactory>) {
        self.factories
            .retain(|f| f.security_type() != factory.security_type());
        self.factories.push(factory);
    }

    pub(crate) fn handler_for(&self, t: SecurityType) -> Option<Box<dyn SecurityHandler>> {
        self.factories
            .iter()
            .find(|f| f.security_type() == t)
            .map(|f| f.create())
            .or_else(|| crate::security::builtin(t))
    }

    /// Feeds bytes received from the server and returns how many were consumed. Keep the
    /// rest and pass it again, with more bytes appended, on the next call: the client never
    /// buffers unparsed input itself (except plaintext behind a transform), and
    /// [`Client::bytes_needed`] says how many bytes the next step needs.
    pub fn handle_input(
        &mut self,
        input: &[u8],
        target: &mut dyn DrawTarget,
    ) -> Result<usize, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut pos = 0;
        loop {
            if self.transform.is_some() {
                return self
                    .handle_transformed(&input[pos..], target)
                    .map(|n| pos + n);
            }
            match self.process(&input[pos..], target) {
                Ok(n) => pos += n,
                Err(e) => return Err(self.fail(e)),
            }
            // A security type may have installed a transform part-way through the input;
            // the rest of it is ciphertext.
            if self.transform.is_none() || pos == input.len() {
                return Ok(pos);
            }
        }
    }

    fn handle_transformed(
        &mut self,
        input: &[u8],
        target: &mut dyn DrawTarget,
    ) -> Result<usize, Error> {
        let Some(t) = self.transform.as_mut() else {
            return Ok(0);
        };
        if let Err(e) = t.decrypt(input, &mut self.plain_in, &mut self.wire_out) {
            return Err(self.fail(e));
        }
        let plain = core::mem::take(&mut self.plain_in);
        let r = self.process(&plain, target);
        let n = match r {
            Ok(n) => n,
            Err(e) => return Err(self.fail(e)),
        };
        self.plain_in = plain;
        self.plain_in.drain(..n);
        Ok(input.len())
    }

    /// Runs protocol steps until blocked; returns bytes used.
    fn process(&mut self, input: &[u8], target: &mut dyn DrawTarget) -> Result<usize, Error> {
        let mut pos = 0;
        let had_transform = self.transform.is_some();
        // Each step either consumes bytes or changes state toward a blocking state, so the
        // loop ends; the bound is a guard against a logic error turning into a hang.
        for _ in 0..(input.len() + 64) * 4 {
            let step = match self.state {
                State::Session(_) => self.session_step(&input[pos..], target),
                State::Failed => return Ok(pos),
                _ => self.handshake_step(&input[pos..], target),
            };
            match step? {
                Some(n) => pos += n,
                None => return Ok(pos),
            }
            // A transform installed by this step means the rest of `input` is ciphertext.
            if !had_transform && self.transform.is_some() {
                return Ok(pos);
            }
        }
        Ok(pos)
    }

    /// Records a fatal error: later calls return it again and no input is accepted.
    pub(crate) fn fail(&mut self, e: Error) -> Error {
        if !e.is_fatal() {
            return e;
        }
        self.decoders.reset();
        self.state = State::Failed;
        self.events.push_back(Event::Disconnected {
            reason: e.to_string(),
        });
        self.error = Some(e.clone());
        e
    }

    /// Queues bytes for the server, through the transform when one is installed.
    pub(crate) fn queue(&mut self, bytes: &[u8]) {
        match self.transform.as_mut() {
            Some(t) => {
                if let Err(e) = t.encrypt(bytes, &mut self.wire_out) {
                    self.fail(e);
                }
            }
            None => self.wire_out.extend_from_slice(bytes),
        }
    }

    /// Runs a security handler step function with a context borrowed from `self`.
    pub(crate) fn with_security<F>(&mut self, mut handler: Box<dyn SecurityHandler>, f: F) -> Step
    where
        F: FnOnce(
            &mut dyn SecurityHandler,
            &mut SecurityContext<'_>,
        ) -> Result<SecurityStep, Error>,
    {
        let mut out = Vec::new();
        let step = {
            let mut cx = SecurityContext {
                to_server: &mut out,
                events: &mut self.events,
                rng: &mut *self.rng,
                version: self.version.unwrap_or(Version::V3_8),
            };
            f(handler.as_mut(), &mut cx)
        };
        // Security bytes predate any transform the step installs, so they go out in clear;
        // bytes of a handler running inside a transform it installed earlier go through it.
        if self.transform.is_some() {
            self.queue(&out);
        } else {
            self.wire_out.extend_from_slice(&out);
        }
        let step = match step {
            Ok(s) => s,
            // Misuse (credentials or an approval nobody asked for) leaves the handler waiting.
            Err(e) if !e.is_fatal() => {
                self.state = State::Security(handler);
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        match step {
            SecurityStep::Wrap {
                consumed,
                transform,
                needed,
            } => {
                self.transform = Some(transform);
                self.needed = needed;
                self.state = State::Security(handler);
                Ok(Some(consumed))
            }
            SecurityStep::NeedMore { consumed, needed } => {
                self.needed = needed;
                self.state = State::Security(handler);
                Ok((consumed > 0).then_some(consumed))
            }
            SecurityStep::Done {
                consumed,
                transform,
                expect_result,
            } => {
                if transform.is_some() {
                    self.transform = transform;
                }
                if expect_result {
                    self.state = State::SecurityResult;
                    self.needed = 4;
                } else {
                    self.begin_init();
                }
                Ok(Some(consumed))
            }
        }
    }

    /// Supplies the credentials asked for by [`Event::CredentialsRequired`]. Afterwards call
    /// [`Client::handle_input`] again with any bytes you still hold.
    pub fn supply_credentials(&mut self, credentials: &Credentials) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let state = core::mem::replace(&mut self.state, State::Failed);
        let State::Security(handler) = state else {
            self.state = state;
            return Err(Error::ApiMisuse(
                "no security type is waiting for credentials",
            ));
        };
        match self.with_security(handler, |h, cx| h.supply_credentials(credentials, cx)) {
            Ok(_) => Ok(()),
            Err(e) if !e.is_fatal() => Err(e),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Accepts the identity announced by [`Event::ServerVerification`]: authentication goes
    /// on. Afterwards call [`Client::handle_input`] again (with an empty slice if you hold
    /// nothing): plaintext the server sent meanwhile is waiting inside the client.
    pub fn approve_server(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let state = core::mem::replace(&mut self.state, State::Failed);
        let State::Security(handler) = state else {
            self.state = state;
            return Err(Error::ApiMisuse(
                "no server identity is waiting for approval",
            ));
        };
        match self.with_security(handler, |h, cx| h.approve_server(cx)) {
            Ok(_) => Ok(()),
            Err(e) if !e.is_fatal() => Err(e),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Refuses the identity announced by [`Event::ServerVerification`]. The connection fails
    /// with the security type's typed error, returned here (for an RSA key,
    /// [`Error::ServerKeyRejected`] with its fingerprint); nothing more is sent.
    pub fn reject_server(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let State::Security(handler) = &mut self.state else {
            return Err(Error::ApiMisuse(
                "no server identity is waiting for approval",
            ));
        };
        let e = handler.reject_server();
        Err(self.fail(e))
    }

    /// Tells the client the server closed the connection, with `unconsumed` bytes still held
    /// by the driver. A close between messages ends the session cleanly; a close in the
    /// handshake or in the middle of a message is an error naming where it happened, except
    /// after a failed SecurityResult, which is [`Error::AuthFailed`] with or without the
    /// reason.
    pub fn handle_eof(&mut self, unconsumed: usize) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let idle = matches!(self.state, State::Session(crate::session::Session::Idle));
        if idle && unconsumed == 0 && self.plain_in.is_empty() {
            self.state = State::Failed;
            let e = Error::Closed;
            self.error = Some(e.clone());
            self.events.push_back(Event::Disconnected {
                reason: e.to_string(),
            });
            return Ok(());
        }
        if matches!(self.state, State::FailureReason { after_result: true }) {
            // SecurityResult already said "failed": that is the answer, whatever became of
            // the reason. x11vnc over TLS closes right after it, and the reason may be lost.
            return Err(self.fail(Error::AuthFailed {
                reason: "the server rejected the credentials and closed the connection before \
                         its reason arrived"
                    .into(),
            }));
        }
        let phase = match &self.state {
            State::Session(s) => s.message_name(),
            _ => self.phase_name(),
        };
        Err(self.fail(Error::PeerMisbehaved {
            message: phase,
            detail: "the server closed the connection in the middle of this message".into(),
        }))
    }

    /// Tells the client the driver's clock reads `now`; fails the connection if the handshake
    /// deadline has passed.
    pub fn handle_timeout(&mut self, now: Duration) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.deadline {
            Some(d) if now >= d && !self.is_connected() => Err(self.fail(Error::Timeout {
                phase: self.phase_name(),
            })),
            _ => Ok(()),
        }
    }

    /// The next time [`Client::handle_timeout`] should be called, if any.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.is_connected() || self.error.is_some() {
            None
        } else {
            self.deadline
        }
    }

    /// Takes all bytes queued for the server.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.wire_out.is_empty()).then(|| core::mem::take(&mut self.wire_out))
    }

    /// Takes the next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The fewest bytes the next step needs (0 while waiting for credentials or when idle
    /// after a failure). A driver may use it to size reads; it never needs to buffer more
    /// than this beyond what `handle_input` left unconsumed.
    pub fn bytes_needed(&self) -> usize {
        if self.error.is_some() { 0 } else { self.needed }
    }

    /// True once ServerInit has been processed and until a fatal error.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Session(_))
    }

    /// The fatal error that ended the connection, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// What the server said during the handshake (after [`Event::Connected`]).
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.info.as_ref()
    }

    /// Current framebuffer size.
    pub fn framebuffer_size(&self) -> (u16, u16) {
        (self.width, self.height)
    }

    /// Counters of rectangles and sub-encodings decoded.
    pub fn decode_stats(&self) -> &DecodeStats {
        self.decoders.stats()
    }

    /// Benchmarks only: keep (or stop keeping) the compressed input of the zlib-based
    /// encodings; see [`Decoders::capture_compressed`].
    pub fn capture_compressed(&mut self, on: bool) {
        self.decoders.capture_compressed(on);
    }

    /// Benchmarks only: the compressed input captured so far, one zlib stream segment each;
    /// see [`Decoders::take_compressed`].
    pub fn take_compressed(&mut self) -> Vec<Vec<u8>> {
        self.decoders.take_compressed()
    }

    pub(crate) fn require_session(&self) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.is_connected() {
            Ok(())
        } else {
            Err(Error::ApiMisuse(
                "the session has not started (wait for Event::Connected)",
            ))
        }
    }

    /// Sends a KeyEvent for an X keysym.
    pub fn send_key(&mut self, keysym: u32, down: bool) -> Result<(), Error> {
        self.require_session()?;
        let mut b = Vec::with_capacity(8);
        msg::key_event(&mut b, keysym, down);
        self.queue(&b);
        Ok(())
    }

    /// Sends a PointerEvent (bit 0 of `button_mask` is button 1). Coordinates are clamped to
    /// the framebuffer, as servers expect.
    pub fn send_pointer(&mut self, button_mask: u8, x: u16, y: u16) -> Result<(), Error> {
        self.require_session()?;
        let x = x.min(self.width.saturating_sub(1));
        let y = y.min(self.height.saturating_sub(1));
        let mut b = Vec::with_capacity(6);
        msg::pointer_event(&mut b, button_mask, x, y);
        self.queue(&b);
        Ok(())
    }

    /// Requests an update of `rect` (clipped to the framebuffer).
    pub fn request_update(&mut self, incremental: bool, rect: Rect) -> Result<(), Error> {
        self.require_session()?;
        let x = rect.x.min(self.width);
        let y = rect.y.min(self.height);
        let r = Rect::new(
            x,
            y,
            rect.width.min(self.width - x),
            rect.height.min(self.height - y),
        );
        let mut b = Vec::with_capacity(10);
        msg::framebuffer_update_request(&mut b, incremental, r);
        self.queue(&b);
        Ok(())
    }

    /// Requests an update of the whole framebuffer.
    pub fn request_full_update(&mut self, incremental: bool) -> Result<(), Error> {
        let r = Rect::new(0, 0, self.width, self.height);
        self.request_update(incremental, r)
    }

    /// Replaces the encodings offered (takes effect for updates the server sends afterwards).
    pub fn set_encodings(&mut self, encodings: Vec<Encoding>) -> Result<(), Error> {
        self.require_session()?;
        let mut b = Vec::new();
        msg::set_encodings(&mut b, &encodings);
        self.queue(&b);
        self.decoders
            .set_quality_level(crate::config::quality_of(&encodings));
        self.config.encodings = encodings;
        Ok(())
    }

    /// Sets or clears the Quality level pseudo-encoding (0–9; higher is better). Tight servers
    /// send lossy JPEG only when a quality level is offered. Re-sends SetEncodings when the
    /// session is running; before that, the level is offered at connect time.
    pub fn set_quality_level(&mut self, level: Option<u8>) -> Result<(), Error> {
        self.set_level(
            level,
            |e| matches!(e, Encoding::QualityLevel(_)),
            Encoding::QualityLevel,
        )
    }

    /// Sets or clears the Compression level pseudo-encoding (0–9; higher compresses more).
    pub fn set_compress_level(&mut self, level: Option<u8>) -> Result<(), Error> {
        self.set_level(
            level,
            |e| matches!(e, Encoding::CompressLevel(_)),
            Encoding::CompressLevel,
        )
    }

    fn set_level(
        &mut self,
        level: Option<u8>,
        is_kind: fn(&Encoding) -> bool,
        make: fn(u8) -> Encoding,
    ) -> Result<(), Error> {
        if level.is_some_and(|l| l > 9) {
            return Err(Error::ApiMisuse(
                "quality and compression levels are 0 to 9",
            ));
        }
        let mut list: Vec<Encoding> = self
            .config
            .encodings
            .iter()
            .copied()
            .filter(|e| !is_kind(e))
            .collect();
        if let Some(l) = level {
            list.push(make(l));
        }
        if self.is_connected() {
            self.set_encodings(list)
        } else if self.error.is_some() {
            Err(self.error.clone().unwrap_or(Error::Closed))
        } else {
            self.config.encodings = list;
            Ok(())
        }
    }

    /// Asks the server for a new pixel format. Rectangles are decoded in it from now on, so
    /// call it between updates (no request outstanding), as the spec advises.
    pub fn set_pixel_format(&mut self, pf: PixelFormat) -> Result<(), Error> {
        self.require_session()?;
        if self.ext.flow.fence_supported {
            // Synchronised with a fence, so in-flight updates still decode (see crate::fence).
            return self.set_pixel_format_fenced(pf);
        }
        self.decoders
            .set_pixel_format(pf)
            .map_err(|source| Error::PixelFormat {
                message: "SetPixelFormat",
                source,
            })?;
        let mut b = Vec::new();
        msg::set_pixel_format(&mut b, &pf);
        self.queue(&b);
        if let Some(info) = self.info.as_mut() {
            info.pixel_format = pf;
        }
        Ok(())
    }
}
