//! Native decode throughput per recording, next to the physical references on the same
//! machine, printed as a Markdown table (`cargo xtask bench` embeds it in docs/performance.md).
//!
//! `cargo run --release -p rfb-benches --bin decode-bench -- [--seconds S] [--min-runs N]
//! [DIR…]` (default DIR: the committed corpus, `benches/recordings`).
//!
//! Per recording:
//! - decode: the whole session (handshake included) replayed through a fresh `rfb-core`
//!   client into an RGBA framebuffer; output = damaged area × 4 bytes;
//! - memcpy: copying the same number of output bytes, one framebuffer-sized buffer at a time
//!   (the ceiling of any decoder that must write every output byte once);
//! - inflate: the zlib payloads of the same session (captured by an instrumented replay) inflated
//!   alone with the decoders' backend (flate2 on zlib-rs) in one call per stream segment: the
//!   ceiling of the zlib-based encodings, whatever their tile parsing costs.
//!
//! Each figure is min / median / max over repeated timed runs (at least `--min-runs`, and for
//! at least `--seconds` per figure).

// A benchmark driver: it reads the clock.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use flate2::{Decompress, FlushDecompress, Status};
use rfb_benches::{Recording, corpus_dir, instrumented_replay, load};
use rfb_core::Config;
use rfb_testkit::replay::replay;

struct Opts {
    seconds: f64,
    min_runs: usize,
    dirs: Vec<PathBuf>,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        seconds: 1.0,
        min_runs: 5,
        dirs: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || args.next().and_then(|v| v.parse::<f64>().ok());
        match a.as_str() {
            "--seconds" => o.seconds = num().unwrap_or(o.seconds),
            "--min-runs" => o.min_runs = num().map_or(o.min_runs, |n| n.max(1.0) as usize),
            _ if a.starts_with("--") => {
                eprintln!("usage: decode-bench [--seconds S] [--min-runs N] [DIR…]");
                std::process::exit(2);
            }
            _ => o.dirs.push(PathBuf::from(a)),
        }
    }
    if o.dirs.is_empty() {
        o.dirs.push(corpus_dir());
    }
    o
}

/// Times `f` at least `min_runs` times and for at least `seconds`; returns sorted durations.
fn time_runs(o: &Opts, mut f: impl FnMut()) -> Vec<f64> {
    let start = Instant::now();
    let mut v = Vec::new();
    while v.len() < o.min_runs || start.elapsed().as_secs_f64() < o.seconds {
        let t = Instant::now();
        f();
        v.push(t.elapsed().as_secs_f64());
        if v.len() >= 10_000 {
            break;
        }
    }
    v.sort_by(f64::total_cmp);
    v
}

/// (min, median, max) of sorted values.
fn mmm(sorted: &[f64]) -> (f64, f64, f64) {
    (
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1],
    )
}

/// Rate figures from sorted times: the fastest run is the max rate.
fn rate(work: f64, times: &[f64]) -> (f64, f64, f64) {
    let (a, b, c) = mmm(times);
    (work / c, work / b, work / a)
}

fn fmt3((a, b, c): (f64, f64, f64), digits: usize) -> String {
    format!("{a:.digits$} / **{b:.digits$}** / {c:.digits$}")
}

const MIB: f64 = 1024.0 * 1024.0;

/// Inflates every segment with a fresh stream, discarding the output; returns bytes produced.
fn inflate_all(segments: &[Vec<u8>], out: &mut [u8]) -> u64 {
    let mut total = 0;
    for seg in segments {
        let mut d = Decompress::new(true);
        let mut pos = 0;
        loop {
            let (i, o) = (d.total_in(), d.total_out());
            let st = d
                .decompress(&seg[pos..], out, FlushDecompress::Sync)
                .expect("captured zlib data inflates");
            pos += (d.total_in() - i) as usize;
            let produced = d.total_out() - o;
            total += produced;
            black_box(&out[..produced as usize]);
            if st == Status::StreamEnd || pos >= seg.len() && produced < out.len() as u64 {
                break;
            }
        }
    }
    total
}

/// Replays `r` once with compressed-input capture on; returns the captured segments.
fn capture(r: &Recording) -> Vec<Vec<u8>> {
    instrumented_replay(r, &mut rfb_encodings::Framebuffer::default(), |_| {})
}

fn main() {
    let o = parse_args();
    let mut recordings = Vec::new();
    for d in &o.dirs {
        recordings.extend(load(d));
    }
    println!(
        "| recording | size | updates | output MiB | decode MiB/s | µs per update | memcpy MiB/s (same output) | zlib in → out KiB | inflate alone, ms | decode ceiling set by inflate, MiB/s | decode / inflate ceiling |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &recordings {
        let first = match replay(&r.frames, Config::default(), None) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{}: does not replay: {e}", r.name);
                continue;
            }
        };
        eprintln!("decode-bench: {}", r.name);
        if std::env::var_os("DECODE_BENCH_STATS").is_some() {
            // Which sub-encodings the recording exercises (to aim profiling).
            let st = first.client.decode_stats();
            eprintln!(
                "  rects {:?}\n  subencodings {:?}",
                st.rects, st.subencodings
            );
        }
        let out_bytes = first.damaged_pixels * 4;
        let updates = first.updates.max(1);
        let (w, h) = (first.fb.width(), first.fb.height());
        let times = time_runs(&o, || {
            black_box(replay(black_box(&r.frames), Config::default(), None).map(|x| x.updates))
                .ok();
        });
        let per_update = {
            let (a, b, c) = mmm(&times);
            let u = updates as f64 / 1e6;
            (a / u, b / u, c / u)
        };
        // memcpy in framebuffer-sized pieces, as a decoder writes one framebuffer.
        let piece = (usize::from(w) * usize::from(h) * 4).max(4096);
        let src = vec![7u8; piece];
        let mut dst = vec![0u8; piece];
        let memcpy = time_runs(&o, || {
            let mut left = out_bytes as usize;
            while left > 0 {
                let n = left.min(piece);
                dst[..n].copy_from_slice(black_box(&src[..n]));
                black_box(&mut dst);
                left -= n;
            }
        });
        let segments = capture(r);
        let zin: usize = segments.iter().map(Vec::len).sum();
        let (zcols, ceiling) = if zin == 0 {
            ("— | —".to_string(), "— | —".to_string())
        } else {
            let mut out = vec![0u8; 1 << 20];
            let zout = inflate_all(&segments, &mut out);
            let inflate = time_runs(&o, || {
                black_box(inflate_all(&segments, &mut out));
            });
            let ceil = rate(out_bytes as f64 / MIB, &inflate);
            let ratio = mmm(&times).1 / mmm(&inflate).1;
            (
                format!(
                    "{} → {} | {}",
                    zin / 1024,
                    zout / 1024,
                    fmt3(
                        {
                            let (a, b, c) = mmm(&inflate);
                            (a * 1e3, b * 1e3, c * 1e3)
                        },
                        2
                    )
                ),
                format!("{} | {:.0} %", fmt3(ceil, 0), 100.0 / ratio),
            )
        };
        println!(
            "| {} | {w}×{h} | {} | {:.1} | {} | {} | {} | {zcols} | {ceiling} |",
            r.name,
            first.updates,
            out_bytes as f64 / MIB,
            fmt3(rate(out_bytes as f64 / MIB, &times), 0),
            fmt3(per_update, 1),
            fmt3(rate(out_bytes as f64 / MIB, &memcpy), 0),
        );
    }
}
