//! `cargo xtask fuzz-replay`: replay every committed corpus, then fuzz each target briefly.
//!
//! For each target of `cargo +nightly fuzz list` (run in `fuzz/`), libFuzzer first executes
//! every input of `fuzz/corpus/<target>` and then fuzzes for up to `RFB_FUZZ_SECONDS` (default
//! 10) more, all runs together within `RFB_FUZZ_BUDGET` seconds (default 300; the one-off build
//! of the fuzz crate is not counted). Targets run one per core at a time ([`jobs`]) and the
//! budget is wall time: when it is spent, the remaining targets still replay their corpus
//! (`-runs=0`) but do not fuzz further.
//!
//! New inputs that libFuzzer finds go to a temporary directory (the first corpus argument), so
//! the committed corpus is only read. Crashes land in `fuzz/artifacts/<target>/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{Result, cargo, run_status, show, workspace_root};

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
    let fuzz_bin = fuzz_binaries(&fuzz_dir);
    let parallel = jobs();
    println!("fuzz-replay: {parallel} target(s) at a time");
    let started = Instant::now();
    let failed = std::sync::atomic::AtomicBool::new(false);
    let results = par_map(&targets, parallel, |target| {
        if failed.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        // The budget is wall time: a target starting late gets what is left of it.
        let remaining = budget.saturating_sub(started.elapsed()).as_secs();
        let seconds = per_target.min(remaining);
        let corpus = fuzz_dir.join("corpus").join(target);
        let new_inputs = scratch.join(target);
        let artifacts = fuzz_dir.join("artifacts").join(target);
        for dir in [&new_inputs, &artifacts] {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        // The binary `cargo fuzz build` made, run directly: `cargo fuzz run` would take the
        // build lock and re-check the build for every target.
        let mut command = Command::new(fuzz_bin.join(target));
        command
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg(if seconds == 0 {
                "-runs=0".to_owned()
            } else {
                format!("-max_total_time={seconds}")
            })
            .arg(&new_inputs);
        let replayed = if corpus.is_dir() {
            command.arg(&corpus);
            std::fs::read_dir(&corpus).map_or(0, Iterator::count)
        } else {
            0
        };
        let target_started = Instant::now();
        let out = command
            .output()
            .map_err(|e| format!("could not start `{}`: {e}", show(&command)))?;
        let took = target_started.elapsed().as_secs_f64();
        if out.status.success() {
            println!(
                "fuzz-replay: {target}: replayed {replayed} committed input(s), fuzzed up to \
                 {seconds} s: ok in {took:.1} s"
            );
            Ok(())
        } else {
            failed.store(true, std::sync::atomic::Ordering::Relaxed);
            // The whole libFuzzer log of the failing target, in one piece.
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            Err(format!(
                "fuzz target `{target}` failed ({}) after {took:.1} s\n  the failing input is \
                 in fuzz/artifacts/{target}/; reproduce with `cd fuzz && cargo +nightly fuzz \
                 run {target} <that file>`",
                out.status
            ))
        }
    });
    let result = results.into_iter().collect::<Result<Vec<()>>>().map(drop);
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    println!(
        "fuzz-replay: {} target(s) ok in {:.1} s",
        targets.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Where `cargo fuzz build` puts the target binaries: `fuzz/` is a workspace of its own, so
/// its `target/` unless CARGO_TARGET_DIR says otherwise.
pub(crate) fn fuzz_binaries(fuzz_dir: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| fuzz_dir.join("target"), PathBuf::from)
        .join("x86_64-unknown-linux-gnu/release")
}

/// How many fuzz targets run at once: one per core (libFuzzer runs one process per target,
/// single-threaded), so the same fuzzing takes half the wall time on the 2-core CI machine.
pub(crate) fn jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `work` over `items` on up to `parallel` threads, each taking the next item when it is
/// free; the results come back in the order of `items`.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    parallel: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = Mutex::new(items.iter().enumerate());
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                // The guard moves into the closure and drops there: the lock is not held
                // while the work runs. A poisoned lock means another worker panicked, which
                // the scope re-raises.
                while let Some((index, item)) = next.lock().ok().and_then(|mut it| it.next()) {
                    let result = work(item);
                    if let Ok(mut slots) = results.lock() {
                        slots[index] = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .map(|r| r.expect("every item was taken by a worker"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::par_map;

    #[test]
    fn par_map_keeps_the_order_and_runs_everything() {
        let items: Vec<u64> = (0..37).collect();
        for parallel in [0, 1, 2, 5, 100] {
            let out = par_map(&items, parallel, |x| {
                std::thread::sleep(std::time::Duration::from_millis(x % 3));
                x * 2
            });
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
        assert!(par_map(&[] as &[u8], 2, |x| *x).is_empty());
    }
}
