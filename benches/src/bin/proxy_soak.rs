//! rfb-proxy under abuse, on loopback (issue 12, robustness): thousands of connections dropped
//! at random points, slowloris heads, slow readers and writers, oversized frames, garbage, and
//! a target that keeps restarting — while long-lived sessions stream data that must come back
//! byte for byte, in order. Afterwards the proxy must hold no more file descriptors than
//! before, and its memory must be back near its baseline.
//!
//! `cargo build --release -p rfb-proxy -p rfb-benches && target/release/proxy-soak`
//! (`--connections N`, default 3000; `RFB_PROXY_BIN` picks another proxy binary). Prints a
//! Markdown report; exits 1 if any check failed. Every load is bounded in count and time, and
//! the proxy process is killed at the end.

// A load generator reads real clocks; the ban is for core crates.
#![allow(clippy::disallowed_methods)]
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand_core::RngCore;
use rfb_benches::loopback::{Conn, Received, Xorshift, upgrade_request};
use rfb_testkit::net::free_port;
use rfb_ws::{CloseCode, Opcode, apply_mask, write_header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Largest frame the proxy accepts in this run (`--max-frame`), so oversized frames are cheap.
const MAX_FRAME: u64 = 1 << 20;
/// Long-lived sessions that must survive everything else.
const SURVIVORS: u64 = 8;
/// Bytes each survivor streams through the proxy and gets back.
const SURVIVOR_BYTES: u64 = 16 << 20;
/// Connections the churn keeps open at once.
const CHURN_CONCURRENCY: usize = 64;
/// Slowloris connections (one head byte every 500 ms; the proxy's head timeout is 10 s).
const SLOWLORIS: usize = 100;
/// Clients that push data and never read.
const SLOW_READERS: usize = 8;
/// What each slow reader tries to push.
const SLOW_READER_BYTES: u64 = 64 << 20;
/// Bound on any single client operation; hitting it is a failure (a hang).
const OP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Tally {
    churn: [AtomicU64; SCENARIOS],
    churn_failures: AtomicU64,
    flaky_ok: AtomicU64,
    flaky_closed: AtomicU64,
    flaky_failures: AtomicU64,
    slowloris_closed: AtomicU64,
    slowloris_failures: AtomicU64,
    failures: std::sync::Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, what: String) {
        let mut f = self.failures.lock().expect("tally lock");
        if f.len() < 20 {
            f.push(what);
        }
    }
}

const SCENARIOS: usize = 8;
const SCENARIO_NAMES: [&str; SCENARIOS] = [
    "dropped after connect",
    "dropped mid-head",
    "dropped mid-frame",
    "dropped after echoes, no close frame",
    "clean close handshake",
    "oversized frame → close 1009",
    "garbage head → 400",
    "slow writer (1 byte / 20 ms), echo complete",
];

