//! A length-prefixed zlib payload pumped through a persistent stream in bounded steps, so a
//! decoder parses the inflated bytes as they appear without buffering the whole rectangle.

use crate::error::DecodeErrorKind;
use crate::inflate::Inflater;

/// Inflate at most this much per step: bounds memory whatever the rectangle size.
pub(crate) const INFLATE_CHUNK: usize = 64 * 1024;

/// The compressed part of one rectangle and the inflated bytes not yet parsed.
#[derive(Debug, Default)]
pub(crate) struct ZPayload {
    /// Compressed bytes still to come from the wire.
    remaining: usize,
    inflated: Vec<u8>,
    pos: usize,
}

impl ZPayload {
    /// A payload of `compressed_len` bytes.
    pub(crate) fn new(compressed_len: usize) -> Self {
        Self {
            remaining: compressed_len,
            inflated: Vec::new(),
            pos: 0,
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
        if self.pos > 0 && self.pos >= self.inflated.len() / 2 {
            // Drop what was parsed so the buffer stays within about two chunks.
            self.inflated.drain(..self.pos);
            self.pos = 0;
        }
        let mut consumed = 0;
        loop {
            let have = self.inflated.len() - self.pos;
            let input_left = (input.len() - consumed).min(self.remaining);
            if have >= want || (input_left == 0 && self.remaining > 0) {
                return Ok(consumed);
            }
            let src = &input[consumed..consumed + input_left];
            let (c, p) = inf.inflate(src, &mut self.inflated, INFLATE_CHUNK)?;
            consumed += c;
            self.remaining -= c;
            if c == 0 && p == 0 {
                // zlib needs more input than is here, or the payload is exhausted.
                return Ok(consumed);
            }
        }
    }

    /// Inflated bytes ready to parse.
    pub(crate) fn available(&self) -> &[u8] {
        &self.inflated[self.pos..]
    }

    /// Marks `n` inflated bytes as parsed.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.inflated.len());
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
