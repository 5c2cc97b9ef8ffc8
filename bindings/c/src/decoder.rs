//! The decoders on their own: for tools that parse RFB rectangles themselves (a proxy, a
//! recorder) and want only pixels out of them.

use std::ffi::{CString, c_char};

use rfb_encodings::{
    DecoderLimits, Decoders, DrawTarget, Encoding, Framebuffer, PixelFormat, Rect,
};

use crate::client::RfbFramebuffer;
use crate::error::{Failure, RfbStatus, guard, set_last_error, status, to_cstring};

/// "RFBDECOD": marks a live [`RfbDecoder`].
const DECODER_MAGIC: u64 = 0x5246_4244_4543_4f44;

/// A wire pixel format (rfbproto `PIXEL_FORMAT`), as in ServerInit.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RfbPixelFormat {
    /// 8, 16 or 32.
    pub bits_per_pixel: u8,
    /// Useful bits per pixel.
    pub depth: u8,
    /// Multi-byte pixels are big-endian.
    pub big_endian: bool,
    /// True colour (else colour-mapped; only true colour is accepted here).
    pub true_colour: bool,
    /// Maximum red value.
    pub red_max: u16,
    /// Maximum green value.
    pub green_max: u16,
    /// Maximum blue value.
    pub blue_max: u16,
    /// Red shift.
    pub red_shift: u8,
    /// Green shift.
    pub green_shift: u8,
    /// Blue shift.
    pub blue_shift: u8,
}

/// Decoder state for one connection's rectangles, with its own RGBA framebuffer (opaque).
/// Zlib-based encodings keep stream state across rectangles, as on the wire.
pub struct RfbDecoder {
    // Never constructed: C sees an incomplete type; the memory is a `DecoderHandle`.
    _opaque: [u8; 0],
}

/// What an `RfbDecoder *` points to: the magic number first, as in every librfb handle.
#[repr(C)]
struct DecoderHandle {
    magic: u64,
    state: DecoderState,
}

/// The decoders' state behind a handle.
struct DecoderState {
    decoders: Decoders,
    fb: Framebuffer,
    error: CString,
}

/// # Safety
/// `d` is NULL or a pointer from `rfb_decoder_new`.
unsafe fn call<T>(
    d: *mut RfbDecoder,
    f: impl FnOnce(&mut DecoderState) -> Result<T, Failure>,
) -> Result<T, Failure> {
    if d.is_null() {
        set_last_error("decoder handle is NULL");
        return Err(Failure::new(
            RfbStatus::NullArgument,
            "decoder handle is NULL",
        ));
    }
    // SAFETY: caller's contract; every librfb handle starts with its magic number, which
    // catches wrong or freed handles.
    if unsafe { d.cast::<u64>().read() } != DECODER_MAGIC {
        set_last_error("not a live decoder handle");
        return Err(Failure::new(
            RfbStatus::InvalidHandle,
            "not a live decoder handle",
        ));
    }
    // SAFETY: a live decoder, as the magic number says.
    let h = unsafe { &mut (*d.cast::<DecoderHandle>()).state };
    let r = guard(|_| {}, || f(&mut *h));
    if let Err(e) = &r {
        h.error = to_cstring(&e.message);
    }
    r
}

/// Creates decoders for pixels in `format` (NULL = 32 bpp RGBX, red in the lowest byte)
/// drawing into a `width`×`height` RGBA framebuffer. NULL on failure
/// (`rfb_last_error_message()` says why).
///
/// # Safety
/// `format` is NULL or points to an `RfbPixelFormat`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_decoder_new(
    format: *const RfbPixelFormat,
    width: u16,
    height: u16,
) -> *mut RfbDecoder {
    let r = guard(
        |_| {},
        || {
            let pf = if format.is_null() {
                PixelFormat::RGBX8888
            } else {
                // SAFETY: caller's contract.
                let f = unsafe { &*format };
                PixelFormat {
                    bits_per_pixel: f.bits_per_pixel,
                    depth: f.depth,
                    big_endian: f.big_endian,
                    true_colour: f.true_colour,
                    red_max: f.red_max,
                    green_max: f.green_max,
                    blue_max: f.blue_max,
                    red_shift: f.red_shift,
                    green_shift: f.green_shift,
                    blue_shift: f.blue_shift,
                }
            };
            let decoders = Decoders::new(pf, DecoderLimits::default()).map_err(|e| {
                Failure::new(RfbStatus::InvalidArgument, format!("pixel format: {e}"))
            })?;
            let mut fb = Framebuffer::new(0, 0);
            fb.resize(width, height);
            Ok(Box::new(DecoderHandle {
                magic: DECODER_MAGIC,
                state: DecoderState {
                    decoders,
                    fb,
                    error: CString::default(),
                },
            }))
        },
    );
    r.map_or(std::ptr::null_mut(), |b| {
        Box::into_raw(b).cast::<RfbDecoder>()
    })
}

