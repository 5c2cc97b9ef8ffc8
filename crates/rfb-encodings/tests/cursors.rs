//! XCursor (-240) and VMware cursor (0x574d5664): vectors built from the spec's descriptions,
//! each fed whole, one byte at a time and in odd chunks.

use rfb_encodings::{
    CursorImage, DecodeErrorKind, Decoded, DecoderLimits, Decoders, Encoding, Framebuffer,
    PixelFormat, Rect,
};

/// Feeds `payload` in chunks of `chunk` bytes (0 = all at once); returns the cursor.
fn run(pf: PixelFormat, rect: Rect, enc: Encoding, payload: &[u8], chunk: usize) -> CursorImage {
    let mut fb = Framebuffer::new(16, 16);
    let before = fb.clone();
    let mut dec = Decoders::new(pf, DecoderLimits::default()).unwrap();
    dec.begin(rect, enc, fb.width(), fb.height()).unwrap();
    let chunks: Vec<&[u8]> = if chunk == 0 {
        vec![payload]
    } else {
        payload.chunks(chunk).collect()
    };
    let mut chunks = chunks.into_iter().filter(|c| !c.is_empty());
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let p = dec.feed(&pending, &mut fb).unwrap();
        pending.drain(..p.consumed);
        if let Some(d) = p.done {
            assert!(pending.is_empty(), "decoder left {} bytes", pending.len());
            assert!(chunks.next().is_none(), "decoder finished early");
            assert_eq!(fb, before, "a cursor must not draw into the framebuffer");
            assert!(!dec.is_busy());
            let Decoded::Cursor(c) = d else {
                panic!("expected a cursor, got {d:?}")
            };
            return c;
        }
        assert!(
            dec.bytes_needed() > 0,
            "decoder stalled without asking for bytes"
        );
        match chunks.next() {
            Some(c) => pending.extend_from_slice(c),
            None => panic!("decoder wants more than the payload"),
        }
    }
}

/// Runs `payload` whole, byte by byte and in chunks of 5, and checks all agree.
fn run_all_ways(pf: PixelFormat, rect: Rect, enc: Encoding, payload: &[u8]) -> CursorImage {
    let whole = run(pf, rect, enc, payload, 0);
    for chunk in [1, 5] {
        assert_eq!(run(pf, rect, enc, payload, chunk), whole, "chunk {chunk}");
    }
    whole
}

fn px(c: &CursorImage, x: usize, y: usize) -> [u8; 4] {
    let i = (y * usize::from(c.width) + x) * 4;
    c.rgba[i..i + 4].try_into().unwrap()
}

const RED: [u8; 4] = [0xff, 0, 0, 255];
const BLUE: [u8; 4] = [0, 0, 0xff, 255];
const CLEAR: [u8; 4] = [0, 0, 0, 0];

#[test]
fn xcursor_is_decodable() {
    assert!(Decoders::can_decode(Encoding::XCursor));
    assert!(Decoders::can_decode(Encoding::VmwareCursor));
    assert!(Decoders::supported().contains(&Encoding::XCursor));
}

#[test]
fn xcursor_odd_width_uses_padded_rows() {
    // 10×2: rows of floor((10 + 7) / 8) = 2 bytes; bits 10..15 of each row are padding and
    // set to 1 here to prove they are ignored.
    let mut payload = vec![0xff, 0, 0, 0, 0, 0xff]; // primary red, secondary blue
    // bitmap: row 0 = 1010101010, row 1 = 0000000001
    payload.extend_from_slice(&[0b1010_1010, 0b1011_1111, 0b0000_0000, 0b0111_1111]);
    // bitmask: row 0 all valid, row 1 only x = 0 and x = 9 valid
    payload.extend_from_slice(&[0xff, 0b1111_1111, 0b1000_0000, 0b0111_1111]);
    let c = run_all_ways(
        PixelFormat::RGBX8888,
        Rect::new(3, 1, 10, 2),
        Encoding::XCursor,
        &payload,
    );
    assert_eq!((c.hotspot_x, c.hotspot_y, c.width, c.height), (3, 1, 10, 2));
    assert_eq!(c.rgba.len(), 10 * 2 * 4);
    for x in 0..10 {
        assert_eq!(px(&c, x, 0), if x % 2 == 0 { RED } else { BLUE }, "x {x}");
    }
    assert_eq!(px(&c, 0, 1), BLUE);
    for x in 1..9 {
        assert_eq!(px(&c, x, 1), CLEAR, "x {x}");
    }
    assert_eq!(px(&c, 9, 1), RED);
}

