//! rfb-proxy against websockify and a plain tokio TCP relay, on this machine, loopback only.
//!
//! `cargo build --release -p rfb-proxy -p rfb-benches && target/release/proxy-bench`
//! (websockify comes from `target/peers/venv`, installed by `scripts/install-test-deps.sh`).
//! Prints a Markdown table: throughput each way on one connection, 100 concurrent streams,
//! round-trip latency added to a direct connection (p50/p99), CPU seconds per GB, PSS per idle
//! connection and connection set-up time; five runs each, interleaved between the subjects
//! (min / median / max). `--only-down` measures only server → client on one connection.
//!
//! Every load is bounded in bytes, connections and time, and every process started is killed.

// A benchmark driver reads real clocks; the ban is for core crates.
#![allow(clippy::disallowed_methods)]
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rfb_benches::loopback::Conn;
use rfb_testkit::net::free_port;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

const MIB: u64 = 1 << 20;
/// Runs per subject unless `RFB_BENCH_RUNS` says otherwise (`cargo xtask bench --quick`).
/// Five, not three: on a shared two-core machine a single disturbed run moves a median of three.
const RUNS: usize = 5;

fn run_count() -> usize {
    std::env::var("RFB_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RUNS)
        .max(1)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    RfbProxy,
    Websockify,
    Relay,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::RfbProxy => "rfb-proxy",
            Self::Websockify => "websockify",
            Self::Relay => "tokio TCP relay",
        }
    }
    fn ws(self) -> bool {
        self != Self::Relay
    }
}

/// A proxy process in front of one target.
struct Subject {
    kind: Kind,
    port: u16,
    child: Child,
}

impl Drop for Subject {
    fn drop(&mut self) {
        // websockify forks per connection: kill the whole process group.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
            // Wait (bounded) until the group is gone, so that tearing down one subject (200
            // Python processes for websockify) does not eat into the next one's measurement.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !group_members(pid, false).is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn start(kind: Kind, target: u16) -> Subject {
    let port = free_port();
    let tgt = format!("127.0.0.1:{target}");
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = match kind {
        Kind::RfbProxy => {
            let bin = std::env::var_os("RFB_PROXY_BIN")
                .map_or_else(|| root().join("target/release/rfb-proxy"), PathBuf::from);
            let mut c = Command::new(bin);
            c.args([&listen, &tgt]).env("RUST_LOG", "warn");
            c
        }
        Kind::Websockify => {
            let mut c = Command::new(root().join("target/peers/venv/bin/websockify"));
            c.args([&listen, &tgt]);
            c
        }
        Kind::Relay => {
            let mut c = Command::new(std::env::current_exe().expect("self"));
            c.args(["--relay", &listen, &tgt]);
            c
        }
    };
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", kind.name()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{} did not listen", kind.name());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Subject { kind, port, child }
}

/// The relay mode of this binary: a plain copy between TCP sockets.
async fn relay_main(listen: String, target: String) {
    let l = TcpListener::bind(&listen).await.expect("bind");
    loop {
        let Ok((mut c, _)) = l.accept().await else {
            continue;
        };
        let target = target.clone();
        tokio::spawn(async move {
            if let Ok(mut t) = TcpStream::connect(&target).await {
                let _ = c.set_nodelay(true);
                let _ = t.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut c, &mut t).await;
            }
        });
    }
}

/// A target that sends `bytes` to each connection, then closes.
async fn source_target(bytes: u64) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let block = vec![0x5au8; 256 * 1024];
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(block.len() as u64) as usize;
                    if s.write_all(&block[..n]).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
                let _ = s.shutdown().await;
                let mut sink = [0u8; 1024];
                let _ = s.read(&mut sink).await;
            });
        }
    });
    port
}

/// A target that counts what it receives.
async fn sink_target() -> (u16, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let count = Arc::new(AtomicU64::new(0));
    let c2 = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                continue;
            };
            let c = c2.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 256 * 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    c.fetch_add(n as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (port, count)
}

/// A target that echoes.
async fn echo_target() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                continue;
            };
            s.set_nodelay(true).ok();
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

/// Processes of a subject: its group (websockify forks one per connection).
fn group_pids(leader: u32) -> Vec<u32> {
    group_members(leader, true)
}

/// Members of the process group `leader`, with or without the zombies among them.
fn group_members(leader: u32, zombies: bool) -> Vec<u32> {
    let mut v = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return v;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command (which may contain spaces) start after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|x| x.1) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        // Zombies only when asked: their CPU time still counts until they are reaped.
        if !zombies && f.first() == Some(&"Z") {
            continue;
        }
        if f.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(leader) {
            v.push(pid);
        }
    }
    v
}

