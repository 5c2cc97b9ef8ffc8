//! rfb-proxy end to end on loopback: a TCP echo target, clients built on rfb-ws, and every
//! failure path answering with an HTTP status or a close code.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
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

fn proxy(args: &[&str]) -> Proxy {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
        .args(args)
        .arg(format!("127.0.0.1:{port}"))
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

/// A blocking WebSocket client over rfb-ws.
struct Client {
    s: TcpStream,
    ws: WsConnection,
    buf: Vec<u8>,
}

fn raw_request(port: u16, req: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn upgrade_request(path: &str, proto: Option<&str>) -> String {
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(p) = proto {
        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    r + "\r\n"
}

impl Client {
    fn connect(port: u16, path: &str) -> Result<Self, String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let key = rfb_ws::client_key([7; 16]);
        s.write_all(&rfb_ws::client_request(
            "127.0.0.1",
            path,
            &key,
            &["binary"],
        ))
        .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err(String::from_utf8_lossy(&buf).into_owned());
            }
            buf.extend_from_slice(&chunk[..n]);
            match rfb_ws::client_verify_response(&buf, &key, &HeadLimits::default()) {
                Ok(Some((n, proto))) => {
                    assert_eq!(proto.as_deref(), Some("binary"));
                    buf.drain(..n);
                    let ws = WsConnection::new(
                        Role::Client,
                        Limits::default(),
                        Some(Box::new(TestRng::default())),
                    );
                    return Ok(Self { s, ws, buf });
                }
                Ok(None) => {}
                Err(e) => return Err(format!("{e}: {}", String::from_utf8_lossy(&buf))),
            }
        }
    }

    fn flush(&mut self) {
        while let Some(b) = self.ws.poll_transmit() {
            self.s.write_all(&b).unwrap();
        }
    }

    /// Reads until `want` bytes of data arrived or a close came; returns data and close.
    fn read_data(&mut self, want: usize) -> (Vec<u8>, Option<(Option<CloseCode>, String)>) {
        let mut data = Vec::new();
        let mut chunk = vec![0u8; 65536];
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let n = self.ws.handle_input(&self.buf).unwrap_or(self.buf.len());
            self.buf.drain(..n);
            while let Some(ev) = self.ws.poll_event() {
                match ev {
                    WsEvent::Data { data: d, .. } => data.extend(d),
                    WsEvent::Close { code, reason } => return (data, Some((code, reason))),
                    _ => {}
                }
            }
            self.flush();
            if data.len() >= want {
                return (data, None);
            }
            assert!(
                Instant::now() < deadline,
                "timed out with {} of {want} bytes",
                data.len()
            );
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return (data, None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

#[test]
fn binary_payloads_of_many_sizes_echo_byte_exact() {
    let p = proxy_to(&format!("127.0.0.1:{}", echo_target()), &[]);
    let mut c = Client::connect(p.port, "/websockify").unwrap();
    let mut seed = 1u32;
    for size in [
        1usize,
        2,
        125,
        126,
        127,
        1000,
        65535,
        65536,
        65537,
        200_000,
        1 << 20,
    ] {
        let payload: Vec<u8> = (0..size)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        c.ws.send_binary(&payload);
        c.flush();
        let (got, close) = c.read_data(size);
        assert!(close.is_none(), "closed: {close:?}");
        assert_eq!(got.len(), size);
        assert!(got == payload, "payload of {size} bytes differs");
    }
    c.ws.send_close(CloseCode::Normal, "bye");
    c.flush();
    let (_, close) = c.read_data(usize::MAX);
    assert_eq!(
        close.map(|c| c.0),
        Some(Some(CloseCode::Normal)),
        "close echoed"
    );
}

#[test]
fn target_refuses_gives_101_then_close_1011() {
    let dead = free_port();
    let p = proxy_to(&format!("127.0.0.1:{dead}"), &[]);
    let mut c = Client::connect(p.port, "/").unwrap();
    let (_, close) = c.read_data(usize::MAX);
    let (code, reason) = close.expect("close frame");
    assert_eq!(code, Some(CloseCode::Internal));
    assert_eq!(reason, "Failed to connect to downstream server");
}

#[test]
fn target_closing_gives_close_1000() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let _ = s.write_all(b"RFB 003.008\n");
        }
    });
    let p = proxy_to(&format!("127.0.0.1:{port}"), &[]);
    let mut c = Client::connect(p.port, "/").unwrap();
    let (data, close) = c.read_data(usize::MAX);
    assert_eq!(data, b"RFB 003.008\n", "data before the close is delivered");
    assert_eq!(
        close,
        Some((Some(CloseCode::Normal), "Target closed".into()))
    );
}

