//! Vectors built from the spec's descriptions of Raw, CopyRect and Cursor, each fed whole and
//! one byte at a time.

use rfb_encodings::{
    DecodeErrorKind, Decoded, DecoderLimits, Decoders, DrawTarget, Encoding, Framebuffer,
    PixelFormat, Rect,
};

/// Feeds `payload` in chunks of `chunk` bytes (0 = all at once); returns the decoded outcome.
fn run(
    dec: &mut Decoders,
    fb: &mut Framebuffer,
    rect: Rect,
    enc: Encoding,
    payload: &[u8],
    chunk: usize,
) -> Decoded {
    let size = (fb.width(), fb.height());
    rfb_testkit::decode::feed_rect(dec, fb, size, rect, enc, payload, chunk).unwrap()
}

#[test]
fn raw_all_formats_whole_and_bytewise() {
    for pf in [
        PixelFormat::RGBX8888,
        PixelFormat::RGB565,
        PixelFormat::BGR233,
    ] {
        let (w, h) = (7u16, 5u16);
        let bpp = pf.bytes_per_pixel();
        let payload: Vec<u8> = (0..usize::from(w) * usize::from(h) * bpp)
            .map(|i| (i * 37 % 251) as u8)
            .collect();
        let mut reference = None;
        for chunk in [0, 1, 3, 13] {
            let mut fb = Framebuffer::new(10, 8);
            let mut dec = Decoders::new(pf, DecoderLimits::default()).unwrap();
            let d = run(
                &mut dec,
                &mut fb,
                Rect::new(2, 1, w, h),
                Encoding::Raw,
                &payload,
                chunk,
            );
            assert_eq!(d, Decoded::Drawn);
            // Check every pixel against the converter directly.
            for y in 0..h {
                for x in 0..w {
                    let i = (usize::from(y) * usize::from(w) + usize::from(x)) * bpp;
                    let want = dec.converter().pixel_to_rgba(&payload[i..]);
                    assert_eq!(fb.pixel(x + 2, y + 1), Some(want), "{pf:?} chunk {chunk}");
                }
            }
            assert_eq!(fb.pixel(0, 0), Some([0, 0, 0, 255]), "outside untouched");
            match &reference {
                None => reference = Some(fb),
                Some(r) => assert_eq!(r, &fb),
            }
        }
    }
}

#[test]
fn raw_empty_rect_needs_no_bytes() {
    let mut fb = Framebuffer::new(4, 4);
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    dec.begin(Rect::new(4, 4, 0, 0), Encoding::Raw, 4, 4)
        .unwrap();
    let p = dec.feed(&[], &mut fb).unwrap();
    assert_eq!((p.consumed, p.done), (0, Some(Decoded::Drawn)));
}

#[test]
fn copyrect_moves_pixels() {
    let mut fb = Framebuffer::new(8, 8);
    fb.fill_rgba(Rect::new(0, 0, 2, 2), [9, 9, 9, 255]);
    for chunk in [0, 1] {
        let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
        // src-x-position 0, src-y-position 0 (two U16 each).
        let d = run(
            &mut dec,
            &mut fb,
            Rect::new(5, 6, 2, 2),
            Encoding::CopyRect,
            &[0, 0, 0, 0],
            chunk,
        );
        assert_eq!(d, Decoded::Drawn);
        assert_eq!(fb.pixel(6, 7), Some([9, 9, 9, 255]));
    }
}

#[test]
fn copyrect_source_outside_is_an_error() {
    let mut fb = Framebuffer::new(8, 8);
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    dec.begin(Rect::new(0, 0, 4, 4), Encoding::CopyRect, 8, 8)
        .unwrap();
    let e = dec.feed(&[0, 5, 0, 0], &mut fb).unwrap_err();
    assert_eq!(e.encoding, Encoding::CopyRect);
    assert!(matches!(e.kind, DecodeErrorKind::OutOfBounds { .. }), "{e}");
    assert!(!dec.is_busy());
}

#[test]
fn out_of_bounds_and_unsupported_are_named() {
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    let e = dec
        .begin(Rect::new(65535, 0, 2, 1), Encoding::Raw, 100, 100)
        .unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::OutOfBounds { .. }));
    assert!(e.to_string().starts_with("raw rectangle"), "{e}");
    let e = dec
        .begin(Rect::new(0, 0, 1, 1), Encoding::Unknown(1234), 100, 100)
        .unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::Unsupported);
    let e = dec
        .begin(Rect::new(0, 0, 5000, 1), Encoding::Cursor, 100, 100)
        .unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::LimitExceeded { .. }));
}

