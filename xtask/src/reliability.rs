//! `cargo xtask reliability`: the robustness lab of issue 12, regenerating
//! `docs/reliability.md` in one command.
//!
//! 1. Every fuzz target runs for a fixed budget from its committed corpus; the executions,
//!    coverage, new inputs and findings are tabulated. With `--keep`, new inputs that add
//!    coverage are merged into `fuzz/corpus/<target>` (libFuzzer's `-merge=1`, which keeps
//!    the corpus minimal).
//! 2. The client core replays every committed recording cut, bit-flipped and with 0xFF
//!    length windows (`benches/tests/corrupted_recordings.rs`).
//! 3. `proxy-soak` abuses a release rfb-proxy (`benches/src/bin/proxy_soak.rs`).
//!
//! Options: `--fuzz-seconds N` (per target, default 60), `--connections N` (soak, default
//! 3000), `--keep`, `--no-write` (print only). Not part of `cargo xtask test`: it takes
//! tens of minutes; CI runs the short versions (fuzz-replay, the corrupted-recordings test).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::fuzz::{fuzz_binaries, jobs, list_targets, missing_tools, nightly_cargo, par_map};
use crate::{Result, cargo, run_status, show, workspace_root};

struct Options {
    fuzz_seconds: u64,
    connections: u64,
    keep: bool,
    write: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        fuzz_seconds: 60,
        connections: 3000,
        keep: false,
        write: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Result<u64> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} takes a whole number"))
        };
        match a.as_str() {
            "--fuzz-seconds" => o.fuzz_seconds = number("--fuzz-seconds")?,
            "--connections" => o.connections = number("--connections")?,
            "--keep" => o.keep = true,
            "--no-write" => o.write = false,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// One fuzz target's run.
struct FuzzRun {
    target: String,
    corpus: usize,
    executions: u64,
    per_second: u64,
    coverage: String,
    new_inputs: usize,
    finding: Option<String>,
}

/// libFuzzer's `-print_final_stats=1` line `stat::<name>: <value>`.
fn final_stat(log: &str, name: &str) -> u64 {
    let key = format!("stat::{name}:");
    log.lines()
        .find_map(|l| l.trim().strip_prefix(key.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The last `cov: N ft: M` that libFuzzer printed.
fn last_coverage(log: &str) -> String {
    log.lines()
        .rev()
        .find_map(|l| {
            let cov = l.split_whitespace().skip_while(|w| *w != "cov:").nth(1)?;
            let ft = l.split_whitespace().skip_while(|w| *w != "ft:").nth(1)?;
            Some(format!("{cov} edges, {ft} features"))
        })
        .unwrap_or_else(|| "-".into())
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

fn fuzz_all(o: &Options) -> Result<Vec<FuzzRun>> {
    let fuzz_dir = workspace_root().join("fuzz");
    if let Some(why) = missing_tools(&fuzz_dir) {
        return Err(why);
    }
    let targets = list_targets(&fuzz_dir)?;
    run_status(nightly_cargo(&fuzz_dir).args(["fuzz", "build"]))?;
    let fuzz_bin = fuzz_binaries(&fuzz_dir);
    let scratch = std::env::temp_dir().join(format!("rfb-reliability-{}", std::process::id()));
    println!(
        "reliability: fuzzing {} targets, {} at a time, {} s each",
        targets.len(),
        jobs(),
        o.fuzz_seconds
    );
    let runs = par_map(&targets, jobs(), |target| -> Result<FuzzRun> {
        let corpus = fuzz_dir.join("corpus").join(target);
        let fresh = scratch.join(target);
        std::fs::create_dir_all(&fresh).map_err(|e| format!("{}: {e}", fresh.display()))?;
        // The binary `cargo fuzz build` made, run directly: `cargo fuzz run` would rebuild
        // whenever the tree changed meanwhile, and that time is not fuzzing.
        let artifacts = fuzz_dir.join("artifacts").join(target);
        std::fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
        let mut c = Command::new(fuzz_bin.join(target));
        c.arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg(format!("-max_total_time={}", o.fuzz_seconds))
            .arg("-print_final_stats=1")
            .arg(&fresh)
            .arg(&corpus);
        let out = c
            .output()
            .map_err(|e| format!("could not start `{}`: {e}", show(&c)))?;
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        let finding = (!out.status.success()).then(|| {
            log.lines()
                .filter(|l| l.contains("ERROR:") || l.contains("panicked at"))
                .take(2)
                .collect::<Vec<_>>()
                .join(" / ")
        });
        let executions = final_stat(&log, "number_of_executed_units");
        let new_inputs = count_files(&fresh);
        if o.keep && finding.is_none() && new_inputs > 0 {
            run_status(
                Command::new(fuzz_bin.join(target))
                    .arg("-merge=1")
                    .arg(&corpus)
                    .arg(&fresh),
            )?;
        }
        println!("reliability: {target}: {executions} executions");
        Ok(FuzzRun {
            corpus: count_files(&corpus),
            executions,
            per_second: final_stat(&log, "average_exec_per_sec"),
            coverage: last_coverage(&log),
            new_inputs,
            finding,
            target: target.clone(),
        })
    });
    let runs = runs.into_iter().collect::<Result<Vec<_>>>();
    let _ = std::fs::remove_dir_all(&scratch);
    runs
}

/// Runs a command, echoing its stderr, and returns its stdout; a failure keeps the output.
fn capture(command: &mut Command) -> (bool, String) {
    println!("reliability: {}", show(command));
    match command.output() {
        Ok(out) => {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            (out.status.success(), text)
        }
        Err(e) => (false, format!("could not start: {e}")),
    }
}

/// Where cargo puts this workspace's build output.
fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), std::path::PathBuf::from)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{cpu}, {cores} cores")
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The `reliability` command.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let started = Instant::now();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Reliability\n\nRegenerated by `cargo xtask reliability` (options: `--fuzz-seconds {}`, \
         `--connections {}`), started {} on {} (load average at the start: {}; other work \
         on the machine lowers the execution counts, not the verdicts). Do not edit by hand; \
         the numbers come from the run.\n",
        o.fuzz_seconds,
        o.connections,
        today(),
        machine(),
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into())
    );
    let mut ok = true;

    md.push_str("## Fuzzing\n\n");
    let _ = writeln!(
        md,
        "Every target in `fuzz/` runs {} s from its committed corpus (`fuzz/corpus/<target>`). \
         A finding is a crash, a panic, a timeout or an out-of-memory; its input lands in \
         `fuzz/artifacts/<target>/`. `--keep` merges new inputs that add coverage into the \
         committed corpus.\n",
        o.fuzz_seconds
    );
    match fuzz_all(&o) {
        Ok(runs) => {
            md.push_str(
                "| target | committed inputs | executions | execs/s | coverage at the end | new inputs | findings |\n|---|---|---|---|---|---|---|\n",
            );
            for r in &runs {
                ok &= r.finding.is_none();
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    r.target,
                    r.corpus,
                    r.executions,
                    r.per_second,
                    r.coverage,
                    r.new_inputs,
                    r.finding.as_deref().unwrap_or("none")
                );
            }
            let total: u64 = runs.iter().map(|r| r.executions).sum();
            let _ = writeln!(
                md,
                "\n{} targets, {total} executions in total, {} with findings.\n",
                runs.len(),
                runs.iter().filter(|r| r.finding.is_some()).count()
            );
        }
        Err(e) => {
            ok = false;
            let _ = writeln!(md, "Fuzzing did not run: {e}\n");
        }
    }

    md.push_str("## Client core against damaged recordings\n\n");
    md.push_str(
        "Every committed recording (`benches/recordings`) replayed through a fresh client, cut at \
         a random byte, with 1–8 random bit flips, or with a 4-byte window set to 0xFF (a huge \
         length), 64 seeds per recording and kind, fed in random chunk sizes \
         (`benches/tests/corrupted_recordings.rs`, also run by `cargo xtask test`). Each run must \
         end cleanly or with a typed error, never a panic, and an error must be sticky.\n\n",
    );
    let (passed, out) = capture(cargo().args([
        "test",
        "-p",
        "rfb-benches",
        "--test",
        "corrupted_recordings",
        "--",
        "--nocapture",
    ]));
    ok &= passed;
    let summary = out
        .lines()
        .find(|l| l.starts_with("damaged replays:"))
        .unwrap_or("(no summary printed)");
    let _ = writeln!(
        md,
        "Result: **{}** — {summary}.\n",
        if passed { "pass" } else { "FAIL" }
    );

    md.push_str("## Proxy soak\n\n");
    md.push_str(
        "`target/release/proxy-soak` (`benches/src/bin/proxy_soak.rs`) against a release \
         rfb-proxy with `--max-frame 1048576` and two token targets: a steady echo server and one \
         that dies and comes back every 400 ms. Meanwhile: the churn (connections dropped right \
         after connect, mid-head and mid-frame, after echoes without a close frame, clean \
         closes, oversized frames, garbage heads, slow writers trickling a frame a byte at a \
         time), 100 slowloris heads, 8 slow readers pushing without reading, and 8 survivors \
         each streaming 16 MiB in random-size messages verified byte for byte on the way back. \
         Afterwards the proxy's file descriptors and RSS are compared with the baseline taken \
         after a warm-up.\n\n",
    );
    run_status(cargo().args([
        "build",
        "--release",
        "-p",
        "rfb-proxy",
        "-p",
        "rfb-benches",
        "--bin",
        "rfb-proxy",
        "--bin",
        "proxy-soak",
    ]))?;
    let target_dir = target_dir();
    let soak = target_dir.join("release/proxy-soak");
    let (passed, out) = capture(
        Command::new(soak)
            .args(["--connections", &o.connections.to_string()])
            .env("RFB_PROXY_BIN", target_dir.join("release/rfb-proxy")),
    );
    ok &= passed;
    md.push_str(&out.replace("### Proxy soak", "Result of this run:"));
    md.push('\n');
    let _ = writeln!(
        md,
        "\nThe whole run took {:.0} s.",
        started.elapsed().as_secs_f64()
    );

    if o.write {
        let path = workspace_root().join("docs/reliability.md");
        std::fs::write(&path, &md).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("reliability: wrote {}", path.display());
    } else {
        println!("{md}");
    }
    if ok {
        Ok(())
    } else {
        Err("some checks failed; see docs/reliability.md".into())
    }
}
