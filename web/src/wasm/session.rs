//! The protocol side: rfb-core plus the framebuffer, fed with bytes from the socket.

use std::collections::VecDeque;
use std::time::Duration;

use js_sys::Reflect;
use js_sys::{Array, Uint8Array};
use rfb_core::{
    AudioEvent, AudioFormat, Client, Config, Credentials, Error, Event, Screen, SecurityType,
    XvpAction,
};
use rfb_encodings::{Decoders, Rect};
use wasm_bindgen::prelude::*;

use super::convert;
use super::rng::BrowserRng;
use super::tls;
use crate::deferred::DeferredTarget;

fn ms(now_ms: f64) -> Duration {
    Duration::from_secs_f64((now_ms.max(0.0)) / 1000.0)
}

fn js_err(e: &Error) -> JsError {
    JsError::new(&e.to_string())
}

/// One RFB connection: bytes in, bytes/events/damage out, pixels in wasm memory.
#[wasm_bindgen]
pub struct Session {
    client: Client,
    /// The framebuffer, behind the queue that keeps browser-decoded images in wire order.
    target: DeferredTarget,
    /// Received bytes the core has not consumed yet (less than one message step).
    inbuf: Vec<u8>,
    events: VecDeque<JsValue>,
    /// Damaged rectangles as x, y, w, h quadruples, in wire order.
    damage: Vec<u32>,
    /// Play QEMU audio when the server offers it (option `audio`, default true).
    audio: bool,
    /// A mistake in the page's TLS options, reported when the connection starts.
    config_error: Option<Error>,
}