#[test]
fn bad_requests_get_http_statuses() {
    let p = proxy_to(&format!("127.0.0.1:{}", echo_target()), &[]);
    let r = raw_request(p.port, "GARBAGE\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    let r = raw_request(p.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 405 "),
        "plain GET without --web: {r}"
    );
    let r = raw_request(p.port, &upgrade_request("/", Some("base64")));
    assert!(
        r.starts_with("HTTP/1.1 400 ") && r.contains("Invalid protocol selected"),
        "{r}"
    );
    let r = raw_request(
        p.port,
        &upgrade_request("/", None).replace("Version: 13", "Version: 8"),
    );
    assert!(
        r.starts_with("HTTP/1.1 426 ") && r.contains("Sec-WebSocket-Version: 13"),
        "{r}"
    );
    let r = raw_request(
        p.port,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 405 "), "{r}");
}

/// Sends one raw frame after the upgrade and returns the close code the proxy answers with.
fn close_code_after(port: u16, frame: &[u8]) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(upgrade_request("/", Some("binary")).as_bytes())
        .unwrap();
    s.write_all(frame).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let head_end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("101 head")
        + 4;
    let f = &out[head_end..];
    assert_eq!(f[0], 0x88, "a close frame: {f:?}");
    u16::from_be_bytes([f[2], f[3]])
}

#[test]
fn bad_frames_get_close_codes() {
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--max-frame", "1000"],
    );
    // Unmasked client frame → 1002.
    assert_eq!(close_code_after(p.port, &[0x82, 0x01, 0x00]), 1002);
    // Text frame → 1003, as websockify.
    assert_eq!(
        close_code_after(p.port, &[0x81, 0x81, 0, 0, 0, 0, b'a']),
        1003
    );
    // Oversized frame → 1009 from its header alone.
    assert_eq!(
        close_code_after(p.port, &[0x82, 0xfe, 0x10, 0x00, 0, 0, 0, 0]),
        1009
    );
}

#[test]
fn token_file_routes_and_unknown_tokens_get_404() {
    let dir = TempDir::new("proxy-tokens");
    let echo = echo_target();
    std::fs::write(
        dir.join("a.cfg"),
        format!("# test tokens\ngood: 127.0.0.1:{echo}\n"),
    )
    .unwrap();
    let p = proxy(&[
        "--token-plugin",
        "TokenFile",
        "--token-source",
        dir.to_str().unwrap(),
    ]);
    let mut c = Client::connect(p.port, "/websockify?token=good").unwrap();
    c.ws.send_binary(b"ping");
    c.flush();
    assert_eq!(c.read_data(4).0, b"ping");
    let e = Client::connect(p.port, "/websockify?token=nope")
        .err()
        .unwrap();
    assert!(
        e.contains("404") && !e.contains("nope"),
        "status, and the token not echoed: {e}"
    );
    let e = Client::connect(p.port, "/websockify").err().unwrap();
    assert!(e.contains("400") && e.contains("Token not present"), "{e}");
    // TokenFile picks up a new token without a restart.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(dir.join("b.cfg"), format!("later: 127.0.0.1:{echo}\n")).unwrap();
    assert!(Client::connect(p.port, "/?token=later").is_ok());
}

