//! The sans-IO client handle: the caller owns the socket and the clock, librfb owns the
//! protocol state, the input buffer, the bytes to send and the RGBA framebuffer.

use std::ffi::{CString, c_char};
use std::time::Duration;

use rfb_core::{Client, Config, Event};
use rfb_encodings::{Encoding, Framebuffer};

use crate::error::{Failure, RfbStatus, guard, set_last_error, status, to_cstring};

/// "RFBCLIEN": marks a live [`RfbClient`]; cleared on free.
const CLIENT_MAGIC: u64 = 0x5246_4243_4c49_454e;

/// `rfb_client_next_timeout` writes this when no timeout is pending.
pub const RFB_NO_TIMEOUT: u64 = 0xffff_ffff_ffff_ffff;

/// A VNC client connection's state (opaque). Create with `rfb_client_new`, free with
/// `rfb_client_free`. Not thread-safe: use one handle from one thread at a time.
pub struct RfbClient {
    // Never constructed: C sees an incomplete type; the memory behind the pointer is a
    // `ClientHandle`.
    _opaque: [u8; 0],
}

/// What an `RfbClient *` points to: the magic number first, so any librfb handle's first
/// 8 bytes say what it is.
#[repr(C)]
struct ClientHandle {
    magic: u64,
    state: ClientState,
}

/// The client's state behind a handle.
pub(crate) struct ClientState {
    client: Client,
    fb: Framebuffer,
    /// Received bytes the client has not consumed yet.
    inbuf: Vec<u8>,
    /// Bytes queued for the server, not yet consumed by the caller.
    out: Vec<u8>,
    error: CString,
    event_text: CString,
    /// Rectangles of the last `FRAMEBUFFER_UPDATED` event.
    damage: Vec<rfb_encodings::Rect>,
    /// Set after a caught panic: the state may be inconsistent, so later calls refuse.
    poisoned: bool,
    /// Fingerprint of the certificate a `CERTIFICATE_REJECTED` failure rejected ("" if none).
    pub(crate) rejected_fingerprint: CString,
    /// The certificate fingerprint of a `SERVER_VERIFICATION` event not yet answered.
    pub(crate) pending_certificate: Option<String>,
    /// A failure librfb decided on its own (a rejected certificate), returned by every later
    /// call as rfb-core's own failures are.
    pub(crate) failed: Option<Failure>,
}

/// Options for `rfb_client_new`; fill with `rfb_client_options_default` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RfbClientOptions {
    /// Leave other viewers connected (ClientInit shared flag). Default true.
    pub shared: bool,
    /// Fail with `RFB_STATUS_TIMEOUT` if the handshake takes longer (0 = no limit; the
    /// caller's clock, see `rfb_client_handle_timeout`). Default 0.
    pub handshake_timeout_ms: u32,
    /// Pixel encodings to offer, best first, as RFB encoding numbers (0 Raw, 1 CopyRect,
    /// 2 RRE, 5 Hextile, 7 Tight, 16 ZRLE, ...); pseudo-encodings are added by librfb. NULL
    /// offers every encoding librfb decodes (all lossless: no JPEG quality level is sent).
    pub encodings: *const i32,
    /// Number of entries in `encodings`.
    pub encodings_len: usize,
    /// Use continuous updates when the server offers them (default false: one update per
    /// request, requested again after each, which makes "the next update" well defined).
    pub continuous_updates: bool,
    /// Security types accepted, in preference order, as NUL-terminated UTF-8: names or
    /// numbers separated by commas (`"x509vnc,vncauth"`, `"19,2"`). VeNCrypt subtype names
    /// (`x509plain`, `x509vnc`, `x509none`, `plain`, `tlsvnc`, ...) or numbers from 256 select
    /// those subtypes in that order. NULL: None, VncAuth, then VeNCrypt with its X509 subtypes
    /// (only VeNCrypt when `tls_ca_pem` or `tls_fingerprint` is set: TLS is then required).
    pub security_types: *const c_char,
    /// PEM text of the CA certificate(s) the server's certificate must chain to; needs
    /// `tls_server_name`. NULL: no CA.
    pub tls_ca_pem: *const c_char,
    /// SHA-256 fingerprint of the one server certificate to trust (64 hex digits, colons
    /// optional); names and dates are then not checked. NULL: none. With neither this nor
    /// `tls_ca_pem`, every certificate is rejected with `RFB_STATUS_CERTIFICATE_REJECTED`
    /// and its fingerprint (see `rfb_client_rejected_fingerprint`).
    pub tls_fingerprint: *const c_char,
    /// The server's DNS name or IP address as its certificate names it (the caller owns the
    /// socket, so librfb does not know it). Required with `tls_ca_pem`. NULL otherwise.
    pub tls_server_name: *const c_char,
    /// With neither `tls_ca_pem` nor `tls_fingerprint`: finish the TLS handshake and pause
    /// with `RFB_EVENT_KIND_SERVER_VERIFICATION` (the certificate's fingerprint) until
    /// `rfb_client_approve_server` or `rfb_client_reject_server`, instead of failing with
    /// `RFB_STATUS_CERTIFICATE_REJECTED`. Default false.
    pub ask_server_verification: bool,
}

