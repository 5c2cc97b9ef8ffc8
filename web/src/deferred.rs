//! A draw target that lets the browser decode images (WebCodecs `ImageDecoder`) without
//! breaking wire order.
//!
//! The protocol core draws synchronously; a browser decodes asynchronously. So when an image
//! is handed to the browser, every later drawing operation is queued (with its pixels) until
//! the image comes back, and then replayed in order: the framebuffer never shows a later
//! operation under an earlier image. Damage is held while anything is queued, so the canvas
//! is only painted from a framebuffer that is consistent with the wire.
//!
//! Bounded: when the queue holds more than [`DeferredTarget::MAX_QUEUED_BYTES`] the pending
//! images are decoded here, synchronously, with the same decoder the core would have used,
//! and the queue is drained. A browser decode that fails falls back the same way.
//!
//! Pure Rust (no wasm-bindgen) so its ordering rules are unit-tested on the host.

use std::collections::VecDeque;

use rfb_encodings::{
    DrawTarget, Framebuffer, H264Rect, ImageFormat, NAL_SPS, Rect, decode_image_rgba, parse_sps,
};

/// One queued operation, in wire order.
#[derive(Debug)]
enum Op {
    Image {
        id: u32,
        rect: Rect,
        format: ImageFormat,
        data: Vec<u8>,
        /// The decoded pixels, once the browser (or the fallback) has them.
        rgba: Option<Vec<u8>>,
    },
    /// An Open H.264 rectangle the browser's VideoDecoder is working on. `result` is
    /// `Some(None)` when it finished without a picture to draw (a reset-only rectangle, or
    /// a failed decode: the spec says to skip frames that fail).
    Video {
        id: u32,
        rect: Rect,
        result: Option<Option<Vec<u8>>>,
    },
    Put {
        rect: Rect,
        rgba: Vec<u8>,
    },
    Fill {
        rect: Rect,
        rgba: [u8; 4],
    },
    Copy {
        src_x: u16,
        src_y: u16,
        dst: Rect,
    },
    Resize {
        width: u16,
        height: u16,
    },
}

impl Op {
    fn bytes(&self) -> usize {
        match self {
            Self::Image { data, rgba, .. } => data.len() + rgba.as_ref().map_or(0, Vec::len),
            Self::Put { rgba, .. } => rgba.len(),
            Self::Video { result, .. } => result
                .as_ref()
                .and_then(|r| r.as_ref())
                .map_or(16, Vec::len),
            _ => 16,
        }
    }
}

/// A JPEG the driver should decode: (id, rectangle, compressed bytes).
pub(crate) struct ImageJob {
    pub(crate) id: u32,
    pub(crate) rect: Rect,
    pub(crate) data: Vec<u8>,
}

/// An Open H.264 rectangle for the driver's VideoDecoder (one per context, the rectangle).
pub(crate) struct VideoJob {
    pub(crate) id: u32,
    pub(crate) rect: Rect,
    /// ResetContext (1) / ResetAllContexts (2), applied before decoding.
    pub(crate) flags: u32,
    /// The access units, each with whether it starts with an IDR picture (a key chunk).
    pub(crate) units: Vec<(Vec<u8>, bool)>,
    /// The `avc1.PPCCLL` codec string from an SPS in the data, when there is one.
    pub(crate) codec: Option<String>,
}

/// The framebuffer plus the queue; see the module docs.
pub(crate) struct DeferredTarget {
    fb: Framebuffer,
    /// Whether images go to the browser at all (`webcodecs: false` keeps them in Rust).
    browser_images: bool,
    queue: VecDeque<Op>,
    queued_bytes: usize,
    jobs: Vec<ImageJob>,
    /// Whether Open H.264 rectangles go to the browser (its VideoDecoder can do avc1).
    browser_video: bool,
    video_jobs: Vec<VideoJob>,
    next_id: u32,
    /// Images decoded in Rust after a browser failure or to stay within the byte budget.
    pub(crate) fallbacks: u32,
    /// Images the browser decoded.
    pub(crate) browser_decoded: u32,
}

impl DeferredTarget {
    /// Queued bytes above which pending images are decoded synchronously.
    pub(crate) const MAX_QUEUED_BYTES: usize = 32 << 20;

    pub(crate) fn new(browser_images: bool) -> Self {
        Self {
            fb: Framebuffer::new(0, 0),
            browser_images,
            queue: VecDeque::new(),
            queued_bytes: 0,
            jobs: Vec::new(),
            browser_video: false,
            video_jobs: Vec::new(),
            next_id: 1,
            fallbacks: 0,
            browser_decoded: 0,
        }
    }

    /// Sends Open H.264 rectangles to the browser (call only when it can decode avc1).
    pub(crate) fn enable_video(&mut self) {
        self.browser_video = true;
    }

