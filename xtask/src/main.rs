//! Build and CI chores for the rfb workspace, run as `cargo xtask <command>`.
//!
//! The alias lives in `.cargo/config.toml`. `cargo xtask test` is the project's one test
//! command; `.ci/run` calls it on a fresh clone.

// The workspace clippy.toml bans clocks for the core tier; xtask is internal and times its steps.
#![allow(clippy::disallowed_methods)]

mod bench;
mod dist;
mod fuzz;
mod keysymgen;
mod reliability;
mod tiers;
mod workflow;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Errors are reported as one message; the command line is the only consumer.
type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  test [-- <cargo test args>]  fmt, clippy, check-tiers, cargo test --workspace, fuzz-replay
  ci [-- <cargo test args>]    the same as `test` (CI scripts call it)
  check-tiers                  enforce the core/driver/internal dependency rules (ARCHITECTURE.md)
  fuzz-replay                  replay fuzz/corpus/<target> and fuzz each target briefly
  run [-- PROXY ARGS]          build web/dist and run rfb-proxy with the app (default --demo)
  dist                         build web/dist (the wasm client and app; needs wasm-bindgen-cli)
  gen-keysyms [--check]        regenerate rfb-keysym's tables (--check: fail if stale)
  reliability [--fuzz-seconds N] [--connections N] [--keep] [--no-write]
                               fuzz every target, damage recordings, soak the proxy;
                               writes docs/reliability.md (tens of minutes)
  bench [--quick] [--small] [--record] [--runs N] [--skip browser|proxy|native|update-rate]
        [--baseline DIR] [--save-baseline DIR] [--no-write]
                               native decode, browser (ours vs noVNC), proxy and update-rate
                               benchmarks; writes docs/performance.md (see xtask/src/bench.rs)

environment:
  RFB_FUZZ_SECONDS  extra fuzzing per target after the replay (default 10)
  RFB_FUZZ_BUDGET   fuzzing seconds for all targets together (default 300)
  CI=true           a missing cargo-fuzz or nightly toolchain fails instead of skipping";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let result = match command.as_str() {
        "test" | "ci" => workflow::test(rest),
        "check-tiers" => no_args(command, rest).and_then(|()| tiers::check_tiers()),
        "fuzz-replay" => no_args(command, rest).and_then(|()| fuzz::replay()),
        "gen-keysyms" => keysymgen::run(rest),
        "reliability" => reliability::run(rest),
        "bench" => bench::run(rest),
        "dist" => no_args(command, rest).and_then(|()| dist::dist()),
        "run" => dist::run(rest.strip_prefix(&["--".to_string()]).unwrap_or(rest)),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {command}: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn no_args(command: &str, rest: &[String]) -> Result<()> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(format!("`{command}` takes no arguments, got {rest:?}"))
    }
}

/// The workspace root (the parent of this crate's directory).
///
/// Read from the environment `cargo run` sets, before the path compiled in: clones that
/// share one `CARGO_TARGET_DIR` (the fresh-clone test) share this binary too, and the
/// compiled-in path would name the other clone.
fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .expect("xtask lives one level below the workspace root")
}

/// `cargo` from `PATH` (the rustup proxy, so `+nightly` works), run in the workspace root.
///
/// `CARGO_PRIMARY_PACKAGE` is removed in case the outer `cargo run` leaked it: clippy only
/// lints packages that have it set, so an inherited value would change what gets linted.
fn cargo() -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(workspace_root())
        .env_remove("CARGO_PRIMARY_PACKAGE");
    command
}

/// Runs a command with inherited stdio and turns a non-zero exit into an error.
fn run_status(command: &mut Command) -> Result<()> {
    let shown = show(command);
    let status = command
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// The command line as a user would type it, for messages.
fn show(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
