//! Operations features end to end: `/health` and `/metrics` (not shadowed by `--web`), the
//! client address from `X-Forwarded-For` behind trusted proxies, and the PROXY protocol v2
//! header sent to the target before any RFB byte.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rfb_testkit::harness::TestRng;
use rfb_testkit::net::{free_port, wait_for_port};
use rfb_testkit::tempdir::TempDir;
use rfb_ws::{CloseCode, HeadLimits, Limits, Role, WsConnection, WsEvent};

/// The proxy process, killed on drop.
struct Proxy {
    child: Child,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proxy_to(target: &str, extra: &[&str]) -> Proxy {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
        .args(extra)
        .arg(format!("127.0.0.1:{port}"))
        .arg(target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rfb-proxy");
    assert!(
        wait_for_port(port, Duration::from_secs(20)),
        "proxy did not listen"
    );
    Proxy { child, port }
}

/// A fresh directory for one test, removed when the test passes.
fn temp_dir(tag: &str) -> TempDir {
    TempDir::new(&format!("proxy-ops-{tag}"))
}

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
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

/// A blocking WebSocket client over rfb-ws that can add request headers.
struct Client {
    s: TcpStream,
    ws: WsConnection,
    buf: Vec<u8>,
}

impl Client {
    fn connect(port: u16, extra_headers: &str) -> Self {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let key = rfb_ws::client_key([9; 16]);
        let mut req = rfb_ws::client_request("127.0.0.1", "/websockify", &key, &["binary"]);
        assert!(req.ends_with(b"\r\n\r\n"));
        req.truncate(req.len() - 2);
        req.extend_from_slice(extra_headers.as_bytes());
        req.extend_from_slice(b"\r\n");
        s.write_all(&req).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
            if let Some((n, _)) =
                rfb_ws::client_verify_response(&buf, &key, &HeadLimits::default()).unwrap()
            {
                buf.drain(..n);
                let ws = WsConnection::new(
                    Role::Client,
                    Limits::default(),
                    Some(Box::new(TestRng::default())),
                );
                return Self { s, ws, buf };
            }
        }
    }

    fn send(&mut self, data: &[u8]) {
        self.ws.send_binary(data);
        self.flush();
    }

    fn flush(&mut self) {
        while let Some(b) = self.ws.poll_transmit() {
            self.s.write_all(&b).unwrap();
        }
    }

    /// Reads until `want` data bytes arrived or a close came.
    fn read_data(&mut self, want: usize) -> (Vec<u8>, Option<Option<CloseCode>>) {
        let mut data = Vec::new();
        let mut chunk = vec![0u8; 65536];
        loop {
            let n = self.ws.handle_input(&self.buf).unwrap_or(self.buf.len());
            self.buf.drain(..n);
            while let Some(ev) = self.ws.poll_event() {
                match ev {
                    WsEvent::Data { data: d, .. } => data.extend(d),
                    WsEvent::Close { code, .. } => return (data, Some(code)),
                    _ => {}
                }
            }
            self.flush();
            if data.len() >= want {
                return (data, None);
            }
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return (data, None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn close(mut self) {
        self.ws.send_close(CloseCode::Normal, "bye");
        self.flush();
        let _ = self.read_data(usize::MAX);
    }
}

/// Polls `/metrics` until every line of `want` is present (bounded).
fn metrics_with(port: u16, want: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = get(port, "/metrics");
        if want.iter().all(|w| m.contains(w)) {
            return m;
        }
        assert!(Instant::now() < deadline, "missing one of {want:?} in\n{m}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn health_and_metrics_are_served_before_web_files() {
    let web = temp_dir("web");
    // Files with the endpoints' names must not shadow them.
    std::fs::write(web.join("health"), "file").unwrap();
    std::fs::write(web.join("metrics"), "file").unwrap();
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--web", web.to_str().unwrap()],
    );
    let r = get(p.port, "/health");
    assert!(
        r.starts_with("HTTP/1.1 200 ") && r.ends_with("\r\n\r\nok\n"),
        "{r}"
    );
    let r = get(p.port, "/metrics");
    assert!(
        r.starts_with("HTTP/1.1 200 ")
            && r.contains("Content-Type: text/plain; version=0.0.4")
            && r.contains("# TYPE rfb_proxy_sessions_total counter"),
        "{r}"
    );

    // One session moving 1000 bytes each way, closed by the client.
    let mut c = Client::connect(p.port, "");
    c.send(&[7u8; 1000]);
    assert_eq!(c.read_data(1000).0.len(), 1000);
    metrics_with(p.port, &["rfb_proxy_sessions_active 1\n"]);
    c.close();
    // An upgrade refused with 400 (only an unknown subprotocol offered).
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n").unwrap();
    let _ = s.read_to_end(&mut Vec::new());
    let m = metrics_with(
        p.port,
        &[
            "rfb_proxy_sessions_active 0\n",
            "rfb_proxy_sessions_total 1\n",
            "rfb_proxy_bytes_total{direction=\"client_to_target\"} 1000\n",
            "rfb_proxy_bytes_total{direction=\"target_to_client\"} 1000\n",
            "rfb_proxy_sessions_ended_total{cause=\"client_closed\"} 1\n",
            "rfb_proxy_upgrade_failures_total{status=\"400\"} 1\n",
            "rfb_proxy_target_connect_failures_total 0\n",
        ],
    );
    // Every sample line is `name{labels} value` with a numeric value.
    let body = m.split_once("\r\n\r\n").unwrap().1;
    for l in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let v = l.rsplit(' ').next().unwrap();
        assert!(v.parse::<u64>().is_ok(), "{l}");
        assert!(l.starts_with("rfb_proxy_"), "{l}");
    }
    drop(p);

    // A target that refuses: counted, and --no-metrics lets /metrics fall through to files.
    let p = proxy_to(
        &format!("127.0.0.1:{}", free_port()),
        &["--web", web.to_str().unwrap()],
    );
    let mut c = Client::connect(p.port, "");
    assert_eq!(c.read_data(usize::MAX).1, Some(Some(CloseCode::Internal)));
    metrics_with(p.port, &["rfb_proxy_target_connect_failures_total 1\n"]);
    drop(p);
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--web", web.to_str().unwrap(), "--no-metrics"],
    );
    assert!(get(p.port, "/metrics").ends_with("\r\n\r\nfile"));
    assert!(get(p.port, "/health").ends_with("\r\n\r\nok\n"));
}

/// A target that reads a PROXY v2 header first, reports it, then greets like an RFB server
/// and echoes.
fn proxy_v2_target() -> (u16, mpsc::Receiver<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut s = s;
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut head = vec![0u8; 16];
                if s.read_exact(&mut head).is_err() {
                    return;
                }
                let len = usize::from(u16::from_be_bytes([head[14], head[15]]));
                let mut rest = vec![0u8; len];
                if s.read_exact(&mut rest).is_err() {
                    return;
                }
                head.extend(rest);
                let _ = tx.send(head);
                let _ = s.write_all(b"RFB 003.008\n");
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, rx)
}

fn parse_v4(h: &[u8]) -> (String, String) {
    assert_eq!(&h[..12], b"\r\n\r\n\0\r\nQUIT\n", "v2 signature");
    assert_eq!(h[12], 0x21, "version 2, PROXY command");
    assert_eq!(h[13], 0x11, "TCP over IPv4");
    assert_eq!(u16::from_be_bytes([h[14], h[15]]), 12);
    let a = &h[16..];
    let ip = |b: &[u8]| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
    (
        format!("{}:{}", ip(&a[0..4]), u16::from_be_bytes([a[8], a[9]])),
        format!("{}:{}", ip(&a[4..8]), u16::from_be_bytes([a[10], a[11]])),
    )
}

#[test]
fn proxy_protocol_v2_carries_the_forwarded_client() {
    let (tport, headers) = proxy_v2_target();
    let dir = temp_dir("xff");
    let log = dir.join("proxy.log");
    let p = proxy_to(
        &format!("127.0.0.1:{tport}"),
        &[
            "--proxy-protocol",
            "--trust-forwarded",
            "127.0.0.0/8,10.0.0.0/8",
            "--log-file",
            log.to_str().unwrap(),
        ],
    );
    // Behind two trusted hops, the rightmost untrusted address is the client.
    let mut c = Client::connect(
        p.port,
        "X-Forwarded-For: 192.0.2.99, 198.51.100.7\r\nX-Forwarded-For: 10.1.2.3\r\n",
    );
    let h = headers
        .recv_timeout(Duration::from_secs(20))
        .expect("header");
    let (src, dst) = parse_v4(&h);
    assert_eq!(src, "198.51.100.7:0", "port unknown behind a proxy");
    assert_eq!(dst, format!("127.0.0.1:{}", p.port));
    // The header came before any RFB byte: the target's greeting and echo arrive intact.
    assert_eq!(c.read_data(12).0, b"RFB 003.008\n");
    c.send(b"RFB 003.008\n");
    assert_eq!(c.read_data(12).0, b"RFB 003.008\n");
    c.close();

    // No X-Forwarded-For: the TCP peer itself, port included.
    let mut c = Client::connect(p.port, "");
    let local = c.s.local_addr().unwrap();
    let h = headers
        .recv_timeout(Duration::from_secs(20))
        .expect("header");
    assert_eq!(parse_v4(&h).0, local.to_string());
    assert_eq!(c.read_data(12).0, b"RFB 003.008\n");
    c.close();
    drop(p);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("198.51.100.7"),
        "logs name the real client:\n{text}"
    );

    // From an untrusted peer the header is ignored (127.0.0.1 is not in 10.0.0.0/8).
    let p = proxy_to(
        &format!("127.0.0.1:{tport}"),
        &["--proxy-protocol", "--trust-forwarded", "10.0.0.0/8"],
    );
    let mut c = Client::connect(p.port, "X-Forwarded-For: 198.51.100.7\r\n");
    let local = c.s.local_addr().unwrap();
    let h = headers
        .recv_timeout(Duration::from_secs(20))
        .expect("header");
    assert_eq!(parse_v4(&h).0, local.to_string());
    assert_eq!(c.read_data(12).0, b"RFB 003.008\n");
    c.close();
}
