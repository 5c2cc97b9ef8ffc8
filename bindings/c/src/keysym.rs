//! The keysym tables: Unicode ↔ keysym, names, DOM key/code → keysym, DOM code → XT scancode.
//! Pure functions, safe from any thread.

use std::ffi::c_char;

use rfb_keysym::dom::{Location, Resolved};

use crate::error::{Failure, RfbStatus, guard, status};

/// The keysym that types Unicode code point `codepoint` (Latin-1 as itself, legacy keysyms
/// where X has one, else 0x01000000 + code point); 0 for invalid code points and controls
/// without a keysym.
#[unsafe(no_mangle)]
pub extern "C" fn rfb_keysym_from_char(codepoint: u32) -> u32 {
    guard(
        |_| {},
        || Ok(char::from_u32(codepoint).map_or(0, rfb_keysym::keysym_from_char)),
    )
    .unwrap_or(0)
}

/// The Unicode code point `keysym` types, or 0 when it types none (function keys, modifiers).
#[unsafe(no_mangle)]
pub extern "C" fn rfb_char_from_keysym(keysym: u32) -> u32 {
    guard(
        |_| {},
        || Ok(rfb_keysym::char_from_keysym(keysym).map_or(0, u32::from)),
    )
    .unwrap_or(0)
}

/// The keysym named `name` as in keysymdef.h without `XK_` ("Return", "eacute", "F5"), or 0.
///
/// # Safety
/// `name` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_keysym_from_name(name: *const c_char) -> u32 {
    guard(
        |_| {},
        || {
            // SAFETY: caller's contract.
            let n = unsafe { crate::c_str(name, "name") }?;
            Ok(rfb_keysym::keysym_from_name(n).unwrap_or(0))
        },
    )
    .unwrap_or(0)
}

/// Writes the name of `keysym` (NUL-terminated) into `buf` of `cap` bytes and its length
/// (without the NUL) into `*len`. `RFB_STATUS_INVALID_ARGUMENT` when the keysym has no name;
/// `RFB_STATUS_BUFFER_TOO_SMALL` when it does not fit (`*len` still tells the length).
///
/// # Safety
/// `buf` points to `cap` writable bytes; `len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_name_of_keysym(
    keysym: u32,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> RfbStatus {
    status(guard(
        |_| {},
        || {
            let Some(name) = rfb_keysym::name_of_keysym(keysym) else {
                return Err(Failure::new(
                    RfbStatus::InvalidArgument,
                    format!("keysym 0x{keysym:x} has no name"),
                ));
            };
            if !len.is_null() {
                // SAFETY: caller's contract.
                unsafe { len.write(name.len()) };
            }
            if buf.is_null() {
                return Err(Failure::new(RfbStatus::NullArgument, "buf is NULL"));
            }
            if cap < name.len() + 1 {
                return Err(Failure::new(
                    RfbStatus::BufferTooSmall,
                    format!("the name needs {} bytes", name.len() + 1),
                ));
            }
            // SAFETY: caller's contract: `cap` writable bytes, and we write name.len() + 1 <= cap.
            unsafe {
                std::ptr::copy_nonoverlapping(name.as_ptr(), buf.cast::<u8>(), name.len());
                buf.add(name.len()).write(0);
            }
            Ok(())
        },
    ))
}

/// The XT scancode (QEMU numbering: 0xE0 prefixed keys as 0xE0xx) of a DOM `code` ("KeyA",
/// "ShiftLeft"), or 0.
///
/// # Safety
/// `code` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_xt_scancode(code: *const c_char) -> u16 {
    guard(
        |_| {},
        || {
            // SAFETY: caller's contract.
            let c = unsafe { crate::c_str(code, "code") }?;
            Ok(rfb_keysym::xt_scancode(c).unwrap_or(0))
        },
    )
    .unwrap_or(0)
}

/// The keysym for a DOM KeyboardEvent's `key`, `code` and `location` (0 standard, 1 left,
/// 2 right, 3 numpad), or 0 when the event should not produce a keysym (dead keys, IME
/// composition, multi-character keys: type those as text).
///
/// # Safety
/// `key` and `code` are NULL or NUL-terminated (`code` may be "").
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfb_keysym_from_dom(
    key: *const c_char,
    code: *const c_char,
    location: u32,
) -> u32 {
    guard(
        |_| {},
        || {
            // SAFETY: caller's contract.
            let k = unsafe { crate::c_str(key, "key") }?;
            // SAFETY: caller's contract.
            let c = unsafe { crate::c_str(code, "code") }?;
            Ok(
                match rfb_keysym::dom::resolve(k, c, Location::from_dom(location)) {
                    Ok(Resolved::Keysym(ks)) => ks,
                    _ => 0,
                },
            )
        },
    )
    .unwrap_or(0)
}