#[test]
fn xcursor_colours_do_not_depend_on_the_pixel_format() {
    // The colours are always 8-bit r, g, b, whatever the session's format.
    let payload = [1, 2, 3, 4, 5, 6, 0b1000_0000, 0b1100_0000];
    for pf in [
        PixelFormat::RGBX8888,
        PixelFormat::RGB565,
        PixelFormat::BGR233,
        PixelFormat::COLOUR_MAP8,
    ] {
        let c = run_all_ways(pf, Rect::new(0, 0, 2, 1), Encoding::XCursor, &payload);
        assert_eq!(c.rgba, vec![1, 2, 3, 255, 4, 5, 6, 255], "{pf:?}");
    }
}

#[test]
fn xcursor_zero_size_has_no_data() {
    for (w, h) in [(0, 0), (0, 5), (5, 0)] {
        let c = run(
            PixelFormat::RGBX8888,
            Rect::new(1, 2, w, h),
            Encoding::XCursor,
            &[],
            0,
        );
        assert_eq!((c.width, c.height), (w, h));
        assert!(c.rgba.is_empty());
    }
}

#[test]
fn xcursor_exact_payload_only() {
    // 9×3 needs 6 + 2 × 2 × 3 = 18 bytes; a 19th byte is the next message and stays unread.
    let mut fb = Framebuffer::new(4, 4);
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    dec.begin(Rect::new(0, 0, 9, 3), Encoding::XCursor, 4, 4)
        .unwrap();
    let p = dec.feed(&[0; 17], &mut fb).unwrap();
    assert_eq!(p.consumed, 17);
    assert!(p.done.is_none());
    assert_eq!(dec.bytes_needed(), 1);
    let p = dec.feed(&[0, 0xee], &mut fb).unwrap();
    assert_eq!(p.consumed, 1);
    assert!(p.done.is_some());
}

#[test]
fn cursor_dimension_limit_applies() {
    let limits = DecoderLimits {
        max_cursor_dimension: 32,
        ..DecoderLimits::default()
    };
    for enc in [Encoding::XCursor, Encoding::VmwareCursor] {
        let mut dec = Decoders::new(PixelFormat::RGBX8888, limits).unwrap();
        let e = dec.begin(Rect::new(0, 0, 33, 1), enc, 8, 8).unwrap_err();
        assert!(
            matches!(e.kind, DecodeErrorKind::LimitExceeded { .. }),
            "{e}"
        );
        // The cursor may be larger than the framebuffer: only the limit counts.
        dec.begin(Rect::new(0, 0, 32, 32), enc, 8, 8).unwrap();
    }
}

/// A 3×2 classic cursor in RGBX8888 (little-endian, red in the low byte).
fn vmware_classic_rgbx() -> Vec<u8> {
    let pixel = |v: u32| v.to_le_bytes();
    let ones = 0x00ff_ffff;
    // and: opaque, transparent, inverting / opaque, partial mask, transparent
    let and = [0, ones, ones, 0, 0x0000_00ff, 0xffff_ffff];
    // xor: red, 0, white / blue, green, 0
    let xor = [0x0000_00ff, 0, ones, 0x00ff_0000, 0x0000_ff00, 0];
    let mut payload = vec![0, 0xaa]; // classic, padding (any value)
    for v in and.iter().chain(xor.iter()) {
        payload.extend_from_slice(&pixel(*v));
    }
    payload
}