/// The proxy process, killed on drop.
struct Proxy {
    child: Child,
    port: u16,
    pid: u32,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn start_proxy(tokens: &std::path::Path) -> Proxy {
    let port = free_port();
    let bin = std::env::var_os("RFB_PROXY_BIN")
        .map_or_else(|| root().join("target/release/rfb-proxy"), PathBuf::from);
    let mut child = Command::new(&bin)
        .args(["--token-plugin", "TokenFile", "--token-source"])
        .arg(tokens)
        .args(["--max-frame", &MAX_FRAME.to_string()])
        .arg(format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let pid = child.id().expect("pid");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            panic!("rfb-proxy did not listen on {port}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Proxy { child, port, pid }
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// An echo server; `restart` makes it stop listening, drop every connection, and come back.
async fn echo_target(port: u16, up: Arc<AtomicBool>, restarts: Option<Duration>) {
    loop {
        let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        up.store(true, Ordering::SeqCst);
        let mut conns = JoinSet::new();
        let serve = async {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    continue;
                };
                conns.spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        };
        match restarts {
            None => serve.await,
            Some(every) => {
                let _ = tokio::time::timeout(every, serve).await;
                // The server dies: listener and every connection go away at once.
                drop(l);
                conns.abort_all();
                up.store(false, Ordering::SeqCst);
                tokio::time::sleep(every / 2).await;
            }
        }
    }
}

fn ws_path(token: &str) -> String {
    format!("/websockify?token={token}")
}

/// A long session: streams `SURVIVOR_BYTES` of seeded data in random-size messages and checks
/// that exactly the same bytes come back, in order. Returns the bytes verified.
async fn survivor(port: u16, seed: u64, tally: Arc<Tally>) -> u64 {
    let mut conn = match Conn::try_open_path(port, &ws_path("echo")).await {
        Ok(c) => c,
        Err(e) => {
            tally.fail(format!("survivor {seed}: upgrade failed: {e}"));
            return 0;
        }
    };
    let mut sizes = Xorshift(seed ^ 0x5eed);
    let (mut data_tx, mut data_rx) = (Xorshift(seed), Xorshift(seed));
    let (mut sent, mut checked) = (0u64, 0u64);
    let mut chunk = vec![0u8; 64 * 1024];
    while checked < SURVIVOR_BYTES {
        // At most 1 MiB in flight, so the survivor never deadlocks against its own echo.
        while sent < SURVIVOR_BYTES && sent - checked < (1 << 20) {
            let n = (1 + sizes.next_u64() % (64 * 1024)).min(SURVIVOR_BYTES - sent) as usize;
            let mut msg = vec![0u8; n];
            data_tx.fill_bytes(&mut msg);
            if let Err(e) = conn.try_send(&msg).await {
                tally.fail(format!(
                    "survivor {seed}: send failed after {sent} bytes: {e}"
                ));
                return checked;
            }
            sent += n as u64;
        }
        let got = match tokio::time::timeout(OP_TIMEOUT, conn.try_recv_data(&mut chunk)).await {
            Ok(Ok(Received::Data(d))) => d,
            other => {
                tally.fail(format!("survivor {seed}: {other:?} after {checked} bytes"));
                return checked;
            }
        };
        let mut want = vec![0u8; got.len()];
        data_rx.fill_bytes(&mut want);
        if got != want {
            tally.fail(format!("survivor {seed}: wrong bytes after {checked}"));
            return checked;
        }
        checked += got.len() as u64;
    }
    let _ = conn.try_close(CloseCode::Normal).await;
    checked
}

/// One connection of the churn: scenario `n % SCENARIOS`, dropped at a random point.
async fn churn_one(port: u16, n: u64, tally: &Tally) -> Result<(), String> {
    let mut rng = Xorshift(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let scenario = (n % SCENARIOS as u64) as usize;
    let (req, _) = upgrade_request(&ws_path("echo"));
    let mut chunk = vec![0u8; 64 * 1024];
    let e = |e: std::io::Error| e.to_string();
    match scenario {
        0 => drop(TcpStream::connect(("127.0.0.1", port)).await.map_err(e)?),
        1 => {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.map_err(e)?;
            let cut = 1 + (rng.next_u64() as usize) % (req.len() - 1);
            s.write_all(&req[..cut]).await.map_err(e)?;
        }
        2 => {
            let mut c = Conn::try_open_path(port, &ws_path("echo"))
                .await
                .map_err(e)?;
            let len = 1 + rng.next_u64() % 60_000;
            let mut frame = Vec::new();
            write_header(&mut frame, true, Opcode::Binary, Some([1, 2, 3, 4]), len);
            frame.resize(frame.len() + (rng.next_u64() % len) as usize, 0x55);
            let cut = 1 + (rng.next_u64() as usize) % frame.len();
            c.s.write_all(&frame[..cut]).await.map_err(e)?;
        }
        3 => {
            let mut c = Conn::try_open_path(port, &ws_path("echo"))
                .await
                .map_err(e)?;
            for _ in 0..1 + rng.next_u64() % 4 {
                let msg = vec![0xA5; 1 + (rng.next_u64() % 4096) as usize];
                c.try_send(&msg).await.map_err(e)?;
                let mut got = 0;
                while got < msg.len() {
                    match c.try_recv_data(&mut chunk).await.map_err(e)? {
                        Received::Data(d) => got += d.len(),
                        r => return Err(format!("echo ended: {r:?}")),
                    }
                }
            }
        }
        4 => {
            let mut c = Conn::try_open_path(port, &ws_path("echo"))
                .await
                .map_err(e)?;
            c.try_send(b"bye").await.map_err(e)?;
            c.try_close(CloseCode::Normal).await.map_err(e)?;
            while let Received::Data(_) = c.try_recv_data(&mut chunk).await.map_err(e)? {}
        }
        5 => {
            let mut c = Conn::try_open_path(port, &ws_path("echo"))
                .await
                .map_err(e)?;
            let mut frame = Vec::new();
            write_header(
                &mut frame,
                true,
                Opcode::Binary,
                Some([9, 9, 9, 9]),
                1 << 40,
            );
            c.s.write_all(&frame).await.map_err(e)?;
            match c.try_recv_data(&mut chunk).await.map_err(e)? {
                Received::Closed(Some(CloseCode::TooBig)) => {}
                r => {
                    return Err(format!(
                        "oversized frame answered with {r:?}, not close 1009"
                    ));
                }
            }
        }
        6 => {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.map_err(e)?;
            let mut junk = vec![0u8; 1 + (rng.next_u64() % 512) as usize];
            rng.fill_bytes(&mut junk);
            junk.extend_from_slice(b"\r\n\r\n");
            s.write_all(&junk).await.map_err(e)?;
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out).await;
            if !out.starts_with(b"HTTP/1.1 4") {
                let head = String::from_utf8_lossy(&out[..out.len().min(40)]).into_owned();
                return Err(format!("garbage answered with {head:?}, not a 4xx"));
            }
        }
        _ => {
            // A slow writer: one message trickled out a byte at a time, then its echo.
            let mut c = Conn::try_open_path(port, &ws_path("echo"))
                .await
                .map_err(e)?;
            let payload = b"trickled through the proxy one byte at a time";
            let mut frame = Vec::new();
            let key = [7, 7, 7, 7];
            write_header(
                &mut frame,
                true,
                Opcode::Binary,
                Some(key),
                payload.len() as u64,
            );
            let start = frame.len();
            frame.extend_from_slice(payload);
            apply_mask(&mut frame[start..], key, 0);
            for b in frame {
                c.s.write_all(&[b]).await.map_err(e)?;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let mut got = Vec::new();
            while got.len() < payload.len() {
                match c.try_recv_data(&mut chunk).await.map_err(e)? {
                    Received::Data(d) => got.extend_from_slice(&d),
                    r => return Err(format!("echo ended: {r:?}")),
                }
            }
            if got != payload {
                return Err("trickled message came back different".into());
            }
        }
    }
    tally.churn[scenario].fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Connections to the restarting target: a message and its echo, or a clean close when the
/// target is down. Anything else (a hang, wrong bytes) is a failure.
async fn flaky_one(port: u16, n: u64, tally: &Tally) {
    let mut chunk = vec![0u8; 8192];
    let run = async {
        let mut c = Conn::try_open_path(port, &ws_path("flaky")).await?;
        let msg = n.to_be_bytes().repeat(64);
        c.try_send(&msg).await?;
        let mut got = Vec::new();
        while got.len() < msg.len() {
            match c.try_recv_data(&mut chunk).await? {
                Received::Data(d) => got.extend_from_slice(&d),
                Received::Closed(_) | Received::Eof => return Ok(false),
            }
        }
        if got != msg {
            return Err(std::io::Error::other(
                "wrong echo from the restarting target",
            ));
        }
        Ok(true)
    };
    match tokio::time::timeout(OP_TIMEOUT, run).await {
        Ok(Ok(true)) => tally.flaky_ok.fetch_add(1, Ordering::Relaxed),
        // Resets are how a dying target shows up too.
        Ok(Ok(false)) | Ok(Err(_)) => tally.flaky_closed.fetch_add(1, Ordering::Relaxed),
        Err(_) => {
            tally.fail(format!("flaky connection {n} hung"));
            tally.flaky_failures.fetch_add(1, Ordering::Relaxed)
        }
    };
}

/// A slowloris head: one byte every 500 ms. The proxy must close it (head timeout).
async fn slowloris_one(port: u16, tally: &Tally) {
    let run = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
        let (req, _) = upgrade_request(&ws_path("echo"));
        for b in req.iter().take(req.len() - 1) {
            if s.write_all(&[*b]).await.is_err() {
                return Ok::<_, std::io::Error>(());
            }
            let mut one = [0u8; 1];
            // A read that ends means the proxy gave up on us.
            if let Ok(Ok(0)) =
                tokio::time::timeout(Duration::from_millis(500), s.read(&mut one)).await
            {
                return Ok(());
            }
        }
        Err(std::io::Error::other(
            "proxy waited for the whole slow head",
        ))
    };
    match tokio::time::timeout(Duration::from_secs(60), run).await {
        Ok(Ok(())) => tally.slowloris_closed.fetch_add(1, Ordering::Relaxed),
        _ => tally.slowloris_failures.fetch_add(1, Ordering::Relaxed),
    };
}

/// Clients that push and never read: the proxy must stop reading from them (back-pressure)
/// rather than buffer. Returns the proxy's RSS peak (KiB) while they are stalled.
async fn slow_readers(port: u16, pid: u32) -> (u64, u64) {
    let mut conns = Vec::new();
    let mut pushed = 0u64;
    for _ in 0..SLOW_READERS {
        let Ok(c) = Conn::try_open_path(port, &ws_path("echo")).await else {
            continue;
        };
        conns.push(c);
    }
    let msg = vec![0x33u8; 256 * 1024];
    let mut peak = 0;
    for c in &mut conns {
        let mut n = 0;
        while n < SLOW_READER_BYTES {
            match tokio::time::timeout(Duration::from_millis(500), c.try_send(&msg)).await {
                Ok(Ok(())) => n += msg.len() as u64,
                _ => break, // stalled: back-pressure reached us
            }
        }
        pushed += n;
        peak = peak.max(rss_kib(pid));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    peak = peak.max(rss_kib(pid));
    drop(conns);
    (peak, pushed / SLOW_READERS as u64)
}

async fn settle(pid: u32, fds: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = fd_count(pid);
        if now <= fds || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn main() {
    let mut connections: u64 = 3000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--connections" => {
                connections = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--connections N");
            }
            other => panic!("unknown argument {other} (use --connections N)"),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ok = rt.block_on(soak(connections));
    std::process::exit(if ok { 0 } else { 1 });
}

async fn soak(connections: u64) -> bool {
    let started = Instant::now();
    let (echo_port, flaky_port) = (free_port(), free_port());
    let (echo_up, flaky_up) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let echo = tokio::spawn(echo_target(echo_port, echo_up.clone(), None));
    let flaky = tokio::spawn(echo_target(
        flaky_port,
        flaky_up.clone(),
        Some(Duration::from_millis(400)),
    ));
    let dir = std::env::temp_dir().join(format!("proxy-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let tokens = dir.join("tokens");
    std::fs::write(
        &tokens,
        format!("echo: 127.0.0.1:{echo_port}\nflaky: 127.0.0.1:{flaky_port}\n"),
    )
    .expect("token file");
    let proxy = start_proxy(&tokens).await;
    let (port, pid) = (proxy.port, proxy.pid);
    let tally = Arc::new(Tally::default());

    // Baseline after a warm-up, so lazily allocated pools count as baseline.
    for n in 0..64 {
        let _ = churn_one(port, n * SCENARIOS as u64 + 3, &tally).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (fds0, rss0) = (fd_count(pid), rss_kib(pid));

    let survivors: Vec<_> = (0..SURVIVORS)
        .map(|i| tokio::spawn(survivor(port, 0xC0FFEE + i, tally.clone())))
        .collect();
    let slowloris: Vec<_> = (0..SLOWLORIS)
        .map(|_| {
            let t = tally.clone();
            tokio::spawn(async move { slowloris_one(port, &t).await })
        })
        .collect();
    let flakies = {
        let t = tally.clone();
        tokio::spawn(async move {
            for n in 0..connections / 4 {
                flaky_one(port, n, &t).await;
            }
        })
    };
    let sem = Arc::new(Semaphore::new(CHURN_CONCURRENCY));
    let mut churn = JoinSet::new();
    for n in 0..connections {
        let permit = sem.clone().acquire_owned().await.expect("semaphore");
        let t = tally.clone();
        churn.spawn(async move {
            let r = tokio::time::timeout(OP_TIMEOUT, churn_one(port, n, &t)).await;
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    t.churn_failures.fetch_add(1, Ordering::Relaxed);
                    t.fail(format!(
                        "churn {n} ({}): {e}",
                        SCENARIO_NAMES[n as usize % SCENARIOS]
                    ));
                }
                Err(_) => {
                    t.churn_failures.fetch_add(1, Ordering::Relaxed);
                    t.fail(format!(
                        "churn {n} ({}): hung",
                        SCENARIO_NAMES[n as usize % SCENARIOS]
                    ));
                }
            }
            drop(permit);
        });
    }
    while churn.join_next().await.is_some() {}
    let (rss_slow_peak, pushed_per_reader) = slow_readers(port, pid).await;
    let mut verified = 0;
    for s in survivors {
        verified += s.await.unwrap_or(0);
    }
    for s in slowloris {
        let _ = s.await;
    }
    let _ = flakies.await;
    let fds1 = settle(pid, fds0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss1 = rss_kib(pid);
    let alive = proxy_alive(pid);
    drop(proxy);
    echo.abort();
    flaky.abort();
    let _ = std::fs::remove_dir_all(&dir);

    report(&Report {
        connections,
        fds: (fds0, fds1),
        rss: (rss0, rss_slow_peak, rss1),
        pushed_per_reader,
        verified,
        alive,
        elapsed: started.elapsed(),
        tally: &tally,
    })
}

fn proxy_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.contains(") Z ") && !s.contains(") X "))
}

struct Report<'a> {
    connections: u64,
    fds: (usize, usize),
    rss: (u64, u64, u64),
    pushed_per_reader: u64,
    verified: u64,
    alive: bool,
    elapsed: Duration,
    tally: &'a Tally,
}

/// Prints the Markdown report and returns whether every check held.
fn report(r: &Report<'_>) -> bool {
    let t = r.tally;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let (fds0, fds1) = r.fds;
    let (rss0, peak, rss1) = r.rss;
    // glibc keeps freed arenas mapped for reuse; "back to baseline" allows that much slack.
    let rss_slack = 16 * 1024;
    let checks = [
        ("proxy still running", r.alive),
        ("no leaked file descriptors", fds1 <= fds0),
        (
            "memory back near baseline (≤ +16 MiB)",
            rss1 <= rss0 + rss_slack,
        ),
        (
            "memory bounded under slow readers (peak ≤ baseline + 64 MiB)",
            peak <= rss0 + 64 * 1024,
        ),
        (
            "every survivor byte echoed in order",
            r.verified == SURVIVORS * SURVIVOR_BYTES,
        ),
        ("no churn failure", load(&t.churn_failures) == 0),
        (
            "every slowloris head closed by the proxy",
            load(&t.slowloris_failures) == 0,
        ),
        (
            "no hang against the restarting target",
            load(&t.flaky_failures) == 0,
        ),
    ];
    println!(
        "### Proxy soak ({} connections, {:.0} s)\n",
        r.connections,
        r.elapsed.as_secs_f64()
    );
    println!("| check | result |\n|---|---|");
    for (what, ok) in checks {
        println!("| {what} | {} |", if ok { "pass" } else { "**FAIL**" });
    }
    println!("\n| figure | value |\n|---|---|");
    println!("| file descriptors before / after | {fds0} / {fds1} |");
    println!("| RSS baseline / slow-reader peak / after (KiB) | {rss0} / {peak} / {rss1} |");
    println!(
        "| bytes each slow reader got in before stalling | {} KiB |",
        r.pushed_per_reader / 1024
    );
    println!(
        "| survivors: bytes echoed and verified | {} MiB of {} MiB |",
        r.verified >> 20,
        (SURVIVORS * SURVIVOR_BYTES) >> 20
    );
    for (i, name) in SCENARIO_NAMES.iter().enumerate() {
        println!("| churn: {name} | {} |", load(&t.churn[i]));
    }
    println!(
        "| restarting target: echoed / closed by the outage | {} / {} |",
        load(&t.flaky_ok),
        load(&t.flaky_closed)
    );
    println!(
        "| slowloris heads closed by the proxy | {} of {SLOWLORIS} |",
        load(&t.slowloris_closed)
    );
    let failures = t.failures.lock().expect("tally lock");
    if !failures.is_empty() {
        println!("\nFirst failures:\n");
        for f in failures.iter() {
            println!("- {f}");
        }
    }
    checks.iter().all(|(_, ok)| *ok)
}
