//! XCursor (-240) and VMware cursor (0x574d5664). Not implemented yet.

use crate::decoders::RectDecoder;
use crate::geometry::Rect;

pub(crate) fn make_xcursor(_rect: Rect) -> Option<Box<dyn RectDecoder>> {
    None
}

pub(crate) fn make_vmware(_rect: Rect, _bpp: usize) -> Option<Box<dyn RectDecoder>> {
    None
}
