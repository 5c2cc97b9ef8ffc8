//! Encoding numbers: every pixel encoding and pseudo-encoding registered in rfbproto.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#encodings>

use core::fmt;

macro_rules! encodings {
    ($( $(#[$doc:meta])* $variant:ident = $num:expr, $name:literal; )*) => {
        /// An RFB encoding type (`S32` on the wire). Numbers this crate does not know are kept as
        /// [`Encoding::Unknown`] so nothing is lost or mis-read.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Encoding {
            $( $(#[$doc])* $variant, )*
            /// Quality level pseudo-encoding, 0 (lowest) to 9: `-32 + level`.
            QualityLevel(u8),
            /// Compression level pseudo-encoding, 0 to 9: `-256 + level`.
            CompressLevel(u8),
            /// A number this crate does not know.
            Unknown(i32),
        }

        impl Encoding {
            /// Maps a wire number to an encoding.
            pub const fn from_i32(n: i32) -> Self {
                match n {
                    $( $num => Self::$variant, )*
                    -32..=-23 => Self::QualityLevel((n + 32) as u8),
                    -256..=-247 => Self::CompressLevel((n + 256) as u8),
                    other => Self::Unknown(other),
                }
            }

            /// The wire number.
            pub const fn to_i32(self) -> i32 {
                match self {
                    $( Self::$variant => $num, )*
                    Self::QualityLevel(l) => -32 + l as i32,
                    Self::CompressLevel(l) => -256 + l as i32,
                    Self::Unknown(n) => n,
                }
            }

            /// Lower-case name, as used on the command line and in statistics.
            pub const fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                    Self::QualityLevel(_) => "quality",
                    Self::CompressLevel(_) => "compress",
                    Self::Unknown(_) => "unknown",
                }
            }

            /// Every named encoding (not the level ranges or unknown numbers).
            pub const ALL_NAMED: &'static [Self] = &[ $( Self::$variant, )* ];
        }
    };
}

encodings! {
    /// Raw (0): uncompressed pixels.
    Raw = 0, "raw";
    /// CopyRect (1): copy from elsewhere in the framebuffer.
    CopyRect = 1, "copyrect";
    /// RRE (2).
    Rre = 2, "rre";
    /// CoRRE (4).
    CoRre = 4, "corre";
    /// Hextile (5).
    Hextile = 5, "hextile";
    /// Zlib (6).
    Zlib = 6, "zlib";
    /// Tight (7).
    Tight = 7, "tight";
    /// ZlibHex (8).
    ZlibHex = 8, "zlibhex";
    /// TRLE (15).
    Trle = 15, "trle";
    /// ZRLE (16).
    Zrle = 16, "zrle";
    /// ZYWRLE (17).
    Zywrle = 17, "zywrle";
    /// JPEG (21).
    Jpeg = 21, "jpeg";
    /// Open H.264 (50).
    OpenH264 = 50, "h264";
    /// TightPNG (-260).
    TightPng = -260, "tightpng";
    /// DesktopSize pseudo-encoding (-223).
    DesktopSize = -223, "desktopsize";
    /// LastRect pseudo-encoding (-224).
    LastRect = -224, "lastrect";
    /// PointerPos pseudo-encoding (-232).
    PointerPos = -232, "pointerpos";
    /// Cursor pseudo-encoding (-239).
    Cursor = -239, "cursor";
    /// X Cursor pseudo-encoding (-240).
    XCursor = -240, "xcursor";
    /// QEMU Pointer Motion Change pseudo-encoding (-257).
    QemuPointerMotionChange = -257, "qemu-pointer-motion-change";
    /// QEMU Extended Key Event pseudo-encoding (-258).
    QemuExtendedKeyEvent = -258, "qemu-extended-key-event";
    /// QEMU Audio pseudo-encoding (-259).
    QemuAudio = -259, "qemu-audio";
    /// QEMU LED State pseudo-encoding (-261).
    QemuLedState = -261, "qemu-led-state";
    /// DesktopName pseudo-encoding (-307).
    DesktopName = -307, "desktopname";
    /// ExtendedDesktopSize pseudo-encoding (-308).
    ExtendedDesktopSize = -308, "extendeddesktopsize";
    /// XVP pseudo-encoding (-309).
    Xvp = -309, "xvp";
    /// Fence pseudo-encoding (-312).
    Fence = -312, "fence";
    /// ContinuousUpdates pseudo-encoding (-313).
    ContinuousUpdates = -313, "continuousupdates";
    /// Cursor With Alpha pseudo-encoding (-314).
    CursorWithAlpha = -314, "cursorwithalpha";
    /// ExtendedMouseButtons pseudo-encoding (-316).
    ExtendedMouseButtons = -316, "extendedmousebuttons";
    /// VMware Cursor pseudo-encoding (0x574d5664).
    VmwareCursor = 0x574d_5664, "vmwarecursor";
    /// Extended Clipboard pseudo-encoding (0xc0a1e5ce, i.e. -1063131698 as S32).
    ExtendedClipboard = -1_063_131_698, "extendedclipboard";
}

impl Encoding {
    /// Parses a lower-case name as printed by [`Encoding::name`] (`raw`, `copyrect`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL_NAMED.iter().copied().find(|e| e.name() == name)
    }

    /// True for pseudo-encodings (negative numbers and the large vendor numbers), which
    /// carry no rectangle of pixels. TightPNG (-260) is the exception: a negative number
    /// for a real pixel encoding.
    pub const fn is_pseudo(self) -> bool {
        let n = self.to_i32();
        !matches!(self, Self::TightPng) && (n < 0 || n > 0x00ff_ffff)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(n) => write!(f, "unknown encoding {n}"),
            Self::QualityLevel(l) => write!(f, "quality level {l}"),
            Self::CompressLevel(l) => write!(f, "compress level {l}"),
            e => f.write_str(e.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for &e in Encoding::ALL_NAMED {
            assert_eq!(Encoding::from_i32(e.to_i32()), e);
            assert_eq!(Encoding::from_name(e.name()), Some(e));
        }
        for n in -300..300 {
            assert_eq!(Encoding::from_i32(n).to_i32(), n);
        }
        assert_eq!(Encoding::from_i32(-23), Encoding::QualityLevel(9));
        assert_eq!(Encoding::from_i32(-256), Encoding::CompressLevel(0));
        assert_eq!(
            Encoding::from_i32(0xc0a1e5ceu32 as i32),
            Encoding::ExtendedClipboard
        );
        assert!(Encoding::Cursor.is_pseudo());
        assert!(Encoding::VmwareCursor.is_pseudo());
        assert!(!Encoding::Tight.is_pseudo());
        assert!(!Encoding::TightPng.is_pseudo());
        assert_eq!(Encoding::from_name("nope"), None);
    }
}
