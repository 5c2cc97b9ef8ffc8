//! Screen layouts: the ExtendedDesktopSize pseudo-encoding (-308) the server sends and the
//! SetDesktopSize message (251) the client sends, with the `SCREEN` structure both share.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#extendeddesktopsize-pseudo-encoding>,
//! <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#setdesktopsize> and the
//! `Screen Model` section.

use crate::error::Error;

/// Size of one `SCREEN` structure on the wire.
pub(crate) const SCREEN_LEN: usize = 16;

/// One screen (monitor) of a multi-head layout: a viewport into the single framebuffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Screen {
    /// Identifier, unique within a layout and kept for the screen's lifetime.
    pub id: u32,
    /// Left edge within the framebuffer.
    pub x: u16,
    /// Top edge within the framebuffer.
    pub y: u16,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Flags; none are defined yet, but unknown bits must be preserved when sent back.
    pub flags: u32,
}

impl Screen {
    /// A screen with no flags set (what the spec asks for new screens).
    pub const fn new(id: u32, x: u16, y: u16, width: u16, height: u16) -> Self {
        Self {
            id,
            x,
            y,
            width,
            height,
            flags: 0,
        }
    }

    /// Parses one `SCREEN` structure (`b` is exactly [`SCREEN_LEN`] bytes).
    fn from_bytes(b: &[u8; SCREEN_LEN]) -> Self {
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Self {
            id: u32_at(0),
            x: u16_at(4),
            y: u16_at(6),
            width: u16_at(8),
            height: u16_at(10),
            flags: u32_at(12),
        }
    }

    /// Appends the `SCREEN` structure.
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        for v in [self.x, self.y, self.width, self.height] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.flags.to_be_bytes());
    }
}

/// Who caused a layout change: the ExtendedDesktopSize rectangle's *x-position*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResizeReason {
    /// Changed on the server (or the answer to a non-incremental update request) (0).
    Server,
    /// The answer to this client's SetDesktopSize (1); see the status.
    ThisClient,
    /// Another client's SetDesktopSize was applied (2).
    OtherClient,
    /// A value defined after this client was written; the spec says to treat it as [`Self::Server`].
    Unknown(u16),
}

impl ResizeReason {
    /// From the wire value.
    pub const fn from_u16(v: u16) -> Self {
        match v {
            0 => Self::Server,
            1 => Self::ThisClient,
            2 => Self::OtherClient,
            n => Self::Unknown(n),
        }
    }
}

/// The result of this client's SetDesktopSize: the rectangle's *y-position* when the reason is
/// [`ResizeReason::ThisClient`] (always [`ResizeStatus::Success`] otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResizeStatus {
    /// No error (0).
    Success,
    /// Resize is administratively prohibited (1).
    Prohibited,
    /// Out of resources (2).
    OutOfResources,
    /// Invalid screen layout (3).
    InvalidLayout,
    /// Request forwarded, might complete asynchronously (4), e.g. QEMU asking its guest.
    Forwarded,
    /// A code defined later: the spec says to treat it as an unknown failure.
    Unknown(u16),
}

impl ResizeStatus {
    /// From the wire value.
    pub const fn from_u16(v: u16) -> Self {
        match v {
            0 => Self::Success,
            1 => Self::Prohibited,
            2 => Self::OutOfResources,
            3 => Self::InvalidLayout,
            4 => Self::Forwarded,
            n => Self::Unknown(n),
        }
    }

    /// True for [`Self::Success`] and [`Self::Forwarded`] (not refused, at least not yet).
    pub const fn is_ok(self) -> bool {
        matches!(self, Self::Success | Self::Forwarded)
    }
}

impl core::fmt::Display for ResizeStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Success => f.write_str("success"),
            Self::Prohibited => f.write_str("resize is administratively prohibited"),
            Self::OutOfResources => f.write_str("out of resources"),
            Self::InvalidLayout => f.write_str("invalid screen layout"),
            Self::Forwarded => f.write_str("request forwarded (may complete later)"),
            Self::Unknown(n) => write!(f, "unknown failure (code {n})"),
        }
    }
}

/// What an ExtendedDesktopSize rectangle announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutChange {
    /// Who caused it.
    pub reason: ResizeReason,
    /// For [`ResizeReason::ThisClient`], whether the request succeeded.
    pub status: ResizeStatus,
    /// Framebuffer width (undefined on failure).
    pub width: u16,
    /// Framebuffer height (undefined on failure).
    pub height: u16,
    /// Every screen, in wire order (undefined on failure).
    pub screens: Vec<Screen>,
}

impl LayoutChange {
    /// True when the rectangle describes the current desktop (anything but a refusal): the
    /// size and screens are defined and the framebuffer takes that size.
    pub fn applies(&self) -> bool {
        !(self.reason == ResizeReason::ThisClient && self.status != ResizeStatus::Success)
    }
}

/// Bytes of the ExtendedDesktopSize body needed before the screen count is known.
pub(crate) const EDS_HEADER_LEN: usize = 4;

