//! `cargo xtask test` (and its alias `ci`): the project's one test command.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::{Result, cargo, fuzz, keysymgen, run_status, show, tiers};

/// The steps, in order; the first failure stops the run.
const STEPS: &[&str] = &[
    "fmt",
    // Before clippy: rfb-proxy embeds web/dist at build time.
    "dist",
    "clippy",
    "check-tiers",
    "generated",
    "wasm-core",
    "test",
    "bindings",
    "fuzz-replay",
];

/// Core crates that must build for the browser (the wasm client composes them).
const WASM_CORE: &[&str] = &[
    "rfb-encodings",
    "rfb-core",
    "rfb-ws",
    "rfb-keysym",
    "rfb-input",
    "rfb-tls",
];

/// The `test` / `ci` command. Arguments after `--` go to `cargo test`.
pub(crate) fn test(args: &[String]) -> Result<()> {
    let extra = match args.split_first() {
        None => &[][..],
        Some((first, rest)) if first == "--" => rest,
        Some(_) => {
            return Err(format!(
                "unexpected arguments {args:?}; pass cargo test arguments after `--`"
            ));
        }
    };

    let started = Instant::now();
    let mut times: Vec<(&str, Duration, bool)> = Vec::new();
    let mut counts = None;
    let mut outcome = Ok(());
    for (index, &step) in STEPS.iter().enumerate() {
        println!("==> [{}/{}] {step}", index + 1, STEPS.len());
        let _ = std::io::stdout().flush();
        let step_started = Instant::now();
        let result = match step {
            "fmt" => run_status(cargo().args(["fmt", "--all", "--check"]))
                .map_err(|e| format!("{e}\n  fix: run `cargo fmt --all`")),
            "clippy" => run_status(cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])),
            "check-tiers" => tiers::check_tiers(),
            "generated" => keysymgen::run(&["--check".to_string()]),
            "wasm-core" => {
                // One clippy run for the browser target proves the core crates compile for it
                // and lints the web client (wasm-only) where it is built. Checking is enough:
                // the dist step and the wasm tests build the same crates in full (a separate
                // debug build of the core here took six minutes on a cold cache). Release, in
                // the dist step's target directory, so the build scripts and proc-macros the
                // dist build compiled are reused.
                let mut c = cargo();
                c.args([
                    "clippy",
                    "--release",
                    "--target",
                    "wasm32-unknown-unknown",
                    "-p",
                    "rfb-web",
                    "--target-dir",
                ])
                .arg(crate::dist::wasm_target_dir());
                for p in WASM_CORE {
                    c.args(["-p", p]);
                }
                c.args(["--", "-D", "warnings"]);
                run_status(&mut c)
                    .map_err(|e| format!("{e}\n  fix: rustup target add wasm32-unknown-unknown"))
            }
            "dist" => crate::dist::dist(),
            "test" => cargo_test(extra).map(|c| counts = Some(c)),
            "bindings" => bindings().map(|py| {
                if let Some(c) = counts.as_mut() {
                    c.passed += py.passed;
                    c.failed += py.failed;
                    c.ignored += py.ignored;
                }
            }),
            "fuzz-replay" => fuzz::replay(),
            _ => unreachable!("unknown step {step}"),
        };
        let elapsed = step_started.elapsed();
        times.push((step, elapsed, result.is_ok()));
        match &result {
            Ok(()) => println!("<== {step} ok ({})", secs(elapsed)),
            Err(_) => println!("<== {step} FAILED ({})", secs(elapsed)),
        }
        if let Err(e) = result {
            outcome = Err(format!("step `{step}` failed: {e}"));
            break;
        }
    }

    println!("\nxtask test: timing");
    for (step, elapsed, ok) in &times {
        let status = if *ok { "ok" } else { "FAILED" };
        println!("  {step:<12} {:>9}  {status}", secs(*elapsed));
    }
    for step in &STEPS[times.len()..] {
        println!("  {step:<12} {:>9}  not run", "-");
    }
    println!("  {:<12} {:>9}", "total", secs(started.elapsed()));
    if let Some(c) = counts {
        // The plain closing line CI reads: "N passed, N failed[, N skipped]".
        println!(
            "tests: {} passed, {} failed, {} skipped",
            c.passed, c.failed, c.ignored
        );
    }
    outcome
}

