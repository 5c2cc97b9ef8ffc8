//! Hextile (5) and ZlibHex (8). Not implemented yet.

use crate::decoders::RectDecoder;
use crate::geometry::Rect;

pub(crate) fn make(_rect: Rect, _zlib: bool) -> Option<Box<dyn RectDecoder>> {
    None
}
