//! ZRLE (16), TRLE (15) and ZYWRLE (17). Not implemented yet.

use crate::decoders::RectDecoder;
use crate::geometry::Rect;

/// Which member of the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    Zrle,
    Trle,
    Zywrle,
}

pub(crate) fn make(_rect: Rect, _variant: Variant) -> Option<Box<dyn RectDecoder>> {
    None
}
