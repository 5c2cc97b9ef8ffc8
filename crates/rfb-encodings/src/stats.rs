//! Per-encoding and per-sub-encoding counters, so tests can prove a code path was reached.

use std::collections::BTreeMap;

use crate::encoding::Encoding;

/// Counts of what was decoded. `BTreeMap` keeps the printed order deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Rectangles per encoding (pseudo-encodings included).
    pub rects: BTreeMap<Encoding, u64>,
    /// Pixels covered per encoding.
    pub pixels: BTreeMap<Encoding, u64>,
    /// Sub-encodings seen, keyed by encoding and a stable sub-encoding name.
    pub subencodings: BTreeMap<(Encoding, &'static str), u64>,
}

impl DecodeStats {
    /// Records one rectangle.
    pub fn count_rect(&mut self, encoding: Encoding, pixels: u64) {
        *self.rects.entry(encoding).or_default() += 1;
        *self.pixels.entry(encoding).or_default() += pixels;
    }

    /// Records one use of a sub-encoding.
    pub fn count_sub(&mut self, encoding: Encoding, sub: &'static str) {
        *self.subencodings.entry((encoding, sub)).or_default() += 1;
    }

    /// Rectangles seen for `encoding`.
    pub fn rects_of(&self, encoding: Encoding) -> u64 {
        self.rects.get(&encoding).copied().unwrap_or(0)
    }
}
