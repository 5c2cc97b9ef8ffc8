//! Writes, for each recording, the work a browser cannot avoid to show it: the "browser floor"
//! of issue 12 (delivering the same messages, `putImageData` of the same rectangles, native
//! zlib inflate of the same payloads and WebCodecs `ImageDecoder` for the same images). `benches/browser/bench.js` (`client=floor`)
//! replays these files in Chromium next to noVNC and our client.
//!
//! `cargo run --release -p rfb-benches --bin floor-script -- OUT_DIR [DIR…]` writes
//! `OUT_DIR/<recording>.floor` (default DIR: the committed corpus, `benches/recordings`).
//!
//! File layout (little-endian):
//! - `b"RFBFLOOR"`, u32 version (1), u32 framebuffer width, u32 height;
//! - u32 rectangle count, then x, y, width, height as u16 each: every damaged rectangle of every
//!   FramebufferUpdate in wire order (pseudo-rectangles excluded, as the client reports them);
//! - u32 zlib stream count, then per stream u32 inflated length, u32 length, the bytes: each
//!   zlib stream segment of the session (captured by an instrumented replay) completed with a
//!   final empty block and its Adler-32, so that `DecompressionStream('deflate')` ends cleanly
//!   on it. Servers sync-flush after each rectangle, so a segment ends on a byte boundary and
//!   the completion only adds bytes (checked here with flate2); a segment cut inside a
//!   rectangle (the recording's end) is kept as it is, and the page stops reading at the
//!   inflated length;
//! - u32 image count, then per image u8 format (0 JPEG, 1 PNG), u32 length, the bytes.

use std::path::PathBuf;

use flate2::{Decompress, FlushDecompress, Status};
use rfb_benches::{Recording, corpus_dir, instrumented_replay, load};
use rfb_core::Event;
use rfb_encodings::{DrawTarget, Framebuffer, H264Rect, ImageFormat, Rect};

/// A framebuffer that also keeps the images offered to it (then lets the crate decode them).
struct ImageTap {
    fb: Framebuffer,
    images: Vec<(ImageFormat, Vec<u8>)>,
}

impl DrawTarget for ImageTap {
    fn resize(&mut self, width: u16, height: u16) {
        self.fb.resize(width, height);
    }
    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]) {
        self.fb.put_rgba(rect, rgba);
    }
    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]) {
        self.fb.fill_rgba(rect, rgba);
    }
    fn copy_rect(&mut self, src_x: u16, src_y: u16, dst: Rect) {
        self.fb.copy_rect(src_x, src_y, dst);
    }
    fn draw_image(&mut self, rect: Rect, format: ImageFormat, data: &[u8]) -> bool {
        self.images.push((format, data.to_vec()));
        self.fb.draw_image(rect, format, data)
    }
    fn draw_h264(&mut self, msg: &H264Rect<'_>) -> bool {
        self.fb.draw_h264(msg)
    }
}

/// Adler-32 (RFC 1950 §9), the zlib trailer.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that cannot overflow u32 before the reduction (RFC 1950's NMAX).
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Inflates `stream` from a fresh zlib stream: the output, and whether the stream ended.
fn inflate(stream: &[u8]) -> Result<(Vec<u8>, bool), String> {
    let mut d = Decompress::new(true);
    let mut out = Vec::with_capacity(stream.len() * 4);
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let (i, o) = (d.total_in(), d.total_out());
        let st = d
            .decompress(
                &stream[d.total_in() as usize..],
                &mut chunk,
                FlushDecompress::Sync,
            )
            .map_err(|e| e.to_string())?;
        let produced = (d.total_out() - o) as usize;
        out.extend_from_slice(&chunk[..produced]);
        if st == Status::StreamEnd {
            return Ok((out, true));
        }
        if d.total_in() == i && produced == 0 {
            return Ok((out, false));
        }
    }
}

/// `segment` as a complete zlib stream (a final empty fixed-Huffman block, then Adler-32).
/// Returns the stream to store and its inflated length.
fn complete(segment: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let (out, ended) = inflate(segment)?;
    if ended {
        return Ok((segment.to_vec(), out.len()));
    }
    let mut whole = segment.to_vec();
    // BFINAL=1, BTYPE=01, then the end-of-block code (seven 0 bits): 0x03 0x00.
    whole.extend_from_slice(&[0x03, 0x00]);
    whole.extend_from_slice(&adler32(&out).to_be_bytes());
    match inflate(&whole) {
        Ok((again, true)) if again == out => Ok((whole, out.len())),
        // Not on a flush boundary (a recording that ends inside a rectangle): kept as it is;
        // the page reads the known output length and then cancels the stream.
        _ => Ok((segment.to_vec(), out.len())),
    }
}

