//! Generates the C header with cbindgen into `OUT_DIR`; `tests/header.rs` fails when the
//! checked-in `include/rfb.h` differs. `RFB_C_WRITE_HEADER=1` also writes the checked-in copy.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets this"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=RFB_C_WRITE_HEADER");
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not parse src/");
    bindings.write_to_file(out.join("rfb.h"));
    if std::env::var_os("RFB_C_WRITE_HEADER").is_some_and(|v| v == "1") {
        bindings.write_to_file(dir.join("include/rfb.h"));
    }
}
