//! A sans-IO RFB (VNC) server: client bytes in, server bytes and events out.
//!
//! [`Server`] has the same shape as `rfb_core::Client`: the driver feeds what the client sent
//! to [`Server::handle_input`] (which returns the bytes consumed), writes what
//! [`Server::poll_transmit`] returns, and acts on [`Server::poll_event`]. It never touches a
//! socket, a clock or an RNG: a VncAuth challenge comes from the driver in [`Security`].
//!
//! The driver owns an RGBA [`Framebuffer`]. When the client has an update request outstanding
//! ([`Server::update_requested`]), the driver calls [`Server::send_update`] with the damaged
//! rectangles and the copies (CopyRect moves) since the last update; the server picks the
//! encoding from the client's SetEncodings (ZRLE, else Raw; CopyRect for copies when offered)
//! and converts pixels into the client's pixel format.
//!
//! ```
//! use rfb_server::{Config, Event, Server};
//! let mut s = Server::new(Config::new(4, 2, "demo"));
//! assert_eq!(s.poll_transmit().unwrap(), b"RFB 003.008\n");
//! let used = s.handle_input(b"RFB 003.008\n").unwrap();
//! assert_eq!(used, 12);
//! assert_eq!(s.poll_transmit().unwrap(), [1, 1]); // one security type: None
//! ```
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst>
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod encode;
pub mod gate;

use std::collections::VecDeque;

use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};
pub use rfb_encodings::{DrawTarget, Encoding, Framebuffer, PixelFormat, PixelFormatError, Rect};

use crate::encode::{PixelWriter, ZrleEncoder};
pub use crate::gate::SecurityGate;

/// The protocol version agreed with the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Version {
    /// RFB 3.3: the server chooses the security type.
    V3_3,
    /// RFB 3.7.
    V3_7,
    /// RFB 3.8.
    V3_8,
}

/// How clients authenticate.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// No authentication.
    None,
    /// VNC authentication (DES challenge-response). `challenge` must be 16 random bytes from
    /// the driver's CSPRNG, fresh for every connection.
    VncAuth {
        /// The password (only the first 8 bytes count, as in every VNC server).
        password: Vec<u8>,
        /// The challenge sent to the client.
        challenge: [u8; 16],
    },
}

impl core::fmt::Debug for Security {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::VncAuth { .. } => f.write_str("VncAuth { .. }"),
        }
    }
}

/// Limits on what a client may make the server allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest ClientCutText accepted, in bytes.
    pub max_cut_text: u32,
    /// Most encodings accepted in one SetEncodings.
    pub max_encodings: u16,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_cut_text: 1 << 20,
            max_encodings: 1024,
        }
    }
}

/// How a [`Server`] presents itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Framebuffer width in ServerInit.
    pub width: u16,
    /// Framebuffer height in ServerInit.
    pub height: u16,
    /// Desktop name in ServerInit.
    pub name: String,
    /// The server's native pixel format (what rectangles use until SetPixelFormat).
    pub pixel_format: PixelFormat,
    /// Authentication.
    pub security: Security,
    /// Limits.
    pub limits: Limits,
}

impl Config {
    /// A `width` × `height` desktop called `name`, 32-bit RGBX, no authentication.
    pub fn new(width: u16, height: u16, name: &str) -> Self {
        Self {
            width,
            height,
            name: name.into(),
            pixel_format: PixelFormat::RGBX8888,
            security: Security::None,
            limits: Limits::default(),
        }
    }
}

/// Something the client did. Drain all of them after every call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The client's ProtocolVersion was read.
    Version(Version),
    /// The client authenticated (or chose None).
    Authenticated,
    /// ClientInit arrived and ServerInit was sent: the session is running.
    Initialised {
        /// The client's shared flag.
        shared: bool,
    },
    /// SetPixelFormat: rectangles are now sent in this format.
    PixelFormatChanged(PixelFormat),
    /// SetEncodings.
    EncodingsChanged(Vec<Encoding>),
    /// FramebufferUpdateRequest.
    UpdateRequested {
        /// Only changes are wanted.
        incremental: bool,
        /// The area of interest (clipped to the framebuffer).
        rect: Rect,
    },
    /// KeyEvent.
    Key {
        /// X keysym.
        keysym: u32,
        /// Pressed (true) or released.
        down: bool,
    },
    /// PointerEvent.
    Pointer {
        /// Button mask (bit 0 is button 1).
        buttons: u8,
        /// X position.
        x: u16,
        /// Y position.
        y: u16,
    },
    /// ClientCutText (Latin-1 decoded).
    CutText(String),
}

