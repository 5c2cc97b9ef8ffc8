//! The clipboard: the Extended Clipboard pseudo-encoding (0xC0A1E5CE) with its caps, request,
//! peek, notify and provide actions, the legacy Latin-1 ServerCutText / ClientCutText it falls
//! back to, and paste-as-keystrokes for servers without a clipboard.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#extended-clipboard-pseudo-encoding>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#servercuttext>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#clientcuttext>.
//!
//! # Behaviour (decisions the spec leaves open)
//!
//! - **Negotiation.** [`crate::Config::default`] offers the pseudo-encoding. The extended path is
//!   in use once the server has sent its *caps*; the client answers every server *caps* with its
//!   own: formats text, RTF and HTML; actions request, peek, notify and provide; and a maximum
//!   unsolicited size of 0 for each format, as the spec recommends, so a server announces
//!   changes with *notify* instead of pushing data.
//! - **Notify.** When the server announces formats the client keeps (text, RTF, HTML), the core
//!   requests them at once, as noVNC does for text, and reports [`ClipboardEvent::Notify`].
//!   [`crate::Client::request_clipboard`] asks explicitly (e.g. right after connecting).
//! - **Provide.** The zlib stream of each *provide* is inflated into at most
//!   [`crate::Limits::max_cut_text`] bytes in all, whether the data was requested or not (some
//!   servers ignore announced sizes, as the spec warns). Each *size* field is checked before
//!   anything is allocated for it. Text, RTF and HTML are kept; DIB, files and unknown format
//!   bits are skipped. A message that is too large, malformed, or inflates past the limit is
//!   ignored as a whole and reported as [`ClipboardEvent::Ignored`] with a typed
//!   [`ClipboardError`]: its length field framed it, so the connection stays usable. A message
//!   whose *length* exceeds the limit is skipped as it streams past, never buffered.
//! - **Text.** UTF-8 on the wire with CRLF line ends and a terminating NUL. Received text ends at
//!   its first NUL (a missing NUL is tolerated: the size delimits it), invalid UTF-8 sequences
//!   become U+FFFD, and CRLF becomes LF. Sent text has every LF (and CRLF) written as CRLF and a
//!   NUL appended.
//! - **Legacy.** Without the extension (or before the server's caps arrive) text goes out as
//!   ClientCutText in Latin-1 with LF line ends: CRLF becomes LF and every character outside
//!   Latin-1 becomes one `?`. Received legacy text is decoded from Latin-1 byte for byte.
//! - **Sending.** Data goes out as a *provide* when the server's caps accept every format
//!   present at its size unsolicited, otherwise as a *notify* (TigerVNC announces 0 bytes, so
//!   it always gets a *notify* and requests the data when an X client asks for it). Each
//!   *provide* carries its own zlib stream ended by a sync flush rather than the end marker,
//!   as TigerVNC sends them, because LibVNCServer rejects the end marker. A server whose caps
//!   accept *provide* but not *notify* (LibVNCServer/x11vnc) gets the text as legacy
//!   ClientCutText first and the *provide* after: x11vnc drops extended data (no UTF-8 hook)
//!   but applies the legacy copy.
//! - **Our clipboard.** The last data given to [`crate::Client::send_clipboard`] is kept to
//!   answer the server's *request* and *peek*; the server's *request* is answered
//!   automatically.

mod session;
mod text;
mod typing;
mod wire;

use crate::client::Client;
use crate::error::Error;
use crate::event::Event;
use crate::messages::client as legacy;

pub use text::{from_wire_text, to_legacy_text, to_wire_text};
pub use typing::{KEYSYM_RETURN, KEYSYM_SHIFT_L, KEYSYM_TAB, Keystroke, keystrokes};
pub use wire::{Message, encode, parse_message};

/// Format bits (bits 0–15 of *flags*).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Formats(pub u32);

impl Formats {
    /// Plain UTF-8 text (bit 0).
    pub const TEXT: Self = Self(1);
    /// Microsoft Rich Text Format (bit 1).
    pub const RTF: Self = Self(1 << 1);
    /// Microsoft HTML clipboard fragment (bit 2).
    pub const HTML: Self = Self(1 << 2);
    /// Device-independent bitmap v5 (bit 3): recognised and skipped.
    pub const DIB: Self = Self(1 << 3);
    /// Files (bit 4, reserved by the spec): skipped.
    pub const FILES: Self = Self(1 << 4);
    /// The formats this client keeps.
    pub const KEPT: Self = Self(0b111);
    /// No format.
    pub const NONE: Self = Self(0);