/// CPU seconds used by the group: its live members plus children the leader reaped.
fn group_cpu(leader: u32) -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    for pid in group_pids(leader) {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit_once(')').map(|x| x.1) else {
            continue;
        };
        let f: Vec<u64> = rest
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        // utime, stime at fields 14, 15 (index 11, 12 after the command); cutime, cstime 16, 17.
        total += f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
        if pid == leader {
            total += f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0);
        }
    }
    total as f64 / tick
}

/// Proportional set size of the group in KiB (shared pages counted once overall).
fn group_pss_kib(leader: u32) -> u64 {
    group_pids(leader)
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .filter_map(|t| {
            t.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum()
}

struct Figures {
    down: f64,
    up: f64,
    concurrent: f64,
    p50: f64,
    p99: f64,
    cpu_per_gb: f64,
    pss_per_idle: f64,
    setup_ms: f64,
}

/// Measures every figure of `kind`; with `only_down`, only server → client on one connection
/// and its CPU use (the rest are zero), for quick comparisons while working on that path.
async fn measure(
    kind: Kind,
    direct_rtt: (f64, f64),
    idle_conns: usize,
    only_down: bool,
) -> Figures {
    let total = 256 * MIB;
    let mut chunk = vec![0u8; 256 * 1024];
    // Server → client on one connection, with CPU use of the proxy.
    let src = source_target(total).await;
    let sub = start(kind, src).await;
    let leader = sub.child.id().expect("pid");
    let cpu0 = group_cpu(leader);
    let t = Instant::now();
    let mut c = Conn::open(sub.port, sub.kind.ws()).await;
    let got = c.recv(total, &mut chunk).await;
    let down = got as f64 / MIB as f64 / t.elapsed().as_secs_f64();
    drop(c);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cpu_per_gb = (group_cpu(leader) - cpu0) / (got as f64 / (1u64 << 30) as f64);
    drop(sub);
    if only_down {
        return Figures {
            down,
            up: 0.0,
            concurrent: 0.0,
            p50: 0.0,
            p99: 0.0,
            cpu_per_gb,
            pss_per_idle: 0.0,
            setup_ms: 0.0,
        };
    }
    // Client → server.
    let (sink, count) = sink_target().await;
    let sub = start(kind, sink).await;
    let mut c = Conn::open(sub.port, sub.kind.ws()).await;
    let block = vec![0xa5u8; 64 * 1024];
    let t = Instant::now();
    for _ in 0..(total / block.len() as u64) {
        c.send(&block).await;
    }
    while count.load(Ordering::Relaxed) < total && t.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let up = count.load(Ordering::Relaxed) as f64 / MIB as f64 / t.elapsed().as_secs_f64();
    drop(c);
    drop(sub);
    // 100 concurrent server → client streams.
    let per = total / 100;
    let src = source_target(per).await;
    let sub = Arc::new(start(kind, src).await);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let sub = sub.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(sub.port, sub.kind.ws()).await;
            let mut chunk = vec![0u8; 256 * 1024];
            c.recv(per, &mut chunk).await
        }));
    }
    let mut sum = 0u64;
    for t in tasks {
        sum += t.await.expect("task");
    }
    let concurrent = sum as f64 / MIB as f64 / t.elapsed().as_secs_f64();
    drop(sub);
    // Latency and set-up time against an echo target, then idle connections' memory.
    let echo = echo_target().await;
    let sub = start(kind, echo).await;
    let mut c = Conn::open(sub.port, sub.kind.ws()).await;
    let msg = [7u8; 32];
    let mut rtts = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let t = Instant::now();
        c.send(&msg).await;
        c.recv(32, &mut chunk).await;
        rtts.push(t.elapsed().as_secs_f64() * 1e6);
    }
    rtts.sort_by(f64::total_cmp);
    let p50 = rtts[1000] - direct_rtt.0;
    let p99 = rtts[1980] - direct_rtt.1;
    drop(c);
    let t = Instant::now();
    for _ in 0..100 {
        drop(Conn::open(sub.port, sub.kind.ws()).await);
    }
    let setup_ms = t.elapsed().as_secs_f64() * 1000.0 / 100.0;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let leader = sub.child.id().expect("pid");
    let base = group_pss_kib(leader);
    let mut idle = Vec::with_capacity(idle_conns);
    for _ in 0..idle_conns {
        idle.push(Conn::open(sub.port, sub.kind.ws()).await);
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let pss_per_idle = (group_pss_kib(leader).saturating_sub(base)) as f64 / idle_conns as f64;
    drop(idle);
    drop(sub);
    Figures {
        down,
        up,
        concurrent,
        p50,
        p99,
        cpu_per_gb,
        pss_per_idle,
        setup_ms,
    }
}