    /// H.264 rectangles handed out since the last call.
    pub(crate) fn take_video_jobs(&mut self) -> Vec<VideoJob> {
        std::mem::take(&mut self.video_jobs)
    }

    /// The browser finished H.264 rectangle `id`: its last picture as RGBA of the
    /// rectangle's size, or `None` (nothing to draw). Returns false for an unknown id.
    pub(crate) fn complete_video(&mut self, id: u32, rgba: Option<Vec<u8>>) -> bool {
        let Some(Op::Video { rect, result, .. }) = self
            .queue
            .iter_mut()
            .find(|op| matches!(op, Op::Video { id: i, .. } if *i == id))
        else {
            return false;
        };
        let want = usize::from(rect.width) * usize::from(rect.height) * 4;
        *result = Some(rgba.filter(|p| p.len() == want));
        self.drain();
        true
    }

    pub(crate) fn framebuffer(&self) -> &Framebuffer {
        &self.fb
    }

    /// Nothing is waiting: the framebuffer matches everything received so far.
    pub(crate) fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Images handed out since the last call, for the driver to decode.
    pub(crate) fn take_jobs(&mut self) -> Vec<ImageJob> {
        std::mem::take(&mut self.jobs)
    }

    /// The browser decoded image `id` to RGBA (`rect.width * 4` bytes per row). A wrong size
    /// counts as a failure. Returns false for an unknown id.
    pub(crate) fn complete(&mut self, id: u32, rgba: Vec<u8>) -> bool {
        let Some(Op::Image {
            rect,
            rgba: slot,
            format,
            data,
            ..
        }) = self
            .queue
            .iter_mut()
            .find(|op| matches!(op, Op::Image { id: i, .. } if *i == id))
        else {
            return false;
        };
        let want = usize::from(rect.width) * usize::from(rect.height) * 4;
        if rgba.len() == want {
            *slot = Some(rgba);
            self.browser_decoded += 1;
        } else {
            *slot = Some(decode_image_rgba(*format, data, *rect).unwrap_or_default());
            self.fallbacks += 1;
        }
        self.drain();
        true
    }

    /// The browser could not decode image `id`: decode it here.
    pub(crate) fn fail(&mut self, id: u32) -> bool {
        self.complete(id, Vec::new())
    }

    /// Decodes every pending image here and applies the whole queue.
    pub(crate) fn flush_sync(&mut self) {
        for op in &mut self.queue {
            if let Op::Image {
                rect,
                format,
                data,
                rgba: rgba @ None,
                ..
            } = op
            {
                *rgba = Some(decode_image_rgba(*format, data, *rect).unwrap_or_default());
                self.fallbacks += 1;
            }
            // No decoder here for H.264: a picture the browser has not delivered in time is
            // skipped, as the spec allows for frames that cannot be decoded.
            if let Op::Video {
                result: result @ None,
                ..
            } = op
            {
                *result = Some(None);
            }
        }
        self.jobs.clear();
        self.drain();
    }

    /// Applies queued operations from the front until an image that is not decoded yet.
    fn drain(&mut self) {
        while let Some(op) = self.queue.front() {
            if matches!(
                op,
                Op::Image { rgba: None, .. } | Op::Video { result: None, .. }
            ) {
                return;
            }
            let op = self.queue.pop_front().expect("front exists");
            self.queued_bytes -= op.bytes().min(self.queued_bytes);
            match op {
                Op::Image { rect, rgba, .. } => {
                    let rgba = rgba.unwrap_or_default();
                    // A decode that failed in Rust too leaves the area as it was: the core
                    // would have reported an error; a browser session keeps running.
                    if rgba.len() == usize::from(rect.width) * usize::from(rect.height) * 4 {
                        self.fb.put_rgba(rect, &rgba);
                    }
                }
                Op::Video { rect, result, .. } => {
                    if let Some(Some(rgba)) = result {
                        self.fb.put_rgba(rect, &rgba);
                    }
                }
                Op::Put { rect, rgba } => self.fb.put_rgba(rect, &rgba),
                Op::Fill { rect, rgba } => self.fb.fill_rgba(rect, rgba),
                Op::Copy { src_x, src_y, dst } => self.fb.copy_rect(src_x, src_y, dst),
                Op::Resize { width, height } => self.fb.resize(width, height),
            }
        }
    }

    fn push(&mut self, op: Op) {
        self.queued_bytes += op.bytes();
        self.queue.push_back(op);
        if self.queued_bytes > Self::MAX_QUEUED_BYTES {
            self.flush_sync();
        }
    }
}