#[test]
fn vmware_classic_and_xor() {
    let c = run_all_ways(
        PixelFormat::RGBX8888,
        Rect::new(1, 1, 3, 2),
        Encoding::VmwareCursor,
        &vmware_classic_rgbx(),
    );
    assert_eq!((c.hotspot_x, c.hotspot_y, c.width, c.height), (1, 1, 3, 2));
    // AND 0: the XOR colour, opaque.
    assert_eq!(px(&c, 0, 0), RED);
    assert_eq!(px(&c, 0, 1), BLUE);
    // AND all ones, XOR 0: the screen shows through.
    assert_eq!(px(&c, 1, 0), CLEAR);
    // The padding byte above the colour bits does not matter.
    assert_eq!(px(&c, 2, 1), CLEAR);
    // AND all ones, XOR all ones: inversion, shown as over white → black.
    assert_eq!(px(&c, 2, 0), [0, 0, 0, 255]);
    // AND keeps red only, XOR green: over white (255, 0, 0) ^ (0, 255, 0) = yellow.
    assert_eq!(px(&c, 1, 1), [0xff, 0xff, 0, 255]);
}

#[test]
fn vmware_classic_rgb565_big_endian() {
    // 16-bit pixels, big-endian: all ones is 0xffff, red is 0xf800.
    let pf = PixelFormat {
        big_endian: true,
        ..PixelFormat::RGB565
    };
    let mut payload = vec![0, 0];
    payload.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]); // and: opaque, transparent
    payload.extend_from_slice(&[0xf8, 0x00, 0x00, 0x00]); // xor: red, 0
    let c = run_all_ways(pf, Rect::new(0, 0, 2, 1), Encoding::VmwareCursor, &payload);
    assert_eq!(c.rgba, vec![0xff, 0, 0, 255, 0, 0, 0, 0]);
}

#[test]
fn vmware_alpha_is_straight_rgba() {
    let rgba: Vec<u8> = (0..2 * 3 * 4).map(|i| (i * 11) as u8).collect();
    let mut payload = vec![1, 0];
    payload.extend_from_slice(&rgba);
    for pf in [PixelFormat::RGBX8888, PixelFormat::RGB565] {
        // Alpha pixels are 4 bytes whatever the session's pixel format.
        let c = run_all_ways(pf, Rect::new(0, 2, 2, 3), Encoding::VmwareCursor, &payload);
        assert_eq!((c.hotspot_x, c.hotspot_y, c.width, c.height), (0, 2, 2, 3));
        assert_eq!(c.rgba, rgba, "{pf:?}");
    }
}

#[test]
fn vmware_zero_size_still_has_the_header() {
    for ty in [0u8, 1] {
        let c = run(
            PixelFormat::RGBX8888,
            Rect::new(0, 0, 0, 7),
            Encoding::VmwareCursor,
            &[ty, 0],
            1,
        );
        assert_eq!((c.width, c.height), (0, 7));
        assert!(c.rgba.is_empty());
    }
}

#[test]
fn vmware_bad_type_fails_at_once() {
    let mut fb = Framebuffer::new(4, 4);
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    dec.begin(Rect::new(0, 0, 4, 4), Encoding::VmwareCursor, 4, 4)
        .unwrap();
    let p = dec.feed(&[], &mut fb).unwrap();
    assert!(p.done.is_none());
    assert_eq!(dec.bytes_needed(), 2);
    // The type byte alone is enough to refuse: the padding byte is not awaited.
    let e = dec.feed(&[2], &mut fb).unwrap_err();
    assert_eq!(e.encoding, Encoding::VmwareCursor);
    assert_eq!(
        e.kind,
        DecodeErrorKind::InvalidValue {
            field: "cursor type",
            value: 2
        }
    );
    assert!(!dec.is_busy());
    // A fresh rectangle with a good type decodes normally afterwards.
    dec.begin(Rect::new(0, 0, 1, 1), Encoding::VmwareCursor, 4, 4)
        .unwrap();
    let p = dec.feed(&[1, 0, 9, 8, 7, 6], &mut fb).unwrap();
    assert_eq!(p.consumed, 6);
    assert!(matches!(p.done, Some(Decoded::Cursor(_))));
}

