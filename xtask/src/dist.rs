//! `cargo xtask dist`: builds `web/dist`, the browser client and app.
//!
//! 1. `cargo build -p rfb-web --release --target wasm32-unknown-unknown` in its own target
//!    directory (`target/wasm`), so it never invalidates the host build's artifacts;
//! 2. the `wasm-bindgen` CLI, whose version must equal the `wasm-bindgen` crate pinned in
//!    `web/Cargo.toml`, writes the JS glue to `web/dist/pkg`;
//! 3. `wasm-opt -O2`, when it is installed (optional);
//! 4. `web/js/*` and `web/app/*` are copied next to it.

use std::path::Path;
use std::process::Command;

use crate::{Result, cargo, run_status, show, workspace_root};

/// The wasm-bindgen version `web/Cargo.toml` pins (`=x.y.z`).
fn pinned_wasm_bindgen(root: &Path) -> Result<String> {
    let manifest = std::fs::read_to_string(root.join("web/Cargo.toml"))
        .map_err(|e| format!("cannot read web/Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("wasm-bindgen")?.trim_start();
            let rest = rest.strip_prefix('=')?.trim();
            let v = rest.trim_matches('"').strip_prefix('=')?;
            Some(v.to_string())
        })
        .ok_or_else(|| "web/Cargo.toml does not pin wasm-bindgen as \"=x.y.z\"".to_string())
}

fn cli_version() -> Option<String> {
    let out = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).map(str::to_string)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest)
                .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `cargo xtask run [ARGS]`: what a newcomer runs first. Installs what the web build needs
/// when it is missing (the wasm32 target, the pinned wasm-bindgen CLI), builds `web/dist`,
/// then runs `rfb-proxy ARGS` (release) with the app built in; `--demo` when no ARGS.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let root = workspace_root();
    let pinned = pinned_wasm_bindgen(&root)?;
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        println!("run: installing the wasm32-unknown-unknown target (once)");
        run_status(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    if cli_version().as_deref() != Some(pinned.as_str()) {
        println!("run: installing wasm-bindgen-cli {pinned} (once, about two minutes)");
        run_status(cargo().args(["install", "wasm-bindgen-cli", "--version", &pinned]))?;
    }
    dist()?;
    let mut proxy = cargo();
    proxy.args(["run", "--release", "-p", "rfb-proxy", "--"]);
    if args.is_empty() {
        proxy.arg("--demo");
    } else {
        proxy.args(args);
    }
    run_status(&mut proxy)
}

/// The `dist` command.
pub(crate) fn dist() -> Result<()> {
    let root = workspace_root();
    let pinned = pinned_wasm_bindgen(&root)?;
    match cli_version() {
        Some(v) if v == pinned => {}
        found => {
            return Err(format!(
                "wasm-bindgen CLI {} found, {pinned} needed\n  fix: cargo install wasm-bindgen-cli --version {pinned}",
                found.as_deref().unwrap_or("not")
            ));
        }
    }
    let target_dir = wasm_target_dir();
    run_status(
        cargo()
            .args([
                "build",
                "-p",
                "rfb-web",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "--target-dir",
            ])
            .arg(&target_dir),
    )
    .map_err(|e| format!("{e}\n  fix: rustup target add wasm32-unknown-unknown"))?;

    let dist = root.join("web/dist");
    let _ = std::fs::remove_dir_all(&dist);
    let pkg = dist.join("pkg");
    let wasm = target_dir.join("wasm32-unknown-unknown/release/rfb_web.wasm");
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .arg(&wasm);
    run_status(&mut bindgen)?;

    let out_wasm = pkg.join("rfb_web_bg.wasm");
    if Command::new("wasm-opt").arg("--version").output().is_ok() {
        let mut opt = Command::new("wasm-opt");
        opt.args([
            "-O2",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "-o",
        ])
        .arg(&out_wasm)
        .arg(&out_wasm);
        if let Err(e) = run_status(&mut opt) {
            eprintln!(
                "dist: {} failed, keeping the unoptimised wasm: {e}",
                show(&opt)
            );
        }
    }
    copy_dir(&root.join("web/js"), &dist)?;
    copy_dir(&root.join("web/app"), &dist)?;
    let size = std::fs::metadata(&out_wasm).map(|m| m.len()).unwrap_or(0);
    println!("dist: wrote {} (wasm {} KiB)", dist.display(), size / 1024);
    Ok(())
}

/// The wasm builds' own target directory (under CARGO_TARGET_DIR when that is set, so clones
/// share it): the dist build, the wasm lint and the wasm tests all use it, so the tests reuse
/// the dependencies the dist build compiled.
pub(crate) fn wasm_target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), std::path::PathBuf::from)
        .join("wasm")
}
