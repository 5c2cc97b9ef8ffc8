//! Events the client reports to its driver, drained with [`crate::Client::poll_event`].

use rfb_encodings::{CursorImage, PixelFormat, Rect};

use crate::security::{CredentialsNeeded, SecurityType, ServerIdentity};
use crate::version::Version;

/// What the server told us during the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server's version string as sent, e.g. `RFB 003.889`.
    pub server_version: String,
    /// The version this client speaks with it.
    pub version: Version,
    /// Security types the server offered (for 3.3, the one it chose).
    pub security_types: Vec<SecurityType>,
    /// The type used.
    pub security: SecurityType,
    /// Desktop name (UTF-8, with lossy fallback for other encodings).
    pub name: String,
    /// Framebuffer width.
    pub width: u16,
    /// Framebuffer height.
    pub height: u16,
    /// The server's native pixel format from ServerInit.
    pub server_pixel_format: PixelFormat,
    /// The pixel format rectangles arrive in (the requested one, or the native one).
    pub pixel_format: PixelFormat,
}

/// Something the driver should know about. Drain all of them after every call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server's version was read and ours chosen.
    ProtocolVersion {
        /// The server's string without the newline, e.g. `RFB 003.008`.
        server: String,
        /// The version chosen.
        version: Version,
    },
    /// The security types the server offers (3.7+), or the one it imposes (3.3).
    SecurityTypes(Vec<SecurityType>),
    /// The chosen security type needs these credentials: call
    /// [`crate::Client::supply_credentials`].
    CredentialsRequired(CredentialsNeeded),
    /// The server presented an identity nothing configured could verify (an X.509
    /// certificate without a CA or pin): nothing more is sent until the driver
    /// calls [`crate::Client::approve_server`]; to refuse, drop the connection.
    ServerVerification(ServerIdentity),
    /// Authentication succeeded.
    SecurityResultOk,
    /// ServerInit arrived: the session is ready for input and requests.
    Connected(ServerInfo),
    /// A FramebufferUpdate finished; these rectangles changed (in wire order).
    FramebufferUpdated {
        /// Damaged rectangles (pseudo-rectangles excluded).
        damage: Vec<Rect>,
    },
    /// The framebuffer changed size (DesktopSize); the driver's target was already resized.
    Resized {
        /// New width.
        width: u16,
        /// New height.
        height: u16,
    },
    /// A new cursor shape (Cursor pseudo-encoding).
    Cursor(CursorImage),
    /// SetColourMapEntries changed these entries.
    ColourMapUpdated {
        /// First entry changed.
        first: u16,
        /// Number of entries changed.
        count: u16,
    },
    /// The server rang the bell.
    Bell,
    /// An ExtendedDesktopSize rectangle: the full screen layout and, for this client's own
    /// SetDesktopSize, whether it succeeded. A size change also produces [`Event::Resized`].
    ScreenLayout(crate::screen::LayoutChange),
    /// The desktop name changed (DesktopName pseudo-encoding).
    DesktopName(String),
    /// The server moved the pointer to this position (PointerPos pseudo-encoding).
    PointerPosition {
        /// Horizontal position.
        x: u16,
        /// Vertical position.
        y: u16,
    },
    /// The server acknowledged ExtendedMouseButtons: buttons 8 and up can be sent.
    ExtendedMouseButtons,
    /// An xvp server message: power control available (Init) or an operation failed.
    Xvp(crate::extras::XvpMessage),
    /// The server answered one of this client's fences.
    FenceResponse {
        /// The flags the server kept (Request cleared).
        flags: crate::fence::FenceFlags,
        /// The payload sent with the request.
        payload: Vec<u8>,
    },
    /// A ServerFence with a payload over the spec's 64 bytes was read and ignored.
    FenceIgnored,
    /// The server supports continuous updates (its first EndOfContinuousUpdates).
    ContinuousUpdatesSupported,
    /// Continuous updates were enabled (EnableContinuousUpdates sent).
    ContinuousUpdatesStarted,
    /// The server sent EndOfContinuousUpdates after the first: updates follow requests again.
    ContinuousUpdatesEnded {
        /// True when continuous updates were on until now.
        was_active: bool,
    },
    /// The server acknowledged QEMU Extended Key Event (-258):
    /// [`crate::Client::send_key_scancode`] now sends keys as scancodes.
    QemuExtendedKeyEvents,
    /// The server's lock-key LEDs (QEMU or VMware LED State), sent at start and on changes:
    /// a driver toggles its local lock keys to match.
    LedState {
        /// Which locks are on.
        state: crate::qemu::LedState,
        /// Which pseudo-encoding carried it.
        source: crate::qemu::LedSource,
    },
    /// QEMU Audio: acknowledgement, stream begin/end and PCM data ([`crate::qemu`]).
    Audio(crate::qemu::AudioEvent),
    /// The server's clipboard text (decoded from Latin-1 for the legacy message).
    ClipboardText(String),
    /// Extended Clipboard messages (caps, notify, provide with RTF/HTML, …).
    Clipboard(crate::clipboard::ClipboardEvent),
    /// The connection is over for the given reason; no further input is accepted.
    Disconnected {
        /// Human-readable reason (the error's message).
        reason: String,
    },
}
