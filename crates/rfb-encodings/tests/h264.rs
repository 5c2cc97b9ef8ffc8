//! Open H.264 encoding (50) framing
//! (<https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#open-h264-encoding>):
//! length/flags/data read at any chunking, handed to the target in wire order, split into
//! access units that match what FFmpeg's parser sees in streams made by x264 and FFmpeg
//! (tests/data/h264, made by scripts/gen-h264-vectors.sh), limits and refusals typed.

use rfb_encodings::{
    DecodeErrorKind, Decoded, DecoderLimits, Decoders, DrawTarget, Encoding, Framebuffer,
    H264Contexts, H264Flags, H264Rect, NAL_AUD, NAL_IDR, NAL_PPS, NAL_SPS, PixelFormat, Rect,
    parse_sps,
};
use rfb_testkit::decode::feed_rect;

const FB: (u16, u16) = (128, 96);
const X264: &[u8] = include_bytes!("data/h264/x264-64x48.h264");
const X264_FRAMES: &str = include_str!("data/h264/x264-64x48.frames");
const FFMPEG_AUD: &[u8] = include_bytes!("data/h264/ffmpeg-16x16-aud.h264");
const FFMPEG_AUD_FRAMES: &str = include_str!("data/h264/ffmpeg-16x16-aud.frames");

/// Everything the target was asked to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Put(Rect),
    H264 {
        rect: Rect,
        flags: u32,
        data: Vec<u8>,
        /// (length, idr) of each access unit.
        units: Vec<(usize, bool)>,
    },
}

/// A target that takes H.264 (as a WebCodecs driver would) and keeps one context per
/// rectangle, counting the access units each context decoded.
#[derive(Debug)]
struct H264Target {
    fb: Framebuffer,
    ops: Vec<Op>,
    contexts: H264Contexts<Vec<bool>>,
    contexts_made: usize,
}

impl H264Target {
    fn new(max_contexts: usize) -> Self {
        Self {
            fb: Framebuffer::new(FB.0, FB.1),
            ops: Vec::new(),
            contexts: H264Contexts::new(max_contexts),
            contexts_made: 0,
        }
    }

    fn h264_ops(&self) -> Vec<&Op> {
        self.ops
            .iter()
            .filter(|o| matches!(o, Op::H264 { .. }))
            .collect()
    }
}

impl DrawTarget for H264Target {
    fn resize(&mut self, w: u16, h: u16) {
        self.fb.resize(w, h);
    }
    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]) {
        self.ops.push(Op::Put(rect));
        self.fb.put_rgba(rect, rgba);
    }
    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]) {
        self.fb.fill_rgba(rect, rgba);
    }
    fn copy_rect(&mut self, x: u16, y: u16, dst: Rect) {
        self.fb.copy_rect(x, y, dst);
    }
    fn draw_h264(&mut self, msg: &H264Rect<'_>) -> bool {
        let units: Vec<_> = msg.access_units().map(|u| (u.data.len(), u.idr)).collect();
        let made = &mut self.contexts_made;
        if let Ok(Some(ctx)) = msg_context(&mut self.contexts, msg, made) {
            ctx.extend(units.iter().map(|u| u.1));
        }
        self.ops.push(Op::H264 {
            rect: msg.rect,
            flags: msg.flags.bits(),
            data: msg.data.to_vec(),
            units,
        });
        true
    }
}

fn msg_context<'c>(
    contexts: &'c mut H264Contexts<Vec<bool>>,
    msg: &H264Rect<'_>,
    made: &mut usize,
) -> Result<Option<&'c mut Vec<bool>>, ()> {
    contexts.prepare(msg, || {
        *made += 1;
        Ok(Vec::new())
    })
}

fn payload(flags: u32, data: &[u8]) -> Vec<u8> {
    let mut p = (data.len() as u32).to_be_bytes().to_vec();
    p.extend_from_slice(&flags.to_be_bytes());
    p.extend_from_slice(data);
    p
}

fn decoders() -> Decoders {
    Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap()
}

/// `(size, key)` per line of an ffprobe `size,flags` listing.
fn ffprobe_frames(listing: &str) -> Vec<(usize, bool)> {
    listing
        .lines()
        .map(|l| {
            let (size, flags) = l.split_once(',').unwrap();
            (size.parse().unwrap(), flags.starts_with('K'))
        })
        .collect()
}