fn put_u32(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&u32::try_from(v).expect("fits u32").to_le_bytes());
}

fn script(r: &Recording) -> Result<Vec<u8>, String> {
    let mut tap = ImageTap {
        fb: Framebuffer::default(),
        images: Vec::new(),
    };
    let mut rects = Vec::new();
    let segments = instrumented_replay(r, &mut tap, |ev| {
        if let Event::FramebufferUpdated { damage } = ev {
            rects.extend_from_slice(damage);
        }
    });
    let (mut w, mut h) = (u32::from(tap.fb.width()), u32::from(tap.fb.height()));
    for d in &rects {
        w = w.max(u32::from(d.x) + u32::from(d.width));
        h = h.max(u32::from(d.y) + u32::from(d.height));
    }
    let mut out = b"RFBFLOOR".to_vec();
    for v in [1, w, h] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    put_u32(&mut out, rects.len());
    for d in &rects {
        for v in [d.x, d.y, d.width, d.height] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    put_u32(&mut out, segments.len());
    for seg in &segments {
        let (whole, inflated) = complete(seg)?;
        put_u32(&mut out, inflated);
        put_u32(&mut out, whole.len());
        out.extend_from_slice(&whole);
    }
    // A format the browser half has no MIME type for would not be in the floor either.
    let images: Vec<(u8, &Vec<u8>)> = tap
        .images
        .iter()
        .filter_map(|(format, data)| match format {
            ImageFormat::Jpeg => Some((0, data)),
            ImageFormat::Png => Some((1, data)),
            _ => None,
        })
        .collect();
    put_u32(&mut out, images.len());
    for (format, data) in images {
        out.push(format);
        put_u32(&mut out, data.len());
        out.extend_from_slice(data);
    }
    Ok(out)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out_dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: floor-script OUT_DIR [DIR…]");
        std::process::exit(2);
    };
    let mut dirs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if dirs.is_empty() {
        dirs.push(corpus_dir());
    }
    std::fs::create_dir_all(&out_dir).expect("create the output directory");
    let mut failed = false;
    for d in &dirs {
        for r in load(d) {
            match script(&r) {
                Ok(bytes) => {
                    let path = out_dir.join(format!("{}.floor", r.name));
                    std::fs::write(&path, bytes).expect("write a floor script");
                }
                Err(e) => {
                    eprintln!("floor-script: {}: {e}", r.name);
                    failed = true;
                }
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    /// A zlib stream segment as servers send it: compressed, then sync-flushed, never ended.
    fn sync_flushed(data: &[u8]) -> Vec<u8> {
        let mut c = Compress::new(Compression::default(), true);
        let mut out = Vec::with_capacity(data.len() + 1024);
        c.compress_vec(data, &mut out, FlushCompress::Sync)
            .expect("compresses");
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]), "sync flush marker");
        out
    }

    #[test]
    fn adler32_matches_rfc1950_examples() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        // Long enough to need the modular reductions.
        let long = vec![0xffu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &long {
            a = (a + u64::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(u64::from(adler32(&long)), (b << 16) | a);
    }

    #[test]
    fn a_sync_flushed_segment_is_completed_into_an_ended_stream() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let segment = sync_flushed(&data);
        assert_eq!(inflate(&segment).unwrap(), (data.clone(), false));
        let (whole, n) = complete(&segment).unwrap();
        assert_eq!(n, data.len());
        assert_eq!(whole.len(), segment.len() + 6);
        assert_eq!(inflate(&whole).unwrap(), (data, true));
    }

    #[test]
    fn a_segment_cut_inside_a_block_is_kept_as_it_is() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 13 % 241) as u8).collect();
        let segment = sync_flushed(&data);
        let cut = &segment[..segment.len() / 2];
        let (kept, n) = complete(cut).unwrap();
        assert_eq!(kept, cut);
        assert!(n > 0 && n < data.len());
    }
}
