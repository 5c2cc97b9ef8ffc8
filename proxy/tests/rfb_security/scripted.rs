//! Scripted servers (RFB 3.3 and 3.7, the rfb-testkit security scripts) and per-token
//! credentials from a JSON token API.

use super::*;
use crate::client::{Ws, rfb_through_proxy, rfb_through_proxy_at};

// Servers speaking RFB 3.3 and 3.7: no SecurityResult after None there, while the browser
// side always gets 3.8 with one. No Debian VNC server can be made to speak 3.3, so a scripted
// one does the handshake and `rfb_server::Server` (fed a 3.8 None handshake of its own first:
// everything after security is the same in every version) serves the session.

/// A one-connection server speaking `version` with None; returns its port and the picture it
/// serves.
fn old_version_server(version: &'static [u8; 12]) -> (u16, Image) {
    use rfb_server::{Config as ServerConfig, DrawTarget as _, Rect, Server};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let picture = pattern::photo_like(64, 48, 5);
    let pic = picture.clone();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut fb = Framebuffer::new(64, 48);
        fb.put_rgba(Rect::new(0, 0, 64, 48), &pic.rgba);
        let mut reply = [0u8; 12];
        s.write_all(version).unwrap();
        s.read_exact(&mut reply).unwrap();
        if version == b"RFB 003.003\n" {
            s.write_all(&1u32.to_be_bytes()).unwrap();
        } else {
            s.write_all(&[1, 1]).unwrap();
            let mut choice = [0u8; 1];
            s.read_exact(&mut choice).unwrap();
            assert_eq!(choice, [1]);
        }
        let mut server = Server::new(ServerConfig::new(64, 48, "old"));
        server.handle_input(b"RFB 003.008\n\x01").unwrap();
        let _ = server.poll_transmit();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            let Ok(used) = server.handle_input(&buf) else {
                return;
            };
            buf.drain(..used);
            while server.poll_event().is_some() {}
            if server.update_requested().is_some() {
                let _ = server.send_update(&fb, &[Rect::new(0, 0, 64, 48)], &[]);
            }
            if let Some(out) = server.poll_transmit() {
                if s.write_all(&out).is_err() {
                    return;
                }
            }
        }
    });
    (port, picture)
}

