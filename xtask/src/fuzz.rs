//! `cargo xtask fuzz-replay`: replay every committed corpus, then fuzz each target briefly.
//!
//! For each target of `cargo +nightly fuzz list` (run in `fuzz/`), libFuzzer first executes
//! every input of `fuzz/corpus/<target>` and then fuzzes for up to `RFB_FUZZ_SECONDS` (default
//! 10) more, all runs together within `RFB_FUZZ_BUDGET` seconds (default 300; the one-off build
//! of the fuzz crate is not counted). When the budget is spent, the remaining targets still
//! replay their corpus (`-runs=0`) but do not fuzz further.
//!
//! New inputs that libFuzzer finds go to a temporary directory (the first corpus argument), so
//! the committed corpus is only read. Crashes land in `fuzz/artifacts/<target>/`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{Result, cargo, run_status, workspace_root};

const DEFAULT_SECONDS: u64 = 10;
const DEFAULT_BUDGET: u64 = 300;
const INSTALL_HINT: &str = "cargo install cargo-fuzz";

fn env_seconds(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("{name}={value:?} is not a whole number of seconds")),
        Err(_) => Ok(default),
    }
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `cargo +nightly …` in `fuzz/`.
pub(crate) fn nightly_cargo(fuzz_dir: &Path) -> Command {
    let mut command = cargo();
    command.current_dir(fuzz_dir).arg("+nightly");
    command
}

/// Why fuzzing cannot run here, if it cannot.
pub(crate) fn missing_tools(fuzz_dir: &Path) -> Option<String> {
    let works = |command: &mut Command| {
        command
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !works(nightly_cargo(fuzz_dir).arg("--version")) {
        return Some(
            "the nightly toolchain is missing (rustup toolchain install nightly --profile \
             minimal)"
                .to_owned(),
        );
    }
    if !works(nightly_cargo(fuzz_dir).args(["fuzz", "--version"])) {
        return Some(format!("cargo-fuzz is missing ({INSTALL_HINT})"));
    }
    None
}

/// The targets `cargo +nightly fuzz list` names.
pub(crate) fn list_targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let output = nightly_cargo(fuzz_dir)
        .args(["fuzz", "list"])
        .output()
        .map_err(|e| format!("could not run `cargo +nightly fuzz list`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo +nightly fuzz list` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The `fuzz-replay` command.
pub(crate) fn replay() -> Result<()> {
    let fuzz_dir = workspace_root().join("fuzz");
    if !fuzz_dir.join("Cargo.toml").is_file() {
        println!("fuzz-replay: no fuzz/Cargo.toml yet, nothing to replay");
        return Ok(());
    }
    if let Some(why) = missing_tools(&fuzz_dir) {
        if is_ci() {
            return Err(format!(
                "{why}; CI=true requires fuzzing (scripts/install-test-deps.sh installs it)"
            ));
        }
        println!("fuzz-replay: {why}");
        println!("SKIPPED: fuzz replay ({INSTALL_HINT})");
        return Ok(());
    }
    let per_target = env_seconds("RFB_FUZZ_SECONDS", DEFAULT_SECONDS)?;
    let budget = Duration::from_secs(env_seconds("RFB_FUZZ_BUDGET", DEFAULT_BUDGET)?);

    let targets = list_targets(&fuzz_dir)?;
    if targets.is_empty() {
        println!("fuzz-replay: fuzz/ has no targets");
        return Ok(());
    }

    let build_started = Instant::now();
    run_status(nightly_cargo(&fuzz_dir).args(["fuzz", "build"]))
        .map_err(|e| format!("building the fuzz targets: {e}"))?;
    println!(
        "fuzz-replay: built {} target(s) in {:.1} s",
        targets.len(),
        build_started.elapsed().as_secs_f64()
    );

    let scratch = std::env::temp_dir().join(format!("rfb-fuzz-replay-{}", std::process::id()));
    let started = Instant::now();
    let mut result = Ok(());
    for target in &targets {
        let remaining = budget.saturating_sub(started.elapsed()).as_secs();
        let seconds = per_target.min(remaining);
        let corpus = fuzz_dir.join("corpus").join(target);
        let new_inputs = scratch.join(target);
        if let Err(e) = std::fs::create_dir_all(&new_inputs) {
            result = Err(format!("creating {}: {e}", new_inputs.display()));
            break;
        }
        let mut command = nightly_cargo(&fuzz_dir);
        command.args(["fuzz", "run", target]).arg(&new_inputs);
        let replayed = if corpus.is_dir() {
            command.arg(&corpus);
            std::fs::read_dir(&corpus).map_or(0, Iterator::count)
        } else {
            0
        };
        command.arg("--");
        if seconds == 0 {
            command.arg("-runs=0");
        } else {
            command.arg(format!("-max_total_time={seconds}"));
        }
        println!(
            "fuzz-replay: {target}: replaying {replayed} committed input(s), then fuzzing \
             {seconds} s"
        );
        let target_started = Instant::now();
        if let Err(e) = run_status(&mut command) {
            result = Err(format!(
                "fuzz target `{target}` failed: {e}\n  the failing input is in \
                 fuzz/artifacts/{target}/; reproduce with `cd fuzz && cargo +nightly fuzz run \
                 {target} <that file>`"
            ));
            break;
        }
        println!(
            "fuzz-replay: {target}: ok in {:.1} s",
            target_started.elapsed().as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    println!(
        "fuzz-replay: {} target(s) ok in {:.1} s",
        targets.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
