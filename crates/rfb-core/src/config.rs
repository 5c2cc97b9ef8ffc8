//! Client configuration.

use core::time::Duration;

use rfb_encodings::{Decoders, Encoding, PixelFormat};

use crate::limits::Limits;
use crate::security::SecurityType;

/// Which pixel format to ask the server for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormatChoice {
    /// Keep the server's native format (no SetPixelFormat is sent).
    Native,
    /// Send SetPixelFormat with this format before the first update request.
    Request(PixelFormat),
}

/// How a [`crate::Client`] behaves. `Config::default()` is what most drivers want.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// ClientInit shared flag: true leaves other viewers connected (default).
    pub shared: bool,
    /// Pixel format requested; 32 bpp RGBX by default.
    pub pixel_format: PixelFormatChoice,
    /// Encodings offered with SetEncodings, in preference order (pseudo-encodings included).
    /// Default: every pixel encoding this build decodes, best first, then
    /// [`Config::DEFAULT_PSEUDO`]; never Quality (which lets Tight servers go lossy).
    pub encodings: Vec<Encoding>,
    /// Security types accepted, in preference order: the first one the server offers is used.
    pub security_types: Vec<SecurityType>,
    /// Limits on what the server may make us allocate.
    pub limits: Limits,
    /// Fail with [`crate::Error::Timeout`] if ServerInit has not arrived this long after
    /// [`crate::Client::new`]'s `now` (measured on the driver's clock).
    pub handshake_timeout: Option<Duration>,
    /// ID sent to an UltraVNC repeater (`RFB 000.000`), e.g. `ID:1234`.
    pub repeater_id: Option<String>,
    /// Send a full update request after ServerInit and an incremental one after every update,
    /// as noVNC does. Turn off to drive requests yourself.
    pub auto_update: bool,
    /// With `auto_update`: switch to continuous updates when the server announces both Fence
    /// and ContinuousUpdates, as TigerVNC's viewer does (default on). See [`crate::fence`].
    pub continuous_updates: bool,
    /// With `auto_update` and no continuous updates: how many incremental update requests to
    /// keep outstanding. 1 (default) requests the next update when one is complete, as noVNC
    /// does; 2 or more request at the start of each update, so the request's round trip
    /// overlaps the update's transfer.
    pub update_pipeline: u8,
}

impl Config {
    /// The pseudo-encodings the client always adds after the pixel encodings: Cursor (the
    /// client draws the pointer, so servers stop painting it into the framebuffer),
    /// DesktopSize and LastRect, then ExtendedDesktopSize, DesktopName, Fence,
    /// ContinuousUpdates, ExtendedMouseButtons, PointerPos, xvp, QEMU's Extended Key Event,
    /// LED State (and VMware's) and Audio ([`crate::qemu`]), and Extended Clipboard.
    ///
    /// Extended Clipboard stays last: x11vnc (LibVNCServer) ignored the client's cut text when
    /// the QEMU pseudo-encodings followed it (`cli/tests/clipboard.rs` shows it).
    pub const DEFAULT_PSEUDO: &'static [Encoding] = &[
        Encoding::Cursor,
        Encoding::DesktopSize,
        Encoding::LastRect,
        Encoding::ExtendedDesktopSize,
        Encoding::DesktopName,
        Encoding::Fence,
        Encoding::ContinuousUpdates,
        Encoding::ExtendedMouseButtons,
        Encoding::PointerPos,
        Encoding::Xvp,
        Encoding::QemuExtendedKeyEvent,
        Encoding::QemuLedState,
        crate::qemu::VMWARE_LED_STATE,
        Encoding::QemuAudio,
        Encoding::ExtendedClipboard,
    ];

    /// `pixel` encodings followed by [`Config::DEFAULT_PSEUDO`].
    pub fn encodings_with_pseudo(pixel: &[Encoding]) -> Vec<Encoding> {
        pixel.iter().chain(Self::DEFAULT_PSEUDO).copied().collect()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            shared: true,
            pixel_format: PixelFormatChoice::Request(PixelFormat::RGBX8888),
            encodings: Self::encodings_with_pseudo(&Decoders::supported_pixel_encodings()),
            // noVNC's order: a server that offers None has chosen to need no password.
            security_types: vec![SecurityType::None, SecurityType::VncAuth],
            limits: Limits::default(),
            handshake_timeout: None,
            repeater_id: None,
            auto_update: true,
            continuous_updates: true,
            update_pipeline: 1,
        }
    }
}

/// The Quality level offered in an encodings list, if any.
pub(crate) fn quality_of(encodings: &[Encoding]) -> Option<u8> {
    encodings.iter().find_map(|e| match e {
        Encoding::QualityLevel(q) => Some(*q),
        _ => None,
    })
}
