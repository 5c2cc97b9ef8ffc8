//! rfb-proxy against real third-party peers: a Python `websockets` client, the npm noVNC core
//! in headless Chromium (pixels compared with `xwd -root` of a real Xvnc), a slow reader
//! measured through /proc, and websockify itself (the same page through it, then rfb-proxy
//! started with exactly websockify's command line).
//!
//! The peers come from `scripts/install-test-deps.sh` (`target/peers`); every test skips
//! visibly outside CI when one is missing and fails in CI.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::{Proc, TempDir, copy_dir, output_within, start_proxy, temp_dir};
use rfb_testkit::Image;
use rfb_testkit::harness::TestRng;
use rfb_testkit::net::{free_port, wait_for_port};
use rfb_testkit::pattern;
use rfb_testkit::peer::{self, require_node_package, require_venv};
use rfb_testkit::xvnc::{Xvnc, XvncOptions};
use rfb_ws::{CloseCode, HeadLimits, Limits, Role, WsConnection, WsEvent};

const W: u32 = 400;
const H: u32 = 300;

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// A TCP echo server on a thread; returns its port.
fn echo_target() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 65536];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

// ---------------------------------------------------------------------------------------------
// a. Python `websockets` client, byte-exact echoes of many sizes.

const PY_ECHO: &str = r#"
import asyncio, os, random, sys
from websockets.asyncio.client import connect

async def main(url):
    rng = random.Random(1234)
    sizes = [1, 2, 125, 126, 127, 1000, 4096, 65535, 65536, 65537, 100000, 200000, 524288, 1048576]
    sizes += [rng.randrange(1, 1 << 20) for _ in range(10)]
    async with connect(url, max_size=None, compression=None, open_timeout=20) as ws:
        for n in sizes:
            p = os.urandom(n)
            await ws.send(p)
            got = bytearray()
            while len(got) < n:
                m = await asyncio.wait_for(ws.recv(), 20)
                assert isinstance(m, bytes), type(m)
                got += m
            if bytes(got) != p:
                print("MISMATCH at size", n, "got", len(got)); sys.exit(1)
        await ws.close()
    print("OK", len(sizes), "payloads,", sum(sizes), "bytes")

asyncio.run(main(sys.argv[1]))
"#;

#[test]
fn python_websockets_random_payloads_echo_byte_exact() {
    let Some(py) = require_venv("python") else {
        return;
    };
    let dir = temp_dir("py");
    let port = free_port();
    let _p = start_proxy(
        &[
            format!("127.0.0.1:{port}"),
            format!("127.0.0.1:{}", echo_target()),
        ],
        port,
        &dir.join("proxy.log"),
    );
    let t0 = Instant::now();
    let mut cmd = Command::new(py);
    cmd.args(["-c", PY_ECHO, &format!("ws://127.0.0.1:{port}/websockify")]);
    let (ok, out, err) = output_within(cmd, Duration::from_secs(120));
    assert!(ok && out.starts_with("OK "), "python: {out}\n{err}");
    peer::visible_line(&format!(
        "python websockets echo: {} in {:.1} s",
        out.trim(),
        t0.elapsed().as_secs_f64()
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// b, d. noVNC (npm core) in headless Chromium.

/// Our page around npm `@novnc/novnc` `core/rfb.js`. With `?lossless=1` it leaves the
/// QualityLevel pseudo-encodings out of SetEncodings: noVNC always sends one (quality 6 by
/// default), and TigerVNC then sends JPEG for photo-like areas, which can never equal
/// `xwd -root`; without it TigerVNC's Tight stays lossless. Everything else is noVNC's own.
const PAGE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>rfb-proxy noVNC test</title></head>
<body style="margin:0">
<div id="status">loading</div>
<div id="screen"></div>
<script type="module">
import RFB from './node_modules/@novnc/novnc/core/rfb.js';
const q = new URLSearchParams(location.search);
if (q.get('lossless') !== null) {
  const send = RFB.messages.clientEncodings;
  RFB.messages.clientEncodings = (sock, encs) => send(sock, encs.filter(e => e < -32 || e > -23));
}
if (q.get('encodings') !== null) {
  // Keep only these (noVNC's order): for a session whose recording another client replays.
  const keep = new Set(q.get('encodings').split(',').map(Number));
  const send = RFB.messages.clientEncodings;
  RFB.messages.clientEncodings = (sock, encs) => send(sock, encs.filter(e => keep.has(e)));
}
const url = q.get('url') || `ws://${location.host}/websockify`;
const status = document.getElementById('status');
const rfb = new RFB(document.getElementById('screen'), url, {});
rfb.scaleViewport = false;
rfb.addEventListener('connect', () => { status.textContent = 'connected'; });
rfb.addEventListener('disconnect', e => { status.textContent = 'disconnected: clean=' + e.detail.clean; });
rfb.addEventListener('securityfailure', e => { status.textContent = 'securityfailure: ' + e.detail.status; });
window.rfb = rfb;
</script></body></html>
"#;

/// Loads the page, waits for noVNC's `connect` event, then dumps the framebuffer canvas
/// (getImageData, raw RGBA) once two dumps 400 ms apart agree. Prints `canvas W H`.
const SHOT: &str = r#"
import { chromium } from '@PLAYWRIGHT@';
import { writeFileSync } from 'node:fs';
const [url, out] = process.argv.slice(2);
// The exact options that worked here (target/peers README §5).
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const t0 = Date.now();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 850 } });
  page.on('pageerror', e => console.log('[pageerror]', e.message));
  await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  await page.waitForFunction(() => document.getElementById('status').textContent === 'connected',
    null, { timeout: 20000, polling: 100 });
  console.log('connected after', Date.now() - t0, 'ms');
  await page.waitForTimeout(1000);
  const dump = () => page.evaluate(() => {
    const c = document.querySelector('#screen canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
    return { w: c.width, h: c.height, b64: btoa(s) };
  });
  let prev = await dump(), cur = prev;
  for (let i = 0; i < 25; i++) {
    await page.waitForTimeout(400);
    cur = await dump();
    if (cur.b64 === prev.b64 && cur.w > 0) break;
    prev = cur;
  }
  writeFileSync(out, Buffer.from(cur.b64, 'base64'));
  console.log('canvas', cur.w, cur.h);
} finally {
  await browser.close();
}
"#;