#[test]
fn cursor_pixels_and_mask() {
    // 9×2 cursor at 32 bpp: mask rows are floor((9+7)/8) = 2 bytes, MSB = leftmost pixel.
    let (w, h) = (9u16, 2u16);
    let mut payload = Vec::new();
    for i in 0..18u8 {
        payload.extend_from_slice(&[i, 100, 200, 0]);
    }
    payload.extend_from_slice(&[0b1000_0000, 0b1000_0000, 0b0000_0001, 0]);
    for chunk in [0, 1] {
        let mut fb = Framebuffer::new(1, 1);
        let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
        let d = run(
            &mut dec,
            &mut fb,
            Rect::new(3, 1, w, h),
            Encoding::Cursor,
            &payload,
            chunk,
        );
        let Decoded::Cursor(c) = d else {
            panic!("{d:?}")
        };
        assert_eq!((c.hotspot_x, c.hotspot_y, c.width, c.height), (3, 1, 9, 2));
        let px = |x: usize, y: usize| &c.rgba[(y * 9 + x) * 4..(y * 9 + x) * 4 + 4];
        assert_eq!(px(0, 0), [0, 100, 200, 255]);
        assert_eq!(px(1, 0), [0, 0, 0, 0]);
        assert_eq!(px(8, 0), [8, 100, 200, 255]);
        assert_eq!(px(7, 1), [16, 100, 200, 255]);
        assert_eq!(px(8, 1), [0, 0, 0, 0]);
    }
}

#[test]
fn colour_map_raw() {
    let mut fb = Framebuffer::new(2, 1);
    let mut dec = Decoders::new(PixelFormat::COLOUR_MAP8, DecoderLimits::default()).unwrap();
    dec.set_colour_map_entries(3, &[[65535, 0, 0], [0, 65535, 0]])
        .unwrap();
    run(
        &mut dec,
        &mut fb,
        Rect::new(0, 0, 2, 1),
        Encoding::Raw,
        &[4, 3],
        1,
    );
    assert_eq!(fb.pixel(0, 0), Some([0, 255, 0, 255]));
    assert_eq!(fb.pixel(1, 0), Some([255, 0, 0, 255]));
    assert_eq!(dec.stats().rects_of(Encoding::Raw), 1);
}

#[test]
fn draw_target_is_object_safe() {
    let mut fb = Framebuffer::new(1, 1);
    let t: &mut dyn DrawTarget = &mut fb;
    t.fill_rgba(Rect::new(0, 0, 1, 1), [1, 2, 3, 4]);
    assert_eq!(fb.pixel(0, 0), Some([1, 2, 3, 4]));
}

fn zlib_compress(stream: &mut flate2::Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    stream
        .compress_vec(data, &mut out, flate2::FlushCompress::Sync)
        .unwrap();
    out
}

fn zlib_rect(stream: &mut flate2::Compress, pixels: &[u8]) -> Vec<u8> {
    let z = zlib_compress(stream, pixels);
    let mut v = (z.len() as u32).to_be_bytes().to_vec();
    v.extend(z);
    v
}

#[test]
fn zlib_two_rects_share_one_stream() {
    for chunk in [0, 1, 5] {
        let mut comp = flate2::Compress::new(flate2::Compression::default(), true);
        let mut fb = Framebuffer::new(8, 8);
        let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
        let a: Vec<u8> = (0..16u8).flat_map(|i| [i, 2 * i, 3 * i, 0]).collect();
        let p1 = zlib_rect(&mut comp, &a);
        run(
            &mut dec,
            &mut fb,
            Rect::new(0, 0, 4, 4),
            Encoding::Zlib,
            &p1,
            chunk,
        );
        // The second rectangle's data refers back to the first's dictionary.
        let p2 = zlib_rect(&mut comp, &a);
        run(
            &mut dec,
            &mut fb,
            Rect::new(4, 4, 4, 4),
            Encoding::Zlib,
            &p2,
            chunk,
        );
        assert_eq!(fb.pixel(1, 0), Some([1, 2, 3, 255]));
        assert_eq!(fb.pixel(7, 7), Some([15, 30, 45, 255]));
    }
}