/// Everything that can go wrong. Fatal errors are sticky.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client's ProtocolVersion is malformed or too old.
    #[error("invalid client ProtocolVersion {0:?}")]
    Version(String),
    /// The client chose a security type that was not offered.
    #[error("client chose security type {0}, which was not offered")]
    SecurityType(u8),
    /// The VncAuth response was wrong.
    #[error("authentication failed")]
    AuthFailed,
    /// A client message type this server does not know (it cannot be framed).
    #[error("unknown client message type {0}")]
    UnknownMessage(u8),
    /// A client message exceeded a [`Limits`] value.
    #[error("{what} of {len} exceeds the limit of {max}")]
    LimitExceeded {
        /// What was too large.
        what: &'static str,
        /// Its size.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// SetPixelFormat with a format that cannot be served.
    #[error("unsupported pixel format: {0}")]
    PixelFormat(String),
    /// The driver called something at the wrong time or with bad arguments.
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
}

impl Error {
    /// True for errors that end the connection (every one except [`Error::ApiMisuse`]).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::ApiMisuse(_))
    }
}

/// A CopyRect move: the client copies `dst.width` × `dst.height` pixels from
/// (`src_x`, `src_y`) of its current picture to `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    /// Source left edge.
    pub src_x: u16,
    /// Source top edge.
    pub src_y: u16,
    /// Destination.
    pub dst: Rect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ClientVersion,
    SecurityChoice,
    AuthResponse,
    ClientInit,
    Session,
    Failed,
}

/// A sans-IO RFB server for one connection. See the crate documentation.
#[derive(Debug)]
pub struct Server {
    config: Config,
    state: State,
    version: Version,
    width: u16,
    height: u16,
    pixel_format: PixelFormat,
    writer: PixelWriter,
    encodings: Vec<Encoding>,
    /// Outstanding request: incremental only if every merged request was.
    request: Option<(bool, Rect)>,
    zrle: ZrleEncoder,
    out: Vec<u8>,
    events: VecDeque<Event>,
    needed: usize,
    error: Option<Error>,
}