/// The node project with noVNC and playwright-core, and Chromium; `None` (skipped) if absent.
fn browser_peers() -> Option<PathBuf> {
    let node = require_node_package("@novnc/novnc")?;
    require_node_package("playwright-core")?;
    if !peer::require_all(&["node", "/usr/bin/chromium"]) {
        return None;
    }
    Some(node)
}

/// A web root of ours: the page, the shot script, and a copy of the noVNC package (a copy,
/// not a symlink: rfb-proxy refuses symlinks leading out of its root).
fn web_dir(node: &Path, tag: &str) -> TempDir {
    let dir = temp_dir(tag);
    copy_dir(
        &node.join("node_modules/@novnc/novnc"),
        &dir.join("node_modules/@novnc/novnc"),
    );
    std::fs::write(dir.join("novnc.html"), PAGE).unwrap();
    // An absolute import: the script resolves playwright-core wherever it sits (gotcha G10).
    let pw = node.join("node_modules/playwright-core/index.mjs");
    std::fs::write(
        dir.join("shot.mjs"),
        SHOT.replace("@PLAYWRIGHT@", &format!("file://{}", pw.display())),
    )
    .unwrap();
    dir
}

/// Runs the shot script against `http://127.0.0.1:PORT/novnc.html?lossless=1` plus `query`.
fn novnc_canvas(dir: &Path, port: u16, name: &str, query: &str) -> Image {
    let out = dir.join(format!("{name}.rgba"));
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("shot.mjs"))
        .arg(format!(
            "http://127.0.0.1:{port}/novnc.html?lossless=1{query}"
        ))
        .arg(&out)
        .current_dir(dir);
    let t0 = Instant::now();
    let (ok, stdout, stderr) = output_within(cmd, Duration::from_secs(90));
    assert!(ok, "node shot.mjs failed:\n{stdout}\n{stderr}");
    let (w, h) = stdout
        .lines()
        .find_map(|l| l.strip_prefix("canvas "))
        .and_then(|r| {
            let (w, h) = r.split_once(' ')?;
            Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
        })
        .unwrap_or_else(|| panic!("no canvas size in:\n{stdout}\n{stderr}"));
    let rgba = std::fs::read(&out).expect("canvas dump");
    assert_eq!(rgba.len() as u64, 4 * u64::from(w) * u64::from(h));
    peer::visible_line(&format!(
        "noVNC {name}: {} (shot in {:.1} s)",
        stdout.lines().next().unwrap_or(""),
        t0.elapsed().as_secs_f64()
    ));
    Image {
        width: w,
        height: h,
        rgba,
    }
}