/// Round trips on a direct TCP connection to an echo target: the baseline latency.
async fn direct_rtt() -> (f64, f64) {
    let echo = echo_target().await;
    let mut s = TcpStream::connect(("127.0.0.1", echo))
        .await
        .expect("connect");
    s.set_nodelay(true).ok();
    let mut rtts = Vec::new();
    let mut b = [0u8; 32];
    for _ in 0..2000 {
        let t = Instant::now();
        s.write_all(&[7u8; 32]).await.expect("write");
        s.read_exact(&mut b).await.expect("read");
        rtts.push(t.elapsed().as_secs_f64() * 1e6);
    }
    rtts.sort_by(f64::total_cmp);
    (rtts[1000], rtts[1980])
}

fn stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if args.get(1).map(String::as_str) == Some("--relay") {
        rt.block_on(relay_main(args[2].clone(), args[3].clone()));
        return;
    }
    let only_down = args.iter().any(|a| a == "--only-down");
    rt.block_on(async {
        let direct = direct_rtt().await;
        println!(
            "direct TCP round trip: p50 {:.1} µs, p99 {:.1} µs",
            direct.0, direct.1
        );
        let mut rows: Vec<(Kind, Vec<Figures>)> = Vec::new();
        for kind in [Kind::RfbProxy, Kind::Websockify, Kind::Relay] {
            if kind == Kind::Websockify && !root().join("target/peers/venv/bin/websockify").exists()
            {
                println!("websockify not installed: run scripts/install-test-deps.sh");
                continue;
            }
            rows.push((kind, Vec::new()));
        }
        // Runs are interleaved (one of each subject, then the next round), so that a burst of
        // load from other processes on this shared machine hits every subject alike instead
        // of all the runs of one.
        for run in 0..run_count() {
            for (kind, runs) in &mut rows {
                eprintln!("{} run {}", kind.name(), run + 1);
                // websockify forks a Python process per connection: 200 idle ones, not 1000.
                let idle = if *kind == Kind::Websockify { 200 } else { 1000 };
                runs.push(measure(*kind, direct, idle, only_down).await);
            }
        }
        println!(
            "\n| figure (min / median / max of {} runs) | {} |",
            run_count(),
            rows.iter()
                .map(|r| r.0.name())
                .collect::<Vec<_>>()
                .join(" | ")
        );
        println!("|---|{}", "---|".repeat(rows.len()));
        type Get = fn(&Figures) -> f64;
        let figures: [(&str, Get, &str); 8] = [
            ("server→client, 1 connection (MiB/s)", |f| f.down, "{:.0}"),
            ("client→server, 1 connection (MiB/s)", |f| f.up, "{:.0}"),
            (
                "server→client, 100 connections (MiB/s total)",
                |f| f.concurrent,
                "{:.0}",
            ),
            ("added round trip p50 (µs)", |f| f.p50, "{:.1}"),
            ("added round trip p99 (µs)", |f| f.p99, "{:.1}"),
            ("CPU seconds per GiB relayed", |f| f.cpu_per_gb, "{:.2}"),
            ("PSS per idle connection (KiB)", |f| f.pss_per_idle, "{:.0}"),
            ("connection set-up (ms)", |f| f.setup_ms, "{:.2}"),
        ];
        for (name, get, _) in figures {
            let cells: Vec<String> = rows
                .iter()
                .map(|(_, runs)| {
                    let mut v: Vec<f64> = runs.iter().map(get).collect();
                    let (a, b, c) = stats(&mut v);
                    format!("{a:.1} / **{b:.1}** / {c:.1}")
                })
                .collect();
            println!("| {name} | {} |", cells.join(" | "));
        }
        // Ratios of the medians, the way the issue states its targets.
        let median = |kind: Kind, get: Get| {
            rows.iter().find(|r| r.0 == kind).map(|(_, runs)| {
                let mut v: Vec<f64> = runs.iter().map(get).collect();
                stats(&mut v).1
            })
        };
        println!();
        for (other, label) in [
            (Kind::Websockify, "rfb-proxy ÷ websockify"),
            (Kind::Relay, "rfb-proxy ÷ tokio relay"),
        ] {
            let cells: Vec<String> = figures
                .iter()
                .filter_map(|(name, get, _)| {
                    let (a, b) = (median(Kind::RfbProxy, *get)?, median(other, *get)?);
                    (b > 0.0).then(|| format!("{name}: {:.2}×", a / b))
                })
                .collect();
            if !cells.is_empty() {
                println!("{label} (medians): {}.\n", cells.join("; "));
            }
        }
    });
}
