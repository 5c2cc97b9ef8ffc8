//! `Decoder`: the rectangle decoders without a connection.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rfb_encodings::{
    DecoderLimits, Decoders, DrawTarget, Encoding, Framebuffer, PixelFormat, Rect,
};

use crate::errors::ProtocolError;
use crate::screenshot::Screenshot;

/// Decoders for one connection's rectangles drawing into a `width`×`height` RGBA picture.
/// Pixels on the wire are 32 bpp RGBX (red in the lowest byte) unless `pixel_format` is a
/// 10-tuple `(bpp, depth, big_endian, true_colour, red_max, green_max, blue_max,
/// red_shift, green_shift, blue_shift)`. Zlib streams persist across rectangles.
#[pyclass(module = "rfb", unsendable)]
pub(crate) struct Decoder {
    decoders: Decoders,
    fb: Framebuffer,
}

type Format = (u8, u8, bool, bool, u16, u16, u16, u8, u8, u8);

#[pymethods]
impl Decoder {
    #[new]
    #[pyo3(signature = (width, height, pixel_format = None))]
    fn new(width: u16, height: u16, pixel_format: Option<Format>) -> PyResult<Self> {
        let pf = match pixel_format {
            None => PixelFormat::RGBX8888,
            Some((bpp, depth, be, tc, rm, gm, bm, rs, gs, bs)) => PixelFormat {
                bits_per_pixel: bpp,
                depth,
                big_endian: be,
                true_colour: tc,
                red_max: rm,
                green_max: gm,
                blue_max: bm,
                red_shift: rs,
                green_shift: gs,
                blue_shift: bs,
            },
        };
        let decoders = Decoders::new(pf, DecoderLimits::default())
            .map_err(|e| PyValueError::new_err(format!("pixel format: {e}")))?;
        let mut fb = Framebuffer::new(0, 0);
        fb.resize(width, height);
        Ok(Self { decoders, fb })
    }

    /// Decodes one rectangle whose whole payload is `data` (`encoding` is the RFB number:
    /// 0 Raw, 1 CopyRect, 2 RRE, 5 Hextile, 7 Tight, 16 ZRLE, ...). Returns the bytes used;
    /// raises `ProtocolError` for bad data and `ValueError` when `data` is incomplete.
    #[pyo3(signature = (encoding, x, y, width, height, data))]
    fn decode(
        &mut self,
        encoding: i32,
        x: u16,
        y: u16,
        width: u16,
        height: u16,
        data: &[u8],
    ) -> PyResult<usize> {
        let (fw, fh) = (self.fb.width(), self.fb.height());
        self.decoders
            .begin(
                Rect::new(x, y, width, height),
                Encoding::from_i32(encoding),
                fw,
                fh,
            )
            .map_err(|e| ProtocolError::new_err(e.to_string()))?;
        let mut used = 0;
        loop {
            let p = self
                .decoders
                .feed(&data[used..], &mut self.fb)
                .map_err(|e| ProtocolError::new_err(e.to_string()))?;
            used += p.consumed;
            if p.done.is_some() {
                return Ok(used);
            }
            if p.consumed == 0 {
                self.decoders.reset();
                return Err(PyValueError::new_err(format!(
                    "the rectangle needs more than the {} bytes given",
                    data.len()
                )));
            }
        }
    }

    /// An immutable copy of the picture.
    fn screenshot(&self) -> Screenshot {
        Screenshot::new(
            u32::from(self.fb.width()),
            u32::from(self.fb.height()),
            self.fb.data().to_vec(),
        )
    }
}