/// The C library and the Python package as users build them (issue 10). The C tests proper
/// (`bindings/c/tests/c_api.rs`: Xvnc screenshots, typing, valgrind, header check) already ran
/// in `test`; this builds `librfb` the documented way, compiles the example with the exact
/// documented command, then installs the Python package into the peers' venv with pip (no
/// build isolation: maturin is in the venv, so no download) and runs its pytest suite.
fn bindings() -> Result<Counts> {
    run_status(cargo().args(["build", "--release", "-p", "rfb-c"]))?;
    let root = crate::workspace_root();
    let example = std::env::temp_dir().join(format!("rfb-screenshot-{}", std::process::id()));
    run_status(
        std::process::Command::new("gcc")
            .current_dir(&root)
            .args([
                "-Wall",
                "-Werror",
                "-Ibindings/c/include",
                "bindings/c/examples/screenshot.c",
                "-Ltarget/release",
                "-lrfb",
                "-o",
            ])
            .arg(&example),
    )?;
    let _ = std::fs::remove_file(&example);
    let python = root.join("target/peers/venv/bin/python");
    if !python.is_file() {
        return Err(format!(
            "{} is missing\n  fix: bash scripts/install-test-deps.sh",
            python.display()
        ));
    }
    // maturin (the build backend) is found on PATH: put the venv's bin first.
    let path = std::env::join_paths(std::iter::once(root.join("target/peers/venv/bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .map_err(|e| format!("PATH: {e}"))?;
    run_status(
        std::process::Command::new(&python)
            .current_dir(&root)
            .env("PATH", &path)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-build-isolation",
                "--force-reinstall",
                "--no-deps",
                "./bindings/python",
            ]),
    )?;
    let mut pytest = std::process::Command::new(&python);
    pytest.current_dir(root.join("bindings/python")).args([
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests",
    ]);
    let shown = show(&pytest);
    let out = pytest
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    let mut counts = Counts::default();
    // pytest's last line: "11 passed, 1 skipped in 3.41s".
    if let Some(last) = text.lines().rev().find(|l| l.contains(" in ")) {
        for part in last.split(',') {
            let mut words = part.split_whitespace();
            if let (Some(n), Some(label)) = (words.next(), words.next()) {
                let n: u64 = n.trim_start_matches('=').parse().unwrap_or(0);
                match label {
                    "passed" => counts.passed += n,
                    "failed" | "error" | "errors" => counts.failed += n,
                    "skipped" => counts.ignored += n,
                    _ => {}
                }
            }
        }
    }
    if out.status.success() {
        Ok(counts)
    } else {
        Err(format!("`{shown}` failed ({})", out.status))
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Totals over every `test result:` line of a `cargo test` run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Counts {
    /// Adds a libtest summary line such as
    /// `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; ...`.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = number.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

/// `cargo test --workspace`, excluding workspace members that are not default members (the
/// pyo3 extension module cannot link under `cargo test`; see architecture decisions). Its
/// stdout is streamed through so the totals can be summed.
fn cargo_test(extra: &[String]) -> Result<Counts> {
    let mut command = cargo();
    command.args(["test", "--workspace"]);
    for excluded in non_default_members()? {
        command.args(["--exclude", &excluded]);
    }
    command.args(extra);
    let mut counts = run_counted(command)?;
    // Optional features whose tests the plain workspace run cannot reach: the native H.264
    // decoder (bundled OpenH264, needs a C compiler). Skipped when filters were given.
    if extra.is_empty() {
        let mut feature = cargo();
        feature.args([
            "test",
            "-p",
            "rfb-encodings",
            "--features",
            "h264-openh264",
            "--test",
            "h264_openh264",
        ]);
        let more = run_counted(feature)?;
        counts.passed += more.passed;
        counts.failed += more.failed;
        counts.ignored += more.ignored;
        // The web client's wasm-bindgen tests, in headless Chromium through chromedriver.
        // Release, in the dist step's target directory: the dependencies are the ones `dist`
        // already built, where a debug build of them (the crypto crates at opt-level 2) took
        // five minutes on a cold cache.
        let mut wasm = cargo();
        wasm.args([
            "test",
            "--release",
            "-p",
            "rfb-web",
            "--target",
            "wasm32-unknown-unknown",
            "--target-dir",
        ])
        .arg(crate::dist::wasm_target_dir())
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver");
        let more = run_counted(wasm).map_err(|e| {
            format!(
                "{e}\n  fix: bash scripts/install-test-deps.sh (chromium-driver, wasm-bindgen-cli)"
            )
        })?;
        counts.passed += more.passed;
        counts.failed += more.failed;
        counts.ignored += more.ignored;
    }
    Ok(counts)
}

/// Runs a `cargo test` command, echoing its output and totalling its result lines.
fn run_counted(mut command: std::process::Command) -> Result<Counts> {
    let shown = show(&command);
    println!("     {shown}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    let mut counts = Counts::default();
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut out = std::io::stdout().lock();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading `{shown}` output: {e}"))?;
        counts.add_line(&line);
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    drop(out);
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{shown}`: {e}"))?;
    if status.success() {
        Ok(counts)
    } else {
        Err(format!(
            "`{shown}` failed ({status}); {} passed, {} failed",
            counts.passed, counts.failed
        ))
    }
}

/// Workspace members outside `default-members`, by package name.
fn non_default_members() -> Result<Vec<String>> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata: bad JSON: {e}"))?;
    let ids = |key: &str| -> Vec<String> {
        metadata[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let defaults = ids("workspace_default_members");
    let mut names = Vec::new();
    for member in ids("workspace_members") {
        if defaults.contains(&member) {
            continue;
        }
        let name = metadata["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["id"] == member.as_str())
            .and_then(|p| p["name"].as_str());
        if let Some(name) = name {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::Counts;

    #[test]
    fn sums_libtest_summaries() {
        let mut counts = Counts::default();
        counts.add_line(
            "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; \
             finished in 0.01s",
        );
        counts.add_line("test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured");
        counts.add_line("running 3 tests");
        assert_eq!(
            counts,
            Counts {
                passed: 5,
                failed: 1,
                ignored: 1
            }
        );
    }
}
