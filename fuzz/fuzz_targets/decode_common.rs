//! Shared body of the decoder fuzz targets: a rectangle header chosen by the input, then its
//! payload in chunks, as a driver feeds it. Input layout: [pixel format (low 2 bits: RGBX8888,
//! RGB565, BGR233, colour map), encoding index into TABLE (low 4 bits), x, y, width, height,
//! chunk size, unused, payload…]. A family target maps an index outside its family onto it, so
//! every seed of `fuzz/corpus/decoders` also works for the family it belongs to.

use rfb_encodings::{Decoders, Encoding, Framebuffer, PixelFormat, Rect};

/// Fixed, so a seed's second byte keeps naming the same encoding as decoders are added.
pub const TABLE: [Encoding; 16] = [
    Encoding::Raw,
    Encoding::CopyRect,
    Encoding::Rre,
    Encoding::CoRre,
    Encoding::Hextile,
    Encoding::Zlib,
    Encoding::Tight,
    Encoding::ZlibHex,
    Encoding::Trle,
    Encoding::Zrle,
    Encoding::Zywrle,
    Encoding::Jpeg,
    Encoding::TightPng,
    Encoding::Cursor,
    Encoding::XCursor,
    Encoding::VmwareCursor,
];


/// Decodes one rectangle of an encoding from `family` (all of TABLE when empty).
pub fn run(data: &[u8], family: &[Encoding]) {
    if data.len() < 8 {
        return;
    }
    let pf = [
        PixelFormat::RGBX8888,
        PixelFormat::RGB565,
        PixelFormat::BGR233,
        PixelFormat::COLOUR_MAP8,
    ][usize::from(data[0] & 3)];
    let picked = TABLE[usize::from(data[1] & 15)];
    let enc = if family.is_empty() || family.contains(&picked) {
        picked
    } else {
        family[usize::from(data[1]) % family.len()]
    };
    if !Decoders::can_decode(enc) {
        return;
    }
    let rect = Rect::new(
        u16::from(data[2] & 63),
        u16::from(data[3] & 63),
        u16::from(data[4]),
        u16::from(data[5]),
    );
    let chunk = usize::from(data[6]).max(1);
    let payload = &data[8..];
    let mut fb = Framebuffer::new(96, 80);
    let mut dec = Decoders::new(pf, Default::default()).expect("valid format");
    let _ = dec.set_colour_map_entries(0, &[[0xffff, 0, 0x8000]; 4]);
    if dec.begin(rect, enc, 96, 80).is_err() {
        return;
    }
    let mut buf = Vec::new();
    for c in payload.chunks(chunk) {
        buf.extend_from_slice(c);
        match dec.feed(&buf, &mut fb) {
            Ok(p) => {
                assert!(p.consumed <= buf.len());
                buf.drain(..p.consumed);
                if p.done.is_some() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}