/// Every chunk size a driver might see, down to single bytes.
const CHUNKS: [usize; 5] = [0, 1, 2, 7, 1000];

#[test]
fn one_rectangle_at_any_chunking() {
    let rect = Rect::new(8, 4, 64, 48);
    let p = payload(0, X264);
    for chunk in CHUNKS {
        let mut t = H264Target::new(64);
        let mut dec = decoders();
        let d = feed_rect(&mut dec, &mut t, FB, rect, Encoding::OpenH264, &p, chunk).unwrap();
        assert_eq!(d, Decoded::Drawn);
        let [
            Op::H264 {
                rect: r,
                flags,
                data,
                ..
            },
        ] = &t.ops[..]
        else {
            panic!("chunk {chunk}: {:?}", t.ops.len());
        };
        assert_eq!((*r, *flags), (rect, 0));
        assert_eq!(&data[..], X264, "chunk {chunk}");
        assert_eq!(dec.stats().rects_of(Encoding::OpenH264), 1);
    }
}

/// A stream split between rectangles at every byte boundary: the target sees each
/// rectangle's data exactly, and the sum is the stream.
#[test]
fn split_at_every_byte_boundary() {
    let rect = Rect::new(0, 0, 16, 16);
    for cut in 0..=FFMPEG_AUD.len() {
        let mut t = H264Target::new(64);
        let mut dec = decoders();
        let mut wire = payload(0, &FFMPEG_AUD[..cut]);
        wire.extend(payload(0, &FFMPEG_AUD[cut..]));
        // Both rectangles through one chunked feed loop, as a driver reads a socket.
        let mut pending = Vec::new();
        let mut input = wire.chunks(1);
        for _ in 0..2 {
            dec.begin(rect, Encoding::OpenH264, FB.0, FB.1).unwrap();
            loop {
                let p = dec.feed(&pending, &mut t).unwrap();
                pending.drain(..p.consumed);
                if p.done.is_some() {
                    break;
                }
                pending.extend_from_slice(input.next().expect("payload long enough"));
            }
        }
        assert!(pending.is_empty() && input.next().is_none());
        let datas: Vec<&[u8]> = t
            .ops
            .iter()
            .map(|o| match o {
                Op::H264 { data, .. } => &data[..],
                Op::Put(_) => panic!("no pixels drawn"),
            })
            .collect();
        assert_eq!(datas, [&FFMPEG_AUD[..cut], &FFMPEG_AUD[cut..]]);
    }
}

/// H.264 rectangles reach the target between the other rectangles, in wire order.
#[test]
fn wire_order_with_other_encodings() {
    let mut t = H264Target::new(64);
    let mut dec = decoders();
    let h = Rect::new(0, 0, 64, 48);
    let raw = Rect::new(64, 0, 1, 1);
    let frames = ffprobe_frames(X264_FRAMES);
    let mut at = 0;
    for (i, &(size, _)) in frames.iter().enumerate() {
        let p = payload(0, &X264[at..at + size]);
        at += size;
        feed_rect(&mut dec, &mut t, FB, h, Encoding::OpenH264, &p, 3).unwrap();
        feed_rect(
            &mut dec,
            &mut t,
            FB,
            raw,
            Encoding::Raw,
            &[i as u8, 0, 0, 0],
            1,
        )
        .unwrap();
    }
    assert_eq!(t.ops.len(), 2 * frames.len());
    for (i, pair) in t.ops.chunks(2).enumerate() {
        assert!(
            matches!(pair[0], Op::H264 { rect, .. } if rect == h),
            "op {i}"
        );
        assert_eq!(pair[1], Op::Put(raw));
    }
    // Five rectangles with one frame each: one context, five pictures, keys where x264 put them.
    assert_eq!(t.contexts.len(), 1);
    let keys: Vec<bool> = frames.iter().map(|f| f.1).collect();
    assert_eq!(t.contexts.get_or_insert_with(h, || Err(())).unwrap(), &keys);
}