/// Frees decoders (NULL is ignored).
///
/// # Safety
/// `d` is NULL or a handle from `rfb_decoder_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_decoder_free(d: *mut RfbDecoder) {
    if d.is_null() {
        return;
    }
    // SAFETY: caller's contract; every librfb handle starts with its magic number.
    if unsafe { d.cast::<u64>().read() } != DECODER_MAGIC {
        return;
    }
    // SAFETY: a live decoder, as the magic number says.
    let h = d.cast::<DecoderHandle>();
    unsafe { (*h).magic = 0 };
    // SAFETY: allocated by `Box::into_raw` in `rfb_decoder_new`.
    drop(unsafe { Box::from_raw(h) });
}

/// The message of the last failure on this decoder ("" if none).
///
/// # Safety
/// `d` is NULL or a decoder handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_decoder_error_message(d: *const RfbDecoder) -> *const c_char {
    if d.is_null() {
        return c"".as_ptr();
    }
    // SAFETY: caller's contract; every librfb handle starts with its magic number.
    if unsafe { d.cast::<u64>().read() } != DECODER_MAGIC {
        return c"".as_ptr();
    }
    // SAFETY: a live decoder, as the magic number says.
    unsafe { (*d.cast::<DecoderHandle>()).state.error.as_ptr() }
}

/// Starts a rectangle: its header (position, size, encoding number). Then feed its payload
/// with `rfb_decoder_feed` until `*done` is true.
///
/// # Safety
/// `d` is a decoder handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_decoder_begin(
    d: *mut RfbDecoder,
    encoding: i32,
    x: u16,
    y: u16,
    width: u16,
    height: u16,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(d, |h| {
            let (fw, fh) = (h.fb.width(), h.fb.height());
            h.decoders
                .begin(
                    Rect::new(x, y, width, height),
                    Encoding::from_i32(encoding),
                    fw,
                    fh,
                )
                .map_err(|e| Failure::new(RfbStatus::Protocol, e.to_string()))
        })
    })
}

/// Feeds payload bytes of the rectangle in progress; writes how many were used to
/// `*consumed` and whether the rectangle is complete to `*done`. Unused bytes must be passed
/// again (with more appended) on the next call.
///
/// # Safety
/// `d` is a decoder handle; `data` points to `len` readable bytes (NULL allowed when `len`
/// is 0); `consumed` and `done` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_decoder_feed(
    d: *mut RfbDecoder,
    data: *const u8,
    len: usize,
    consumed: *mut usize,
    done: *mut bool,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(d, |h| {
            if consumed.is_null() || done.is_null() || (data.is_null() && len > 0) {
                return Err(Failure::new(
                    RfbStatus::NullArgument,
                    "data, consumed or done is NULL",
                ));
            }
            let input = if len == 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts(data, len)
            };
            let mut used = 0;
            let mut finished = false;
            // A decoder may stop early at internal boundaries; keep going while it progresses.
            loop {
                let p = h
                    .decoders
                    .feed(&input[used..], &mut h.fb)
                    .map_err(|e| Failure::new(RfbStatus::Protocol, e.to_string()))?;
                used += p.consumed;
                if p.done.is_some() {
                    finished = true;
                    break;
                }
                if p.consumed == 0 {
                    break;
                }
            }
            consumed.write(used);
            done.write(finished);
            Ok(())
        })
    })
}

/// Describes the decoder's framebuffer (RGBA8), valid until the next call on the handle.
///
/// # Safety
/// `d` is a decoder handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_decoder_framebuffer(
    d: *mut RfbDecoder,
    out: *mut RfbFramebuffer,
) -> RfbStatus {
    // SAFETY: caller's contract.
    status(unsafe {
        call(d, |h| {
            if out.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "out is NULL"));
            }
            out.write(RfbFramebuffer::of(&h.fb));
            Ok(())
        })
    })
}