/// A desktop with variety: solid root, a photo-like image, text in an xterm; no pointer.
fn desktop() -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(XvncOptions::new(W, H))?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(180, 120, 7), 16, 12);
    x.show_xterm("HELLO from rfb-proxy: AZaz09 !@#", 150, 150, 30, 4);
    x.settle();
    Some(x)
}

fn assert_same(got: &Image, want: &Image, what: &str) {
    assert_eq!(
        (got.width, got.height),
        (want.width, want.height),
        "{what}: size"
    );
    let n = got.diff_count(want);
    assert_eq!(
        n,
        0,
        "{what}: {n} pixels differ, first {:?}",
        got.first_diff(want)
    );
}

/// The finished recordings `BASE.N` of `count` WebSocket sessions, in session order (bounded
/// wait for their footers).
fn finished_recordings(base: &Path, count: usize) -> Vec<String> {
    let dir = base.parent().unwrap();
    let stem = format!("{}.", base.file_name().unwrap().to_string_lossy());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                Some((name.strip_prefix(&stem)?.parse().ok()?, e.path()))
            })
            .collect();
        files.sort();
        let texts: Vec<String> = files
            .iter()
            .map(|(_, p)| std::fs::read_to_string(p).unwrap_or_default())
            .filter(|t| t.ends_with("'EOF'];\n"))
            .collect();
        if texts.len() == count {
            return texts;
        }
        assert!(
            Instant::now() < deadline,
            "no finished recording among {files:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn novnc_in_chromium_through_rfb_proxy_matches_xwd_and_recording_replays() {
    let Some(node) = browser_peers() else {
        return;
    };
    let Some(x) = desktop() else {
        return;
    };
    let dir = web_dir(&node, "novnc");
    let rec = dir.join("rec/session");
    std::fs::create_dir_all(rec.parent().unwrap()).unwrap();
    let port = free_port();
    let args = [
        "--web".to_string(),
        dir.display().to_string(),
        "--record".into(),
        rec.display().to_string(),
        format!("127.0.0.1:{port}"),
        x.addr(),
    ];
    let p = start_proxy(&args, port, &dir.join("proxy.log"));
    let want = x.xwd_root();
    assert!(want.distinct_colors() > 1000, "the desktop has variety");
    let got = novnc_canvas(&dir, port, "rfb-proxy", "");
    assert_same(&got, &want, "noVNC canvas through rfb-proxy vs xwd -root");

    // Our replay client cannot parse every message noVNC negotiates (Fence, ContinuousUpdates:
    // their lengths are unknown to a client that did not ask for them), so a second noVNC
    // session offers only the encodings our core's default config knows; its recording must
    // replay to the same picture.
    let ours: Vec<String> = rfb_core::Config::default()
        .encodings
        .iter()
        .map(|e| e.to_i32().to_string())
        .collect();
    let query = format!("&encodings={}", ours.join(","));
    let got = novnc_canvas(&dir, port, "rfb-proxy (replayable)", &query);
    assert_same(&got, &want, "noVNC canvas (our encodings) vs xwd -root");
    let texts = finished_recordings(&rec, 2);
    drop(p);
    let frames = rfb_core::record::parse(&texts[1]).expect("recording parses");
    let r = rfb_testkit::replay::replay(&frames, rfb_core::Config::default(), None)
        .expect("replay of noVNC's session");
    assert!(r.updates >= 1);
    let replayed = Image {
        width: u32::from(r.fb.width()),
        height: u32::from(r.fb.height()),
        rgba: r.fb.data().to_vec(),
    };
    assert_same(&replayed, &want, "replayed recording vs xwd -root");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn novnc_through_websockify_and_rfb_proxy_with_the_same_command_line() {
    let Some(node) = browser_peers() else {
        return;
    };
    let Some(websockify) = require_venv("websockify") else {
        return;
    };
    let Some(x) = desktop() else {
        return;
    };
    let dir = web_dir(&node, "dropin");
    let port = free_port();
    let args = [
        "--web".to_string(),
        dir.display().to_string(),
        format!("127.0.0.1:{port}"),
        x.addr(),
    ];
    let want = x.xwd_root();

    // Peer sanity: the page and the harness work through websockify itself.
    let log = std::fs::File::create(dir.join("websockify.log")).unwrap();
    let ws = Proc::spawn(
        Command::new(&websockify)
            .args(&args)
            .stdout(log.try_clone().unwrap())
            .stderr(log),
        true,
    );
    assert!(
        wait_for_port(port, Duration::from_secs(30)),
        "websockify did not listen"
    );
    let got = novnc_canvas(&dir, port, "websockify", "");
    assert_same(&got, &want, "noVNC canvas through websockify vs xwd -root");
    drop(ws);

    // Drop-in: rfb-proxy with exactly the same arguments (the same port, once it is free).
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "websockify still holds {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _p = start_proxy(&args, port, &dir.join("proxy.log"));
    let got = novnc_canvas(&dir, port, "rfb-proxy drop-in", "");
    assert_same(
        &got,
        &want,
        "noVNC canvas through rfb-proxy (drop-in) vs xwd -root",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// c. Slow reader: bounded memory, then every byte in order.

/// Bytes the flooding target sends in all.
const FLOOD: u64 = 64 << 20;

/// The byte at stream offset `i`: a counter sequence (u32 big-endian per 4 bytes) that shows
/// any loss, duplication or reordering.
fn seq_byte(i: u64) -> u8 {
    ((i / 4) as u32).to_be_bytes()[(i % 4) as usize]
}

/// A target that waits for one byte, then writes [`FLOOD`] bytes as fast as the socket takes
/// them and closes; `written` follows its progress.
fn flood_target(written: Arc<AtomicU64>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let mut go = [0u8; 1];
        if s.read_exact(&mut go).is_err() {
            return;
        }
        let mut off = 0u64;
        let mut chunk = vec![0u8; 64 * 1024];
        while off < FLOOD {
            for (k, b) in chunk.iter_mut().enumerate() {
                *b = seq_byte(off + k as u64);
            }
            if s.write_all(&chunk).is_err() {
                return;
            }
            off += chunk.len() as u64;
            written.store(off, Ordering::Relaxed);
        }
    });
    port
}

/// What one slow-reader run measured.
struct SlowRun {
    rss_before: u64,
    rss_peak: u64,
    stalled_at: u64,
    received: u64,
    close: Option<CloseCode>,
}

/// Upgrades on `port`, makes the flood target start, does not read for 3 s while sampling
/// the RSS of the process relaying the session (`relay_pid`, asked after the upgrade), then
/// reads everything, checking the counter sequence byte by byte.
fn slow_reader(port: u16, relay_pid: &dyn Fn() -> u32, written: &AtomicU64) -> SlowRun {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let key = rfb_ws::client_key([3; 16]);
    s.write_all(&rfb_ws::client_request("127.0.0.1", "/", &key, &["binary"]))
        .unwrap();
    // Read exactly the response head, nothing after it.
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    rfb_ws::client_verify_response(&head, &key, &HeadLimits::default())
        .unwrap()
        .expect("101");
    let mut ws = WsConnection::new(
        Role::Client,
        Limits::default(),
        Some(Box::new(TestRng::default())),
    );
    std::thread::sleep(Duration::from_millis(300));
    let pid = relay_pid();
    let rss_before = rss_kib(pid);
    ws.send_binary(b"g");
    while let Some(out) = ws.poll_transmit() {
        s.write_all(&out).unwrap();
    }
    // Never read for 3 s while the target floods.
    let mut rss_peak = rss_before;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(100));
        rss_peak = rss_peak.max(rss_kib(pid));
    }
    let stalled_at = written.load(Ordering::Relaxed);

    // Now read everything: the whole counter sequence, in order, then a close.
    let mut received = 0u64;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 256 * 1024];
    let deadline = Instant::now() + Duration::from_secs(120);
    let close = 'outer: loop {
        assert!(Instant::now() < deadline, "timed out at {received} bytes");
        let n = s.read(&mut chunk).expect("read");
        if n == 0 {
            break None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let used = ws.handle_input(&buf).expect("valid frames");
        buf.drain(..used);
        while let Some(ev) = ws.poll_event() {
            match ev {
                WsEvent::Data { data, .. } => {
                    for (k, &byte) in data.iter().enumerate() {
                        let i = received + k as u64;
                        assert_eq!(byte, seq_byte(i), "byte {i} out of order");
                    }
                    received += data.len() as u64;
                }
                WsEvent::Close { code, .. } => break 'outer code,
                _ => {}
            }
        }
        while let Some(out) = ws.poll_transmit() {
            let _ = s.write_all(&out);
        }
    };
    SlowRun {
        rss_before,
        rss_peak,
        stalled_at,
        received,
        close,
    }
}

