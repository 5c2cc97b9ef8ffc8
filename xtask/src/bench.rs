//! `cargo xtask bench`: the performance lab of issue 12 in one command, regenerating
//! `docs/performance.md` from the run (nothing in that file is edited by hand).
//!
//! 1. Native decode per recording (`decode-bench`): output MiB/s and µs per update next to a
//!    memcpy of the same output and inflating the same zlib payloads alone.
//! 2. The same recordings in headless Chromium through npm noVNC and our wasm client, worker
//!    and main-thread modes, interleaved runs (`benches/browser/run.mjs`), next to the browser
//!    floor of the same recordings (`floor-script` writes what it replays: native inflate,
//!    `ImageDecoder` and `putImageData` of the same payloads and rectangles), with the issue's
//!    targets checked.
//! 3. rfb-proxy against websockify and a plain tokio relay (`proxy-bench`).
//! 4. Update rate over a delayed, rate-limited link (`update-rate`; skipped by `--quick`).
//!
//! The corpus is the committed one (`benches/recordings`) plus, unless `--quick` or
//! `--small`, the large 1280×800 corpus in `target/bench-corpus`, recorded on demand from
//! Xvnc by `cli/tests/record_corpus.rs` (`large_corpus`) when missing or with `--record`.
//!
//! `--baseline DIR` adds a saved earlier build (`DIR/dist`, `DIR/decode-bench`, made by
//! `--save-baseline DIR`) to the same runs, so before/after ratios come from one run.
//! Other options: `--runs N` (browser and proxy repetitions), `--skip browser|proxy|native|
//! update-rate` (the skipped section is kept from the current docs/performance.md, marked
//! as kept, with the stamps of the run that made it), `--no-write` (print only). Not part of `cargo xtask test`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{Result, cargo, dist, run_status, show, workspace_root};

struct Options {
    quick: bool,
    large: bool,
    record: bool,
    runs: Option<u32>,
    skip: Vec<String>,
    baseline: Option<PathBuf>,
    save_baseline: Option<PathBuf>,
    write: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        quick: false,
        large: true,
        record: false,
        runs: None,
        skip: Vec::new(),
        baseline: None,
        save_baseline: None,
        write: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<String> {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} takes a value"))
        };
        match a.as_str() {
            "--quick" => o.quick = true,
            "--small" => o.large = false,
            "--record" => o.record = true,
            "--runs" => {
                o.runs = Some(
                    value("--runs")?
                        .parse()
                        .map_err(|_| "--runs takes a whole number")?,
                )
            }
            "--skip" => o.skip.push(value("--skip")?),
            "--baseline" => o.baseline = Some(PathBuf::from(value("--baseline")?)),
            "--save-baseline" => o.save_baseline = Some(PathBuf::from(value("--save-baseline")?)),
            "--no-write" => o.write = false,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.quick {
        o.large = o.large && o.record;
    }
    Ok(o)
}

/// One line naming the machine: CPU model, cores, memory.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|x| x.1))
        .unwrap_or("unknown CPU")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let kb: u64 = m
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some(kb / (1024 * 1024))
        })
        .unwrap_or(0);
    format!("{model}, {cores} cores, {mem} GiB")
}

