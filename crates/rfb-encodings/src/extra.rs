//! Dispatch to the decoders that live in their own modules, one module per family, so each
//! can grow without touching the others.

use crate::decoders::RectDecoder;
use crate::encoding::Encoding;
use crate::geometry::Rect;

pub(crate) fn make(
    encoding: Encoding,
    rect: Rect,
    bpp: usize,
    quality: Option<u8>,
) -> Option<Box<dyn RectDecoder>> {
    match encoding {
        Encoding::Hextile => crate::hextile::make(rect, false),
        Encoding::ZlibHex => crate::hextile::make(rect, true),
        Encoding::Zrle => crate::zrle::make(rect, crate::zrle::Variant::Zrle),
        Encoding::Trle => crate::zrle::make(rect, crate::zrle::Variant::Trle),
        // libvncserver (x11vnc) picks the wavelet depth from the client's quality level.
        Encoding::Zywrle => Some(crate::zrle::make_zywrle(
            rect,
            crate::zrle::zywrle_level_for_quality(quality),
        )),
        Encoding::Tight => crate::tight::make(rect, false),
        Encoding::TightPng => crate::tight::make(rect, true),
        Encoding::Jpeg => crate::jpeg::make(rect),
        Encoding::OpenH264 => crate::h264::make(rect),
        Encoding::XCursor => crate::xcursor::make_xcursor(rect),
        Encoding::VmwareCursor => crate::xcursor::make_vmware(rect, bpp),
        _ => None,
    }
}