/// What an [`RfbEvent`] reports.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RfbEventKind {
    /// No event was pending.
    None = 0,
    /// The handshake finished: `width`×`height` framebuffer, `text` = desktop name.
    Connected = 1,
    /// The server wants credentials: `flags` bit 0 = username, bit 1 = password, bit 2 =
    /// target. Answer with `rfb_client_supply_credentials`.
    CredentialsRequired = 2,
    /// A framebuffer update finished: `x`,`y`,`width`,`height` bound the changed area,
    /// `count` = number of rectangles.
    FramebufferUpdated = 3,
    /// The framebuffer is now `width`×`height` (earlier framebuffer views are invalid).
    Resized = 4,
    /// The server rang the bell.
    Bell = 5,
    /// The desktop name changed to `text`.
    DesktopName = 6,
    /// The server's clipboard holds `text` (UTF-8; legacy cut text or Extended Clipboard,
    /// which librfb requests when the server announces new text).
    ClipboardText = 7,
    /// The connection ended; `text` = reason. Later calls return the error.
    Disconnected = 8,
    /// Something else (cursor shape, fences, LEDs, ...); no fields are set.
    Other = 9,
    /// The server's identity needs the caller's decision: `text` = its SHA-256 fingerprint
    /// (lower-case hex, colons), `flags` = 0 for a TLS certificate (only with
    /// `ask_server_verification`), 1 for an RSA key (RA2 security types), `width` = the key's
    /// bits (RSA). Answer with `rfb_client_approve_server` or `rfb_client_reject_server`;
    /// nothing is sent to the server before.
    ServerVerification = 10,
}

/// One event from `rfb_client_poll_event`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RfbEvent {
    /// Which event; `RFB_EVENT_KIND_NONE` when none was pending.
    pub kind: RfbEventKind,
    /// Left edge (FRAMEBUFFER_UPDATED).
    pub x: u32,
    /// Top edge (FRAMEBUFFER_UPDATED).
    pub y: u32,
    /// Width (CONNECTED, FRAMEBUFFER_UPDATED, RESIZED).
    pub width: u32,
    /// Height (CONNECTED, FRAMEBUFFER_UPDATED, RESIZED).
    pub height: u32,
    /// Rectangle count (FRAMEBUFFER_UPDATED).
    pub count: u32,
    /// Flags (CREDENTIALS_REQUIRED).
    pub flags: u32,
    /// NUL-terminated UTF-8 owned by the client, valid until the next call on this handle;
    /// NULL when the event has no text.
    pub text: *const c_char,
}

