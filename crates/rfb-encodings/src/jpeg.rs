//! JPEG encoding (21). Not implemented yet.

use crate::decoders::RectDecoder;
use crate::geometry::Rect;

pub(crate) fn make(_rect: Rect) -> Option<Box<dyn RectDecoder>> {
    None
}
