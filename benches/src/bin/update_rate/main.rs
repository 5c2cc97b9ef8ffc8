//! Updates per second from TigerVNC Xvnc through a delaying, rate-limited loopback relay, for
//! three update policies of `rfb-core`: one request at a time (request after each update),
//! pipelined requests (three outstanding, sent at the start of each update) and continuous
//! updates (enabled after Fence + ContinuousUpdates, no requests).
//!
//! `cargo run --release -p rfb-benches --bin update-rate -- [--rtt-ms 50] [--rate-kbps 20000]
//! [--seconds 10]`
//!
//! The screen changes all the time (an xterm scrolling `seq` output); every run uses a fresh
//! connection to the same server. Prints one line per policy. A benchmark, not a test: the
//! figures depend on the machine.

// A benchmark driver reads real clocks; the ban is for core crates.
#![allow(clippy::disallowed_methods)]
#![forbid(unsafe_code)]

mod relay;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rfb_core::{Client, Config, Event};
use rfb_encodings::Framebuffer;
use rfb_testkit::harness::TestRng;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Opts {
    rtt_ms: u64,
    rate_kbps: Option<u64>,
    seconds: u64,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        rtt_ms: 50,
        rate_kbps: Some(20_000),
        seconds: 10,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match (args[i].as_str(), v) {
            ("--rtt-ms", Some(v)) => o.rtt_ms = v,
            ("--rate-kbps", Some(0)) => o.rate_kbps = None,
            ("--rate-kbps", Some(v)) => o.rate_kbps = Some(v),
            ("--seconds", Some(v)) => o.seconds = v.max(1),
            _ => {
                eprintln!(
                    "usage: update-rate [--rtt-ms N] [--rate-kbps N (0 = unlimited)] [--seconds N]"
                );
                std::process::exit(2);
            }
        }
        i += 2;
    }
    o
}

/// What one run saw.
struct Run {
    updates: u64,
    bytes: u64,
    requests: u64,
    elapsed: Duration,
    cu: bool,
}

/// Counts FramebufferUpdateRequests in what the client sends (type 3 is 10 bytes; the rest
/// are skipped by their layouts). Handshake bytes are skipped by the caller.
fn count_requests(b: &[u8]) -> u64 {
    let (mut i, mut n) = (0, 0);
    while let Some(&t) = b.get(i) {
        let at = |k: usize| usize::from(*b.get(i + k).unwrap_or(&0));
        i += match t {
            0 => 20,
            2 => 4 + 4 * (at(2) << 8 | at(3)),
            3 => {
                n += 1;
                10
            }
            4 => 8,
            5 if at(1) & 0x80 != 0 => 7,
            5 => 6,
            6 => {
                8 + ((at(4) << 24 | at(5) << 16 | at(6) << 8 | at(7)) as u32 as i32).unsigned_abs()
                    as usize
            }
            150 => 10,
            248 => 9 + at(8),
            250 => 4,
            251 => 8 + 16 * at(6),
            _ => return n,
        };
    }
    n
}

async fn run(addr: SocketAddr, config: Config, secs: u64) -> Run {
    let mut s = TcpStream::connect(addr)
        .await
        .expect("connect to the relay");
    s.set_nodelay(true).ok();
    let mut c = Client::new(config, Duration::ZERO, Box::new(TestRng::default()));
    let mut fb = Framebuffer::default();
    let mut inbuf = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut sent = Vec::new();
    let (mut updates, mut bytes) = (0u64, 0u64);
    let mut started: Option<Instant> = None;
    let mut first_update_sent = 0;
    loop {
        while let Some(out) = c.poll_transmit() {
            s.write_all(&out).await.expect("write");
            sent.extend_from_slice(&out);
        }
        while let Some(e) = c.poll_event() {
            if let Event::FramebufferUpdated { .. } = e {
                // Count from the first update on, so connection set-up is not measured.
                match started {
                    None => {
                        started = Some(Instant::now());
                        first_update_sent = sent.len();
                    }
                    Some(_) => updates += 1,
                }
            }
        }
        if let Some(t) = started.filter(|t| t.elapsed() >= Duration::from_secs(secs)) {
            return Run {
                updates,
                bytes,
                requests: count_requests(&sent[first_update_sent..]),
                elapsed: t.elapsed(),
                cu: c.continuous_updates_active(),
            };
        }
        let n = match tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await {
            Err(_) => continue,
            Ok(r) => r.expect("read"),
        };
        assert!(n > 0, "server closed");
        if started.is_some() {
            bytes += n as u64;
        }
        inbuf.extend_from_slice(&buf[..n]);
        let used = c.handle_input(&inbuf, &mut fb).expect("protocol");
        inbuf.drain(..used);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let o = parse_args();
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(800, 600)) else {
        return;
    };
    x.set_root_solid("#336699");
    x.settle();
    x.spawn(
        "xterm",
        &[
            "-geometry",
            "100x40+0+0",
            "-fn",
            "fixed",
            "+sb",
            "-e",
            "seq",
            "1000000000",
        ],
    );
    // The screen never settles from here on; give xterm time to map its window.
    std::thread::sleep(Duration::from_secs(2));
    let link = relay::Link {
        one_way: Duration::from_millis(o.rtt_ms / 2),
        down_bps: o.rate_kbps.map(|k| k * 1000),
    };
    let target: SocketAddr = ([127, 0, 0, 1], x.port()).into();
    let addr = relay::start(target, link).await.expect("relay");
    let rate = o
        .rate_kbps
        .map_or("unlimited".to_string(), |k| format!("{k} kbit/s"));
    println!(
        "# Xvnc 800x600, xterm scrolling seq output; relay: {} ms RTT, {rate} down; {} s per run",
        o.rtt_ms, o.seconds
    );
    println!("| policy | updates/s | requests sent | MB received | CU active |");
    println!("|---|---|---|---|---|");
    let base = Config::default;
    for (name, config) in [
        (
            "one request at a time",
            Config {
                continuous_updates: false,
                ..base()
            },
        ),
        (
            "pipelined (3 outstanding)",
            Config {
                continuous_updates: false,
                update_pipeline: 3,
                ..base()
            },
        ),
        ("continuous updates + fences", base()),
    ] {
        let r = run(addr, config, o.seconds).await;
        println!(
            "| {name} | {:.1} | {} | {:.1} | {} |",
            r.updates as f64 / r.elapsed.as_secs_f64(),
            r.requests,
            r.bytes as f64 / 1e6,
            r.cu
        );
    }
}