/// Parses an ExtendedDesktopSize body (`number-of-screens`, padding, screens) from the start
/// of `input`. `Ok(None)` means more bytes are needed: at most 4 + 255 × 16, so the driver
/// never buffers more than 4084 bytes for it. Returns the bytes used.
pub(crate) fn parse_eds_body(
    input: &[u8],
    x: u16,
    y: u16,
    width: u16,
    height: u16,
    needed: &mut usize,
) -> Option<(usize, LayoutChange)> {
    let Some(&count) = input.first() else {
        *needed = EDS_HEADER_LEN;
        return None;
    };
    let total = EDS_HEADER_LEN + usize::from(count) * SCREEN_LEN;
    if input.len() < total {
        *needed = total;
        return None;
    }
    let screens = input[EDS_HEADER_LEN..total]
        .chunks_exact(SCREEN_LEN)
        .filter_map(|c| <&[u8; SCREEN_LEN]>::try_from(c).ok())
        .map(Screen::from_bytes)
        .collect();
    let reason = ResizeReason::from_u16(x);
    // The status field is defined only for the requesting client; ignore it otherwise.
    let status = if reason == ResizeReason::ThisClient {
        ResizeStatus::from_u16(y)
    } else {
        ResizeStatus::Success
    };
    let change = LayoutChange {
        reason,
        status,
        width,
        height,
        screens,
    };
    Some((total, change))
}

/// Checks a layout the caller wants to send: at least one and at most 255 screens, each
/// non-empty and inside `width` × `height`, no id used twice, a non-empty framebuffer.
/// Overlapping screens are allowed, as the Screen Model says.
pub fn validate_layout(width: u16, height: u16, screens: &[Screen]) -> Result<(), Error> {
    if width == 0 || height == 0 {
        return Err(Error::ApiMisuse(
            "SetDesktopSize: the framebuffer must not be empty",
        ));
    }
    if screens.is_empty() {
        return Err(Error::ApiMisuse(
            "SetDesktopSize: at least one screen is required",
        ));
    }
    if screens.len() > 255 {
        return Err(Error::ApiMisuse("SetDesktopSize: at most 255 screens"));
    }
    for (i, s) in screens.iter().enumerate() {
        if s.width == 0 || s.height == 0 {
            return Err(Error::ApiMisuse("SetDesktopSize: a screen is empty"));
        }
        if u32::from(s.x) + u32::from(s.width) > u32::from(width)
            || u32::from(s.y) + u32::from(s.height) > u32::from(height)
        {
            return Err(Error::ApiMisuse(
                "SetDesktopSize: a screen lies outside the framebuffer",
            ));
        }
        if screens[..i].iter().any(|o| o.id == s.id) {
            return Err(Error::ApiMisuse("SetDesktopSize: two screens share an id"));
        }
    }
    Ok(())
}

/// SetDesktopSize (251): padding, width, height, number of screens, padding, screens.
/// Call [`validate_layout`] first; more than 255 screens are cut to 255.
pub fn set_desktop_size(out: &mut Vec<u8>, width: u16, height: u16, screens: &[Screen]) {
    let screens = &screens[..screens.len().min(255)];
    out.extend_from_slice(&[251, 0]);
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&[screens.len() as u8, 0]);
    for s in screens {
        s.write(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden vector written field by field from the SetDesktopSize table.
    #[test]
    fn set_desktop_size_bytes() {
        let mut b = Vec::new();
        let s = [
            Screen::new(1, 0, 0, 640, 480),
            Screen {
                flags: 0x8000_0001,
                ..Screen::new(0x0102_0304, 640, 0, 384, 480)
            },
        ];
        set_desktop_size(&mut b, 1024, 480, &s);
        assert_eq!(
            b,
            [
                251, 0, 0x04, 0x00, 0x01, 0xe0, 2, 0, // header
                0, 0, 0, 1, 0, 0, 0, 0, 0x02, 0x80, 0x01, 0xe0, 0, 0, 0, 0, // screen 1
                1, 2, 3, 4, 0x02, 0x80, 0, 0, 0x01, 0x80, 0x01, 0xe0, 0x80, 0, 0,
                1, // screen 2
            ]
        );
    }

    #[test]
    fn eds_body_needs_all_screens() {
        let mut needed = 0;
        assert!(parse_eds_body(&[], 0, 0, 1, 1, &mut needed).is_none());
        assert_eq!(needed, 4);
        assert!(parse_eds_body(&[2, 0, 0, 0], 0, 0, 1, 1, &mut needed).is_none());
        assert_eq!(needed, 36);
        let (n, c) = parse_eds_body(&[0, 9, 9, 9], 1, 3, 7, 7, &mut needed).unwrap();
        assert_eq!(n, 4);
        assert_eq!(c.status, ResizeStatus::InvalidLayout);
        assert!(!c.applies());
        assert!(c.screens.is_empty());
    }

    #[test]
    fn reasons_and_codes() {
        assert_eq!(ResizeReason::from_u16(2), ResizeReason::OtherClient);
        assert_eq!(ResizeReason::from_u16(9), ResizeReason::Unknown(9));
        assert_eq!(ResizeStatus::from_u16(4), ResizeStatus::Forwarded);
        assert_eq!(ResizeStatus::from_u16(77), ResizeStatus::Unknown(77));
        assert!(!ResizeStatus::Prohibited.is_ok());
    }

    #[test]
    fn layouts_validated() {
        let ok = [Screen::new(1, 0, 0, 10, 10), Screen::new(2, 5, 5, 5, 5)];
        assert!(validate_layout(10, 10, &ok).is_ok(), "overlap is allowed");
        assert!(validate_layout(10, 10, &[]).is_err());
        assert!(validate_layout(0, 10, &ok).is_err());
        assert!(validate_layout(9, 10, &ok).is_err());
        assert!(validate_layout(10, 10, &[ok[0], ok[0]]).is_err());
        assert!(validate_layout(10, 10, &[Screen::new(1, 0, 0, 0, 10)]).is_err());
        let many: Vec<_> = (0..256).map(|i| Screen::new(i, 0, 0, 1, 1)).collect();
        assert!(validate_layout(10, 10, &many).is_err());
    }
}
