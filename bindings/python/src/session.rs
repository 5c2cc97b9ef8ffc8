//! `Session`: rfb-core's sans-IO client, its RGBA framebuffer and the byte buffers, for the
//! Python drivers (`client.py`) or anyone with their own event loop.

use std::collections::VecDeque;
use std::time::Duration;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rfb_core::security::ServerIdentity;
use rfb_core::{Client, Config, Credentials, Event};
use rfb_encodings::{Encoding, Framebuffer, Rect};

use crate::errors::{AuthError, to_py};
use crate::screenshot::Screenshot;

/// The operating system's CSPRNG, for security types that need randomness.
struct OsRng;

impl rand_core::RngCore for OsRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        getrandom::fill(dest).expect("the operating system's random number generator failed");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// An event for Python, kept until `next_event` takes it.
enum Ev {
    Connected(u16, u16, String),
    Update(Vec<(u16, u16, u16, u16)>),
    Resized(u16, u16),
    Bell,
    Name(String),
    Clipboard(String),
    Disconnected(String),
    Verify(ServerIdentity),
}

/// The protocol state of one connection, without I/O: `feed()` what the server sent, send
/// `data_to_send()`, read `next_event()`. The blocking `Client` and the asyncio
/// `AsyncClient` are drivers over this class.
///
/// Events are tuples: `("connected", (width, height, name))`, `("update", [(x, y, w, h),
/// ...])`, `("resized", (width, height))`, `("bell", None)`, `("name", name)`,
/// `("clipboard", text)`, `("disconnected", reason)`.
#[pyclass(module = "rfb", unsendable)]
pub(crate) struct Session {
    client: Client,
    fb: Framebuffer,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    events: VecDeque<Ev>,
    username: Option<String>,
    password: Option<String>,
    target: Option<String>,
    /// Unverified server identities are events for the application (else rejected at once).
    ask_server: bool,
    /// The certificate fingerprint of a `server_verification` event not yet answered.
    pending_certificate: Option<String>,
    /// Set when the application rejected a certificate: every later `feed` raises it again.
    rejected: Option<String>,
    name: String,
    /// Counts framebuffer size changes; a `LiveView` is valid only for the one it saw.
    generation: u64,
}

impl Session {
    /// The certificate rejection that ended this session, raised again.
    fn check_rejected(&self) -> PyResult<()> {
        match &self.rejected {
            None => Ok(()),
            Some(fp) => Err(to_py(&rfb_core::Error::CertificateRejected {
                reason: "the application did not approve it".into(),
                fingerprint: fp.clone(),
            })),
        }
    }

