//! JPEG encoding (21) vectors (<https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#jpeg-encoding>):
//! images made with a pure-Rust encoder, fed whole, one byte at a time and in odd chunks; the
//! end of each image is found from its EOI marker; images without DQT/DHT reuse the tables of
//! the last image that had them.

use rfb_encodings::{
    DecodeError, DecodeErrorKind, Decoded, DecoderLimits, Decoders, DrawTarget, Encoding,
    Framebuffer, ImageFormat, PixelFormat, Rect,
};

/// Feeds `payload` in chunks of `chunk` bytes (0 = all at once); returns the decoded outcome.
fn run<T: DrawTarget>(
    dec: &mut Decoders,
    fb: &mut T,
    size: (u16, u16),
    rect: Rect,
    payload: &[u8],
    chunk: usize,
) -> Result<Decoded, DecodeError> {
    rfb_testkit::decode::feed_rect(dec, fb, size, rect, Encoding::Jpeg, payload, chunk)
}

const FB: (u16, u16) = (48, 32);

/// JPEG is lossy: at quality 95 on a smooth picture every component stays within this.
const TOLERANCE: u8 = 12;

fn smooth_rgb(w: usize, h: usize, phase: usize) -> Vec<u8> {
    (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [
                ((x + phase) * 255 / (w + phase)) as u8,
                (y * 255 / h) as u8,
                (64 + phase * 10) as u8,
            ]
        })
        .collect()
}

