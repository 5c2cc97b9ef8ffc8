//! Every decoder through one target (the encoding is picked by the input); the per-family
//! targets `decode_*` focus the fuzzer on one decoder each. See `decode_common.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "decode_common.rs"]
mod decode_common;

fuzz_target!(|data: &[u8]| decode_common::run(data, &[]));