impl DrawTarget for DeferredTarget {
    fn resize(&mut self, width: u16, height: u16) {
        if self.queue.is_empty() {
            self.fb.resize(width, height);
        } else {
            self.push(Op::Resize { width, height });
        }
    }

    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]) {
        if self.queue.is_empty() {
            self.fb.put_rgba(rect, rgba);
        } else {
            self.push(Op::Put {
                rect,
                rgba: rgba.to_vec(),
            });
        }
    }

    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]) {
        if self.queue.is_empty() {
            self.fb.fill_rgba(rect, rgba);
        } else {
            self.push(Op::Fill { rect, rgba });
        }
    }

    fn copy_rect(&mut self, src_x: u16, src_y: u16, dst: Rect) {
        if self.queue.is_empty() {
            self.fb.copy_rect(src_x, src_y, dst);
        } else {
            self.push(Op::Copy { src_x, src_y, dst });
        }
    }

    fn draw_image(&mut self, rect: Rect, format: ImageFormat, data: &[u8]) -> bool {
        // Only JPEG goes to the browser (PNG is rare and cheap); nothing beyond the budget.
        if !self.browser_images
            || format != ImageFormat::Jpeg
            || data.len() > Self::MAX_QUEUED_BYTES
        {
            return false;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.jobs.push(ImageJob {
            id,
            rect,
            data: data.to_vec(),
        });
        self.push(Op::Image {
            id,
            rect,
            format,
            data: data.to_vec(),
            rgba: None,
        });
        true
    }

    fn draw_h264(&mut self, msg: &H264Rect<'_>) -> bool {
        if !self.browser_video || msg.data.len() > Self::MAX_QUEUED_BYTES {
            return false;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let codec = rfb_encodings::nal_units(msg.data)
            .find(|n| n.nal_type == Some(NAL_SPS))
            .and_then(|n| parse_sps(n.data))
            .map(|sps| sps.codec_string());
        self.video_jobs.push(VideoJob {
            id,
            rect: msg.rect,
            flags: msg.flags.bits(),
            units: msg
                .access_units()
                .map(|au| (au.data.to_vec(), au.idr))
                .collect(),
            codec,
        });
        self.push(Op::Video {
            id,
            rect: msg.rect,
            result: None,
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: u16, y: u16, w: u16, h: u16) -> Rect {
        Rect {
            x,
            y,
            width: w,
            height: h,
        }
    }

    const RED: [u8; 4] = [255, 0, 0, 255];
    const BLUE: [u8; 4] = [0, 0, 255, 255];

    fn solid(w: u16, h: u16, c: [u8; 4]) -> Vec<u8> {
        c.repeat(usize::from(w) * usize::from(h))
    }

    #[test]
    fn operations_after_an_image_wait_for_it_and_apply_in_order() {
        let mut t = DeferredTarget::new(true);
        t.resize(8, 8);
        assert!(t.draw_image(rect(0, 0, 4, 4), ImageFormat::Jpeg, b"not decoded here"));
        // A later fill over part of the image must end up on top of it.
        t.fill_rgba(rect(2, 2, 2, 2), BLUE);
        t.copy_rect(0, 0, rect(4, 4, 4, 4));
        assert!(!t.is_idle());
        assert_eq!(
            t.framebuffer().pixel(3, 3),
            Some([0, 0, 0, 255]),
            "nothing applied yet"
        );
        let jobs = t.take_jobs();
        assert_eq!(jobs.len(), 1);
        assert!(t.complete(jobs[0].id, solid(4, 4, RED)));
        assert!(t.is_idle());
        let fb = t.framebuffer();
        assert_eq!(fb.pixel(0, 0), Some(RED));
        assert_eq!(fb.pixel(3, 3), Some(BLUE), "the later fill is on top");
        assert_eq!(fb.pixel(7, 7), Some(BLUE), "the copy saw the fill");
        assert_eq!(fb.pixel(4, 4), Some(RED));
    }

    #[test]
    fn images_complete_out_of_order_but_apply_in_order() {
        let mut t = DeferredTarget::new(true);
        t.resize(4, 4);
        t.draw_image(rect(0, 0, 4, 4), ImageFormat::Jpeg, b"a");
        t.draw_image(rect(0, 0, 4, 4), ImageFormat::Jpeg, b"b");
        let jobs = t.take_jobs();
        assert!(t.complete(jobs[1].id, solid(4, 4, BLUE)));
        assert!(!t.is_idle(), "the first image still blocks");
        assert!(t.complete(jobs[0].id, solid(4, 4, RED)));
        assert!(t.is_idle());
        assert_eq!(
            t.framebuffer().pixel(1, 1),
            Some(BLUE),
            "the second image is the last"
        );
        assert!(
            !t.complete(jobs[0].id, solid(4, 4, RED)),
            "ids are used once"
        );
    }

    #[test]
    fn failures_and_wrong_sizes_fall_back_without_stalling() {
        let mut t = DeferredTarget::new(true);
        t.resize(4, 4);
        t.draw_image(rect(0, 0, 2, 2), ImageFormat::Jpeg, b"garbage");
        t.fill_rgba(rect(3, 3, 1, 1), RED);
        let id = t.take_jobs()[0].id;
        assert!(t.fail(id));
        assert!(t.is_idle(), "a failed image does not block the queue");
        assert_eq!(t.framebuffer().pixel(3, 3), Some(RED));
        assert_eq!(t.fallbacks, 1);
        t.draw_image(rect(0, 0, 2, 2), ImageFormat::Jpeg, b"garbage");
        let id = t.take_jobs()[0].id;
        assert!(t.complete(id, vec![1, 2, 3]), "wrong size");
        assert!(t.is_idle());
        assert_eq!(t.fallbacks, 2);
    }

    #[test]
    fn rust_decoding_when_browser_images_are_off_or_png() {
        let mut t = DeferredTarget::new(false);
        assert!(!t.draw_image(rect(0, 0, 1, 1), ImageFormat::Jpeg, b"x"));
        let mut t = DeferredTarget::new(true);
        assert!(!t.draw_image(rect(0, 0, 1, 1), ImageFormat::Png, b"x"));
        assert!(t.is_idle());
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut t = DeferredTarget::new(true);
        t.resize(64, 64);
        t.draw_image(rect(0, 0, 1, 1), ImageFormat::Jpeg, b"never answered");
        let big = solid(64, 64, RED);
        for _ in 0..(DeferredTarget::MAX_QUEUED_BYTES / big.len() + 2) {
            t.put_rgba(rect(0, 0, 64, 64), &big);
        }
        assert!(
            t.is_idle(),
            "over budget, everything was applied synchronously"
        );
        assert!(t.queued_bytes == 0);
        assert_eq!(t.framebuffer().pixel(10, 10), Some(RED));
    }

    #[test]
    fn h264_rectangles_wait_in_order_and_skip_failed_pictures() {
        let mut t = DeferredTarget::new(true);
        t.resize(4, 4);
        let data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../crates/rfb-encodings/tests/data/h264/x264-64x48.h264"
        ))
        .unwrap();
        let r = rect(0, 0, 4, 4);
        assert!(!t.draw_h264(&H264Rect::new(r, rfb_encodings::H264Flags(0), &data)));
        t.enable_video();
        assert!(t.draw_h264(&H264Rect::new(r, rfb_encodings::H264Flags(1), &data)));
        t.fill_rgba(rect(0, 0, 1, 1), BLUE);
        assert!(t.draw_h264(&H264Rect::new(r, rfb_encodings::H264Flags(0), &[])));
        let jobs = t.take_video_jobs();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].flags, 1);
        assert_eq!(jobs[0].units.len(), 5, "five pictures in the x264 stream");
        assert!(jobs[0].units[0].1, "the first starts with an IDR");
        assert_eq!(jobs[0].codec.as_deref(), Some("avc1.42c00a"));
        assert!(jobs[1].units.is_empty());
        // The second finishes first: nothing applies until the first is done.
        assert!(t.complete_video(jobs[1].id, None));
        assert!(!t.is_idle());
        assert!(t.complete_video(jobs[0].id, Some(solid(4, 4, RED))));
        assert!(t.is_idle());
        assert_eq!(
            t.framebuffer().pixel(0, 0),
            Some(BLUE),
            "the fill came after the picture"
        );
        assert_eq!(t.framebuffer().pixel(3, 3), Some(RED));
        // A picture of the wrong size is skipped, not drawn.
        assert!(t.draw_h264(&H264Rect::new(r, rfb_encodings::H264Flags(0), &data)));
        let id = t.take_video_jobs()[0].id;
        assert!(t.complete_video(id, Some(vec![0; 8])));
        assert_eq!(t.framebuffer().pixel(3, 3), Some(RED));
    }

    #[test]
    fn resize_while_waiting_is_queued() {
        let mut t = DeferredTarget::new(true);
        t.resize(2, 2);
        t.draw_image(rect(0, 0, 2, 2), ImageFormat::Jpeg, b"x");
        t.resize(4, 4);
        t.fill_rgba(rect(3, 3, 1, 1), BLUE);
        assert_eq!(t.framebuffer().width(), 2);
        let id = t.take_jobs()[0].id;
        t.complete(id, solid(2, 2, RED));
        assert_eq!(t.framebuffer().width(), 4);
        assert_eq!(t.framebuffer().pixel(3, 3), Some(BLUE));
        assert_eq!(t.framebuffer().pixel(0, 0), Some(RED));
    }
}