/// A rectangle of the framebuffer.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RfbRect {
    /// Left edge.
    pub x: u16,
    /// Top edge.
    pub y: u16,
    /// Width.
    pub width: u16,
    /// Height.
    pub height: u16,
}

/// Pixel layout of framebuffer memory: always 4 bytes per pixel, R, G, B, A (A = 255).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RfbLayout {
    /// Bytes R, G, B, A.
    Rgba8 = 0,
}

/// A read-only view of a framebuffer, valid until the next call that feeds input to (or
/// frees) the handle it came from.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RfbFramebuffer {
    /// First byte of the top row; NULL when the framebuffer is empty.
    pub data: *const u8,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// Pixel layout.
    pub layout: RfbLayout,
}

impl RfbFramebuffer {
    pub(crate) fn of(fb: &Framebuffer) -> Self {
        let data = if fb.data().is_empty() {
            std::ptr::null()
        } else {
            fb.data().as_ptr()
        };
        Self {
            data,
            width: u32::from(fb.width()),
            height: u32::from(fb.height()),
            stride: fb.stride(),
            layout: RfbLayout::Rgba8,
        }
    }
}

/// The operating system's CSPRNG (VncAuth needs none, but other security types do).
struct OsRng;

impl rand_core::RngCore for OsRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Caught by the FFI guard and reported as an internal error if it ever happens.
        getrandom::fill(dest).expect("the operating system's random number generator failed");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl ClientState {
    fn drain_transmit(&mut self) {
        while let Some(bytes) = self.client.poll_transmit() {
            self.out.extend_from_slice(&bytes);
        }
    }

    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<(), Failure> {
        self.inbuf.extend_from_slice(data);
        let result = loop {
            match self.client.handle_input(&self.inbuf, &mut self.fb) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    self.inbuf.drain(..n);
                    if self.inbuf.is_empty() {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e.into()),
            }
        };
        self.drain_transmit();
        result
    }

    /// Runs a state-changing call and collects what it queued.
    pub(crate) fn act<T>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<T, rfb_core::Error>,
    ) -> Result<T, Failure> {
        let r = f(&mut self.client);
        self.drain_transmit();
        r.map_err(Failure::from)
    }
}

/// Checks a handle pointer.
///
/// # Safety
/// `c` is NULL or points to memory at least as large as an [`RfbClient`] that the caller may
/// read (a live handle, or a freed one whose memory the allocator still maps).
unsafe fn handle<'a>(c: *mut RfbClient) -> Result<&'a mut ClientState, Failure> {
    if c.is_null() {
        return Err(Failure::new(
            RfbStatus::NullArgument,
            "client handle is NULL",
        ));
    }
    // SAFETY: the caller passes a pointer it got from librfb; every librfb handle starts
    // with its magic number, so reading it first is valid for any of them, and it catches
    // pointers to other librfb objects and handles already freed.
    if unsafe { c.cast::<u64>().read() } != CLIENT_MAGIC {
        return Err(Failure::new(
            RfbStatus::InvalidHandle,
            "not a live client handle (freed, or another kind of object)",
        ));
    }
    // SAFETY: the magic number says this is a live client.
    let h = unsafe { &mut (*c.cast::<ClientHandle>()).state };
    if h.poisoned {
        return Err(Failure::new(
            RfbStatus::Panic,
            "the handle is unusable after an internal error; free it",
        ));
    }
    Ok(h)
}

/// Runs `f` on a checked handle inside the panic guard and records any failure message.
///
/// # Safety
/// As [`handle`].
pub(crate) unsafe fn call<T>(
    c: *mut RfbClient,
    f: impl FnOnce(&mut ClientState) -> Result<T, Failure>,
) -> Result<T, Failure> {
    // SAFETY: forwarded contract.
    let h = match unsafe { handle(c) } {
        Ok(h) => h,
        Err(e) => {
            set_last_error(&e.message);
            return Err(e);
        }
    };
    let r = guard(
        |_| {},
        || match &h.failed {
            Some(failed) => Err(failed.clone()),
            None => f(&mut *h),
        },
    );
    if let Err(e) = &r {
        h.error = to_cstring(&e.message);
        if let Some(fp) = &e.fingerprint {
            h.rejected_fingerprint = to_cstring(fp);
        }
        if e.status == RfbStatus::Panic {
            h.poisoned = true;
        }
    }
    r
}

