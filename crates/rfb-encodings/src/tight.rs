//! Tight (7) and TightPNG (-260). Not implemented yet.

use crate::decoders::RectDecoder;
use crate::geometry::Rect;

pub(crate) fn make(_rect: Rect, _png: bool) -> Option<Box<dyn RectDecoder>> {
    None
}