    /// Only the format bits (0–15) of a *flags* word.
    pub const fn from_flags(flags: u32) -> Self {
        Self(flags & 0xffff)
    }
    /// True when every bit of `other` is set here.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    /// Bits set in both.
    pub const fn intersect(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
    /// True when no format bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The single-bit formats set, lowest bit first (the order of *sizes* and *provide* data).
    pub fn iter(self) -> impl Iterator<Item = Self> {
        (0..16)
            .map(|b| Self(1 << b))
            .filter(move |f| self.contains(*f))
    }
}

impl core::ops::BitOr for Formats {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl core::fmt::Debug for Formats {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names = ["text", "rtf", "html", "dib", "files"];
        let mut l = f.debug_set();
        for b in 0..16 {
            if self.0 & (1 << b) != 0 {
                match names.get(b) {
                    Some(n) => l.entry(&format_args!("{n}")),
                    None => l.entry(&format_args!("bit{b}")),
                };
            }
        }
        l.finish()
    }
}

/// Action bits (bits 24–31 of *flags*).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct Actions(pub u32);

impl Actions {
    /// *caps* (bit 24).
    pub const CAPS: Self = Self(1 << 24);
    /// *request* (bit 25).
    pub const REQUEST: Self = Self(1 << 25);
    /// *peek* (bit 26).
    pub const PEEK: Self = Self(1 << 26);
    /// *notify* (bit 27).
    pub const NOTIFY: Self = Self(1 << 27);
    /// *provide* (bit 28).
    pub const PROVIDE: Self = Self(1 << 28);

    /// Only the action bits (24–31) of a *flags* word.
    pub const fn from_flags(flags: u32) -> Self {
        Self(flags & 0xff00_0000)
    }
    /// True when every bit of `other` is set here.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for Actions {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A peer's *caps*: the formats and actions it is willing to receive and, per format, the
/// largest data it accepts unsolicited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caps {
    /// Formats it accepts.
    pub formats: Formats,
    /// Actions it accepts.
    pub actions: Actions,
    /// `(format, maximum unsolicited size)` for each format in `formats`, lowest bit first.
    pub max_sizes: Vec<(Formats, u32)>,
}

impl Caps {
    /// The maximum unsolicited size announced for one format (`None` if not accepted).
    pub fn max_size(&self, format: Formats) -> Option<u32> {
        self.max_sizes
            .iter()
            .find(|(f, _)| *f == format)
            .map(|(_, s)| *s)
    }

    /// What this client announces: text, RTF and HTML; request, peek, notify and provide;
    /// unsolicited sizes 0 (see the module documentation).
    pub fn ours() -> Self {
        Self {
            formats: Formats::KEPT,
            actions: Actions::REQUEST | Actions::PEEK | Actions::NOTIFY | Actions::PROVIDE,
            max_sizes: Formats::KEPT.iter().map(|f| (f, 0)).collect(),
        }
    }
}

/// Clipboard contents in the formats this client handles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClipboardData {
    /// Plain text with LF line ends.
    pub text: Option<String>,
    /// RTF, as sent (bytes, no conversion).
    pub rtf: Option<Vec<u8>>,
    /// HTML clipboard fragment, as sent (bytes, no conversion).
    pub html: Option<Vec<u8>>,
}

impl ClipboardData {
    /// Text only.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// The formats present.
    pub fn formats(&self) -> Formats {
        let mut f = Formats::NONE;
        if self.text.is_some() {
            f = f | Formats::TEXT;
        }
        if self.rtf.is_some() {
            f = f | Formats::RTF;
        }
        if self.html.is_some() {
            f = f | Formats::HTML;
        }
        f
    }

    /// The bytes one format takes on the wire inside *provide* (text converted), if present.
    pub fn wire_bytes(&self, format: Formats) -> Option<Vec<u8>> {
        match format {
            Formats::TEXT => self.text.as_deref().map(to_wire_text),
            Formats::RTF => self.rtf.clone(),
            Formats::HTML => self.html.clone(),
            _ => None,
        }
    }
}