#[test]
fn servers_speaking_rfb_3_3_and_3_7_are_relayed_to_a_3_8_client() {
    let dir = temp_dir("rfbsec-old");
    for version in [b"RFB 003.003\n", b"RFB 003.007\n"] {
        let (vnc, want) = old_version_server(version);
        let port = free_port();
        let log = dir.join(format!("proxy-{port}.log"));
        let args = args(&[
            &format!("127.0.0.1:{port}"),
            &format!("127.0.0.1:{vnc}"),
            "--vnc-security",
            "none",
        ]);
        let p = start_proxy(&args, port, &log);
        let got = rfb_through_proxy(port, None).expect("session through the proxy");
        let v = String::from_utf8_lossy(version);
        assert_same(
            &got,
            &want,
            &format!("{} server through the proxy", v.trim()),
        );
        drop(p);
        let log = fs::read_to_string(&log).unwrap_or_default();
        assert!(
            log.contains("authenticated to the VNC server with none(1)"),
            "{log}"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

// Other stored-credential types against the scripted servers of rfb-testkit (each validated
// by noVNC in proxy/tests/scripted_security.rs): the mode is not VeNCrypt-only. RA2ne asks the
// application to approve the server's RSA key; the proxy has nobody to ask, so it refuses and
// the browser is told the key's fingerprint.

#[test]
fn stored_credentials_for_plain_ard_and_mslogon2_and_ra2ne_keys_refused() {
    use rfb_testkit::scripted::{Credentials as ScriptCreds, Scheme, ScriptedServer, pattern_rgb};
    let dir = temp_dir("rfbsec-scripted");
    let creds = ScriptCreds {
        username: "alice".into(),
        password: "s3cret-pw".into(),
        target: String::new(),
    };
    let pw = file(&dir, "pw", &creds.password);
    for (scheme, name) in [
        (Scheme::Plain, "plain"),
        (Scheme::Ard, "ard"),
        (Scheme::MsLogonII, "mslogon2"),
    ] {
        let Some(s) = ScriptedServer::start_or_skip(scheme, &creds) else {
            return;
        };
        let port = free_port();
        let log = dir.join(format!("proxy-{port}.log"));
        let p = start_proxy(
            &args(&[
                &format!("127.0.0.1:{port}"),
                &s.addr(),
                "--vnc-security",
                name,
                "--vnc-username",
                &creds.username,
                "--vnc-password-file",
                &pw,
            ]),
            port,
            &log,
        );
        let got = rfb_through_proxy(port, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = Image::from_fn(s.width, s.height, pattern_rgb);
        assert_same(
            &got,
            &want,
            &format!("scripted {name} server through the proxy"),
        );
        drop(p);
    }
    let ra2ne = ScriptCreds {
        username: String::new(),
        ..creds
    };
    let Some(s) = ScriptedServer::start_or_skip(Scheme::Ra2ne, &ra2ne) else {
        return;
    };
    let port = free_port();
    let _p = start_proxy(
        &args(&[
            &format!("127.0.0.1:{port}"),
            &s.addr(),
            "--vnc-security",
            "ra2ne",
            "--vnc-password-file",
            &pw,
        ]),
        port,
        &dir.join("proxy-ra2ne.log"),
    );
    let e = rfb_through_proxy(port, None).unwrap_err();
    let fp = s
        .rsa_fingerprint()
        .expect("the script prints its key's fingerprint");
    assert!(
        e.contains(&fp),
        "RA2ne key refused with its fingerprint: {e}"
    );
    let _ = fs::remove_dir_all(&dir);
}

// Per-token credentials: a JSONTokenApi answer (server to server; the browser never sees it)
// may carry `vnc_username` / `vnc_password`, used instead of the command line's.

/// An HTTP token API answering `GET /TOKEN` from `answers` (404 for others); serves until the
/// test process ends (one short-lived thread per request).
fn token_api(answers: Vec<(&'static str, String)>) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut head = Vec::new();
            let mut b = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&b[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let found = answers.iter().find(|(t, _)| path == format!("/{t}"));
            let resp = match found {
                Some((_, body)) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .into(),
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    port
}

#[test]
fn token_plugin_credentials_replace_the_command_lines() {
    let dir = temp_dir("rfbsec-token");
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let vnc_port = x.port();
    let api = token_api(vec![
        (
            "right",
            format!(r#"{{"host": "127.0.0.1", "port": {vnc_port}, "vnc_password": "{VNC_PW}"}}"#),
        ),
        (
            "wrong",
            format!(r#"{{"host": "127.0.0.1", "port": {vnc_port}, "vnc_password": "nope"}}"#),
        ),
        (
            "none",
            format!(r#"{{"host": "127.0.0.1", "port": {vnc_port}}}"#),
        ),
    ]);
    let port = free_port();
    let _p = start_proxy(
        &args(&[
            &format!("127.0.0.1:{port}"),
            "--token-plugin",
            "JSONTokenApi",
            "--token-source",
            &format!("http://127.0.0.1:{api}/%s"),
            "--vnc-security",
            "x509vnc",
            "--vnc-ca-file",
            &pki.path("ca.pem"),
        ]),
        port,
        &dir.join("proxy.log"),
    );
    let got =
        rfb_through_proxy_at(port, "/websockify?token=right", None).expect("the token's password");
    assert_same(
        &got,
        &x.xwd_root(),
        "through the proxy with the token's password",
    );
    let e = rfb_through_proxy_at(port, "/websockify?token=wrong", None).unwrap_err();
    assert!(e.contains("VNC server: authentication failed"), "{e}");
    // No password anywhere: said so, naming both places.
    let e = rfb_through_proxy_at(port, "/websockify?token=none", None).unwrap_err();
    assert!(e.contains("vnc_password from the token plugin"), "{e}");
    let log = fs::read_to_string(dir.join("proxy.log")).unwrap_or_default();
    assert!(!log.contains(VNC_PW), "a password in the log: {log}");
    let _ = fs::remove_dir_all(&dir);
}

fn rss_kib(pid: u32) -> u64 {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// A 3.8 server with None that, after ClientInit, writes bytes as fast as it can (the proxy
/// does not parse the session, so any bytes do); `written` counts them.
fn flood_server(written: std::sync::Arc<std::sync::atomic::AtomicU64>) -> u16 {
    use std::sync::atomic::Ordering;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let mut b = [0u8; 12];
        s.write_all(b"RFB 003.008\n").unwrap();
        s.read_exact(&mut b).unwrap();
        s.write_all(&[1, 1]).unwrap();
        s.read_exact(&mut b[..1]).unwrap();
        s.write_all(&0u32.to_be_bytes()).unwrap();
        s.read_exact(&mut b[..1]).unwrap(); // ClientInit
        let junk = vec![0x5au8; 64 * 1024];
        while s.write_all(&junk).is_ok() {
            written.fetch_add(junk.len() as u64, Ordering::Relaxed);
        }
    });
    port
}

#[test]
fn a_slow_browser_keeps_the_security_mode_bounded() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = temp_dir("rfbsec-slow");
    let written = std::sync::Arc::new(AtomicU64::new(0));
    let vnc = flood_server(written.clone());
    let port = free_port();
    let p = start_proxy(
        &args(&[
            &format!("127.0.0.1:{port}"),
            &format!("127.0.0.1:{vnc}"),
            "--vnc-security",
            "none",
        ]),
        port,
        &dir.join("proxy.log"),
    );
    // The browser side by hand: 3.8, None, SecurityResult, ClientInit; then read slowly.
    let mut ws = Ws::connect(port, "/websockify");
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let more = |ws: &mut Ws, got: &mut Vec<u8>, n: usize| {
        while got.len() < n {
            assert!(Instant::now() < deadline, "handshake stalled at {got:?}");
            got.extend(ws.recv());
        }
    };
    more(&mut ws, &mut got, 12);
    assert_eq!(&got[..12], b"RFB 003.008\n");
    ws.send(b"RFB 003.008\n");
    more(&mut ws, &mut got, 14);
    assert_eq!(&got[12..14], [1, 1], "one type: None");
    ws.send(&[1]);
    got.drain(..14);
    more(&mut ws, &mut got, 4);
    assert_eq!(&got[..4], [0, 0, 0, 0], "SecurityResult OK");
    ws.send(&[1]);
    let mut read = (got.len() - 4) as u64;
    let mut peak = 0;
    for i in 0..400 {
        read += ws.recv().len() as u64;
        std::thread::sleep(Duration::from_millis(10));
        if i % 20 == 0 {
            peak = peak.max(rss_kib(p.pid()));
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let w = written.load(Ordering::Relaxed);
    let in_flight = w.saturating_sub(read);
    peer_line(&format!(
        "slow browser through --vnc-security: server wrote {} MiB, browser read {} MiB, \
         in flight {} MiB, proxy RSS peak {} MiB",
        w >> 20,
        read >> 20,
        in_flight >> 20,
        peak >> 10
    ));
    assert!(read > 1 << 20, "the session flowed ({read} bytes)");
    // Socket buffers on both sides (Linux autotuning: a few MiB each) plus the proxy's
    // bounded buffers; an unbounded proxy would have taken gigabytes by now.
    assert!(
        in_flight < 48 << 20,
        "{in_flight} bytes held between server and browser"
    );
    assert!(peak < 64 * 1024, "proxy RSS {peak} KiB");
    drop(p);
    let _ = fs::remove_dir_all(&dir);
}

fn peer_line(s: &str) {
    rfb_testkit::peer::visible_line(s);
}