/// Fills `out` with the defaults (shared, no timeout, every encoding, no continuous updates).
///
/// # Safety
/// `out` is NULL or points to writable memory for one `RfbClientOptions`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_options_default(out: *mut RfbClientOptions) -> RfbStatus {
    if out.is_null() {
        set_last_error("options pointer is NULL");
        return RfbStatus::NullArgument;
    }
    let d = RfbClientOptions {
        shared: true,
        handshake_timeout_ms: 0,
        encodings: std::ptr::null(),
        encodings_len: 0,
        continuous_updates: false,
        security_types: std::ptr::null(),
        tls_ca_pem: std::ptr::null(),
        tls_fingerprint: std::ptr::null(),
        tls_server_name: std::ptr::null(),
        ask_server_verification: false,
    };
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { out.write(d) };
    RfbStatus::Ok
}

/// Creates a client at the start of the handshake. `options` may be NULL (defaults);
/// `now_ms` is the caller's monotonic clock in milliseconds (any epoch). Returns NULL on
/// failure, with the reason in `rfb_last_error_message()`.
///
/// # Safety
/// `options` is NULL or points to an initialised `RfbClientOptions` whose `encodings` (when
/// not NULL) points to `encodings_len` readable `int32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_new(
    options: *const RfbClientOptions,
    now_ms: u64,
) -> *mut RfbClient {
    let r = guard(
        |_| {},
        || {
            let mut config = Config {
                continuous_updates: false,
                ..Config::default()
            };
            let mut security = None;
            if !options.is_null() {
                // SAFETY: caller's contract.
                let o = unsafe { &*options };
                config.shared = o.shared;
                config.continuous_updates = o.continuous_updates;
                if o.handshake_timeout_ms > 0 {
                    config.handshake_timeout =
                        Some(Duration::from_millis(u64::from(o.handshake_timeout_ms)));
                }
                if !o.encodings.is_null() {
                    if o.encodings_len > 1024 {
                        return Err(Failure::new(
                            RfbStatus::InvalidArgument,
                            "more than 1024 encodings",
                        ));
                    }
                    // SAFETY: caller's contract.
                    let list = unsafe { std::slice::from_raw_parts(o.encodings, o.encodings_len) };
                    let pixel: Vec<Encoding> =
                        list.iter().map(|&n| Encoding::from_i32(n)).collect();
                    config.encodings = Config::encodings_with_pseudo(&pixel);
                }
                // SAFETY: caller's contract (the strings are NULL or NUL-terminated).
                security = Some(unsafe { crate::security::from_options(o) }?);
            }
            let security = match security {
                Some(s) => s,
                None => crate::security::security(None, None, None, None, false)
                    .map_err(|e| Failure::new(RfbStatus::InvalidArgument, e.to_string()))?,
            };
            security.configure(&mut config);
            let mut client = Client::new(config, Duration::from_millis(now_ms), Box::new(OsRng));
            security
                .register(&mut client)
                .map_err(|e| Failure::new(RfbStatus::InvalidArgument, e.to_string()))?;
            Ok(Box::new(ClientHandle {
                magic: CLIENT_MAGIC,
                state: ClientState {
                    client,
                    fb: Framebuffer::new(0, 0),
                    inbuf: Vec::new(),
                    out: Vec::new(),
                    error: CString::default(),
                    event_text: CString::default(),
                    damage: Vec::new(),
                    poisoned: false,
                    rejected_fingerprint: CString::default(),
                    pending_certificate: None,
                    failed: None,
                },
            }))
        },
    );
    match r {
        Ok(b) => Box::into_raw(b).cast::<RfbClient>(),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Frees a client (NULL is ignored). The handle and every view or string it handed out are
/// invalid afterwards.
///
/// # Safety
/// `c` is NULL or a handle from `rfb_client_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_free(c: *mut RfbClient) {
    if c.is_null() {
        return;
    }
    let _ = guard(
        |_| {},
        || {
            // SAFETY: caller's contract; the magic check refuses double frees while the
            // memory is still mapped.
            if unsafe { c.cast::<u64>().read() } != CLIENT_MAGIC {
                return Err(Failure::new(
                    RfbStatus::InvalidHandle,
                    "not a live client handle",
                ));
            }
            // SAFETY: a live client, as the magic number says.
            let h = c.cast::<ClientHandle>();
            unsafe { (*h).magic = 0 };
            // SAFETY: allocated by `Box::into_raw` in `rfb_client_new`.
            drop(unsafe { Box::from_raw(h) });
            Ok(())
        },
    );
}

/// The state behind a handle that may be poisoned (for the accessors that work then), or
/// None for NULL and non-client pointers.
///
/// # Safety
/// `c` is NULL or a handle from `rfb_client_new`.
pub(crate) unsafe fn peek<'a>(c: *const RfbClient) -> Option<&'a ClientState> {
    if c.is_null() {
        return None;
    }
    // SAFETY: caller's contract; every librfb handle starts with its magic number.
    if unsafe { c.cast::<u64>().read() } != CLIENT_MAGIC {
        return None;
    }
    // SAFETY: a live client, as the magic number says.
    Some(unsafe { &(*c.cast::<ClientHandle>()).state })
}

/// The message of the last failure on this handle ("" if none), valid until the next call
/// on it. Works on poisoned handles; returns "" for NULL or invalid handles.
///
/// # Safety
/// `c` is NULL or a handle from `rfb_client_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_error_message(c: *const RfbClient) -> *const c_char {
    if c.is_null() {
        return c"".as_ptr();
    }
    // SAFETY: caller's contract; every librfb handle starts with its magic number.
    if unsafe { c.cast::<u64>().read() } != CLIENT_MAGIC {
        return c"".as_ptr();
    }
    // SAFETY: a live client, as the magic number says.
    unsafe { (*c.cast::<ClientHandle>()).state.error.as_ptr() }
}