#[test]
fn flags_reach_the_target_and_reset_contexts() {
    let mut t = H264Target::new(64);
    let mut dec = decoders();
    let a = Rect::new(0, 0, 64, 48);
    let b = Rect::new(64, 48, 64, 48);
    let mut send = |t: &mut H264Target, rect, flags, data: &[u8]| {
        feed_rect(
            &mut dec,
            t,
            FB,
            rect,
            Encoding::OpenH264,
            &payload(flags, data),
            1,
        )
        .unwrap();
    };
    send(&mut t, a, 0, X264);
    send(&mut t, b, 0, X264);
    assert_eq!((t.contexts.len(), t.contexts_made), (2, 2));
    // ResetContext with data: a's context is replaced, b's kept.
    send(&mut t, a, H264Flags::RESET_CONTEXT, X264);
    assert_eq!((t.contexts.len(), t.contexts_made), (2, 3));
    // Unknown bits are passed on and change nothing.
    send(&mut t, b, 0xffff_fff0, &[]);
    assert_eq!((t.contexts.len(), t.contexts_made), (2, 3));
    // ResetAllContexts as a control message (no data): nothing left, nothing made.
    send(&mut t, b, H264Flags::RESET_ALL_CONTEXTS, &[]);
    assert_eq!((t.contexts.len(), t.contexts_made), (0, 3));
    // Both bits together, with data: everything dropped, then one new context.
    send(
        &mut t,
        b,
        H264Flags::RESET_ALL_CONTEXTS | H264Flags::RESET_CONTEXT,
        X264,
    );
    assert_eq!((t.contexts.len(), t.contexts_made), (1, 4));
    let flags: Vec<u32> = t
        .h264_ops()
        .iter()
        .map(|o| match o {
            Op::H264 { flags, .. } => *flags,
            Op::Put(_) => unreachable!(),
        })
        .collect();
    assert_eq!(flags, [0, 0, 1, 0xffff_fff0, 2, 3]);
}

#[test]
fn contexts_are_keyed_by_the_whole_rectangle_and_capped() {
    let mut t = H264Target::new(3);
    let mut dec = decoders();
    // Same corner, four sizes: four contexts, the oldest dropped at the cap of 3.
    for w in [16, 32, 48, 64] {
        let rect = Rect::new(0, 0, w, 16);
        let p = payload(0, FFMPEG_AUD);
        feed_rect(&mut dec, &mut t, FB, rect, Encoding::OpenH264, &p, 0).unwrap();
    }
    assert_eq!((t.contexts.len(), t.contexts_made), (3, 4));
    assert!(!t.contexts.contains(Rect::new(0, 0, 16, 16)));
    assert!(t.contexts.contains(Rect::new(0, 0, 64, 16)));
}

#[test]
fn zero_length_is_a_control_message() {
    let mut t = H264Target::new(64);
    let mut dec = decoders();
    let rect = Rect::new(1, 2, 3, 4);
    let p = payload(H264Flags::RESET_CONTEXT, &[]);
    assert_eq!(p.len(), 8);
    for chunk in CHUNKS {
        feed_rect(&mut dec, &mut t, FB, rect, Encoding::OpenH264, &p, chunk).unwrap();
    }
    assert!(t.ops.iter().all(|o| matches!(
        o,
        Op::H264 { rect: r, flags: 1, data, units } if *r == rect && data.is_empty() && units.is_empty()
    )));
    assert_eq!(t.ops.len(), CHUNKS.len());
    assert!(t.contexts.is_empty());
}

/// The length is checked against the limit as soon as the header is read: nothing of the
/// data is needed, or buffered, to fail.
#[test]
fn length_over_the_limit_fails_before_the_data() {
    let limits = DecoderLimits {
        max_compressed_len: 1000,
        ..DecoderLimits::default()
    };
    for len in [1001u32, u32::MAX] {
        let mut t = H264Target::new(64);
        let mut dec = Decoders::new(PixelFormat::RGBX8888, limits).unwrap();
        dec.begin(Rect::new(0, 0, 16, 16), Encoding::OpenH264, FB.0, FB.1)
            .unwrap();
        let mut header = len.to_be_bytes().to_vec();
        header.extend_from_slice(&[0; 4]);
        let p = dec.feed(&header[..7], &mut t).unwrap();
        assert_eq!((p.consumed, dec.bytes_needed()), (0, 8));
        let e = dec.feed(&header, &mut t).unwrap_err();
        assert_eq!(e.encoding, Encoding::OpenH264);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LimitExceeded {
                what: "H.264 data length",
                value: u64::from(len),
                limit: 1000,
            }
        );
        assert!(!dec.is_busy() && t.ops.is_empty());
    }
    // Exactly at the limit is fine.
    let mut t = H264Target::new(64);
    let mut dec = Decoders::new(PixelFormat::RGBX8888, limits).unwrap();
    let p = payload(0, &[0; 1000]);
    feed_rect(
        &mut dec,
        &mut t,
        FB,
        Rect::new(0, 0, 16, 16),
        Encoding::OpenH264,
        &p,
        0,
    )
    .unwrap();
}

