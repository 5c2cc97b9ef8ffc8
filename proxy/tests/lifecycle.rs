//! rfb-proxy's process-level behaviour: graceful shutdown, --timeout, --idle-timeout,
//! --heartbeat, --unix-target and the connection cap.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rfb_testkit::net::{free_port, wait_for_port};

fn spawn(args: &[String]) -> (Child, u16) {
    let port = free_port();
    let mut all = vec![format!("127.0.0.1:{port}")];
    all.extend_from_slice(args);
    let child = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
        .args(&all)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rfb-proxy");
    assert!(
        wait_for_port(port, Duration::from_secs(20)),
        "proxy did not listen"
    );
    (child, port)
}

/// Waits (bounded) for the child to exit; kills it if it does not.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn idle_target() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut keep = Vec::new();
        for s in l.incoming().flatten() {
            keep.push(s);
        }
    });
    port
}

/// Upgrades and returns the socket plus any bytes already read past the 101 head.
fn upgrade(port: u16) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET /websockify HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(
            n > 0,
            "closed before 101: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            assert!(
                buf.starts_with(b"HTTP/1.1 101"),
                "{}",
                String::from_utf8_lossy(&buf)
            );
            return (s, buf[p + 4..].to_vec());
        }
    }
}

/// Reads frames until one with `opcode` arrives; returns its payload.
fn read_frame_with_opcode(s: &mut TcpStream, mut buf: Vec<u8>, opcode: u8) -> Vec<u8> {
    let mut chunk = [0u8; 4096];
    loop {
        // Server frames are unmasked and these are small: 2-byte header.
        while buf.len() >= 2 && buf.len() >= 2 + usize::from(buf[1] & 0x7f) {
            let len = usize::from(buf[1] & 0x7f);
            let op = buf[0] & 0x0f;
            let payload = buf[2..2 + len].to_vec();
            buf.drain(..2 + len);
            if op == opcode {
                return payload;
            }
        }
        let n = s.read(&mut chunk).expect("frame");
        assert!(n > 0, "closed before opcode {opcode:#x}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn sigterm_closes_sessions_with_1001_and_exits() {
    let (mut child, port) = spawn(&[format!("127.0.0.1:{}", idle_target())]);
    let (mut s, rest) = upgrade(port);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let close = read_frame_with_opcode(&mut s, rest, 0x8);
    assert_eq!(u16::from_be_bytes([close[0], close[1]]), 1001, "going away");
    let status = wait_exit(&mut child, Duration::from_secs(15)).expect("exited after SIGTERM");
    assert!(status.success(), "{status}");
    // The listener is gone.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn timeout_and_idle_timeout_exit_the_process() {
    let t = idle_target();
    let (mut child, _) = spawn(&[format!("127.0.0.1:{t}"), "--timeout".into(), "2".into()]);
    assert!(
        wait_exit(&mut child, Duration::from_secs(15)).is_some(),
        "--timeout 2"
    );
    let (mut child, port) = spawn(&[
        format!("127.0.0.1:{t}"),
        "--idle-timeout".into(),
        "2".into(),
    ]);
    // A live session keeps it running past the idle timeout.
    let (s, _) = upgrade(port);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited while a session was open"
    );
    drop(s);
    assert!(
        wait_exit(&mut child, Duration::from_secs(15)).is_some(),
        "--idle-timeout 2"
    );
}

#[test]
fn heartbeat_sends_pings() {
    let (mut child, port) = spawn(&[
        format!("127.0.0.1:{}", idle_target()),
        "--heartbeat".into(),
        "1".into(),
    ]);
    let (mut s, rest) = upgrade(port);
    let ping = read_frame_with_opcode(&mut s, rest, 0x9);
    assert!(ping.is_empty(), "an empty ping, as websockify sends");
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(unix)]
#[test]
fn unix_target() {
    use std::os::unix::net::UnixListener;
    let dir = rfb_testkit::tempdir::TempDir::new("proxy-unix");
    let path = dir.join("vnc.sock");
    let _ = std::fs::remove_file(&path);
    let l = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let _ = s.write_all(b"RFB 003.008\n");
            std::thread::sleep(Duration::from_secs(5));
        }
    });
    let (mut child, port) = spawn(&["--unix-target".into(), path.display().to_string()]);
    let (mut s, rest) = upgrade(port);
    let data = read_frame_with_opcode(&mut s, rest, 0x2);
    assert_eq!(data, b"RFB 003.008\n");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn connection_cap_answers_503() {
    let (mut child, port) = spawn(&[
        format!("127.0.0.1:{}", idle_target()),
        "--max-connections".into(),
        "1".into(),
    ]);
    // The port probe in spawn() is a connection too; let its session end before filling
    // the single slot.
    std::thread::sleep(Duration::from_millis(500));
    let (_first, _) = upgrade(port);
    std::thread::sleep(Duration::from_millis(200));
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn ipv6_listen_and_target() {
    // A target on [::1] and a proxy listening on [::1].
    let l = TcpListener::bind("[::1]:0").unwrap();
    let tport = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let _ = s.write_all(b"RFB 003.008\n");
            std::thread::sleep(Duration::from_secs(5));
        }
    });
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
        .args([format!("[::1]:{port}"), format!("[::1]:{tport}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rfb-proxy");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut s = loop {
        if let Ok(s) = TcpStream::connect(("::1", port)) {
            break s;
        }
        assert!(Instant::now() < deadline, "proxy did not listen on [::1]");
        std::thread::sleep(Duration::from_millis(20));
    };
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: [::1]\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.ends_with(b"RFB 003.008\n") {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
    assert!(buf.starts_with(b"HTTP/1.1 101"));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn client_vanishing_mid_frame_affects_no_other_session() {
    // An echo target, so the surviving session can prove it still works.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let tport = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut b = [0u8; 4096];
                while let Ok(n) = s.read(&mut b) {
                    if n == 0 || s.write_all(&b[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let (mut child, port) = spawn(&[format!("127.0.0.1:{tport}")]);
    let (mut good, _) = upgrade(port);
    // Half a masked frame (header says 100 bytes, 10 arrive), then the client is gone.
    let (mut bad, _) = upgrade(port);
    bad.write_all(&[0x82, 0x80 | 100, 1, 2, 3, 4]).unwrap();
    bad.write_all(&[0u8; 10]).unwrap();
    drop(bad);
    std::thread::sleep(Duration::from_millis(200));
    // The other session still relays: a masked "hi" comes back as an unmasked "hi".
    let key = [9u8, 8, 7, 6];
    good.write_all(&[
        0x82,
        0x82,
        key[0],
        key[1],
        key[2],
        key[3],
        b'h' ^ key[0],
        b'i' ^ key[1],
    ])
    .unwrap();
    let echoed = read_frame_with_opcode(&mut good, Vec::new(), 0x2);
    assert_eq!(echoed, b"hi");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the proxy is still running"
    );
    let _ = child.kill();
    let _ = child.wait();
}
