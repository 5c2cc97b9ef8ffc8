//! Raw and CopyRect only (see `decode_common.rs` for the input layout).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfb_encodings::Encoding;

#[path = "decode_common.rs"]
mod decode_common;

fuzz_target!(|data: &[u8]| decode_common::run(data, &[Encoding::Raw, Encoding::CopyRect]));
