//! Embeds the built web client (`web/dist`, made by `cargo xtask dist`) in the binary, so
//! `rfb-proxy --vnc HOST:PORT` serves the app without any files next to it.
//!
//! An empty or missing `web/dist` is an error (an app-less proxy would fail confusingly in the
//! browser) unless `RFB_PROXY_SKIP_WEB=1`, which builds a proxy that serves only `--web DIR`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dist = manifest.join("../web/dist");
    println!("cargo::rerun-if-env-changed=RFB_PROXY_SKIP_WEB");
    println!("cargo::rerun-if-changed={}", dist.display());
    let skip = std::env::var("RFB_PROXY_SKIP_WEB").is_ok_and(|v| v == "1");
    let mut files = Vec::new();
    if dist.join("rfb.js").is_file() {
        collect(&dist, &dist, &mut files);
    } else if !skip {
        panic!(
            "\n\nrfb-proxy embeds the web client, but {} is not built.\n  \
             fix: cargo xtask dist   (or build without the app: RFB_PROXY_SKIP_WEB=1)\n\n",
            dist.display()
        );
    }
    files.sort();
    let mut out = String::from(
        "/// The files of `web/dist` at build time: (path relative to it, contents).\n\
         pub(crate) static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        println!("cargo::rerun-if-changed={}", abs.display());
        let _ = writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("embedded_web.rs");
    std::fs::write(dest, out).expect("write embedded_web.rs");
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            println!("cargo::rerun-if-changed={}", p.display());
            collect(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((rel, p.canonicalize().unwrap_or(p)));
        }
    }
}