/// Reads an optional property of the options object.
fn opt(options: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

#[wasm_bindgen]
impl Session {
    /// A new connection. `options` takes noVNC's `shared`, `repeaterID`, and our
    /// `qualityLevel`/`compressionLevel` (0–9) and `tlsServerName`/`tlsCaCertificates`/
    /// `tlsFingerprint` (VeNCrypt, see the `tls` module).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue, now_ms: f64) -> Self {
        let mut config = Config::default();
        if let Some(v) = opt(options, "shared") {
            config.shared = v.as_bool().unwrap_or(true);
        }
        if let Some(id) = opt(options, "repeaterID").and_then(|v| v.as_string())
            && !id.is_empty()
        {
            config.repeater_id = Some(id);
        }
        let audio = opt(options, "audio").is_none_or(|v| v.as_bool() != Some(false));
        // `webcodecs`: rfb.js passes whether ImageDecoder exists and the page allows it.
        let webcodecs = opt(options, "webcodecs").is_some_and(|v| v.as_bool() == Some(true));
        // `h264`: rfb.js passes whether VideoDecoder can decode avc1; only then is Open H.264
        // offered (first, so servers that have it prefer it).
        let h264 = opt(options, "h264").is_some_and(|v| v.as_bool() == Some(true));
        if h264 {
            let mut encodings = Decoders::target_decoded().to_vec();
            encodings.extend(config.encodings.iter().copied());
            config.encodings = encodings;
        }
        // Every type the core runs in a browser, safest-first after the encrypting ones that
        // `tls::configure` puts in front; `securityTypes` (names or numbers, in order of
        // preference) replaces the list.
        config.security_types = vec![
            SecurityType::None,
            SecurityType::VncAuth,
            SecurityType::Xvp,
            SecurityType::Tight,
            SecurityType::AppleArd,
            SecurityType::MsLogonII,
        ];
        let mut types_error = None;
        let explicit_types = match opt(options, "securityTypes").map(|v| security_types(&v)) {
            Some(Ok(types)) => {
                config.security_types = types;
                true
            }
            Some(Err(e)) => {
                types_error = Some(e);
                false
            }
            None => false,
        };
        let string = |key: &str| opt(options, key).and_then(|v| v.as_string());
        let tls_options = tls::TlsOptions {
            explicit_types,
            server_name: string("tlsServerName"),
            ca_pem: string("tlsCaCertificates").filter(|s| !s.trim().is_empty()),
            fingerprint: string("tlsFingerprint").filter(|s| !s.trim().is_empty()),
        };
        let (factory, config_error) = match tls::configure(&tls_options, &mut config) {
            Ok(f) => (Some(f), types_error),
            Err(e) => (None, Some(e)),
        };
        let mut client = Client::new(config, ms(now_ms), Box::new(BrowserRng));
        if let Some(f) = factory {
            tls::register(&mut client, f);
        }
        // Levels are queued and sent once connected.
        let quality = opt(options, "qualityLevel").and_then(|v| v.as_f64());
        let compression = opt(options, "compressionLevel").and_then(|v| v.as_f64());
        let _ = client.set_quality_level(quality.map(|q| q.clamp(0.0, 9.0) as u8));
        let _ = client.set_compress_level(compression.map(|c| c.clamp(0.0, 9.0) as u8));
        let mut target = DeferredTarget::new(webcodecs);
        if h264 {
            target.enable_video();
        }
        Self {
            client,
            target,
            inbuf: Vec::new(),
            events: VecDeque::new(),
            damage: Vec::new(),
            audio,
            config_error,
        }
    }

    /// Bytes from the server. A fatal protocol error is returned (and also queued as a
    /// `disconnect` event with its reason).
    pub fn feed(&mut self, data: &[u8], now_ms: f64) -> Result<(), JsError> {
        if let Some(e) = &self.config_error {
            self.events.push_back(security_failure(&e.to_string()));
            return Err(js_err(e));
        }
        self.inbuf.extend_from_slice(data);
        let mut start = 0;
        let result = loop {
            if start == self.inbuf.len() {
                break Ok(());
            }
            match self
                .client
                .handle_input(&self.inbuf[start..], &mut self.target)
            {
                Ok(0) => break Ok(()),
                Ok(n) => start += n,
                Err(e) => break Err(e),
            }
            self.drain_events();
        };
        self.inbuf.drain(..start);
        let _ = self.client.handle_timeout(ms(now_ms));
        self.drain_events();
        result.map_err(|e| js_err(&e))
    }

    /// The server closed the connection.
    pub fn eof(&mut self) {
        let _ = self.client.handle_eof(self.inbuf.len());
        self.drain_events();
    }

    /// Bytes to send to the server, all queued messages concatenated.
    pub fn take_output(&mut self) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        while let Some(bytes) = self.client.poll_transmit() {
            match &mut out {
                Some(o) => o.extend_from_slice(&bytes),
                None => out = Some(bytes),
            }
        }
        out
    }

    /// The next event object, or `undefined`.
    pub fn poll_event(&mut self) -> JsValue {
        self.events.pop_front().unwrap_or(JsValue::UNDEFINED)
    }

    /// Damaged rectangles since the last call, as `[x, y, w, h, ...]`. Empty while an
    /// image is being decoded by the browser: the framebuffer is painted only when it is
    /// consistent with everything received.
    pub fn take_damage(&mut self) -> Vec<u32> {
        if self.target.is_idle() {
            std::mem::take(&mut self.damage)
        } else {
            Vec::new()
        }
    }

    /// Images to decode with `ImageDecoder`: `[{id, x, y, width, height, data}]`; answer each
    /// with `complete_image` or `fail_image`.
    pub fn take_images(&mut self) -> Array {
        let out = Array::new();
        for job in self.target.take_jobs() {
            let Rect {
                x,
                y,
                width,
                height,
            } = job.rect;
            out.push(&convert::obj(&[
                ("id", JsValue::from(job.id)),
                ("x", JsValue::from(x)),
                ("y", JsValue::from(y)),
                ("width", JsValue::from(width)),
                ("height", JsValue::from(height)),
                ("data", Uint8Array::from(job.data.as_slice()).into()),
            ]));
        }
        out
    }

    /// Open H.264 rectangles for VideoDecoder: `[{id, x, y, width, height, flags, codec,
    /// units: [{data, key}]}]`; answer each with `complete_video`.
    pub fn take_video(&mut self) -> Array {
        let out = Array::new();
        for job in self.target.take_video_jobs() {
            let units = Array::new();
            for (data, key) in &job.units {
                units.push(&convert::obj(&[
                    ("data", Uint8Array::from(data.as_slice()).into()),
                    ("key", JsValue::from_bool(*key)),
                ]));
            }
            out.push(&convert::obj(&[
                ("id", JsValue::from(job.id)),
                ("x", JsValue::from(job.rect.x)),
                ("y", JsValue::from(job.rect.y)),
                ("width", JsValue::from(job.rect.width)),
                ("height", JsValue::from(job.rect.height)),
                ("flags", JsValue::from(job.flags)),
                (
                    "codec",
                    job.codec.map_or(JsValue::NULL, |c| JsValue::from_str(&c)),
                ),
                ("units", units.into()),
            ]));
        }
        out
    }

    /// VideoDecoder finished rectangle `id`: its last picture (RGBA of the rectangle's
    /// size), or `undefined` when there is nothing to draw.
    pub fn complete_video(&mut self, id: u32, rgba: Option<Vec<u8>>) {
        self.target.complete_video(id, rgba);
    }

    /// The browser decoded image `id` to RGBA.
    pub fn complete_image(&mut self, id: u32, rgba: Vec<u8>) {
        self.target.complete(id, rgba);
    }

    /// The browser could not decode image `id`: the Rust decoder does it.
    pub fn fail_image(&mut self, id: u32) {
        self.target.fail(id);
    }

    /// True when no image or video decode is outstanding: the framebuffer is consistent with
    /// everything fed so far.
    pub fn idle(&self) -> bool {
        self.target.is_idle()
    }

    /// Images decoded in Rust because the browser failed or the queue hit its budget.
    pub fn image_fallbacks(&self) -> u32 {
        self.target.fallbacks
    }

    /// Images the browser decoded.
    pub fn images_decoded_by_browser(&self) -> u32 {
        self.target.browser_decoded
    }

    /// Address of the RGBA framebuffer in wasm memory (`width * 4` bytes per row).
    pub fn fb_ptr(&self) -> u32 {
        self.target.framebuffer().data().as_ptr() as usize as u32
    }

    /// Framebuffer width.
    pub fn fb_width(&self) -> u32 {
        u32::from(self.target.framebuffer().width())
    }

    /// Framebuffer height.
    pub fn fb_height(&self) -> u32 {
        u32::from(self.target.framebuffer().height())
    }

    /// When `handle_timeout` is due, in the same milliseconds as `now_ms`, or -1.
    pub fn timeout_ms(&self) -> f64 {
        self.client
            .poll_timeout()
            .map_or(-1.0, |d| d.as_secs_f64() * 1000.0)
    }

    /// The driver's clock reached `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: f64) {
        let _ = self.client.handle_timeout(ms(now_ms));
        self.drain_events();
    }

    /// Answers `credentialsrequired`.
    pub fn send_credentials(
        &mut self,
        username: Option<String>,
        password: Option<String>,
        target: Option<String>,
    ) -> Result<(), JsError> {
        let creds = Credentials {
            username,
            password,
            target,
        };
        let r = self.client.supply_credentials(&creds);
        self.drain_events();
        r.map_err(|e| js_err(&e))
    }

    /// Answers `serververification`: the certificate (or key) is trusted, authentication goes
    /// on with what the server sent meanwhile. To refuse, close the connection instead.
    pub fn approve_server(&mut self, now_ms: f64) -> Result<(), JsError> {
        let r = self.client.approve_server();
        self.drain_events();
        r.map_err(|e| js_err(&e))?;
        // Plaintext that arrived while waiting is held inside the client: one call with
        // whatever is buffered (possibly nothing) lets it through.
        let r = self
            .client
            .handle_input(&self.inbuf, &mut self.target)
            .map(|n| {
                self.inbuf.drain(..n);
            });
        self.drain_events();
        r.map_err(|e| js_err(&e))?;
        self.feed(&[], now_ms)
    }

    /// A key press or release: the QEMU extended key event when the server supports it and
    /// `scancode` ≥ 0, otherwise a KeyEvent (dropped when `keysym` is 0).
    pub fn send_key(&mut self, keysym: u32, scancode: i32, down: bool) {
        if let Ok(sc) = u16::try_from(scancode) {
            let _ = self.client.send_key_scancode(keysym, sc, down);
        } else if keysym != 0 {
            let _ = self.client.send_key(keysym, down);
        }
    }

    /// A pointer event with an RFB button mask (bits 7+ need ExtendedMouseButtons).
    pub fn send_pointer(&mut self, x: u16, y: u16, mask: u16) {
        let _ = self.client.send_pointer_buttons(mask, x, y);
    }

    /// Changes the JPEG quality level (0–9) at run time.
    pub fn set_quality_level(&mut self, level: u8) {
        let _ = self.client.set_quality_level(Some(level.min(9)));
    }

    /// Changes the compression level (0–9) at run time.
    pub fn set_compression_level(&mut self, level: u8) {
        let _ = self.client.set_compress_level(Some(level.min(9)));
    }

    /// Sends clipboard text to the server.
    pub fn clipboard_paste_from(&mut self, text: &str) {
        let _ = self.client.send_clipboard_text(text);
    }

    /// Asks the server for a new desktop size (SetDesktopSize, keeping the screen ids of the
    /// current layout where possible). Errors when the server has no ExtendedDesktopSize.
    pub fn request_resize(&mut self, width: u16, height: u16) -> Result<(), JsError> {
        self.client
            .set_desktop_size(width, height, &[])
            .map_err(|e| js_err(&e))
    }

    /// Asks for a multi-screen layout: `screens` is `[id, x, y, width, height, ...]`.
    /// Errors for an invalid layout or a server without ExtendedDesktopSize.
    pub fn request_layout(
        &mut self,
        width: u16,
        height: u16,
        screens: &[u32],
    ) -> Result<(), JsError> {
        let mut layout = Vec::new();
        for s in screens.chunks_exact(5) {
            let n = |v: u32| u16::try_from(v).map_err(|_| JsError::new("screen field too large"));
            layout.push(Screen::new(s[0], n(s[1])?, n(s[2])?, n(s[3])?, n(s[4])?));
        }
        self.client
            .set_desktop_size(width, height, &layout)
            .map_err(|e| js_err(&e))
    }

    /// An XVP power action: 2 shutdown, 3 reboot, 4 reset.
    pub fn xvp(&mut self, op: u8) {
        let action = match op {
            2 => XvpAction::Shutdown,
            3 => XvpAction::Reboot,
            4 => XvpAction::Reset,
            _ => return,
        };
        let _ = self.client.xvp(action);
    }

    /// Types `text` as key presses (paste as keystrokes, for servers without a clipboard,
    /// such as QEMU); returns how many characters had no keysym.
    pub fn type_text(&mut self, text: &str) -> u32 {
        self.client
            .type_text(text, &rfb_keysym::keysym_from_char)
            .map_or(0, |n| n as u32)
    }

    /// Whether the session is past ServerInit.
    pub fn connected(&self) -> bool {
        self.client.is_connected()
    }

    fn drain_events(&mut self) {
        while let Some(ev) = self.client.poll_event() {
            if let Event::FramebufferUpdated { damage } = &ev {
                for r in damage {
                    self.damage.extend([
                        u32::from(r.x),
                        u32::from(r.y),
                        u32::from(r.width),
                        u32::from(r.height),
                    ]);
                }
                continue;
            }
            if self.audio && matches!(ev, Event::Audio(AudioEvent::Supported)) {
                // Signed 16-bit stereo at 44.1 kHz: what WebAudio resamples cheaply and what
                // the main thread's player expects.
                let _ = self.client.set_audio_format(AudioFormat::CD);
                let _ = self.client.enable_audio();
            }
            if matches!(ev, Event::Disconnected { .. })
                && let Some(reason) = self.client.error().and_then(security_reason)
            {
                self.events.push_back(security_failure(&reason));
            }
            if let Some(js) = convert::event(ev) {
                self.events.push_back(js);
            }
        }
    }
}