fn report(who: &str, r: &SlowRun) -> f64 {
    let growth_mib = r.rss_peak.saturating_sub(r.rss_before) as f64 / 1024.0;
    peer::visible_line(&format!(
        "slow reader via {who}: VmRSS {} KiB before, peak {} KiB during a 3 s stall \
         (+{growth_mib:.1} MiB); target stalled after {:.1} MiB of {} MiB",
        r.rss_before,
        r.rss_peak,
        r.stalled_at as f64 / 1048576.0,
        FLOOD >> 20
    ));
    growth_mib
}

#[test]
fn slow_reader_keeps_proxy_memory_bounded_and_bytes_in_order() {
    let dir = temp_dir("slow");
    let written = Arc::new(AtomicU64::new(0));
    let tport = flood_target(written.clone());
    let port = free_port();
    let p = start_proxy(
        &[format!("127.0.0.1:{port}"), format!("127.0.0.1:{tport}")],
        port,
        &dir.join("proxy.log"),
    );
    let r = slow_reader(port, &|| p.pid(), &written);
    let growth_mib = report("rfb-proxy", &r);
    assert!(
        growth_mib < 20.0,
        "RSS grew by {growth_mib:.1} MiB while the client did not read"
    );
    assert!(
        r.stalled_at < FLOOD,
        "back-pressure must reach the target: it wrote everything ({} bytes)",
        r.stalled_at
    );
    assert_eq!(r.received, FLOOD, "every byte arrived");
    assert_eq!(r.close, Some(CloseCode::Normal), "then Target closed");
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same slow reader through websockify, for comparison (it buffers in user space; the
/// numbers are printed, only the data is asserted).
#[test]
fn slow_reader_through_websockify_for_comparison() {
    let Some(websockify) = require_venv("websockify") else {
        return;
    };
    let dir = temp_dir("slow-ws");
    let written = Arc::new(AtomicU64::new(0));
    let tport = flood_target(written.clone());
    let port = free_port();
    let log = std::fs::File::create(dir.join("websockify.log")).unwrap();
    let ws = Proc::spawn(
        Command::new(&websockify)
            .args([format!("127.0.0.1:{port}"), format!("127.0.0.1:{tport}")])
            .stdout(log.try_clone().unwrap())
            .stderr(log),
        true,
    );
    assert!(
        wait_for_port(port, Duration::from_secs(30)),
        "websockify did not listen"
    );
    // websockify forks one child per connection: that child relays, so measure it.
    let parent = ws.pid();
    let child_pid = move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let kids = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
                .unwrap_or_default();
            // The newest child is the session's (the port probe's child may linger).
            if let Some(pid) = kids.split_whitespace().filter_map(|p| p.parse().ok()).max() {
                return pid;
            }
            assert!(Instant::now() < deadline, "no websockify child");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let r = slow_reader(port, &child_pid, &written);
    report("websockify (child)", &r);
    assert_eq!(r.received, FLOOD, "every byte arrived through websockify");
    drop(ws);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The built-in demo desktop shown by a third-party client: npm noVNC in Chromium through
/// `rfb-proxy --demo-static --web`, and the recording of that very session decoded by our core
/// must give the same picture (the demo is static, so both hold the whole screen).
#[test]
fn novnc_in_chromium_shows_the_demo_desktop() {
    let Some(node) = browser_peers() else {
        return;
    };
    let dir = web_dir(&node, "demo");
    let rec = dir.join("rec/session");
    std::fs::create_dir_all(rec.parent().unwrap()).unwrap();
    let port = free_port();
    let args = [
        "--demo-static".to_string(),
        "--web".to_string(),
        dir.display().to_string(),
        "--record".into(),
        rec.display().to_string(),
        format!("127.0.0.1:{port}"),
    ];
    let p = start_proxy(&args, port, &dir.join("proxy.log"));
    let got = novnc_canvas(&dir, port, "rfb-proxy --demo-static", "");
    assert!(
        got.width >= 640 && got.height >= 480,
        "{}x{}",
        got.width,
        got.height
    );
    assert!(got.distinct_colors() > 50, "the demo desktop has variety");
    let texts = finished_recordings(&rec, 1);
    drop(p);
    let frames = rfb_core::record::parse(&texts[0]).expect("recording parses");
    let r = rfb_testkit::replay::replay(&frames, rfb_core::Config::default(), None)
        .expect("replay of noVNC's demo session");
    let ours = Image {
        width: u32::from(r.fb.width()),
        height: u32::from(r.fb.height()),
        rgba: r.fb.data().to_vec(),
    };
    assert_same(
        &got,
        &ours,
        "noVNC canvas vs our decode of the same session",
    );
    let _ = std::fs::remove_dir_all(&dir);
}