    fn drain(&mut self) -> PyResult<()> {
        while let Some(b) = self.client.poll_transmit() {
            self.out.extend_from_slice(&b);
        }
        while let Some(e) = self.client.poll_event() {
            match e {
                Event::CredentialsRequired(need) => {
                    if need.password && self.password.is_none() {
                        return Err(AuthError::new_err(
                            "the server requires a password: pass password=... to connect()",
                        ));
                    }
                    if need.username && self.username.is_none() {
                        return Err(AuthError::new_err(
                            "the server requires a username: pass username=... to connect()",
                        ));
                    }
                    if need.target && self.target.is_none() {
                        return Err(AuthError::new_err(
                            "the server requires a target: pass target=... to connect()",
                        ));
                    }
                    let creds = Credentials {
                        username: self.username.clone(),
                        password: self.password.clone(),
                        target: self.target.clone(),
                    };
                    self.client
                        .supply_credentials(&creds)
                        .map_err(|e| to_py(&e))?;
                    while let Some(b) = self.client.poll_transmit() {
                        self.out.extend_from_slice(&b);
                    }
                }
                Event::Connected(info) => {
                    self.generation += 1;
                    self.name = info.name.clone();
                    self.events
                        .push_back(Ev::Connected(info.width, info.height, info.name));
                }
                Event::FramebufferUpdated { damage } => self.events.push_back(Ev::Update(
                    damage
                        .iter()
                        .map(|r| (r.x, r.y, r.width, r.height))
                        .collect(),
                )),
                Event::Resized { width, height } => {
                    self.generation += 1;
                    self.events.push_back(Ev::Resized(width, height));
                }
                Event::Bell => self.events.push_back(Ev::Bell),
                Event::DesktopName(n) => {
                    self.name = n.clone();
                    self.events.push_back(Ev::Name(n));
                }
                Event::ClipboardText(t) => self.events.push_back(Ev::Clipboard(t)),
                // Extended Clipboard text also arrives as `ClipboardText` (the core requests it
                // on the server's notify), so the Provide itself adds nothing here.
                Event::Disconnected { reason } => self.events.push_back(Ev::Disconnected(reason)),
                Event::ServerVerification(identity) => {
                    if !self.ask_server {
                        // Nobody will answer (an RA2 key without a pin, say): refuse it now
                        // with its typed error rather than wait forever.
                        let r = self.client.reject_server();
                        self.drain_transmit();
                        r.map_err(|e| to_py(&e))?;
                        continue;
                    }
                    if let ServerIdentity::X509 { fingerprint, .. } = &identity {
                        self.pending_certificate = Some(fingerprint.clone());
                    }
                    self.events.push_back(Ev::Verify(identity));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn run(&mut self) -> PyResult<()> {
        loop {
            let r = self.client.handle_input(&self.inbuf, &mut self.fb);
            let n = match r {
                Ok(n) => n,
                Err(e) => {
                    // Queue the Disconnected event (and anything before it) first.
                    self.drain()?;
                    return Err(to_py(&e));
                }
            };
            self.inbuf.drain(..n);
            // Credentials may unblock input held back, so go round again after supplying.
            let waiting = self.client.bytes_needed();
            self.drain()?;
            if n == 0 && (self.inbuf.is_empty() || self.client.bytes_needed() == waiting) {
                return Ok(());
            }
            if self.inbuf.is_empty() {
                return Ok(());
            }
        }
    }

    fn drain_transmit(&mut self) {
        while let Some(b) = self.client.poll_transmit() {
            self.out.extend_from_slice(&b);
        }
    }

    fn act<T>(&mut self, r: Result<T, rfb_core::Error>) -> PyResult<T> {
        let v = r.map_err(|e| to_py(&e))?;
        self.drain()?;
        Ok(v)
    }
}

#[pymethods]
impl Session {
    /// A session at the start of the handshake. `password` (and `username`, `target` for
    /// security types that need them) are supplied when the server asks. `encodings` names
    /// the pixel encodings to offer, best first ("raw", "copyrect", "zrle", "tight", ...); the
    /// default offers every lossless encoding. `shared` leaves other viewers connected.
    ///
    /// Security: `security` lists the accepted types in order ("x509vnc,vncauth" or
    /// `["x509plain", "vncauth"]`, names or numbers; VeNCrypt subtype names select those
    /// subtypes). `ca_pem` (PEM text) is the CA the server's TLS certificate must chain to,
    /// with `tls_server_name` the name it must carry; `fingerprint` pins one certificate's
    /// SHA-256 instead. With neither, a certificate raises `CertificateError` carrying its
    /// fingerprint. Bad values raise `ValueError` here.
    #[new]
    ///
    /// `ask_server`: a certificate nothing configured verifies (and an RA2 server key without
    /// a pin) becomes a `("server_verification", {...})` event; answer with
    /// `approve_server()` or `reject_server()`. Without it such a certificate raises
    /// `CertificateError` and an RA2 key is rejected at once.
    #[pyo3(signature = (password = None, username = None, shared = true, encodings = None, continuous_updates = false, *, target = None, security = None, ca_pem = None, fingerprint = None, tls_server_name = None, ask_server = false))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    fn new(
        password: Option<String>,
        username: Option<String>,
        shared: bool,
        encodings: Option<Vec<String>>,
        continuous_updates: bool,
        target: Option<String>,
        security: Option<&Bound<'_, PyAny>>,
        ca_pem: Option<&Bound<'_, PyAny>>,
        fingerprint: Option<String>,
        tls_server_name: Option<String>,
        ask_server: bool,
    ) -> PyResult<Self> {
        let mut config = Config {
            shared,
            continuous_updates,
            ..Config::default()
        };
        let list = match security {
            None => None,
            Some(v) => Some(if let Ok(s) = v.extract::<String>() {
                s
            } else {
                let mut words = Vec::new();
                for item in v.try_iter()? {
                    words.push(item?.str()?.to_string());
                }
                words.join(",")
            }),
        };
        let ca = match ca_pem {
            None => None,
            Some(v) => Some(if let Ok(s) = v.extract::<String>() {
                s.into_bytes()
            } else {
                v.extract::<Vec<u8>>()
                    .map_err(|_| PyValueError::new_err("ca_pem must be str or bytes"))?
            }),
        };
        // The shared parser (rfb_tls::options) with this module's clock; anonymous TLS when
        // built with the `anon-tls` feature.
        let security = rfb_tls::options::SecurityOptions::parse(
            list.as_deref(),
            ca.as_deref(),
            fingerprint.as_deref(),
            tls_server_name.as_deref(),
            ask_server,
            std::sync::Arc::new(crate::security::SystemClock),
        )
        .map_err(|e| PyValueError::new_err(e.to_string()))?
        .with_anonymous(cfg!(feature = "anon-tls"));
        security.configure(&mut config);
        if let Some(names) = encodings {
            let mut pixel = Vec::new();
            for n in &names {
                let e = Encoding::from_name(&n.to_ascii_lowercase())
                    .ok_or_else(|| PyValueError::new_err(format!("unknown encoding {n:?}")))?;
                pixel.push(e);
            }
            config.encodings = Config::encodings_with_pseudo(&pixel);
        }
        let mut client = Client::new(config, Duration::ZERO, Box::new(OsRng));
        security
            .register(&mut client)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self {
            client,
            fb: Framebuffer::new(0, 0),
            inbuf: Vec::new(),
            out: Vec::new(),
            events: VecDeque::new(),
            username,
            password,
            target,
            ask_server,
            pending_certificate: None,
            rejected: None,
            name: String::new(),
            generation: 0,
        })
    }

    /// Feeds bytes received from the server. Raises an `rfb.Error` subclass on failure
    /// (`AuthError`, `RefusedError`, `ProtocolError`, ...).
    fn feed(&mut self, data: &[u8]) -> PyResult<()> {
        self.check_rejected()?;
        self.inbuf.extend_from_slice(data);
        self.run()
    }

    /// Accepts the identity of the last `server_verification` event; the handshake goes on.
    fn approve_server(&mut self) -> PyResult<()> {
        self.check_rejected()?;
        self.pending_certificate = None;
        let r = self.client.approve_server();
        self.act(r)?;
        // Server bytes that arrived while waiting are processed now.
        self.run()
    }

    /// Refuses the identity of the last `server_verification` event: raises
    /// `CertificateError` (with `fingerprint`), and the session is over.
    fn reject_server(&mut self) -> PyResult<()> {
        self.check_rejected()?;
        let pending = self.pending_certificate.take();
        let r = self.client.reject_server();
        self.drain_transmit();
        match (r, pending) {
            // rfb-core ended the connection with its typed error (RA2 keys).
            (Err(e), _) if e.is_fatal() => Err(to_py(&e)),
            // VeNCrypt in this rfb-core cannot reject a certificate itself (it answers misuse
            // and stays paused): the session ends here, nothing was sent inside TLS.
            (_, Some(fp)) => {
                self.rejected = Some(fp);
                self.check_rejected()
            }
            (r, None) => r.map_err(|e| to_py(&e)),
        }
    }

    /// Tells the session the server closed the connection. Raises `ProtocolError` if that
    /// happened in the middle of a message or the handshake.
    fn eof(&mut self) -> PyResult<()> {
        let held = self.inbuf.len();
        let r = self.client.handle_eof(held);
        self.act(r)
    }

    /// Takes the bytes to send to the server (b"" when none).
    fn data_to_send<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let b = PyBytes::new(py, &self.out);
        self.out.clear();
        b
    }

    /// The next event as `(kind, payload)`, or None.
    fn next_event(&mut self, py: Python<'_>) -> PyResult<Option<(&'static str, Py<PyAny>)>> {
        let Some(e) = self.events.pop_front() else {
            return Ok(None);
        };
        Ok(Some(match e {
            Ev::Connected(w, h, n) => ("connected", (w, h, n).into_py_any(py)?),
            Ev::Update(r) => ("update", r.into_py_any(py)?),
            Ev::Resized(w, h) => ("resized", (w, h).into_py_any(py)?),
            Ev::Bell => ("bell", py.None()),
            Ev::Name(n) => ("name", n.into_py_any(py)?),
            Ev::Clipboard(t) => ("clipboard", t.into_py_any(py)?),
            Ev::Disconnected(r) => ("disconnected", r.into_py_any(py)?),
            Ev::Verify(id) => ("server_verification", identity_dict(py, id)?),
        }))
    }

    /// True between the handshake and a failure.
    #[getter]
    fn connected(&self) -> bool {
        self.client.is_connected()
    }

    /// Framebuffer width (0 before the handshake).
    #[getter]
    fn width(&self) -> u16 {
        self.fb.width()
    }

    /// Framebuffer height (0 before the handshake).
    #[getter]
    fn height(&self) -> u16 {
        self.fb.height()
    }

    /// The desktop name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// An immutable copy of the framebuffer as it is now.
    fn screenshot(&self) -> Screenshot {
        Screenshot::new(
            u32::from(self.fb.width()),
            u32::from(self.fb.height()),
            self.fb.data().to_vec(),
        )
    }

    /// A live view of the framebuffer: it reads the current pixels on every access and
    /// raises `StateError` once the framebuffer has been resized (take a new view then).
    fn live_view(slf: Bound<'_, Self>) -> LiveView {
        let generation = slf.borrow().generation;
        LiveView {
            session: slf.unbind(),
            generation,
        }
    }

    /// Sends a key press (`down=True`) or release for an X keysym.
    fn send_key(&mut self, keysym: u32, down: bool) -> PyResult<()> {
        let r = self.client.send_key(keysym, down);
        self.act(r)
    }

    /// Types `text` as keysym presses and releases (Shift where a character needs it).
    /// Returns how many characters were skipped because they have no keysym.
    fn type_text(&mut self, text: &str) -> PyResult<usize> {
        let r = self.client.type_text(text, &rfb_keysym::keysym_from_char);
        self.act(r)
    }

    /// Moves the pointer to (x, y) with `buttons` held (bit 0 left, 1 middle, 2 right, 3/4
    /// wheel up/down).
    fn send_pointer(&mut self, x: u16, y: u16, buttons: u16) -> PyResult<()> {
        let r = self.client.send_pointer_buttons(buttons, x, y);
        self.act(r)
    }

    /// Sets the server's clipboard to `text`.
    fn send_clipboard_text(&mut self, text: &str) -> PyResult<()> {
        let r = self.client.send_clipboard_text(text);
        self.act(r)
    }

    /// Requests an update of a rectangle (default: the whole screen). A non-incremental
    /// request is always answered; an incremental one when something changed.
    #[pyo3(signature = (incremental = false, x = 0, y = 0, width = None, height = None))]
    fn request_update(
        &mut self,
        incremental: bool,
        x: u16,
        y: u16,
        width: Option<u16>,
        height: Option<u16>,
    ) -> PyResult<()> {
        let w = width.unwrap_or_else(|| self.fb.width().saturating_sub(x));
        let h = height.unwrap_or_else(|| self.fb.height().saturating_sub(y));
        let r = self
            .client
            .request_update(incremental, Rect::new(x, y, w, h));
        self.act(r)
    }
}

/// A server identity as a dict: `kind` ("x509" or "rsa"), `fingerprint` (SHA-256, hex
/// with colons), and `subject`, `issuer`, `reason` (X.509) or `bits`, `short_fingerprint`
/// (RSA).
fn identity_dict(py: Python<'_>, id: ServerIdentity) -> PyResult<Py<PyAny>> {
    let d = pyo3::types::PyDict::new(py);
    match id {
        ServerIdentity::X509 {
            fingerprint,
            subject,
            issuer,
            reason,
        } => {
            d.set_item("kind", "x509")?;
            d.set_item("fingerprint", fingerprint)?;
            d.set_item("subject", subject)?;
            d.set_item("issuer", issuer)?;
            d.set_item("reason", reason)?;
        }
        ServerIdentity::Rsa {
            bits,
            fingerprint,
            short_fingerprint,
            ..
        } => {
            d.set_item("kind", "rsa")?;
            d.set_item("fingerprint", fingerprint)?;
            d.set_item("bits", bits)?;
            d.set_item("short_fingerprint", short_fingerprint)?;
        }
        _ => d.set_item("kind", "unknown")?,
    }
    Ok(d.into_any().unbind())
}

/// A live view of a `Session`'s framebuffer (`Client.live_view()`): `pixel()`, `bytes()`
/// and `snapshot()` read the pixels as they are now. It does not survive a resize: after the
/// server changes the framebuffer size every access raises `StateError`.
#[pyclass(module = "rfb", unsendable)]
pub(crate) struct LiveView {
    session: Py<Session>,
    generation: u64,
}

impl LiveView {
    fn with<T>(&self, py: Python<'_>, f: impl FnOnce(&Session) -> PyResult<T>) -> PyResult<T> {
        let s = self.session.bind(py).try_borrow()?;
        if s.generation != self.generation {
            return Err(crate::errors::StateError::new_err(format!(
                "the framebuffer was resized to {}x{}; this live view is no longer valid, take a new one",
                s.fb.width(),
                s.fb.height()
            )));
        }
        f(&s)
    }
}

#[pymethods]
impl LiveView {
    /// True until the framebuffer is resized.
    #[getter]
    fn valid(&self, py: Python<'_>) -> bool {
        self.with(py, |_| Ok(())).is_ok()
    }

    /// `(width, height)`.
    #[getter]
    fn size(&self, py: Python<'_>) -> PyResult<(u16, u16)> {
        self.with(py, |s| Ok((s.fb.width(), s.fb.height())))
    }

    /// The pixel at (x, y) now, as `(r, g, b, a)`.
    fn pixel(&self, py: Python<'_>, x: u16, y: u16) -> PyResult<(u8, u8, u8, u8)> {
        self.with(py, |s| {
            s.fb.pixel(x, y)
                .map(|p| (p[0], p[1], p[2], p[3]))
                .ok_or_else(|| {
                    pyo3::exceptions::PyIndexError::new_err(format!(
                        "({x}, {y}) is outside the picture"
                    ))
                })
        })
    }

    /// An immutable copy of the pixels now.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Screenshot> {
        self.with(py, |s| Ok(s.screenshot()))
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.with(py, |s| Ok(PyBytes::new(py, s.fb.data())))
    }
}