/// Wire message types from the client.
mod msg {
    pub(crate) const SET_PIXEL_FORMAT: u8 = 0;
    pub(crate) const SET_ENCODINGS: u8 = 2;
    pub(crate) const UPDATE_REQUEST: u8 = 3;
    pub(crate) const KEY: u8 = 4;
    pub(crate) const POINTER: u8 = 5;
    pub(crate) const CUT_TEXT: u8 = 6;
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl Server {
    /// A server at the start of the handshake; its ProtocolVersion is already queued.
    pub fn new(config: Config) -> Self {
        let pixel_format = config.pixel_format;
        let mut s = Self {
            width: config.width,
            height: config.height,
            writer: PixelWriter::new(pixel_format),
            pixel_format,
            config,
            state: State::ClientVersion,
            version: Version::V3_8,
            encodings: vec![Encoding::Raw],
            request: None,
            zrle: ZrleEncoder::default(),
            out: Vec::new(),
            events: VecDeque::new(),
            needed: 12,
            error: None,
        };
        s.out.extend_from_slice(b"RFB 003.008\n");
        s
    }

    /// Feeds bytes from the client; returns how many were consumed. Keep the rest and pass it
    /// again with more appended.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<usize, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut pos = 0;
        loop {
            match self.step(&input[pos..]) {
                Ok(Some(n)) => pos += n,
                Ok(None) => return Ok(pos),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    fn fail(&mut self, e: Error) -> Error {
        if e.is_fatal() {
            self.state = State::Failed;
            self.error = Some(e.clone());
        }
        e
    }

    /// One step: `Some(n)` consumed `n` bytes; `None` needs more.
    fn step(&mut self, b: &[u8]) -> Result<Option<usize>, Error> {
        match self.state {
            State::Failed => Ok(None),
            State::ClientVersion => {
                if b.len() < 12 {
                    self.needed = 12;
                    return Ok(None);
                }
                let v = parse_version(&b[..12])?;
                self.version = v;
                self.events.push_back(Event::Version(v));
                let code = self.security_code();
                if v == Version::V3_3 {
                    self.out.extend_from_slice(&u32::from(code).to_be_bytes());
                    self.after_choice(code);
                } else {
                    self.out.extend_from_slice(&[1, code]);
                    self.state = State::SecurityChoice;
                    self.needed = 1;
                }
                Ok(Some(12))
            }
            State::SecurityChoice => {
                let Some(&t) = b.first() else {
                    return Ok(None);
                };
                if t != self.security_code() {
                    if self.version == Version::V3_8 {
                        self.security_failed("security type not offered");
                    }
                    return Err(Error::SecurityType(t));
                }
                self.after_choice(t);
                Ok(Some(1))
            }
            State::AuthResponse => {
                if b.len() < 16 {
                    self.needed = 16;
                    return Ok(None);
                }
                let Security::VncAuth {
                    password,
                    challenge,
                } = &self.config.security
                else {
                    return Err(Error::ApiMisuse("no VncAuth configured"));
                };
                if vnc_auth_response(password, challenge) != b[..16] {
                    self.security_failed("authentication failed");
                    return Err(Error::AuthFailed);
                }
                self.out.extend_from_slice(&0u32.to_be_bytes());
                self.events.push_back(Event::Authenticated);
                self.state = State::ClientInit;
                self.needed = 1;
                Ok(Some(16))
            }
            State::ClientInit => {
                let Some(&shared) = b.first() else {
                    return Ok(None);
                };
                let c = &self.config;
                self.out.extend_from_slice(&c.width.to_be_bytes());
                self.out.extend_from_slice(&c.height.to_be_bytes());
                self.out.extend_from_slice(&c.pixel_format.to_bytes());
                self.out
                    .extend_from_slice(&(c.name.len() as u32).to_be_bytes());
                self.out.extend_from_slice(c.name.as_bytes());
                self.events.push_back(Event::Initialised {
                    shared: shared != 0,
                });
                self.state = State::Session;
                self.needed = 1;
                Ok(Some(1))
            }
            State::Session => self.session_step(b),
        }
    }

    fn security_code(&self) -> u8 {
        match self.config.security {
            Security::None => 1,
            Security::VncAuth { .. } => 2,
        }
    }

    /// After the security type is settled (chosen by the client, or imposed in 3.3).
    fn after_choice(&mut self, code: u8) {
        if code == 2 {
            if let Security::VncAuth { challenge, .. } = &self.config.security {
                self.out.extend_from_slice(challenge);
            }
            self.state = State::AuthResponse;
            self.needed = 16;
        } else {
            // SecurityResult follows None only in 3.8.
            if self.version == Version::V3_8 {
                self.out.extend_from_slice(&0u32.to_be_bytes());
            }
            self.events.push_back(Event::Authenticated);
            self.state = State::ClientInit;
            self.needed = 1;
        }
    }

    fn security_failed(&mut self, reason: &str) {
        self.out.extend_from_slice(&1u32.to_be_bytes());
        if self.version == Version::V3_8 {
            self.out
                .extend_from_slice(&(reason.len() as u32).to_be_bytes());
            self.out.extend_from_slice(reason.as_bytes());
        }
    }

    fn session_step(&mut self, b: &[u8]) -> Result<Option<usize>, Error> {
        let Some(&t) = b.first() else {
            self.needed = 1;
            return Ok(None);
        };
        let need = |n: usize, me: &mut Self| {
            if b.len() < n {
                me.needed = n;
                false
            } else {
                true
            }
        };
        match t {
            msg::SET_PIXEL_FORMAT => {
                if !need(20, self) {
                    return Ok(None);
                }
                let mut raw = [0u8; 16];
                raw.copy_from_slice(&b[4..20]);
                let pf = PixelFormat::from_bytes(&raw);
                self.set_pixel_format(pf)?;
                self.events.push_back(Event::PixelFormatChanged(pf));
                Ok(Some(20))
            }
            msg::SET_ENCODINGS => {
                if !need(4, self) {
                    return Ok(None);
                }
                let n = u16_at(b, 2);
                if n > self.config.limits.max_encodings {
                    return Err(Error::LimitExceeded {
                        what: "SetEncodings count",
                        len: n.into(),
                        max: self.config.limits.max_encodings.into(),
                    });
                }
                let total = 4 + 4 * usize::from(n);
                if !need(total, self) {
                    return Ok(None);
                }
                let list: Vec<Encoding> = (0..usize::from(n))
                    .map(|i| Encoding::from_i32(u32_at(b, 4 + 4 * i) as i32))
                    .collect();
                self.encodings = list.clone();
                self.events.push_back(Event::EncodingsChanged(list));
                Ok(Some(total))
            }
            msg::UPDATE_REQUEST => {
                if !need(10, self) {
                    return Ok(None);
                }
                let incremental = b[1] != 0;
                let r = Rect::new(u16_at(b, 2), u16_at(b, 4), u16_at(b, 6), u16_at(b, 8));
                let rect = self.clip(r).unwrap_or_default();
                self.request = Some(match self.request {
                    None => (incremental, rect),
                    Some((inc, old)) => (inc && incremental, union(old, rect)),
                });
                self.events
                    .push_back(Event::UpdateRequested { incremental, rect });
                Ok(Some(10))
            }
            msg::KEY => {
                if !need(8, self) {
                    return Ok(None);
                }
                self.events.push_back(Event::Key {
                    down: b[1] != 0,
                    keysym: u32_at(b, 4),
                });
                Ok(Some(8))
            }
            msg::POINTER => {
                if !need(6, self) {
                    return Ok(None);
                }
                self.events.push_back(Event::Pointer {
                    buttons: b[1],
                    x: u16_at(b, 2),
                    y: u16_at(b, 4),
                });
                Ok(Some(6))
            }
            msg::CUT_TEXT => {
                if !need(8, self) {
                    return Ok(None);
                }
                let raw_len = u32_at(b, 4);
                // A negative length is the Extended Clipboard form, which is never offered.
                let len = if raw_len & 0x8000_0000 != 0 {
                    raw_len.wrapping_neg()
                } else {
                    raw_len
                };
                if len > self.config.limits.max_cut_text {
                    return Err(Error::LimitExceeded {
                        what: "ClientCutText length",
                        len: len.into(),
                        max: self.config.limits.max_cut_text.into(),
                    });
                }
                let total = 8 + len as usize;
                if !need(total, self) {
                    return Ok(None);
                }
                if raw_len & 0x8000_0000 == 0 {
                    let text = b[8..total].iter().map(|&c| char::from(c)).collect();
                    self.events.push_back(Event::CutText(text));
                }
                Ok(Some(total))
            }
            other => Err(Error::UnknownMessage(other)),
        }
    }

    fn set_pixel_format(&mut self, pf: PixelFormat) -> Result<(), Error> {
        pf.validate()
            .map_err(|e| Error::PixelFormat(e.to_string()))?;
        if pf.true_colour {
            self.writer = PixelWriter::new(pf);
        } else {
            if pf.bits_per_pixel != 8 {
                return Err(Error::PixelFormat(format!(
                    "colour map with {} bits per pixel (only 8 is served)",
                    pf.bits_per_pixel
                )));
            }
            // Serve a colour-mapped client with a fixed BGR233 palette: pixel values are the
            // same as BGR233 true colour, and the map says what each index means.
            let fixed = PixelFormat {
                true_colour: true,
                ..PixelFormat::BGR233
            };
            self.writer = PixelWriter::new(fixed);
            self.out.extend_from_slice(&[1, 0, 0, 0, 1, 0]);
            for i in 0u16..256 {
                let expand = |v: u16, max: u16| (u32::from(v) * 65535 / u32::from(max)) as u16;
                let r = expand(i & 7, 7);
                let g = expand((i >> 3) & 7, 7);
                let b = expand((i >> 6) & 3, 3);
                for c in [r, g, b] {
                    self.out.extend_from_slice(&c.to_be_bytes());
                }
            }
        }
        self.pixel_format = pf;
        Ok(())
    }

    fn clip(&self, r: Rect) -> Option<Rect> {
        if r.x >= self.width || r.y >= self.height || r.is_empty() {
            return None;
        }
        Some(Rect::new(
            r.x,
            r.y,
            r.width.min(self.width - r.x),
            r.height.min(self.height - r.y),
        ))
    }

    /// The fewest bytes the next step needs (a driver may size reads by it).
    pub fn bytes_needed(&self) -> usize {
        if self.error.is_some() { 0 } else { self.needed }
    }

    /// Takes all bytes queued for the client.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.out.is_empty()).then(|| core::mem::take(&mut self.out))
    }

    /// Takes the next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// True once ServerInit was sent and until a fatal error.
    pub fn is_connected(&self) -> bool {
        self.state == State::Session
    }

    /// The fatal error that ended the connection, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The version agreed with the client.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The pixel format rectangles are sent in.
    pub fn pixel_format(&self) -> PixelFormat {
        self.pixel_format
    }

    /// The client's encodings, in its order of preference.
    pub fn encodings(&self) -> &[Encoding] {
        &self.encodings
    }

    /// The outstanding update request, if any: (incremental, area).
    pub fn update_requested(&self) -> Option<(bool, Rect)> {
        self.request.filter(|_| self.is_connected())
    }

    fn require_session(&self) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.is_connected() {
            Ok(())
        } else {
            Err(Error::ApiMisuse("the session has not started"))
        }
    }

    /// Answers the outstanding update request with the picture in `fb` (which must be the
    /// size of the desktop): first `copies` (as CopyRect if the client offered it, else as
    /// pixels), then `damage`. A non-incremental request is answered with its whole area.
    /// Rectangles are clipped to the framebuffer. Returns `false`, sending nothing, when no
    /// request is outstanding or an incremental one has nothing to send: keep the damage for
    /// later then.
    pub fn send_update(
        &mut self,
        fb: &Framebuffer,
        damage: &[Rect],
        copies: &[Copy],
    ) -> Result<bool, Error> {
        self.require_session()?;
        if fb.width() != self.width || fb.height() != self.height {
            return Err(Error::ApiMisuse(
                "framebuffer size differs from the desktop",
            ));
        }
        let Some((incremental, area)) = self.request else {
            return Ok(false);
        };
        let use_copy = self.encodings.contains(&Encoding::CopyRect);
        let zrle = self.encodings.contains(&Encoding::Zrle);
        let mut copy_rects = Vec::new();
        let mut pixel_rects: Vec<Rect> = Vec::new();
        if incremental {
            for c in copies {
                let Some(d) = self.clip(c.dst) else { continue };
                let src_ok = u32::from(c.src_x) + u32::from(d.width) <= u32::from(self.width)
                    && u32::from(c.src_y) + u32::from(d.height) <= u32::from(self.height);
                if use_copy && src_ok {
                    copy_rects.push(Copy { dst: d, ..*c });
                } else {
                    pixel_rects.push(d);
                }
            }
            pixel_rects.extend(damage.iter().filter_map(|r| self.clip(*r)));
        } else if !area.is_empty() {
            pixel_rects.push(area);
        }
        // Keep the rectangle count sane: many small rects become one bounding box.
        if pixel_rects.len() > 256 {
            let b = pixel_rects
                .iter()
                .copied()
                .reduce(union)
                .unwrap_or_default();
            pixel_rects = vec![b];
        }
        let n = copy_rects.len() + pixel_rects.len();
        if n == 0 {
            return Ok(false);
        }
        self.request = None;
        let mut m = Vec::with_capacity(4 + n * 12);
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(&(n as u16).to_be_bytes());
        for c in &copy_rects {
            rect_header(&mut m, c.dst, Encoding::CopyRect);
            m.extend_from_slice(&c.src_x.to_be_bytes());
            m.extend_from_slice(&c.src_y.to_be_bytes());
        }
        for r in &pixel_rects {
            if zrle {
                rect_header(&mut m, *r, Encoding::Zrle);
                self.zrle.encode(&self.writer, fb, *r, &mut m);
            } else {
                rect_header(&mut m, *r, Encoding::Raw);
                self.writer.raw(fb, *r, &mut m);
            }
        }
        self.out.extend_from_slice(&m);
        Ok(true)
    }

    /// Tells the client the desktop is now `width` × `height` (DesktopSize pseudo-encoding).
    /// Returns `false`, sending nothing, when the client did not offer DesktopSize.
    pub fn send_desktop_size(&mut self, width: u16, height: u16) -> Result<bool, Error> {
        self.require_session()?;
        if !self.encodings.contains(&Encoding::DesktopSize) {
            return Ok(false);
        }
        self.width = width;
        self.height = height;
        self.out.extend_from_slice(&[0, 0, 0, 1]);
        rect_header(
            &mut self.out,
            Rect::new(0, 0, width, height),
            Encoding::DesktopSize,
        );
        // Every pixel is stale now: the next request is served in full.
        if let Some((_, r)) = self.request.as_mut() {
            *r = Rect::new(0, 0, width, height);
        }
        Ok(true)
    }

    /// Rings the client's bell.
    pub fn send_bell(&mut self) -> Result<(), Error> {
        self.require_session()?;
        self.out.push(2);
        Ok(())
    }

    /// Sends clipboard text (ServerCutText, Latin-1: other characters become `?`).
    pub fn send_cut_text(&mut self, text: &str) -> Result<(), Error> {
        self.require_session()?;
        let bytes: Vec<u8> = text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect();
        self.out.extend_from_slice(&[3, 0, 0, 0]);
        self.out
            .extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.out.extend_from_slice(&bytes);
        Ok(())
    }
}

fn rect_header(out: &mut Vec<u8>, r: Rect, e: Encoding) {
    for v in [r.x, r.y, r.width, r.height] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&e.to_i32().to_be_bytes());
}

