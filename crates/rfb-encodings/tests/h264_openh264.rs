//! Native decoding of Open H.264 rectangles with OpenH264 (feature `h264-openh264`):
//! the committed x264 and FFmpeg streams (scripts/gen-h264-vectors.sh) come out as the
//! picture they were made from, within the loss of a quantiser of 12; oversized pictures are
//! cropped; broken data is counted and ignored; contexts follow the reset flags.
//!
//! Run: `cargo test -p rfb-encodings --features h264-openh264 --test h264_openh264`.
#![cfg(feature = "h264-openh264")]

use rfb_encodings::{
    DecoderLimits, Decoders, Encoding, Framebuffer, H264Flags, OpenH264Target, PixelFormat, Rect,
};
use rfb_testkit::decode::feed_rect;

const FB: (u16, u16) = (128, 96);
const X264: &[u8] = include_bytes!("data/h264/x264-64x48.h264");
const X264_FRAMES: &str = include_str!("data/h264/x264-64x48.frames");
const FFMPEG_AUD: &[u8] = include_bytes!("data/h264/ffmpeg-16x16-aud.h264");

/// The generator's palette (scripts/gen-h264-vectors.sh).
const PALETTE: [[u8; 3]; 6] = [
    [200, 40, 40],
    [40, 200, 40],
    [40, 40, 200],
    [200, 200, 40],
    [40, 200, 200],
    [200, 40, 200],
];

/// Lossy coding at qp 12 plus limited-range YUV rounding: every component of a flat area
/// stays this close to the source.
const TOLERANCE: i32 = 10;

/// The source colour of pixel (x, y) of frame `k` of a `w` x `h` stream.
fn source(k: usize, x: u16, y: u16, w: u16, h: u16) -> [u8; 3] {
    let q = usize::from(x >= w / 2) + 2 * usize::from(y >= h / 2);
    PALETTE[(k + q) % 6]
}

/// Checks the pixels of `area` (at `origin` in the framebuffer) against frame `k`, skipping
/// a margin of 4 pixels around quadrant edges where chroma subsampling blends colours.
fn check_frame(fb: &Framebuffer, origin: (u16, u16), area: (u16, u16), src: (u16, u16), k: usize) {
    let (w, h) = src;
    let mut checked = 0;
    for y in 0..area.1 {
        for x in 0..area.0 {
            let near_edge = |v: u16, half: u16| v.abs_diff(half) < 4 || v < 2;
            if near_edge(x, w / 2) || near_edge(y, h / 2) {
                continue;
            }
            let got = fb.pixel(origin.0 + x, origin.1 + y).unwrap();
            let want = source(k, x, y, w, h);
            for c in 0..3 {
                let d = (i32::from(got[c]) - i32::from(want[c])).abs();
                assert!(
                    d <= TOLERANCE,
                    "frame {k} pixel ({x},{y}): got {got:?}, want {want:?}"
                );
            }
            assert_eq!(got[3], 255);
            checked += 1;
        }
    }
    assert!(checked > 0);
}

fn payload(flags: u32, data: &[u8]) -> Vec<u8> {
    let mut p = (data.len() as u32).to_be_bytes().to_vec();
    p.extend_from_slice(&flags.to_be_bytes());
    p.extend_from_slice(data);
    p
}

fn setup() -> (Decoders, OpenH264Target<Framebuffer>) {
    let dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    (dec, OpenH264Target::new(Framebuffer::new(FB.0, FB.1)))
}

fn frame_sizes() -> Vec<usize> {
    X264_FRAMES
        .lines()
        .map(|l| l.split_once(',').unwrap().0.parse().unwrap())
        .collect()
}

/// One frame per rectangle, as a server sends them: every frame matches its source.
#[test]
fn x264_frames_one_per_rectangle() {
    let (mut dec, mut t) = setup();
    let rect = Rect::new(10, 20, 64, 48);
    let mut at = 0;
    for (k, size) in frame_sizes().into_iter().enumerate() {
        let p = payload(0, &X264[at..at + size]);
        at += size;
        feed_rect(&mut dec, &mut t, FB, rect, Encoding::OpenH264, &p, 5).unwrap();
        check_frame(t.inner(), (10, 20), (64, 48), (64, 48), k);
    }
    assert_eq!((t.pictures(), t.decode_errors(), t.contexts()), (5, 0, 1));
}

/// All frames in one rectangle: all are decoded, the last is shown.
#[test]
fn x264_all_frames_in_one_rectangle() {
    let (mut dec, mut t) = setup();
    let rect = Rect::new(0, 0, 64, 48);
    feed_rect(
        &mut dec,
        &mut t,
        FB,
        rect,
        Encoding::OpenH264,
        &payload(0, X264),
        0,
    )
    .unwrap();
    check_frame(t.inner(), (0, 0), (64, 48), (64, 48), 4);
    assert_eq!((t.pictures(), t.decode_errors()), (1, 0));
}