/// Why an extended clipboard message was ignored. The message was framed by its length, so
/// the connection goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClipboardError {
    /// The message's *length* (compressed bytes) exceeds [`crate::Limits::max_cut_text`].
    #[error("extended clipboard message of {len} bytes exceeds the limit of {limit}")]
    MessageTooLarge {
        /// The length sent.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// The *provide* data inflates (or a *size* field claims) past the limit.
    #[error("clipboard data inflates past the limit of {limit} bytes")]
    InflatedTooLarge {
        /// The limit.
        limit: u64,
    },
    /// The message is shorter than its *flags*, *sizes* or *provide* pairs need.
    #[error("extended clipboard message truncated: {0}")]
    Truncated(&'static str),
    /// More than one action bit without *caps*, or none at all.
    #[error("extended clipboard flags {flags:#010x} name no single action")]
    BadActions {
        /// The *flags* word.
        flags: u32,
    },
    /// The zlib stream is corrupt.
    #[error("clipboard zlib stream: {0}")]
    Zlib(String),
}

/// Extended clipboard happenings, reported as [`Event::Clipboard`]. Text the server provides
/// is also reported as [`Event::ClipboardText`], by either path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClipboardEvent {
    /// The server's caps arrived (the extended path is now in use); ours were sent back.
    ServerCaps(Caps),
    /// The server's clipboard changed and holds these formats; the kept ones were requested.
    Notify(Formats),
    /// The server provided data (text, RTF and HTML that were present).
    Provide(ClipboardData),
    /// The server asked for our clipboard in these formats and was answered.
    Request(Formats),
    /// The server asked which formats we hold and was answered with a *notify*.
    Peek,
    /// A message was ignored.
    Ignored(ClipboardError),
}

/// Largest format accepted by [`Client::send_clipboard`]; with CRLF expansion (at most 2×)
/// a provide stays below `i32::MAX`.
const MAX_SEND: usize = 256 << 20;

/// Clipboard state kept by the client.
#[derive(Debug, Default)]
pub(crate) struct ClipboardState {
    /// The server's caps, once received: the extended path is in use.
    pub(crate) server_caps: Option<Caps>,
    /// Our clipboard, to answer *request* and *peek*.
    pub(crate) ours: Option<ClipboardData>,
}

impl Client {
    /// True when the Extended Clipboard pseudo-encoding is offered in the current encodings.
    pub(crate) fn extended_clipboard_offered(&self) -> bool {
        self.config
            .encodings
            .contains(&rfb_encodings::Encoding::ExtendedClipboard)
    }

    /// True once the server's caps have arrived: clipboard messages use the extended format.
    pub fn extended_clipboard_active(&self) -> bool {
        self.clipboard.server_caps.is_some()
    }

    /// The server's Extended Clipboard caps, once received.
    pub fn server_clipboard_caps(&self) -> Option<&Caps> {
        self.clipboard.server_caps.as_ref()
    }

    /// Acts on one complete extended ServerCutText body (after the length field).
    pub(crate) fn handle_extended_clipboard(&mut self, body: &[u8]) {
        let limit = self.config.limits.max_cut_text as usize;
        let ev = match parse_message(body, limit) {
            Err(e) => ClipboardEvent::Ignored(e),
            Ok(Message::Caps(caps)) => {
                self.clipboard.server_caps = Some(caps.clone());
                self.queue_extended(&Message::Caps(Caps::ours()));
                ClipboardEvent::ServerCaps(caps)
            }
            Ok(Message::Request(f)) => {
                let data = self.clipboard.ours.clone().unwrap_or_default();
                self.queue_extended(&Message::Provide(data, f));
                ClipboardEvent::Request(f)
            }
            Ok(Message::Peek) => {
                let f = self
                    .clipboard
                    .ours
                    .as_ref()
                    .map_or(Formats::NONE, ClipboardData::formats);
                self.queue_extended(&Message::Notify(f));
                ClipboardEvent::Peek
            }
            Ok(Message::Notify(f)) => {
                let want = f.intersect(Formats::KEPT);
                if !want.is_empty() && self.server_accepts(Actions::REQUEST) {
                    self.queue_extended(&Message::Request(want));
                }
                ClipboardEvent::Notify(f)
            }
            Ok(Message::Provide(data, _)) => {
                if let Some(t) = &data.text {
                    self.events.push_back(Event::ClipboardText(t.clone()));
                }
                ClipboardEvent::Provide(data)
            }
        };
        self.events.push_back(Event::Clipboard(ev));
    }

    fn server_accepts(&self, a: Actions) -> bool {
        self.clipboard
            .server_caps
            .as_ref()
            .is_some_and(|c| c.actions.contains(a))
    }

