//! Persistent zlib streams and a bounded inflate step.
//!
//! RFB's zlib-based encodings keep one deflate stream per connection (Zlib, ZRLE/ZYWRLE) or
//! several (Tight: four, reset by control bits; ZlibHex: two). The streams live in
//! [`ZlibStreams`], owned by `Decoders`, so they persist across rectangles.

use flate2::{Decompress, FlushDecompress, Status};

use crate::error::DecodeErrorKind;

/// One inflate stream (zlib format, as every RFB encoding uses).
#[derive(Debug)]
pub(crate) struct Inflater {
    d: Decompress,
    /// When capturing (benchmarks only): the compressed bytes consumed, one `Vec` per stream
    /// segment (a reset starts a new one), so inflate alone can be timed on the same data.
    tap: Option<Vec<Vec<u8>>>,
}

impl Default for Inflater {
    fn default() -> Self {
        Self {
            d: Decompress::new(true),
            tap: None,
        }
    }
}

impl Inflater {
    /// Starts the stream afresh (Tight's reset bits).
    pub(crate) fn reset(&mut self) {
        self.d.reset(true);
        if let Some(tap) = &mut self.tap {
            tap.push(Vec::new());
        }
    }

    /// Starts or stops keeping the compressed input (see [`ZlibStreams::set_capture`]).
    fn set_capture(&mut self, on: bool) {
        self.tap = on.then(|| vec![Vec::new()]);
    }

    /// The captured segments so far (empty ones dropped); capturing goes on.
    fn take_captured(&mut self) -> Vec<Vec<u8>> {
        let Some(tap) = &mut self.tap else {
            return Vec::new();
        };
        let out = std::mem::replace(tap, vec![Vec::new()]);
        out.into_iter().filter(|s| !s.is_empty()).collect()
    }

    /// Inflates from `input` into `out`, appending at most `max_out` bytes. Returns
    /// `(consumed, produced)`. Errors name the zlib failure.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<(usize, usize), DecodeErrorKind> {
        let start = out.len();
        out.resize(start + max_out, 0);
        let r = self.inflate_into(input, &mut out[start..]);
        let produced = r.as_ref().map_or(0, |r| r.1);
        out.truncate(start + produced);
        r
    }

    /// Inflates from `input` into `out` (at most `out.len()` bytes). Returns
    /// `(consumed, produced)`. The caller keeps `out` allocated between calls, so nothing is
    /// zeroed per call (a `Vec` grown and truncated each time would be: 64 KiB of memset per
    /// call, most of the cost for small rectangles).
    pub(crate) fn inflate_into(
        &mut self,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), DecodeErrorKind> {
        let before_in = self.d.total_in();
        let before_out = self.d.total_out();
        let status = self.d.decompress(input, out, FlushDecompress::Sync);
        let produced = (self.d.total_out() - before_out) as usize;
        let status = status.map_err(|e| DecodeErrorKind::Zlib(e.to_string()))?;
        let consumed = (self.d.total_in() - before_in) as usize;
        if let Some(seg) = self.tap.as_mut().and_then(|t| t.last_mut()) {
            seg.extend_from_slice(&input[..consumed]);
        }
        if status == Status::StreamEnd && consumed < input.len() {
            return Err(DecodeErrorKind::Zlib(
                "data after the end of the zlib stream".into(),
            ));
        }
        Ok((consumed, produced))
    }
}

/// Every zlib stream a connection can need.
#[derive(Debug, Default)]
pub(crate) struct ZlibStreams {
    /// Zlib encoding (6).
    pub(crate) zlib: Inflater,
    /// ZRLE (16) and ZYWRLE (17) share one stream, as servers do.
    pub(crate) zrle: Inflater,
    /// ZlibHex (8): raw-tile stream and subrect stream.
    pub(crate) zlibhex: [Inflater; 2],
    /// Tight (7) and TightPNG (-260): four streams.
    pub(crate) tight: [Inflater; 4],
    /// JPEG encoding (21): the DQT and DHT marker segments of the last image that carried
    /// them, spliced into later images that omit them. Not a zlib stream, but per-connection
    /// decoder state like the streams; it may move to its own struct in `Cx`.
    pub(crate) jpeg_tables: Vec<u8>,
}

impl ZlibStreams {
    fn all(&mut self) -> impl Iterator<Item = &mut Inflater> {
        [&mut self.zlib, &mut self.zrle]
            .into_iter()
            .chain(self.zlibhex.iter_mut())
            .chain(self.tight.iter_mut())
    }

    /// Starts or stops keeping every stream's compressed input (a benchmark's instrumented
    /// pass: it grows without bound, so never in a session).
    pub(crate) fn set_capture(&mut self, on: bool) {
        self.all().for_each(|i| i.set_capture(on));
    }

    /// The compressed input captured since the last call: one entry per stream segment, each
    /// a complete zlib stream prefix that a fresh inflater accepts.
    pub(crate) fn take_captured(&mut self) -> Vec<Vec<u8>> {
        self.all().flat_map(Inflater::take_captured).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::ZlibEncoder;
    use std::io::Write;

    #[test]
    fn bounded_output_and_resumption() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(&data).unwrap();
        let z = e.flush_finish().unwrap();
        let mut inf = Inflater::default();
        let mut out = Vec::new();
        let mut pos = 0;
        while out.len() < data.len() {
            let (c, p) = inf.inflate(&z[pos..], &mut out, 1000).unwrap();
            assert!(p <= 1000);
            pos += c;
            assert!(c > 0 || p > 0, "no progress");
        }
        assert_eq!(out, data);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut inf = Inflater::default();
        let mut out = Vec::new();
        assert!(matches!(
            inf.inflate(&[0xff; 16], &mut out, 100),
            Err(DecodeErrorKind::Zlib(_))
        ));
    }
}