fn union(a: Rect, b: Rect) -> Rect {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let x = a.x.min(b.x);
    let y = a.y.min(b.y);
    let r = a.right().max(b.right());
    let bt = a.bottom().max(b.bottom());
    Rect::new(x, y, (r - u32::from(x)) as u16, (bt - u32::from(y)) as u16)
}

/// Parses `RFB xxx.yyy\n`: 3.3 ≤ v < 3.7 → 3.3, 3.7 → 3.7, ≥ 3.8 → 3.8.
fn parse_version(b: &[u8]) -> Result<Version, Error> {
    let bad = || Error::Version(String::from_utf8_lossy(b).into_owned());
    if &b[..4] != b"RFB " || b[7] != b'.' || b[11] != b'\n' {
        return Err(bad());
    }
    let num = |s: &[u8]| -> Option<u32> {
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| s.iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0')))
    };
    let (Some(major), Some(minor)) = (num(&b[4..7]), num(&b[8..11])) else {
        return Err(bad());
    };
    match (major, minor) {
        (3, 3..=6) => Ok(Version::V3_3),
        (3, 7) => Ok(Version::V3_7),
        (3, 8..) | (4.., _) => Ok(Version::V3_8),
        _ => Err(bad()),
    }
}

/// The VncAuth response to `challenge` for `password`: DES-ECB with the password (first 8
/// bytes, zero-padded) as key, each key byte bit-reversed.
pub fn vnc_auth_response(password: &[u8], challenge: &[u8; 16]) -> [u8; 16] {
    let mut key = [0u8; 8];
    for (k, p) in key.iter_mut().zip(password) {
        *k = p.reverse_bits();
    }
    let cipher = Des::new(GenericArray::from_slice(&key));
    let mut out = *challenge;
    for block in out.chunks_exact_mut(8) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version(b"RFB 003.003\n"), Ok(Version::V3_3));
        assert_eq!(parse_version(b"RFB 003.005\n"), Ok(Version::V3_3));
        assert_eq!(parse_version(b"RFB 003.007\n"), Ok(Version::V3_7));
        assert_eq!(parse_version(b"RFB 003.008\n"), Ok(Version::V3_8));
        assert_eq!(parse_version(b"RFB 003.889\n"), Ok(Version::V3_8));
        assert!(parse_version(b"RFB 003.002\n").is_err());
        assert!(parse_version(b"RFB 00x.008\n").is_err());
        assert!(parse_version(b"HTTP/1.1 200").is_err());
    }

    #[test]
    fn union_covers_both() {
        assert_eq!(
            union(Rect::new(0, 0, 2, 2), Rect::new(5, 5, 1, 1)),
            Rect::new(0, 0, 6, 6)
        );
        assert_eq!(
            union(Rect::default(), Rect::new(5, 5, 1, 1)),
            Rect::new(5, 5, 1, 1)
        );
    }
}