/// The 1-, 5- and 15-minute load averages (how busy other work kept the machine).
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Runs `command`, streaming its stderr, and returns its stdout (the Markdown it prints).
fn capture(command: &mut Command) -> Result<String> {
    let shown = show(command);
    eprintln!("xtask bench: {shown}");
    let out = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{shown}` failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A section's header lines: when, on what, how loaded, with which command.
fn stamp(doc: &mut String, command: &str, started: &str, load_before: &str, secs: f64) {
    let _ = writeln!(
        doc,
        "Run {started} on {}; load average (1/5/15 min) {load_before} before, {} after; \
         {secs:.0} s. Command: `{command}`.\n",
        machine(),
        load()
    );
}

const NATIVE: &str = "## Native decode";
const BROWSER: &str = "## In the browser: our wasm client against noVNC";
const PROXY: &str = "## Proxy: rfb-proxy against websockify and a plain relay";
const UPDATE_RATE: &str = "## Update rate over a slow link";

/// Appends the earlier run's section when this run skips it (see [`kept_section`]).
fn keep_if_skipped(doc: &mut String, old: &str, skipped: bool, heading: &str) {
    if let Some(kept) = skipped.then(|| kept_section(old, heading)).flatten() {
        doc.push_str(&kept);
        if !doc.ends_with("\n\n") {
            doc.push('\n');
        }
    }
}

const KEPT: &str = "_Kept from an earlier run: this run skipped it (`--skip`); the stamps \
                    below say when it ran._";

/// The section under `heading` ("## …" up to the next "## ") of an earlier
/// docs/performance.md, marked as kept: `--skip` leaves that part of the page as it was
/// (its own stamps say when and how it ran) instead of dropping it.
fn kept_section(old: &str, heading: &str) -> Option<String> {
    let start = old.find(&format!("\n{heading}\n"))? + 1;
    let body_at = start + heading.len() + 1;
    let end = old[body_at..]
        .find("\n## ")
        .map_or(old.len(), |i| body_at + i + 1);
    let body = old[body_at..end].trim_start_matches('\n');
    let body = body
        .strip_prefix(KEPT)
        .unwrap_or(body)
        .trim_start_matches('\n');
    Some(format!("{heading}\n\n{KEPT}\n\n{body}"))
}

fn section(
    doc: &mut String,
    command: &mut Command,
    shown: &str,
    body: impl FnOnce(&str) -> String,
) -> Result<()> {
    let started = now_utc();
    let load_before = load();
    let t = Instant::now();
    let out = match capture(command) {
        Ok(out) => out,
        Err(e) => {
            // One failing benchmark must not lose the others' figures.
            eprintln!("xtask bench: {e}");
            stamp(
                doc,
                shown,
                &started,
                &load_before,
                t.elapsed().as_secs_f64(),
            );
            let _ = writeln!(doc, "**This benchmark failed in this run:** {e}\n");
            return Ok(());
        }
    };
    stamp(
        doc,
        shown,
        &started,
        &load_before,
        t.elapsed().as_secs_f64(),
    );
    doc.push_str(&body(&out));
    doc.push('\n');
    Ok(())
}

/// Records the large corpus into `dir` with the ignored recorder test.
fn record_large(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    run_status(
        cargo()
            .args([
                "test",
                "-p",
                "rfb-cli",
                "--release",
                "--test",
                "record_corpus",
            ])
            .args(["--", "--ignored", "--nocapture", "--exact", "large_corpus"])
            .env("RFB_CORPUS_DIR", dir),
    )
}

fn has_recordings(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|d| {
        d.filter_map(|e| e.ok())
            .any(|e| e.path().extension().is_some_and(|x| x == "js"))
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for e in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let root = workspace_root();
    let skip = |what: &str| o.skip.iter().any(|s| s == what);
    // rfb-proxy only when its section runs (it is the subject there, nowhere else).
    let mut build = cargo();
    build.args(["build", "--release", "-p", "rfb-benches"]);
    if !skip("proxy") {
        build.args(["-p", "rfb-proxy"]);
    }
    run_status(&mut build)?;
    if !skip("browser") || o.save_baseline.is_some() {
        dist::dist()?;
    }
    if let Some(dir) = &o.save_baseline {
        let _ = std::fs::remove_dir_all(dir);
        copy_dir(&root.join("web/dist"), &dir.join("dist"))?;
        std::fs::copy(
            root.join("target/release/decode-bench"),
            dir.join("decode-bench"),
        )
        .map_err(|e| format!("saving decode-bench: {e}"))?;
        let rev = Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(&root)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        std::fs::write(dir.join("REV"), format!("{rev}\n")).map_err(|e| e.to_string())?;
        eprintln!(
            "xtask bench: saved this build as a baseline in {}",
            dir.display()
        );
        return Ok(());
    }
    let large_dir = root.join("target/bench-corpus");
    if o.large && (o.record || !has_recordings(&large_dir)) {
        record_large(&large_dir)?;
    }
    let mut dirs = vec![root.join("benches/recordings")];
    if o.large && has_recordings(&large_dir) {
        dirs.push(large_dir.clone());
    }
    let runs = o.runs.unwrap_or(if o.quick { 3 } else { 5 });
    let baseline_rev = o.baseline.as_ref().map(|b| {
        std::fs::read_to_string(b.join("REV"))
            .unwrap_or_default()
            .trim()
            .to_string()
    });

    // What --skip keeps: the sections of the page as it is now.
    let old = std::fs::read_to_string(root.join("docs/performance.md")).unwrap_or_default();
    let mut doc = String::new();
    let started = now_utc();
    let shown_args = if args.is_empty() {
        String::new()
    } else {
        format!(" {}", args.join(" "))
    };
    let _ = writeln!(
        doc,
        "# Performance\n\n\
         Generated by `cargo xtask bench{shown_args}` ({started}, {}); every figure below \
         comes from that run, except sections marked as kept from an earlier run (`--skip`): \
         do not edit by hand, rerun the command. Figures are min / \
         **median** / max over repeated runs. Benchmarks, never timed tests: the machine is \
         shared, so the load average is given with every section and ratios measured in the \
         same run (interleaved) are what count, not absolute numbers.{}\n",
        machine(),
        if o.quick {
            " **Quick run (`--quick`): fewer and shorter runs, committed corpus only unless \
             `--record`.**"
        } else {
            ""
        }
    );
    let corpus_note = format!(
        "Corpus: {}. The committed recordings (`benches/recordings`) are small desktops \
         (256×192 with a photo-like image, an xterm and window moves; QEMU: its 720×400 \
         SeaBIOS screen){}.\n\n",
        dirs.iter()
            .map(|d| format!("`{}`", d.strip_prefix(&root).unwrap_or(d).display()))
            .collect::<Vec<_>>()
            .join(" and "),
        if dirs.len() > 1 {
            "; `target/bench-corpus` is the large one, recorded on demand from Xvnc at \
             1280×800 (`large-*`: terminal scrolling text, a photo-like image viewer, window \
             moves, a full-screen animation, an idle desktop with a clock; one file per \
             workload and encoding)"
        } else {
            ""
        }
    );
    doc.push_str(&corpus_note);

    if !skip("native") {
        doc.push_str(&format!("{NATIVE}\n\n"));
        let (secs, min_runs) = if o.quick { ("0.3", "3") } else { ("1", "10") };
        let dir_args: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        let mut c = Command::new(root.join("target/release/decode-bench"));
        c.args(["--seconds", secs, "--min-runs", min_runs])
            .args(&dir_args);
        let shown = format!(
            "target/release/decode-bench --seconds {secs} --min-runs {min_runs} <corpus dirs>"
        );
        section(&mut doc, &mut c, &shown, |out| {
            format!(
                "Each recording replayed through a fresh `rfb-core` client (handshake \
                 included) into an RGBA framebuffer; output = damaged area × 4 bytes; \
                 \"update\" = one FramebufferUpdate. References on the same machine and the \
                 same bytes: memcpy of the same output (framebuffer-sized pieces), and the \
                 zlib payloads of the same session (captured by an instrumented replay) \
                 inflated alone by the same backend as the decoders (flate2 on zlib-rs), one call per \
                 stream segment: the physical ceiling of the zlib-based encodings. \
                 \"decode / inflate ceiling\" = inflate-only time ÷ decode time (medians).\n\n\
                 {out}"
            )
        })?;
        if let Some(b) = &o.baseline {
            let mut c = Command::new(b.join("decode-bench"));
            c.args(["--seconds", secs, "--min-runs", min_runs])
                .args(&dir_args);
            let rev = baseline_rev.clone().unwrap_or_default();
            doc.push_str(&format!(
                "### The same, before (the build saved from {rev}, run right after)\n\n"
            ));
            section(&mut doc, &mut c, &shown, |out| out.to_string())?;
        }
    }

    keep_if_skipped(&mut doc, &old, skip("native"), NATIVE);
    if !skip("browser") {
        doc.push_str(&format!("{BROWSER}\n\n"));
        doc.push_str(
            "Each recording replayed in headless Chromium over an in-page fake channel \
             (decode + render, no network), as fast as the client takes it, through npm noVNC \
             and our client (wasm decoding in a worker, the default, and on the main thread), \
             one run of each client per round. Times are wall milliseconds from the first \
             message to the last pixel on the canvas. \"Main-thread busy\" is the time the \
             page spends in the channel's message handler: noVNC decodes there, our worker \
             mode only posts the bytes. Cold = the first replay in a fresh page (JIT tiers and \
             wasm code still baseline: start-up); warm = a second replay in the same page \
             through a new client, after an untimed one (a session that has run for a \
             while).\n\n\
             The browser floor is no client: it is the work no client in this browser can \
             avoid for the same recording (issue 12's \"browser floor\"), timed in the same runs and the same Chromium: the same messages delivered \
             into a receive buffer, the same zlib payloads inflated by the browser's own zlib \
             (`DecompressionStream`, all streams at once), the same JPEG/PNG images decoded by \
             WebCodecs `ImageDecoder`, and one `putImageData` per damaged rectangle. Its input \
             is written by `floor-script` from a replay of each recording (`target/bench-floor`). \
             \"floor ÷ ours\" above 100 % means we finish before the floor does (we paint the \
             damage once per display frame instead of once per rectangle, and our zlib in wasm \
             can beat the browser's streaming one).\n\n\
             Targets (issue 12), per recording: at least the smaller of 3× noVNC and 60 % of \
             the browser floor, and at least 10× noVNC on scrolling text (CopyRect).\n\n",
        );
        let floors = root.join("target/bench-floor");
        let _ = std::fs::remove_dir_all(&floors);
        run_status(
            Command::new(root.join("target/release/floor-script"))
                .arg(&floors)
                .args(&dirs),
        )?;
        for (label, warm) in [("Warm", "1"), ("Cold", "0")] {
            let _ = writeln!(doc, "### {label}\n");
            let mut c = Command::new("node");
            c.arg(root.join("benches/browser/run.mjs"))
                .arg(runs.to_string())
                .args(&dirs)
                .env("RFB_BENCH_WARM", warm)
                .env("RFB_BENCH_FLOORS", &floors)
                .current_dir(&root);
            if let Some(b) = &o.baseline {
                c.env("RFB_BENCH_BASELINE", b);
            }
            let shown = format!(
                "RFB_BENCH_WARM={warm} RFB_BENCH_FLOORS=target/bench-floor node \
                 benches/browser/run.mjs {runs} <corpus dirs>"
            );
            section(&mut doc, &mut c, &shown, |out| out.to_string())?;
        }
    }

    keep_if_skipped(&mut doc, &old, skip("browser"), BROWSER);
    if !skip("proxy") {
        doc.push_str(&format!("{PROXY}\n\n"));
        let mut c = Command::new(root.join("target/release/proxy-bench"));
        c.env("RFB_BENCH_RUNS", if o.quick { "2" } else { "5" })
            .current_dir(&root);
        let shown = "target/release/proxy-bench".to_string();
        section(&mut doc, &mut c, &shown, |out| {
            format!(
                "Each subject in front of in-process loopback targets (a source, a sink, an \
                 echo server), driven by a WebSocket client built on `rfb-ws` (raw TCP for the \
                 relay). websockify is the one pip installs (numpy included) in \
                 `target/peers/venv`; the relay is `tokio::io::copy_bidirectional`. CPU is \
                 user+system time of the subject's process group; memory is PSS.\n\n{out}"
            )
        })?;
    }

    keep_if_skipped(&mut doc, &old, skip("proxy"), PROXY);
    if !skip("update-rate") && !o.quick {
        doc.push_str(&format!("{UPDATE_RATE}\n\n"));
        let _ = writeln!(
            doc,
            "Xvnc (800×600, a scrolling xterm) behind a userspace delay/rate-limit relay on \
             loopback; FramebufferUpdates per second under three request policies.\n"
        );
        for (rtt, kbps) in [
            ("50", "20000"),
            ("50", "2000"),
            ("100", "20000"),
            ("0", "0"),
        ] {
            let mut c = Command::new(root.join("target/release/update-rate"));
            c.args(["--rtt-ms", rtt, "--rate-kbps", kbps, "--seconds", "8"]);
            let shown =
                format!("target/release/update-rate --rtt-ms {rtt} --rate-kbps {kbps} --seconds 8");
            let _ = writeln!(
                doc,
                "### {rtt} ms round trip, {kbps} kbit/s (0: unlimited)\n"
            );
            section(&mut doc, &mut c, &shown, |out| out.to_string())?;
        }
    }

    keep_if_skipped(&mut doc, &old, skip("update-rate"), UPDATE_RATE);
    if o.write {
        let path = root.join("docs/performance.md");
        std::fs::write(&path, &doc).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("xtask bench: wrote {}", path.display());
    } else {
        println!("{doc}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# Performance\n\nheader\n\n## Native decode\n\nRun A.\n\n| t |\n\n\
                        ## Proxy: rfb-proxy against websockify and a plain relay\n\nRun B.\n";

    #[test]
    fn a_skipped_section_is_kept_with_its_stamps_and_marked() {
        let native = kept_section(PAGE, NATIVE).unwrap();
        assert_eq!(native, format!("{NATIVE}\n\n{KEPT}\n\nRun A.\n\n| t |\n\n"));
        let proxy = kept_section(PAGE, PROXY).unwrap();
        assert_eq!(proxy, format!("{PROXY}\n\n{KEPT}\n\nRun B.\n"));
        assert_eq!(kept_section(PAGE, UPDATE_RATE), None);
    }

    #[test]
    fn keeping_twice_marks_once() {
        let once = format!("# P\n\n{}", kept_section(PAGE, NATIVE).unwrap());
        assert_eq!(kept_section(&once, NATIVE), kept_section(PAGE, NATIVE));
    }
}