fn encode(
    rgb: &[u8],
    w: u16,
    h: u16,
    f: impl FnOnce(&mut jpeg_encoder::Encoder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = jpeg_encoder::Encoder::new(&mut out, 95);
    f(&mut e);
    e.encode(rgb, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

fn jpeg(rgb: &[u8], w: u16, h: u16) -> Vec<u8> {
    encode(rgb, w, h, |_| {})
}

/// The marker segments before SOS as (marker, bytes).
fn header_segments(j: &[u8]) -> Vec<(u8, std::ops::Range<usize>)> {
    assert_eq!(&j[..2], &[0xFF, 0xD8]);
    let mut pos = 2;
    let mut out = Vec::new();
    loop {
        assert_eq!(j[pos], 0xFF);
        let m = j[pos + 1];
        let len = usize::from(u16::from_be_bytes([j[pos + 2], j[pos + 3]]));
        out.push((m, pos..pos + 2 + len));
        if m == 0xDA {
            return out;
        }
        pos += 2 + len;
    }
}

/// `j` with its DQT (FF DB) and/or DHT (FF C4) segments removed, as a server that relies on
/// the client's table cache sends it.
fn strip(j: &[u8], dqt: bool, dht: bool) -> Vec<u8> {
    let mut out = j.to_vec();
    for (m, r) in header_segments(j).into_iter().rev() {
        if (m == 0xDB && dqt) || (m == 0xC4 && dht) {
            out.drain(r);
        }
    }
    out
}

/// An abbreviated "tables only" image: SOI, the DQT and DHT segments of `j`, EOI.
fn tables_only(j: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for (m, r) in header_segments(j) {
        if m == 0xDB || m == 0xC4 {
            out.extend_from_slice(&j[r]);
        }
    }
    out.extend([0xFF, 0xD9]);
    out
}

fn sub(dec: &Decoders, name: &'static str) -> u64 {
    dec.stats()
        .subencodings
        .get(&(Encoding::Jpeg, name))
        .copied()
        .unwrap_or(0)
}

fn assert_close(fb: &Framebuffer, r: Rect, rgb: &[u8], tol: u8) {
    for y in 0..r.height {
        for x in 0..r.width {
            let i = (usize::from(y) * usize::from(r.width) + usize::from(x)) * 3;
            let got = fb.pixel(r.x + x, r.y + y).unwrap();
            for c in 0..3 {
                assert!(
                    got[c].abs_diff(rgb[i + c]) <= tol,
                    "({x}, {y}) component {c}: got {} want {}",
                    got[c],
                    rgb[i + c]
                );
            }
        }
    }
}

/// Decodes `frames` (rect, payload) in order with every chunking; all must agree.
fn decode_all(pf: PixelFormat, frames: &[(Rect, Vec<u8>)]) -> (Framebuffer, Decoders) {
    let mut reference: Option<(Framebuffer, Decoders)> = None;
    for chunk in [0, 1, 7, 113] {
        let mut fb = Framebuffer::new(FB.0, FB.1);
        let mut dec = Decoders::new(pf, DecoderLimits::default()).unwrap();
        for (r, p) in frames {
            assert_eq!(
                run(&mut dec, &mut fb, FB, *r, p, chunk).unwrap(),
                Decoded::Drawn
            );
        }
        match &reference {
            None => reference = Some((fb, dec)),
            Some((f, _)) => assert_eq!(f, &fb, "chunk {chunk}"),
        }
    }
    reference.unwrap()
}

#[test]
fn tables_then_a_frame_that_uses_the_cache() {
    let (w, h) = (24u16, 16u16);
    let a = smooth_rgb(24, 16, 0);
    let b = smooth_rgb(24, 16, 9);
    let ja = jpeg(&a, w, h);
    // Same quality, so the same tables: the server may leave them out.
    let jb = strip(&jpeg(&b, w, h), true, true);
    assert!(
        header_segments(&jb)
            .iter()
            .all(|(m, _)| *m != 0xDB && *m != 0xC4)
    );
    let ra = Rect::new(0, 0, w, h);
    let rb = Rect::new(24, 16, w, h);
    for pf in [PixelFormat::RGBX8888, PixelFormat::RGB565] {
        let (fb, dec) = decode_all(pf, &[(ra, ja.clone()), (rb, jb.clone())]);
        assert_close(&fb, ra, &a, TOLERANCE);
        assert_close(&fb, rb, &b, TOLERANCE);
        assert_eq!(sub(&dec, "jpeg-tables"), 1);
        assert_eq!(sub(&dec, "jpeg-cached-tables"), 1);
    }
}

#[test]
fn only_the_missing_kind_of_table_is_spliced() {
    let (w, h) = (16u16, 16u16);
    let a = smooth_rgb(16, 16, 0);
    let b = smooth_rgb(16, 16, 5);
    let c = smooth_rgb(16, 16, 11);
    let r = Rect::new(0, 0, w, h);
    // a: both, quality 95; b: DQT only (DHT from a), quality 60; c: DHT only, quality 60,
    // so it decodes right only with b's quantization tables, which replaced a's.
    let q60 = |e: &mut jpeg_encoder::Encoder<&mut Vec<u8>>| {
        e.set_quality(60);
        e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    };
    let frames = [
        (r, jpeg(&a, w, h)),
        (r, strip(&encode(&b, w, h, q60), false, true)),
        (r, strip(&encode(&c, w, h, q60), true, false)),
    ];
    let (fb, dec) = decode_all(PixelFormat::RGBX8888, &frames);
    assert_close(&fb, r, &c, 2 * TOLERANCE);
    // With a's tables instead, the picture is visibly wrong.
    let wrong = [
        (r, jpeg(&a, w, h)),
        (r, strip(&encode(&c, w, h, q60), true, false)),
    ];
    let (fb_wrong, _) = decode_all(PixelFormat::RGBX8888, &wrong);
    assert_ne!(fb_wrong, fb);
    assert_eq!(sub(&dec, "jpeg-tables"), 3);
    assert_eq!(sub(&dec, "jpeg-cached-tables"), 2);
}

#[test]
fn a_tables_only_image_primes_the_cache() {
    let (w, h) = (16u16, 8u16);
    let a = smooth_rgb(16, 8, 3);
    let ja = jpeg(&a, w, h);
    let r = Rect::new(2, 2, w, h);
    let frames = [(r, tables_only(&ja)), (r, strip(&ja, true, true))];
    let (fb, dec) = decode_all(PixelFormat::RGBX8888, &frames);
    assert_close(&fb, r, &a, TOLERANCE);
    assert_eq!(sub(&dec, "jpeg-tables"), 1);
    assert_eq!(sub(&dec, "jpeg-cached-tables"), 1);
}

/// Deterministic noise: makes the entropy-coded data contain `FF 00` stuffing.
fn noise_rgb(n: usize) -> Vec<u8> {
    let mut s = 0x1234_5678u32;
    (0..n * 3)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as u8
        })
        .collect()
}

#[test]
fn stuffing_restart_markers_and_progressive_scans() {
    let (w, h) = (32u16, 24u16);
    let rgb = noise_rgb(32 * 24);
    let r = Rect::new(3, 4, w, h);
    let with_rst = encode(&rgb, w, h, |e| e.set_restart_interval(1));
    let scan = &with_rst[header_segments(&with_rst).last().unwrap().1.end..];
    assert!(
        scan.windows(2).any(|m| m == [0xFF, 0x00]),
        "no stuffed byte"
    );
    assert!(
        scan.windows(2).any(|m| m == [0xFF, 0xD0]),
        "no restart marker"
    );
    // Progressive: several scans, with DHT segments between them.
    let progressive = encode(&rgb, w, h, |e| e.set_progressive(true));
    let smooth = smooth_rgb(32, 24, 1);
    let smooth_progressive = encode(&smooth, w, h, |e| e.set_progressive(true));
    let (fb, _) = decode_all(
        PixelFormat::RGBX8888,
        &[
            (r, with_rst.clone()),
            (r, progressive.clone()),
            (r, smooth_progressive),
        ],
    );
    assert_close(&fb, r, &smooth, TOLERANCE);
    // Noise decodes to the same pixels whether restart markers or progressive scans were used.
    let (fb1, _) = decode_all(PixelFormat::RGBX8888, &[(r, with_rst)]);
    let (fb2, _) = decode_all(PixelFormat::RGBX8888, &[(r, progressive)]);
    let diff = fb1
        .data()
        .iter()
        .zip(fb2.data())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    // Both approximate the same image at the same quality; noise is JPEG's worst case.
    assert!(diff <= 48, "restart vs progressive differ by {diff}");
}

#[test]
fn consumes_exactly_up_to_eoi() {
    let a = smooth_rgb(8, 8, 0);
    let j = jpeg(&a, 8, 8);
    let mut input = j.clone();
    input.extend([0xFF, 0xD9, 0x00, 0x07]); // the next message's bytes
    for chunk in [input.len(), 1, 5] {
        let mut fb = Framebuffer::new(8, 8);
        let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
        dec.begin(Rect::new(0, 0, 8, 8), Encoding::Jpeg, 8, 8)
            .unwrap();
        let mut pending = Vec::new();
        let mut total = 0;
        let mut chunks = input.chunks(chunk);
        loop {
            let p = dec.feed(&pending, &mut fb).unwrap();
            pending.drain(..p.consumed);
            total += p.consumed;
            if p.done.is_some() {
                break;
            }
            pending.extend_from_slice(chunks.next().unwrap());
        }
        assert_eq!(total, j.len(), "chunk {chunk}");
        assert_close(&fb, Rect::new(0, 0, 8, 8), &a, TOLERANCE);
    }
}

/// A target that records images and may take them.
use rfb_testkit::decode::RecordingTarget as Recorder;

#[test]
fn target_gets_whole_images_with_tables_spliced_in() {
    let a = smooth_rgb(8, 8, 0);
    let b = smooth_rgb(8, 8, 4);
    let ja = jpeg(&a, 8, 8);
    let jb_full = jpeg(&b, 8, 8);
    let jb = strip(&jb_full, true, true);
    let r = Rect::new(0, 0, 8, 8);
    for take in [true, false] {
        let mut t = Recorder {
            fb: Framebuffer::new(8, 8),
            take_images: take,
            ..Default::default()
        };
        let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
        run(&mut dec, &mut t, (8, 8), r, &ja, 3).unwrap();
        run(&mut dec, &mut t, (8, 8), r, &jb, 0).unwrap();
        assert_eq!(t.images.len(), 2);
        assert_eq!(t.images[0], (r, ImageFormat::Jpeg, ja.clone()));
        // The target gets a self-contained JPEG: SOI, the cached tables, then the rest.
        let spliced = &t.images[1].2;
        assert_eq!(&spliced[..4], &[0xFF, 0xD8, 0xFF, 0xDB]);
        assert_eq!(spliced.len(), jb_full.len());
        assert!(spliced.ends_with(&jb[2..]));
        if take {
            assert_eq!(t.puts, 0);
            assert_eq!(t.fb, Framebuffer::new(8, 8));
        } else {
            assert!(t.puts > 0);
            assert_close(&t.fb, r, &b, TOLERANCE);
        }
    }
}

fn decode_err_with(
    pf: PixelFormat,
    limits: DecoderLimits,
    r: Rect,
    frames: &[&[u8]],
) -> DecodeErrorKind {
    let mut fb = Framebuffer::new(FB.0, FB.1);
    let mut dec = Decoders::new(pf, limits).unwrap();
    let (last, first) = frames.split_last().unwrap();
    for f in first {
        run(&mut dec, &mut fb, FB, r, f, 0).unwrap();
    }
    dec.begin(r, Encoding::Jpeg, FB.0, FB.1).unwrap();
    let mut pending = Vec::new();
    let mut bytes = last.iter();
    loop {
        match dec.feed(&pending, &mut fb) {
            Err(e) => {
                assert_eq!(e.encoding, Encoding::Jpeg);
                assert!(!dec.is_busy());
                return e.kind;
            }
            Ok(p) => {
                assert!(p.done.is_none(), "bad input accepted");
                pending.drain(..p.consumed);
            }
        }
        pending.push(*bytes.next().expect("no error, decoder wants more"));
    }
}

fn decode_err(r: Rect, frames: &[&[u8]]) -> DecodeErrorKind {
    decode_err_with(PixelFormat::RGBX8888, DecoderLimits::default(), r, frames)
}

#[test]
fn bad_images() {
    let a = smooth_rgb(8, 8, 0);
    let j = jpeg(&a, 8, 8);
    let r8 = Rect::new(0, 0, 8, 8);
    let image = |e: &DecodeErrorKind| matches!(e, DecodeErrorKind::Image { format: "jpeg", .. });

    // Not a JPEG.
    let e = decode_err(r8, &[&[0x89, b'P', b'N', b'G']]);
    assert!(image(&e), "{e}");
    // A segment length below 2.
    let e = decode_err(r8, &[&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01]]);
    assert!(image(&e), "{e}");
    // Garbage where a marker should be.
    let e = decode_err(r8, &[&[0xFF, 0xD8, 0x12]]);
    assert!(image(&e), "{e}");
    // Image size differs from the rectangle.
    let e = decode_err(Rect::new(0, 0, 8, 9), &[&j]);
    assert!(image(&e), "{e}");
    let e = decode_err(Rect::new(0, 0, 4, 4), &[&j]);
    assert!(image(&e), "{e}");
    // Tables left out with nothing cached.
    let stripped = strip(&j, true, true);
    let e = decode_err(r8, &[&stripped]);
    assert!(image(&e), "{e}");
    // Corrupt frame header (SOF with zero height and width).
    let mut bad = j.clone();
    let sof = header_segments(&j)
        .into_iter()
        .find(|(m, _)| *m == 0xC0)
        .unwrap()
        .1;
    bad[sof.start + 5..sof.start + 9].fill(0);
    let e = decode_err(r8, &[&bad]);
    assert!(image(&e), "{e}");
}

#[test]
fn limit_and_pixel_format() {
    let a = smooth_rgb(8, 8, 0);
    let j = jpeg(&a, 8, 8);
    let r = Rect::new(0, 0, 8, 8);
    let limits = DecoderLimits {
        max_compressed_len: 100,
        ..DecoderLimits::default()
    };
    let e = decode_err_with(PixelFormat::RGBX8888, limits, r, &[&j]);
    assert!(
        matches!(e, DecodeErrorKind::LimitExceeded { limit: 100, .. }),
        "{e}"
    );
    for pf in [PixelFormat::BGR233, PixelFormat::COLOUR_MAP8] {
        let e = decode_err_with(pf, DecoderLimits::default(), r, &[&j]);
        assert!(
            matches!(e, DecodeErrorKind::InvalidValue { value: 8, .. }),
            "{e}"
        );
    }
}