/// A target without an H.264 decoder (the default `draw_h264`) refuses cleanly, after the
/// rectangle's bytes were read, so nothing is misread as the next header.
#[test]
fn target_without_h264_gets_a_typed_error() {
    for chunk in CHUNKS {
        let mut fb = Framebuffer::new(FB.0, FB.1);
        let before = fb.clone();
        let mut dec = decoders();
        let e = feed_rect(
            &mut dec,
            &mut fb,
            FB,
            Rect::new(0, 0, 16, 16),
            Encoding::OpenH264,
            &payload(0, FFMPEG_AUD),
            chunk,
        )
        .unwrap_err();
        assert_eq!(e.encoding, Encoding::OpenH264);
        assert_eq!(e.kind, DecodeErrorKind::Unsupported);
        assert!(!dec.is_busy());
        assert_eq!(fb, before);
    }
}

#[test]
fn rectangle_outside_the_framebuffer_is_refused_at_begin() {
    let mut dec = decoders();
    let e = dec
        .begin(Rect::new(100, 0, 64, 48), Encoding::OpenH264, FB.0, FB.1)
        .unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::OutOfBounds { .. }));
}

#[test]
fn offered_only_on_request() {
    assert!(!Decoders::supported().contains(&Encoding::OpenH264));
    assert!(Decoders::target_decoded().contains(&Encoding::OpenH264));
    assert!(Decoders::can_decode(Encoding::OpenH264));
    assert_eq!(Encoding::OpenH264.to_i32(), 50);
}

/// Our access units are ffprobe's frames, byte for byte, and the first holds SPS, PPS and
/// an IDR slice.
#[test]
fn vectors_split_into_the_encoders_frames() {
    for (stream, listing, aud) in [
        (X264, X264_FRAMES, false),
        (FFMPEG_AUD, FFMPEG_AUD_FRAMES, true),
    ] {
        let expected = ffprobe_frames(listing);
        let msg = H264Rect::new(Rect::new(0, 0, 64, 48), H264Flags(0), stream);
        let units: Vec<_> = msg.access_units().collect();
        let got: Vec<(usize, bool)> = units.iter().map(|u| (u.data.len(), u.idr)).collect();
        assert_eq!(got, expected);
        assert_eq!(got.iter().map(|u| u.0).sum::<usize>(), stream.len());
        for u in &units {
            assert!(u.data.starts_with(&[0, 0, 0, 1]) || u.data.starts_with(&[0, 0, 1]));
        }
        let first: Vec<u8> = units[0].nal_units().filter_map(|n| n.nal_type).collect();
        for t in [NAL_SPS, NAL_PPS, NAL_IDR] {
            assert!(first.contains(&t), "{first:?} lacks NAL type {t}");
        }
        if aud {
            assert!(
                units
                    .iter()
                    .all(|u| u.nal_units().next().unwrap().nal_type == Some(NAL_AUD))
            );
        }
        // The profile byte of the SPS: 66 = baseline, as the spec prescribes.
        let sps = units[0]
            .nal_units()
            .find(|n| n.nal_type == Some(NAL_SPS))
            .unwrap();
        assert_eq!(sps.data[1], 66);
        // The SPS reader agrees with ffprobe on the size and names the constrained baseline
        // profile for WebCodecs.
        let info = parse_sps(sps.data).unwrap();
        let size = if aud { (16, 16) } else { (64, 48) };
        assert_eq!((info.coded_width, info.coded_height), size);
        assert!(info.codec_string().starts_with("avc1.42c0"), "{info:?}");
    }
}