#[test]
fn ffmpeg_stream_with_delimiters() {
    let (mut dec, mut t) = setup();
    let rect = Rect::new(100, 70, 16, 16);
    feed_rect(
        &mut dec,
        &mut t,
        FB,
        rect,
        Encoding::OpenH264,
        &payload(0, FFMPEG_AUD),
        1,
    )
    .unwrap();
    check_frame(t.inner(), (100, 70), (16, 16), (16, 16), 2);
}

/// A 64x48 picture for a 50x30 rectangle: the right and bottom are cut off, nothing outside
/// the rectangle is touched.
#[test]
fn oversized_pictures_are_cropped() {
    let (mut dec, mut t) = setup();
    let rect = Rect::new(4, 4, 50, 30);
    let first = frame_sizes()[0];
    let p = payload(0, &X264[..first]);
    feed_rect(&mut dec, &mut t, FB, rect, Encoding::OpenH264, &p, 0).unwrap();
    check_frame(t.inner(), (4, 4), (50, 30), (64, 48), 0);
    assert_eq!(t.inner().pixel(54, 10), Some([0, 0, 0, 255]));
    assert_eq!(t.inner().pixel(10, 34), Some([0, 0, 0, 255]));
}

/// P frames without the I frame they refer to cannot be shown; garbage neither. Both are
/// ignored (the spec's advice) and a later I frame decodes again.
#[test]
fn broken_data_is_ignored_until_the_next_i_frame() {
    let (mut dec, mut t) = setup();
    let rect = Rect::new(0, 0, 64, 48);
    let sizes = frame_sizes();
    let garbage = [
        0, 0, 0, 1, 0x65, 0xff, 0x13, 0x37, 0, 0, 1, 0x41, 0x9a, 0x00, 0x01,
    ];
    feed_rect(
        &mut dec,
        &mut t,
        FB,
        rect,
        Encoding::OpenH264,
        &payload(0, &garbage),
        0,
    )
    .unwrap();
    assert_eq!(t.pictures(), 0);
    assert!(t.decode_errors() > 0);
    let before = t.inner().clone();
    // The fifth frame is an IDR with its parameter sets: it decodes on its own.
    let idr_at: usize = sizes[..4].iter().sum();
    let p = payload(H264Flags::RESET_CONTEXT, &X264[idr_at..]);
    feed_rect(&mut dec, &mut t, FB, rect, Encoding::OpenH264, &p, 0).unwrap();
    assert_ne!(t.inner(), &before);
    check_frame(t.inner(), (0, 0), (64, 48), (64, 48), 4);
    assert_eq!(t.pictures(), 1);
}

#[test]
fn reset_flags_drop_decoders() {
    let (mut dec, mut t) = setup();
    for x in [0, 64] {
        let rect = Rect::new(x, 0, 64, 48);
        feed_rect(
            &mut dec,
            &mut t,
            FB,
            rect,
            Encoding::OpenH264,
            &payload(0, X264),
            0,
        )
        .unwrap();
    }
    assert_eq!(t.contexts(), 2);
    let p = payload(H264Flags::RESET_CONTEXT, &[]);
    feed_rect(
        &mut dec,
        &mut t,
        FB,
        Rect::new(0, 0, 64, 48),
        Encoding::OpenH264,
        &p,
        0,
    )
    .unwrap();
    assert_eq!(t.contexts(), 1);
    let p = payload(H264Flags::RESET_ALL_CONTEXTS, &[]);
    feed_rect(
        &mut dec,
        &mut t,
        FB,
        Rect::new(0, 0, 1, 1),
        Encoding::OpenH264,
        &p,
        0,
    )
    .unwrap();
    assert_eq!(t.contexts(), 0);
    // Other drawing passes through to the wrapped target.
    feed_rect(
        &mut dec,
        &mut t,
        FB,
        Rect::new(0, 0, 1, 1),
        Encoding::Raw,
        &[1, 2, 3, 0],
        0,
    )
    .unwrap();
    assert_eq!(t.inner().pixel(0, 0), Some([1, 2, 3, 255]));
}

/// A picture more than twice its rectangle is not handed to the decoder: a small rectangle
/// cannot make a context allocate large pictures.
#[test]
fn pictures_far_larger_than_the_rectangle_are_refused() {
    let (mut dec, mut t) = setup();
    // 64x48 pictures for a 16x16 rectangle: 64 > 2 * 16.
    let rect = Rect::new(0, 0, 16, 16);
    feed_rect(
        &mut dec,
        &mut t,
        FB,
        rect,
        Encoding::OpenH264,
        &payload(0, X264),
        0,
    )
    .unwrap();
    assert_eq!(t.pictures(), 0);
    // The IDR (with its SPS) and the first P frames, which then lack their references.
    assert!(t.decode_errors() >= 1);
    assert_eq!(t.inner(), &Framebuffer::new(FB.0, FB.1));
    // Twice the rectangle is still fine: 64x48 for 32x24.
    let rect = Rect::new(0, 0, 32, 24);
    let p = payload(H264Flags::RESET_ALL_CONTEXTS, X264);
    feed_rect(&mut dec, &mut t, FB, rect, Encoding::OpenH264, &p, 0).unwrap();
    assert_eq!(t.pictures(), 1);
    check_frame(t.inner(), (0, 0), (32, 24), (64, 48), 4);
}