#[test]
fn web_files_types_and_no_traversal() {
    let dir = TempDir::new("proxy-web");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("index.html"), "<p>hi</p>").unwrap();
    std::fs::write(dir.join("app.wasm"), [0, 97, 115, 109]).unwrap();
    std::fs::write(dir.join("sub/x.js"), "1").unwrap();
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--web", dir.to_str().unwrap()],
    );
    let r = raw_request(p.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 200 ") && r.contains("text/html") && r.ends_with("<p>hi</p>"),
        "{r}"
    );
    let r = raw_request(p.port, "GET /app.wasm HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.contains("Content-Type: application/wasm"), "{r}");
    let r = raw_request(p.port, "HEAD /sub/x.js HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 200 ")
            && r.contains("Content-Length: 1\r\n")
            && r.ends_with("\r\n\r\n"),
        "{r}"
    );
    for bad in [
        "/../../etc/passwd",
        "/sub/%2e%2e/%2e%2e/etc/passwd",
        "/sub/",
        "/nope",
    ] {
        let r = raw_request(p.port, &format!("GET {bad} HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(r.starts_with("HTTP/1.1 404 "), "{bad}: {r}");
    }
    // The upgrade still works on the same port.
    let mut c = Client::connect(p.port, "/websockify").unwrap();
    c.ws.send_binary(b"x");
    c.flush();
    assert_eq!(c.read_data(1).0, b"x");
}

#[test]
fn recording_is_websockify_format() {
    let rec = TempDir::new("proxy-rec");
    let base = rec.join("session");
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--record", base.to_str().unwrap()],
    );
    let mut c = Client::connect(p.port, "/").unwrap();
    c.ws.send_binary(b"\x00hello'\\");
    c.flush();
    assert_eq!(c.read_data(8).0.len(), 8);
    c.ws.send_close(CloseCode::Normal, "");
    c.flush();
    let _ = c.read_data(usize::MAX);
    // The session's file is FILE.N (N counts accepted connections, as in websockify; the
    // port probe was one); wait until it is closed (the footer is written on drop).
    let dir = base.parent().unwrap().to_path_buf();
    let stem = format!("{}.", base.file_name().unwrap().to_string_lossy());
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut path = base.clone();
    let text = loop {
        if let Some(f) = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(&stem))
        {
            path = f.path();
        }
        let t = std::fs::read_to_string(&path).unwrap_or_default();
        if t.ends_with("'EOF'];\n") || Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let frames = rfb_core::record::parse(&text).expect("parses");
    let to_target: Vec<u8> = frames
        .iter()
        .filter(|f| f.direction == rfb_core::record::Direction::FromClient)
        .flat_map(|f| f.data.clone())
        .collect();
    let from_target: Vec<u8> = frames
        .iter()
        .filter(|f| f.direction == rfb_core::record::Direction::FromServer)
        .flat_map(|f| f.data.clone())
        .collect();
    assert_eq!(to_target, b"\x00hello'\\");
    assert_eq!(from_target, b"\x00hello'\\");
}

/// A client that pushes and never reads, in front of a target that does the same, then
/// vanishes: the proxy may try to deliver what it still owes the target only for a bounded
/// time, then must close the target connection. (Found by `proxy-soak`: the session used to
/// wait forever on a target that was itself stalled writing to the proxy.)
#[test]
fn a_vanished_client_does_not_pin_a_stalled_target() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = l.local_addr().unwrap().port();
    let (closed_tx, closed_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        s.set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let junk = vec![0x42u8; 64 * 1024];
        let deadline = Instant::now() + Duration::from_secs(60);
        // Write without ever reading until the proxy drops the connection (or we give up).
        while Instant::now() < deadline {
            match s.write(&junk) {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    let _ = closed_tx.send(());
                    return;
                }
            }
        }
    });
    let p = proxy_to(&format!("127.0.0.1:{target}"), &[]);
    let mut c = Client::connect(p.port, "/").unwrap();
    c.s.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let msg = vec![0x17u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(60);
    // Push until the whole chain (client → proxy → target, target → proxy → client) stalls.
    loop {
        assert!(Instant::now() < deadline, "never stalled");
        c.ws.send_binary(&msg);
        let frame: Vec<u8> = std::iter::from_fn(|| c.ws.poll_transmit())
            .flatten()
            .collect();
        if c.s.write_all(&frame).is_err() {
            break;
        }
    }
    drop(c);
    assert!(
        closed_rx.recv_timeout(Duration::from_secs(30)).is_ok(),
        "the proxy kept the stalled target connection after its client vanished"
    );
}
