//! A length-prefixed zlib payload pumped through a persistent stream in bounded steps, so a
//! decoder parses the inflated bytes as they appear without buffering the whole rectangle.

use crate::error::DecodeErrorKind;
use crate::inflate::Inflater;

/// Inflate at most this much per step: bounds memory whatever the rectangle size.
pub(crate) const INFLATE_CHUNK: usize = 64 * 1024;

/// The compressed part of one rectangle and the inflated bytes not yet parsed.
///
/// The inflated bytes live in `buf[pos..end]`; `buf` only grows (zeroed once), so an inflate
/// step writes into memory that is already there instead of growing and truncating a `Vec`.
#[derive(Debug, Default)]
pub(crate) struct ZPayload {
    /// Compressed bytes still to come from the wire.
    remaining: usize,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Output room per inflate step: at most [`INFLATE_CHUNK`], less for small rectangles
    /// so that a 16×16 rectangle does not allocate and zero 64 KiB.
    step: usize,
}

impl ZPayload {
    /// A payload of `compressed_len` bytes whose rectangle inflates to about `expected`
    /// bytes (a hint that only sizes the inflate steps; any size is handled).
    pub(crate) fn new(compressed_len: usize, expected: usize) -> Self {
        Self {
            remaining: compressed_len,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            step: expected.clamp(1024, INFLATE_CHUNK),
        }
    }

    /// Compressed bytes not yet received.
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// Feeds wire bytes through `inf` until `want` inflated bytes are available, the input
    /// runs out, or the payload ends. Returns wire bytes consumed.
    pub(crate) fn pump(
        &mut self,
        input: &[u8],
        inf: &mut Inflater,
        want: usize,
    ) -> Result<usize, DecodeErrorKind> {
        if self.pos > 0 && self.pos >= self.end / 2 {
            // Move what is not parsed yet to the front so the buffer stays within about
            // two steps.
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        let mut consumed = 0;
        loop {
            let have = self.end - self.pos;
            let input_left = (input.len() - consumed).min(self.remaining);
            if have >= want || (input_left == 0 && self.remaining > 0) {
                return Ok(consumed);
            }
            let src = &input[consumed..consumed + input_left];
            if self.buf.len() < self.end + self.step {
                self.buf.resize(self.end + self.step, 0);
            }
            let room = &mut self.buf[self.end..self.end + self.step];
            let (c, p) = inf.inflate_into(src, room)?;
            consumed += c;
            self.remaining -= c;
            self.end += p;
            if c == 0 && p == 0 {
                // zlib needs more input than is here, or the payload is exhausted.
                return Ok(consumed);
            }
        }
    }

    /// Inflated bytes ready to parse.
    pub(crate) fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Marks `n` inflated bytes as parsed.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }

    /// After the rectangle is fully parsed: drains the rest of the compressed bytes (a sync
    /// flush leaves a few) and fails if they inflate to more data, which would be a
    /// decompression bomb or a desynchronised stream.
    pub(crate) fn finish(
        &mut self,
        input: &[u8],
        inf: &mut Inflater,
    ) -> Result<(usize, bool), DecodeErrorKind> {
        // Ask for a single byte: the first inflated byte past the rectangle is already an
        // error, so a bomb never gets to expand beyond one bounded inflate step.
        let consumed = self.pump(input, inf, 1)?;
        if !self.available().is_empty() {
            return Err(DecodeErrorKind::TrailingData {
                bytes: self.available().len() as u64,
            });
        }
        Ok((consumed, self.remaining == 0))
    }
}