/// Feeds bytes received from the server (any amount, including partial messages; librfb
/// keeps what it cannot use yet). Afterwards send `rfb_client_transmit_peek`'s bytes and
/// drain `rfb_client_poll_event`.
///
/// # Safety
/// `c` is a client handle; `data` points to `len` readable bytes (may be NULL when `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_feed(
    c: *mut RfbClient,
    data: *const u8,
    len: usize,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            let bytes = if len == 0 {
                &[][..]
            } else if data.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "data is NULL"));
            } else {
                // SAFETY: caller's contract.
                std::slice::from_raw_parts(data, len)
            };
            h.feed(bytes)
        })
    })
}

/// Tells the client the server closed the connection (read returned 0). A close between
/// messages gives `RFB_STATUS_OK`; in the middle of the handshake or a message it is an error.
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_handle_eof(c: *mut RfbClient) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            let held = h.inbuf.len();
            h.act(|cl| cl.handle_eof(held))
        })
    })
}

/// Tells the client the caller's clock reads `now_ms` (same epoch as `rfb_client_new`).
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_handle_timeout(c: *mut RfbClient, now_ms: u64) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            h.act(|cl| cl.handle_timeout(Duration::from_millis(now_ms)))
        })
    })
}

/// Writes when `rfb_client_handle_timeout` should next be called (milliseconds on the
/// caller's clock), or `RFB_NO_TIMEOUT`.
///
/// # Safety
/// `c` is a client handle; `at_ms` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_next_timeout(c: *mut RfbClient, at_ms: *mut u64) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            if at_ms.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "at_ms is NULL"));
            }
            let t = h.client.poll_timeout().map_or(RFB_NO_TIMEOUT, |d| {
                u64::try_from(d.as_millis()).unwrap_or(RFB_NO_TIMEOUT)
            });
            // SAFETY: caller's contract.
            at_ms.write(t);
            Ok(())
        })
    })
}

