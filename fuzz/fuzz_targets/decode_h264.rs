//! Open H.264 (50) framing: a run of rectangles, each with a header chosen by the input, then
//! the payload fed in chunks as a driver does. The target takes the H.264 data (as a WebCodecs
//! driver would): it splits it into access units and NAL units and keeps contexts, so the
//! Annex B parser and the context bookkeeping see the fuzzed bytes too.
//! Input layout: [chunk size, small-limit switch, then per rectangle: x, y, width, height,
//! payload…]; the payload's own length word says where the next rectangle starts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_encodings::{
    DecoderLimits, Decoders, DrawTarget, Encoding, Framebuffer, H264Contexts, H264Rect,
    PixelFormat, Rect, parse_sps,
};

struct Target {
    fb: Framebuffer,
    contexts: H264Contexts<usize>,
}

impl DrawTarget for Target {
    fn resize(&mut self, w: u16, h: u16) {
        self.fb.resize(w, h);
    }
    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]) {
        self.fb.put_rgba(rect, rgba);
    }
    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]) {
        self.fb.fill_rgba(rect, rgba);
    }
    fn copy_rect(&mut self, x: u16, y: u16, dst: Rect) {
        self.fb.copy_rect(x, y, dst);
    }
    fn draw_h264(&mut self, msg: &H264Rect<'_>) -> bool {
        let mut total = 0;
        for au in msg.access_units() {
            assert!(!au.data.is_empty());
            total += au.data.len();
            for nal in au.nal_units() {
                assert!(nal.data.len() <= au.data.len());
                if let Some(sps) = parse_sps(nal.data) {
                    assert!(sps.coded_width % 16 == 0 && sps.coded_height % 16 == 0);
                    let _ = sps.codec_string();
                }
            }
        }
        assert!(total <= msg.data.len());
        if let Ok(Some(n)) = self.contexts.prepare(msg, || Ok::<_, ()>(0)) {
            *n += 1;
        }
        assert!(self.contexts.len() <= 4);
        true
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let chunk = usize::from(data[0]).max(1);
    let limits = DecoderLimits {
        max_compressed_len: if data[1] & 1 == 1 { 64 } else { 1 << 20 },
        ..DecoderLimits::default()
    };
    let mut dec = Decoders::new(PixelFormat::RGBX8888, limits).expect("valid format");
    let mut t = Target {
        fb: Framebuffer::new(96, 80),
        contexts: H264Contexts::new(4),
    };
    let mut rest = &data[2..];
    while rest.len() >= 4 {
        let rect = Rect::new(
            u16::from(rest[0] & 63),
            u16::from(rest[1] & 63),
            u16::from(rest[2] & 63),
            u16::from(rest[3] & 63),
        );
        rest = &rest[4..];
        if dec.begin(rect, Encoding::OpenH264, 96, 80).is_err() {
            return;
        }
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut used = None;
        for c in rest.chunks(chunk) {
            buf.extend_from_slice(c);
            fed += c.len();
            match dec.feed(&buf, &mut t) {
                Ok(p) => {
                    assert!(p.consumed <= buf.len());
                    buf.drain(..p.consumed);
                    if p.done.is_some() {
                        // What was fed but not consumed belongs to the next rectangle.
                        used = Some(fed - buf.len());
                        break;
                    }
                }
                Err(_) => return,
            }
        }
        let Some(used) = used else { return };
        rest = &rest[used..];
    }
});