/// noVNC's `securityfailure` event.
fn security_failure(reason: &str) -> JsValue {
    convert::obj(&[
        ("type", JsValue::from_str("securityfailure")),
        ("status", JsValue::from_f64(1.0)),
        ("reason", JsValue::from_str(reason)),
    ])
}

/// The reason to report as `securityfailure` when `e` ended the connection in security:
/// wrong credentials, a rejected certificate, a failed TLS handshake, refused anonymous TLS.
fn security_reason(e: &Error) -> Option<String> {
    match e {
        Error::AuthFailed { reason } => Some(reason.clone()),
        Error::CertificateRejected { .. } | Error::Tls { .. } => Some(e.to_string()),
        Error::Unsupported(m) if m == tls::ANONYMOUS_REFUSED => Some(m.clone()),
        _ => None,
    }
}

/// The `securityTypes` option: an array (or comma-separated string) of type names as the CLI
/// spells them (`vencrypt`, `ra2ne`, `vncauth`, ...) or numbers, most preferred first.
fn security_types(value: &JsValue) -> Result<Vec<SecurityType>, Error> {
    let items: Vec<String> = if let Some(s) = value.as_string() {
        s.split(',').map(|p| p.trim().to_owned()).collect()
    } else if Array::is_array(value) {
        Array::from(value)
            .iter()
            .map(|v| {
                v.as_string()
                    .or_else(|| v.as_f64().map(|n| format!("{n}")))
                    .unwrap_or_default()
            })
            .collect()
    } else {
        return Err(Error::ApiMisuse(
            "securityTypes must be an array of names or numbers",
        ));
    };
    let types: Vec<SecurityType> = items
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            SecurityType::from_name(&s.to_ascii_lowercase().replace('_', "-")).ok_or(
                Error::ApiMisuse("securityTypes names an unknown security type"),
            )
        })
        .collect::<Result<_, _>>()?;
    if types.is_empty() {
        return Err(Error::ApiMisuse("securityTypes is empty"));
    }
    Ok(types)
}