/// Points `*data` at the bytes waiting to be sent and writes their count to `*len` (0 when
/// nothing is pending). The pointer is valid until the next call on this handle. After
/// writing some of them to the socket, call `rfb_client_transmit_consume` with the count.
///
/// # Safety
/// `c` is a client handle; `data` and `len` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_transmit_peek(
    c: *mut RfbClient,
    data: *mut *const u8,
    len: *mut usize,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            if data.is_null() || len.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "data or len is NULL"));
            }
            h.drain_transmit();
            // SAFETY: caller's contract.
            data.write(h.out.as_ptr());
            len.write(h.out.len());
            Ok(())
        })
    })
}

/// Drops the first `n` pending bytes (those the caller has sent).
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_transmit_consume(c: *mut RfbClient, n: usize) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            if n > h.out.len() {
                return Err(Failure::new(
                    RfbStatus::InvalidArgument,
                    format!("consume {n} bytes but only {} are pending", h.out.len()),
                ));
            }
            h.out.drain(..n);
            Ok(())
        })
    })
}

/// The fewest further bytes the client needs before it can make progress (a hint for
/// sizing reads; 0 while waiting for credentials or after a failure).
///
/// # Safety
/// `c` is NULL or a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_bytes_needed(c: *mut RfbClient) -> usize {
    // SAFETY: caller's contract.
    unsafe {
        call(c, |h| {
            Ok(h.client.bytes_needed().saturating_sub(h.inbuf.len()))
        })
    }
    .unwrap_or(0)
}

/// True between the `CONNECTED` event and a failure. False for NULL or invalid handles.
///
/// # Safety
/// `c` is NULL or a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_is_connected(c: *mut RfbClient) -> bool {
    // SAFETY: caller's contract.
    unsafe { call(c, |h| Ok(h.client.is_connected())) }.unwrap_or(false)
}

/// Takes the next event into `*out` (`out->kind` is `RFB_EVENT_KIND_NONE` when none is
/// pending). Text pointers stay valid until the next call on this handle.
///
/// # Safety
/// `c` is a client handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_poll_event(c: *mut RfbClient, out: *mut RfbEvent) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            if out.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "out is NULL"));
            }
            let mut ev = RfbEvent {
                kind: RfbEventKind::None,
                x: 0,
                y: 0,
                width: 0,
                height: 0,
                count: 0,
                flags: 0,
                text: std::ptr::null(),
            };
            let mut text: Option<String> = None;
            if let Some(e) = h.client.poll_event() {
                ev.kind = RfbEventKind::Other;
                match e {
                    Event::Connected(info) => {
                        ev.kind = RfbEventKind::Connected;
                        ev.width = u32::from(info.width);
                        ev.height = u32::from(info.height);
                        text = Some(info.name);
                    }
                    Event::CredentialsRequired(n) => {
                        ev.kind = RfbEventKind::CredentialsRequired;
                        ev.flags = u32::from(n.username)
                            | (u32::from(n.password) << 1)
                            | (u32::from(n.target) << 2);
                    }
                    Event::FramebufferUpdated { damage } => {
                        ev.kind = RfbEventKind::FramebufferUpdated;
                        ev.count = u32::try_from(damage.len()).unwrap_or(u32::MAX);
                        if let Some(first) = damage.first() {
                            let (mut x0, mut y0) = (u32::from(first.x), u32::from(first.y));
                            let (mut x1, mut y1) = (x0, y0);
                            for r in &damage {
                                x0 = x0.min(u32::from(r.x));
                                y0 = y0.min(u32::from(r.y));
                                x1 = x1.max(u32::from(r.x) + u32::from(r.width));
                                y1 = y1.max(u32::from(r.y) + u32::from(r.height));
                            }
                            (ev.x, ev.y, ev.width, ev.height) = (x0, y0, x1 - x0, y1 - y0);
                        }
                        h.damage = damage;
                    }
                    Event::Resized { width, height } => {
                        ev.kind = RfbEventKind::Resized;
                        ev.width = u32::from(width);
                        ev.height = u32::from(height);
                    }
                    Event::Bell => ev.kind = RfbEventKind::Bell,
                    Event::DesktopName(name) => {
                        ev.kind = RfbEventKind::DesktopName;
                        text = Some(name);
                    }
                    Event::ClipboardText(t) => {
                        ev.kind = RfbEventKind::ClipboardText;
                        text = Some(t);
                    }
                    Event::Disconnected { reason } => {
                        ev.kind = RfbEventKind::Disconnected;
                        text = Some(reason);
                    }
                    Event::ServerVerification(identity) => {
                        ev.kind = RfbEventKind::ServerVerification;
                        use rfb_core::security::ServerIdentity as Id;
                        match identity {
                            Id::X509 { fingerprint, .. } => {
                                h.pending_certificate = Some(fingerprint.clone());
                                text = Some(fingerprint);
                            }
                            Id::Rsa {
                                bits, fingerprint, ..
                            } => {
                                ev.flags = 1;
                                ev.width = bits;
                                text = Some(fingerprint);
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            h.drain_transmit();
            if let Some(t) = text {
                h.event_text = to_cstring(&t);
                ev.text = h.event_text.as_ptr();
            }
            // SAFETY: caller's contract.
            out.write(ev);
            Ok(())
        })
    })
}