#[test]
fn zlib_bomb_and_garbage_are_errors() {
    let mut fb = Framebuffer::new(8, 8);
    // Inflates to 4 KiB for a 1×1 rectangle.
    let mut comp = flate2::Compress::new(flate2::Compression::default(), true);
    let p = zlib_rect(&mut comp, &[7u8; 4096]);
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    dec.begin(Rect::new(0, 0, 1, 1), Encoding::Zlib, 8, 8)
        .unwrap();
    let e = dec.feed(&p, &mut fb).unwrap_err();
    assert!(
        matches!(e.kind, DecodeErrorKind::TrailingData { .. }),
        "{e}"
    );
    // Not zlib at all.
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    dec.begin(Rect::new(0, 0, 1, 1), Encoding::Zlib, 8, 8)
        .unwrap();
    let e = dec
        .feed(&[0, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef], &mut fb)
        .unwrap_err();
    assert!(matches!(e.kind, DecodeErrorKind::Zlib(_)), "{e}");
    assert!(e.to_string().starts_with("zlib rectangle"), "{e}");
    // A length over the limit is refused before anything is read.
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    dec.begin(Rect::new(0, 0, 1, 1), Encoding::Zlib, 8, 8)
        .unwrap();
    let e = dec.feed(&[0xff, 0xff, 0xff, 0xff], &mut fb).unwrap_err();
    assert!(
        matches!(e.kind, DecodeErrorKind::LimitExceeded { .. }),
        "{e}"
    );
    // Too short: all compressed bytes in, pixels missing.
    let mut comp = flate2::Compress::new(flate2::Compression::default(), true);
    let p = zlib_rect(&mut comp, &[1u8; 4]);
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    dec.begin(Rect::new(0, 0, 2, 1), Encoding::Zlib, 8, 8)
        .unwrap();
    assert!(dec.feed(&p, &mut fb).is_err());
}

/// RRE payload: count, background, then (pixel, x, y, w, h) with U16 (RRE) or U8 (CoRRE).
fn rre_payload(compact: bool, bg: [u8; 4], subs: &[([u8; 4], [u16; 4])]) -> Vec<u8> {
    let mut v = (subs.len() as u32).to_be_bytes().to_vec();
    v.extend(bg);
    for (px, g) in subs {
        v.extend(px);
        for c in g {
            if compact {
                v.push(*c as u8);
            } else {
                v.extend(c.to_be_bytes());
            }
        }
    }
    v
}

#[test]
fn rre_and_corre() {
    for (enc, compact) in [(Encoding::Rre, false), (Encoding::CoRre, true)] {
        let p = rre_payload(
            compact,
            [10, 20, 30, 0],
            &[([1, 1, 1, 0], [0, 0, 2, 1]), ([2, 2, 2, 0], [3, 2, 1, 2])],
        );
        for chunk in [0, 1, 4] {
            let mut fb = Framebuffer::new(8, 8);
            let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
            run(&mut dec, &mut fb, Rect::new(2, 2, 4, 4), enc, &p, chunk);
            assert_eq!(fb.pixel(2, 2), Some([1, 1, 1, 255]));
            assert_eq!(fb.pixel(3, 2), Some([1, 1, 1, 255]));
            assert_eq!(fb.pixel(4, 2), Some([10, 20, 30, 255]));
            assert_eq!(fb.pixel(5, 5), Some([2, 2, 2, 255]));
            assert_eq!(fb.pixel(5, 3), Some([10, 20, 30, 255]));
            assert_eq!(fb.pixel(1, 1), Some([0, 0, 0, 255]), "outside untouched");
            let s = dec.stats();
            assert_eq!(s.subencodings.get(&(enc, "subrect")), Some(&2));
        }
        // A sub-rectangle leaving the rectangle is an error naming the encoding.
        let bad = rre_payload(compact, [0; 4], &[([0; 4], [3, 3, 2, 1])]);
        let mut fb = Framebuffer::new(8, 8);
        let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
        dec.begin(Rect::new(0, 0, 4, 4), enc, 8, 8).unwrap();
        let e = dec.feed(&bad, &mut fb).unwrap_err();
        assert_eq!(e.encoding, enc);
        assert!(matches!(e.kind, DecodeErrorKind::OutOfBounds { .. }));
    }
}