    fn queue_extended(&mut self, m: &Message) {
        let mut b = Vec::new();
        encode(&mut b, m);
        self.queue(&b);
    }

    /// Sets our clipboard and tells the server. With the extended path: a *provide* when the
    /// server accepts every format present at its size unsolicited, else a *notify* (the server
    /// then requests it; the data is kept to answer). Without it: legacy ClientCutText with
    /// the text in Latin-1 (see the module documentation for the replacement rule).
    pub fn send_clipboard(&mut self, data: ClipboardData) -> Result<(), Error> {
        self.require_session()?;
        // Keeps every encoded length far inside the signed 32-bit length field.
        if [
            data.text.as_ref().map(String::len),
            data.rtf.as_ref().map(Vec::len),
            data.html.as_ref().map(Vec::len),
        ]
        .into_iter()
        .flatten()
        .any(|n| n > MAX_SEND)
        {
            return Err(Error::ApiMisuse("clipboard data over 256 MiB per format"));
        }
        let caps = self.clipboard.server_caps.clone();
        self.clipboard.ours = Some(data.clone());
        let Some(caps) = caps else {
            self.queue_legacy_text(&data);
            return Ok(());
        };
        let formats = data.formats().intersect(caps.formats);
        let fits = formats.iter().all(|f| {
            let len = data.wire_bytes(f).map_or(0, |b| b.len() as u64);
            caps.max_size(f).is_some_and(|max| len <= u64::from(max))
        });
        if caps.actions.contains(Actions::PROVIDE) && fits {
            if !caps.actions.contains(Actions::NOTIFY) {
                // LibVNCServer (x11vnc) announces provide without notify, then drops extended
                // data unless the application installed a UTF-8 hook, which x11vnc does not.
                // Legacy text first, extended after: such a server keeps the Latin-1 text,
                // one that handles both ends with the UTF-8 text.
                self.queue_legacy_text(&data);
            }
            self.queue_extended(&Message::Provide(data, formats));
        } else if caps.actions.contains(Actions::NOTIFY) {
            self.queue_extended(&Message::Notify(formats));
        } else {
            self.queue_legacy_text(&data);
        }
        Ok(())
    }

    fn queue_legacy_text(&mut self, data: &ClipboardData) {
        let mut b = Vec::new();
        legacy::client_cut_text(&mut b, &to_legacy_text(data.text.as_deref().unwrap_or("")));
        self.queue(&b);
    }

    /// Sets our clipboard to `text` (see [`Client::send_clipboard`]).
    pub fn send_clipboard_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_clipboard(ClipboardData::text(text))
    }

    /// Asks the server for its clipboard in `formats` (extended path only; the answer arrives
    /// as [`ClipboardEvent::Provide`] and [`Event::ClipboardText`]). Returns
    /// [`Error::ApiMisuse`] before the server's caps arrived or when it accepts no *request*.
    pub fn request_clipboard(&mut self, formats: Formats) -> Result<(), Error> {
        self.require_session()?;
        if !self.server_accepts(Actions::REQUEST) {
            return Err(Error::ApiMisuse(
                "the server has not announced Extended Clipboard requests",
            ));
        }
        self.queue_extended(&Message::Request(formats));
        Ok(())
    }

    /// Asks the server which formats its clipboard holds (answered by a *notify*).
    pub fn peek_clipboard(&mut self) -> Result<(), Error> {
        self.require_session()?;
        if !self.server_accepts(Actions::PEEK) {
            return Err(Error::ApiMisuse(
                "the server has not announced Extended Clipboard peeks",
            ));
        }
        self.queue_extended(&Message::Peek);
        Ok(())
    }

    /// Types `text` as KeyEvents (paste for servers without a clipboard, such as QEMU). See
    /// [`keystrokes`] for the mapping; `keysym_of` maps a character to its X keysym (0 when it
    /// has none, e.g. `rfb_keysym::keysym_from_char`). Returns the number of characters
    /// skipped because they have no keysym.
    pub fn type_text(
        &mut self,
        text: &str,
        keysym_of: &dyn Fn(char) -> u32,
    ) -> Result<usize, Error> {
        self.require_session()?;
        let (keys, skipped) = keystrokes(text, keysym_of);
        let mut b = Vec::with_capacity(keys.len() * 8);
        for k in keys {
            legacy::key_event(&mut b, k.keysym, k.down);
        }
        self.queue(&b);
        Ok(skipped)
    }
}