/// Answers `CREDENTIALS_REQUIRED`. `username` and `password` are NUL-terminated UTF-8 or
/// NULL. Then keep feeding input.
///
/// # Safety
/// `c` is a client handle; strings are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_supply_credentials(
    c: *mut RfbClient,
    username: *const c_char,
    password: *const c_char,
) -> RfbStatus {
    // The same as with a NULL target (one implementation for both entry points).
    // SAFETY: caller's contract, which is the same.
    unsafe {
        crate::security::rfb_client_supply_credentials_target(
            c,
            username,
            password,
            core::ptr::null(),
        )
    }
}

/// Sends a key press (`down` true) or release with an X keysym.
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_send_key(
    c: *mut RfbClient,
    keysym: u32,
    down: bool,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe { call(c, |h| h.act(|cl| cl.send_key(keysym, down))) })
}

/// Sends a key by physical position (XT scancode from `rfb_xt_scancode`) as a QEMU Extended
/// Key Event when the server supports it, else as a plain key event with `keysym`.
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_send_key_scancode(
    c: *mut RfbClient,
    keysym: u32,
    scancode: u16,
    down: bool,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            h.act(|cl| cl.send_key_scancode(keysym, scancode, down).map(|_| ()))
        })
    })
}

/// Moves the pointer to (`x`,`y`) with `buttons` held (bit 0 = left, 1 = middle, 2 = right,
/// 3/4 = wheel up/down, up to 15 buttons where the server supports them).
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_send_pointer(
    c: *mut RfbClient,
    buttons: u16,
    x: u16,
    y: u16,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe { call(c, |h| h.act(|cl| cl.send_pointer_buttons(buttons, x, y))) })
}

/// Sets the server's clipboard to `text` (NUL-terminated UTF-8).
///
/// # Safety
/// `c` is a client handle; `text` is NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_send_clipboard_text(
    c: *mut RfbClient,
    text: *const c_char,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            let t = crate::c_str(text, "text")?;
            h.act(|cl| cl.send_clipboard_text(t))
        })
    })
}