#[test]
fn vmware_counts_its_cursor_type() {
    let mut fb = Framebuffer::new(4, 4);
    let mut dec = Decoders::new(PixelFormat::RGBX8888, DecoderLimits::default()).unwrap();
    for payload in [&[1u8, 0, 1, 2, 3, 4][..], &[0, 0, 0, 0, 0, 0, 1, 2, 3, 0]] {
        dec.begin(Rect::new(0, 0, 1, 1), Encoding::VmwareCursor, 4, 4)
            .unwrap();
        let p = dec.feed(payload, &mut fb).unwrap();
        assert!(p.done.is_some());
    }
    let subs = &dec.stats().subencodings;
    assert_eq!(subs.get(&(Encoding::VmwareCursor, "alpha")), Some(&1));
    assert_eq!(subs.get(&(Encoding::VmwareCursor, "classic")), Some(&1));
}

/// The committed fuzz seeds for these decoders (layout of `fuzz/fuzz_targets/decoders.rs`:
/// pixel-format selector, encoding index 14 = XCursor / 15 = VMware, x, y, w, h, chunk,
/// unused, payload) decode as intended: a cursor, or for `vmware-bad-type` the clean error.
#[test]
fn fuzz_seeds_decode() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/decoders");
    let formats = [
        PixelFormat::RGBX8888,
        PixelFormat::RGB565,
        PixelFormat::BGR233,
        PixelFormat::COLOUR_MAP8,
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("xcursor-") || name.starts_with("vmware-")) {
            continue;
        }
        seen += 1;
        let data = std::fs::read(&path).unwrap();
        let pf = formats[usize::from(data[0] & 3)];
        let enc = match data[1] & 15 {
            14 => Encoding::XCursor,
            15 => Encoding::VmwareCursor,
            other => panic!("{name}: encoding index {other}"),
        };
        assert_eq!(
            enc == Encoding::XCursor,
            name.starts_with("xcursor-"),
            "{name}"
        );
        let rect = Rect::new(
            u16::from(data[2] & 63),
            u16::from(data[3] & 63),
            u16::from(data[4]),
            u16::from(data[5]),
        );
        let mut fb = Framebuffer::new(96, 80);
        let mut dec = Decoders::new(pf, DecoderLimits::default()).unwrap();
        dec.begin(rect, enc, 96, 80).unwrap();
        let mut buf = Vec::new();
        // As the contract asks, feed once right after `begin` (a zero-size XCursor completes
        // here; its seed carries one extra byte so that the fuzz target, which only feeds
        // chunks, completes it too).
        let mut outcome = dec
            .feed(&[], &mut fb)
            .unwrap()
            .done
            .map(|_| Ok::<(), rfb_encodings::DecodeError>(()));
        for c in data[8..].chunks(usize::from(data[6]).max(1)) {
            if outcome.is_some() {
                break;
            }
            buf.extend_from_slice(c);
            match dec.feed(&buf, &mut fb) {
                Ok(p) => {
                    buf.drain(..p.consumed);
                    if p.done.is_some() {
                        outcome = Some(Ok(()));
                        break;
                    }
                }
                Err(e) => {
                    outcome = Some(Err(e));
                    break;
                }
            }
        }
        if name == "vmware-bad-type" {
            assert!(matches!(outcome, Some(Err(_))), "{name}: {outcome:?}");
        } else {
            assert!(matches!(outcome, Some(Ok(()))), "{name}: {outcome:?}");
            assert!(buf.is_empty(), "{name}: {} bytes left over", buf.len());
        }
    }
    assert!(seen >= 9, "only {seen} cursor seeds in {}", dir.display());
}
