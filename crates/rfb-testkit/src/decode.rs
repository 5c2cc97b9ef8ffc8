//! Feeding one rectangle to the decoders the way a driver does: in chunks, keeping what the
//! decoder did not consume and offering it again with the next chunk. Every decoder test
//! runs its vectors through this with several chunk sizes.

use rfb_encodings::{
    DecodeError, Decoded, Decoders, DrawTarget, Encoding, Framebuffer, ImageFormat, Rect,
};

/// Begins `rect`/`enc` on a `size` framebuffer and feeds `payload` in chunks of `chunk` bytes
/// (0 = all at once).
///
/// # Panics
/// When the decoder finishes before the payload ends, leaves bytes unconsumed, or wants more
/// than the payload: each is a decoder bug the vector exposes.
pub fn feed_rect<T: DrawTarget>(
    dec: &mut Decoders,
    target: &mut T,
    size: (u16, u16),
    rect: Rect,
    enc: Encoding,
    payload: &[u8],
    chunk: usize,
) -> Result<Decoded, DecodeError> {
    dec.begin(rect, enc, size.0, size.1)?;
    let mut pending: Vec<u8> = Vec::new();
    let step = if chunk == 0 {
        payload.len().max(1)
    } else {
        chunk
    };
    let mut chunks = payload.chunks(step);
    loop {
        let p = dec.feed(&pending, target)?;
        pending.drain(..p.consumed);
        if let Some(d) = p.done {
            assert!(pending.is_empty(), "decoder left {} bytes", pending.len());
            assert!(chunks.next().is_none(), "decoder finished early");
            return Ok(d);
        }
        match chunks.next() {
            Some(c) => pending.extend_from_slice(c),
            None => panic!("decoder wants more than the payload"),
        }
    }
}

/// A draw target that records what it was asked to do around a real framebuffer, and may
/// take compressed images itself (as a browser driver with `ImageDecoder` would).
#[derive(Debug, Default)]
pub struct RecordingTarget {
    /// The pixels drawn.
    pub fb: Framebuffer,
    /// Whether `draw_image` claims the images (returns true).
    pub take_images: bool,
    /// Every image offered, in order.
    pub images: Vec<(Rect, ImageFormat, Vec<u8>)>,
    /// How many `put_rgba` calls were made.
    pub puts: usize,
}

impl DrawTarget for RecordingTarget {
    fn resize(&mut self, w: u16, h: u16) {
        self.fb.resize(w, h);
    }
    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]) {
        self.puts += 1;
        self.fb.put_rgba(rect, rgba);
    }
    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]) {
        self.fb.fill_rgba(rect, rgba);
    }
    fn copy_rect(&mut self, x: u16, y: u16, dst: Rect) {
        self.fb.copy_rect(x, y, dst);
    }
    fn draw_image(&mut self, rect: Rect, format: ImageFormat, data: &[u8]) -> bool {
        self.images.push((rect, format, data.to_vec()));
        self.take_images
    }
}