/// Types `text` (NUL-terminated UTF-8) as key presses and releases through keysyms, with
/// Shift where a character needs it. Writes the number of characters without a keysym
/// (skipped) to `*skipped` when it is not NULL.
///
/// # Safety
/// `c` is a client handle; `text` is NUL-terminated; `skipped` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_type_text(
    c: *mut RfbClient,
    text: *const c_char,
    skipped: *mut usize,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            let t = crate::c_str(text, "text")?;
            let n = h.act(|cl| cl.type_text(t, &rfb_keysym::keysym_from_char))?;
            if !skipped.is_null() {
                // SAFETY: caller's contract.
                skipped.write(n);
            }
            Ok(())
        })
    })
}

/// Asks for an update of the whole screen (`incremental` false: everything; true: only
/// changes). Each request is answered by one `FRAMEBUFFER_UPDATED` event.
///
/// # Safety
/// `c` is a client handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_request_update(
    c: *mut RfbClient,
    incremental: bool,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe { call(c, |h| h.act(|cl| cl.request_full_update(incremental))) })
}

/// Describes the client's framebuffer (RGBA8) in `*out`. The memory is owned by the client
/// and valid until the next `rfb_client_feed`, `rfb_client_supply_credentials` or
/// `rfb_client_free` on this handle.
///
/// # Safety
/// `c` is a client handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_framebuffer(
    c: *mut RfbClient,
    out: *mut RfbFramebuffer,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            if out.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "out is NULL"));
            }
            // SAFETY: caller's contract.
            out.write(RfbFramebuffer::of(&h.fb));
            Ok(())
        })
    })
}

/// Copies the framebuffer (RGBA8, top row first) into a caller-owned buffer of `len` bytes
/// with `stride` bytes per row (at least width × 4). `RFB_STATUS_BUFFER_TOO_SMALL` when it
/// does not fit; nothing is written then.
///
/// # Safety
/// `c` is a client handle; `dst` points to `len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_copy_framebuffer(
    c: *mut RfbClient,
    dst: *mut u8,
    len: usize,
    stride: usize,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            if dst.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "dst is NULL"));
            }
            // SAFETY: caller's contract.
            let out = std::slice::from_raw_parts_mut(dst, len);
            copy_rows(&h.fb, out, stride)
        })
    })
}

/// Copies `fb` row by row into `out` with `stride` bytes per row.
pub(crate) fn copy_rows(fb: &Framebuffer, out: &mut [u8], stride: usize) -> Result<(), Failure> {
    let row = fb.stride();
    let rows = usize::from(fb.height());
    let needed = if rows == 0 {
        0
    } else {
        stride
            .checked_mul(rows - 1)
            .and_then(|n| n.checked_add(row))
            .unwrap_or(usize::MAX)
    };
    if stride < row || out.len() < needed {
        return Err(Failure::new(
            RfbStatus::BufferTooSmall,
            format!(
                "a {}x{} framebuffer needs stride >= {row} and {needed} bytes (got stride {stride}, {} bytes)",
                fb.width(),
                fb.height(),
                out.len()
            ),
        ));
    }
    for (y, src) in fb.data().chunks_exact(row.max(1)).take(rows).enumerate() {
        out[y * stride..y * stride + row].copy_from_slice(src);
    }
    Ok(())
}

/// Writes rectangle `index` (0 ≤ index < `count`) of the last `FRAMEBUFFER_UPDATED` event to
/// `*out`; `RFB_STATUS_INVALID_ARGUMENT` past the end.
///
/// # Safety
/// `c` is a client handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_client_damage_rect(
    c: *mut RfbClient,
    index: usize,
    out: *mut RfbRect,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(c, |h| {
            if out.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "out is NULL"));
            }
            let Some(r) = h.damage.get(index) else {
                return Err(Failure::new(
                    RfbStatus::InvalidArgument,
                    format!("the last update has {} rectangles", h.damage.len()),
                ));
            };
            // SAFETY: caller's contract.
            out.write(RfbRect {
                x: r.x,
                y: r.y,
                width: r.width,
                height: r.height,
            });
            Ok(())
        })
    })
}
