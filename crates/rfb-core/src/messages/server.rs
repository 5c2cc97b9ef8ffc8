//! Streaming `nom` parsers for the fixed-size parts of server messages.
//!
//! Each parser returns `Err(Incomplete)` until enough bytes are present, which the client turns
//! into a "bytes needed" hint; there are no hand-written back-tracking counters.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#server-to-client-messages>

use nom::bytes::streaming::take;
use nom::number::streaming::{be_i32, be_u16, be_u32, u8 as be_u8};
use nom::{IResult, Parser};
use rfb_encodings::{Encoding, PIXEL_FORMAT_LEN, PixelFormat, Rect};

/// ServerInit up to the name: width, height, pixel format, name length.
pub(crate) fn server_init(i: &[u8]) -> IResult<&[u8], (u16, u16, PixelFormat, u32)> {
    let (i, (w, h, pf, len)) = (be_u16, be_u16, take(PIXEL_FORMAT_LEN), be_u32).parse(i)?;
    let mut b = [0u8; PIXEL_FORMAT_LEN];
    b.copy_from_slice(pf);
    Ok((i, (w, h, PixelFormat::from_bytes(&b), len)))
}

/// FramebufferUpdate header after the type byte: padding, number of rectangles.
pub(crate) fn fbu_header(i: &[u8]) -> IResult<&[u8], u16> {
    let (i, (_, n)) = (be_u8, be_u16).parse(i)?;
    Ok((i, n))
}

/// A rectangle header: x, y, width, height, encoding.
pub(crate) fn rect_header(i: &[u8]) -> IResult<&[u8], (Rect, Encoding)> {
    let (i, (x, y, w, h, e)) = (be_u16, be_u16, be_u16, be_u16, be_i32).parse(i)?;
    Ok((i, (Rect::new(x, y, w, h), Encoding::from_i32(e))))
}

/// SetColourMapEntries header after the type byte: padding, first colour, count.
pub(crate) fn colour_map_header(i: &[u8]) -> IResult<&[u8], (u16, u16)> {
    let (i, (_, first, n)) = (be_u8, be_u16, be_u16).parse(i)?;
    Ok((i, (first, n)))
}

/// One colour map entry: red, green, blue as `U16`.
pub(crate) fn colour_entry(i: &[u8]) -> IResult<&[u8], [u16; 3]> {
    let (i, (r, g, b)) = (be_u16, be_u16, be_u16).parse(i)?;
    Ok((i, [r, g, b]))
}

/// ServerCutText header after the type byte: 3 padding bytes, `U32` length.
pub(crate) fn cut_text_header(i: &[u8]) -> IResult<&[u8], u32> {
    let (i, (_, len)) = (take(3usize), be_u32).parse(i)?;
    Ok((i, len))
}
