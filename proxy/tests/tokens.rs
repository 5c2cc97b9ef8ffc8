//! rfb-proxy's websockify token plugins beyond token files (TokenRedis, JWTTokenApi,
//! BaseTokenAPI, JSONTokenApi, UnixDomainSocketDirectory), tokens from a header or a cookie,
//! and the auth plugins (BasicHTTPAuth, ExpectOrigin), end to end on loopback.
//!
//! Redis is a real `redis-server` started here; JWTs are minted by Python's jwcrypto (the
//! library websockify uses) from the peers venv, never by our own code.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rfb_testkit::harness::TestRng;
use rfb_testkit::net::{free_port, wait_for_port};
use rfb_testkit::tempdir::TempDir;
use rfb_ws::{HeadLimits, Limits, Role, WsConnection, WsEvent};

/// A child process killed (by its PID) on drop.
struct Proc {
    child: Child,
    port: u16,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proxy(args: &[&str]) -> Proc {
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
    Proc { child, port }
}

/// A fresh empty temporary directory, removed when the test passes.
fn temp_dir(name: &str) -> TempDir {
    static N: AtomicU32 = AtomicU32::new(0);
    TempDir::new(&format!(
        "proxy-tokens-{name}-{}",
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn echo_stream<S: Read + Write>(mut s: S) {
    let mut buf = [0u8; 65536];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || s.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

/// A TCP echo server on a thread; returns its port.
fn echo_target() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || echo_stream(s));
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

impl Client {
    /// Upgrades `path` with `extra` headers; `Err` holds the HTTP answer when refused.
    fn connect(port: u16, path: &str, extra: &[(&str, &str)]) -> Result<Self, String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let key = rfb_ws::client_key([7; 16]);
        let mut req = rfb_ws::client_request("127.0.0.1", path, &key, &["binary"]);
        req.truncate(req.len() - 2);
        for (k, v) in extra {
            req.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        s.write_all(&req).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n: usize = s.read(&mut chunk).unwrap_or_default();
            if n == 0 {
                return Err(String::from_utf8_lossy(&buf).into_owned());
            }
            buf.extend_from_slice(&chunk[..n]);
            if !buf.starts_with(b"HTTP/1.1 101") && buf.windows(4).any(|w| w == b"\r\n\r\n") {
                // A refusal: read the rest (the proxy closes).
                let mut rest = Vec::new();
                let _ = s.read_to_end(&mut rest);
                buf.extend(rest);
                return Err(String::from_utf8_lossy(&buf).into_owned());
            }
            match rfb_ws::client_verify_response(&buf, &key, &HeadLimits::default()) {
                Ok(Some((n, _))) => {
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

    /// Sends `msg` and reads it back; `false` if the session closed first.
    fn echoes(&mut self, msg: &[u8]) -> bool {
        self.ws.send_binary(msg);
        self.flush();
        let mut data = Vec::new();
        let mut chunk = vec![0u8; 65536];
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let n = self.ws.handle_input(&self.buf).unwrap_or(self.buf.len());
            self.buf.drain(..n);
            while let Some(ev) = self.ws.poll_event() {
                match ev {
                    WsEvent::Data { data: d, .. } => data.extend(d),
                    WsEvent::Close { .. } => return false,
                    _ => {}
                }
            }
            self.flush();
            if data.len() >= msg.len() {
                return data == msg;
            }
            if Instant::now() > deadline {
                return false;
            }
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return false,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// The HTTP status of an upgrade of `path` (101 only when the echo target answered too).
fn upgrade(port: u16, path: &str, extra: &[(&str, &str)]) -> u16 {
    match Client::connect(port, path, extra) {
        Ok(mut c) => {
            assert!(c.echoes(b"hello through the proxy"), "101 but no echo");
            101
        }
        Err(resp) => status_of(&resp),
    }
}

fn status_of(resp: &str) -> u16 {
    resp.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {resp:?}"))
}

/// A plain HTTP request; returns the whole answer.
fn http(port: u16, method: &str, path: &str, extra: &[(&str, &str)]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn redis_cli(port: u16, args: &[&str]) {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("OK"),
        "redis-cli {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn token_redis_two_proxies_share_one_store() {
    if !rfb_testkit::peer::require_all(&["redis-server", "redis-cli"]) {
        return;
    }
    let rport = free_port();
    let redis = Proc {
        child: Command::new("redis-server")
            .args(["--port", &rport.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server"),
        port: rport,
    };
    assert!(wait_for_port(redis.port, Duration::from_secs(20)));
    let echo = echo_target();
    let target = format!("127.0.0.1:{echo}");
    redis_cli(rport, &["SET", "plain", &target]);
    redis_cli(
        rport,
        &["SET", "json", &format!(r#"{{"host": "{target}"}}"#)],
    );
    redis_cli(rport, &["SET", "v6", &format!("[::1]:{echo}")]);
    redis_cli(rport, &["SET", "app:x:one", &target]);
    redis_cli(rport, &["SET", "garbage", "not a target"]);

    let src = format!("127.0.0.1:{rport}");
    let args = ["--token-plugin", "TokenRedis", "--token-source", &src];
    let a = proxy(&args);
    let b = proxy(&args);
    for p in [&a, &b] {
        assert_eq!(upgrade(p.port, "/?token=plain", &[]), 101);
        assert_eq!(upgrade(p.port, "/websockify?token=json", &[]), 101);
        assert_eq!(upgrade(p.port, "/?token=missing", &[]), 404);
        assert_eq!(upgrade(p.port, "/?token=garbage", &[]), 404);
        assert_eq!(upgrade(p.port, "/", &[]), 400);
    }
    // IPv6 targets (websockify cannot): only where the host has ::1.
    if TcpListener::bind("[::1]:0").is_ok() {
        let l6 = TcpListener::bind(format!("[::1]:{echo}"));
        if let Ok(l6) = l6 {
            std::thread::spawn(move || {
                for s in l6.incoming().flatten() {
                    std::thread::spawn(move || echo_stream(s));
                }
            });
            assert_eq!(upgrade(a.port, "/?token=v6", &[]), 101);
        }
    }
    // Scale-out: a token added while both run works on both at once.
    redis_cli(
        rport,
        &["SET", "late", &format!(r#"{{"host":"{target}"}}"#)],
    );
    let mut ca = Client::connect(a.port, "/?token=late", &[]).unwrap();
    let mut cb = Client::connect(b.port, "/?token=late", &[]).unwrap();
    assert!(ca.echoes(b"from a"));
    assert!(cb.echoes(b"from b"));
    // A quoted namespace with a colon after empty fields: key `app:x:one`.
    let ns = proxy(&[
        "--token-plugin",
        "TokenRedis",
        "--token-source",
        &format!("127.0.0.1:{rport}:::\"app:x\""),
    ]);
    assert_eq!(upgrade(ns.port, "/?token=one", &[]), 101);
    assert_eq!(upgrade(ns.port, "/?token=plain", &[]), 404);
    // Redis down: lookups error → 503, and the live sessions are not affected.
    drop(redis);
    assert_eq!(upgrade(a.port, "/?token=plain", &[]), 503);
    assert!(ca.echoes(b"still here"));
}

const MINT: &str = r#"
import json, sys, time, base64
from jwcrypto import jwk, jwt
d, port = sys.argv[1], int(sys.argv[2])
def mint(key, alg, claims):
    t = jwt.JWT(header={"alg": alg}, claims=claims)
    t.make_signed_token(key)
    return t.serialize()
claims = {"host": "127.0.0.1", "port": port}
k = jwk.JWK.generate(kty="oct", size=512)
open(d + "/hs.key", "w").write(json.loads(k.export())["k"] + "\n")
good = mint(k, "HS256", claims)
print(good)
print(mint(k, "HS512", dict(claims, port=str(port), nbf=int(time.time()) - 5, exp=int(time.time()) + 600)))
print(mint(k, "HS256", dict(claims, exp=int(time.time()) - 60)))
print(mint(k, "HS256", dict(claims, nbf=int(time.time()) + 3600)))
h, p, s = good.split(".")
evil = base64.urlsafe_b64encode(json.dumps({"host": "127.0.0.1", "port": 1}).encode()).decode().rstrip("=")
print(".".join([h, evil, s]))
e = jwt.JWT(header={"alg": "dir", "enc": "A256CBC-HS512"}, claims=good)
e.make_encrypted_token(k)
print(e.serialize())
r = jwk.JWK.generate(kty="RSA", size=2048)
open(d + "/rsa.pem", "wb").write(r.export_to_pem())
print(mint(r, "RS256", claims))
c = jwk.JWK.generate(kty="EC", crv="P-256")
open(d + "/ec.pem", "wb").write(c.export_to_pem())
print(mint(c, "ES256", claims))
w = "secret_sauce_secret_sauce_secret_sauce_secret_sauce"  # websockify's test fixture key
open(d + "/ws.key", "w").write(w)
print(mint(jwk.JWK(kty="oct", k=w), "HS256", claims))
"#;

#[test]
fn jwt_tokens_from_jwcrypto() {
    let Some(python) = rfb_testkit::peer::require_venv("python") else {
        return;
    };
    let dir = temp_dir("jwt");
    let echo = echo_target();
    let out = Command::new(python)
        .args(["-c", MINT, dir.to_str().unwrap(), &echo.to_string()])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let t: Vec<&str> = text.lines().collect();
    let [hs, hs512, expired, not_yet, tampered, jwe, rs, es, ws] = t[..] else {
        panic!("unexpected output {text}");
    };
    let src = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let hs_p = proxy(&[
        "--token-plugin",
        "JWTTokenApi",
        "--token-source",
        &src("hs.key"),
    ]);
    let rs_p = proxy(&[
        "--token-plugin",
        "websockify.token_plugins.JWTTokenApi",
        "--token-source",
        &src("rsa.pem"),
    ]);
    let es_p = proxy(&[
        "--token-plugin",
        "JWTTokenApi",
        "--token-source",
        &src("ec.pem"),
    ]);
    let q = |tok: &str| format!("/websockify?token={tok}");
    assert_eq!(upgrade(hs_p.port, &q(hs), &[]), 101, "HS256");
    assert_eq!(
        upgrade(hs_p.port, &q(hs512), &[]),
        101,
        "HS512, port as text, nbf/exp ok"
    );
    assert_eq!(upgrade(hs_p.port, &q(expired), &[]), 404, "expired");
    assert_eq!(
        upgrade(hs_p.port, &q(not_yet), &[]),
        404,
        "nbf in the future"
    );
    assert_eq!(upgrade(hs_p.port, &q(tampered), &[]), 404, "tampered");
    assert_eq!(
        upgrade(hs_p.port, &q(jwe), &[]),
        404,
        "JWE is not supported"
    );
    assert_eq!(upgrade(hs_p.port, &q(rs), &[]), 404, "RS256 on an HMAC key");
    assert_eq!(upgrade(rs_p.port, &q(rs), &[]), 101, "RS256");
    assert_eq!(upgrade(rs_p.port, &q(hs), &[]), 404, "HS256 on an RSA key");
    assert_eq!(upgrade(es_p.port, &q(es), &[]), 101, "ES256");
    assert_eq!(upgrade(es_p.port, &q(rs), &[]), 404);
    let ws_p = proxy(&[
        "--token-plugin",
        "JWTTokenApi",
        "--token-source",
        &src("ws.key"),
    ]);
    assert_eq!(
        upgrade(ws_p.port, &q(ws), &[]),
        101,
        "websockify's fixture key"
    );
    assert_eq!(upgrade(ws_p.port, &q(hs), &[]), 404);
}

/// A tiny HTTP token API: `/tok/abc` → `127.0.0.1:PORT`, `/json/abc` → JSON, `/json/str` →
/// JSON with the port as text, `/err/…` → 500, anything else 404. Returns its port and a log
/// of the paths asked.
fn token_api(target_port: u16) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = log2.clone();
            std::thread::spawn(move || {
                let mut s = s;
                let mut req = Vec::new();
                let mut chunk = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&chunk[..n]),
                    }
                }
                let req = String::from_utf8_lossy(&req);
                let path = req.split(' ').nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(path.clone());
                let (status, body) = match path.as_str() {
                    "/tok/abc" => ("200 OK", format!("127.0.0.1:{target_port}")),
                    "/json/abc" => (
                        "200 OK",
                        format!(r#"{{"host": "127.0.0.1", "port": {target_port}}}"#),
                    ),
                    "/json/str" => (
                        "200 OK",
                        format!(r#"{{"host": "127.0.0.1", "port": "{target_port}"}}"#),
                    ),
                    p if p.starts_with("/err/") => ("500 Internal Server Error", "oops".into()),
                    _ => ("404 Not Found", "no".into()),
                };
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    (port, log)
}

#[test]
fn http_token_apis() {
    let echo = echo_target();
    let (api, log) = token_api(echo);
    let base = proxy(&[
        "--token-plugin",
        "BaseTokenAPI",
        "--token-source",
        &format!("http://127.0.0.1:{api}/tok/%s"),
    ]);
    let json = proxy(&[
        "--token-plugin",
        "JSONTokenApi",
        "--token-source",
        &format!("http://127.0.0.1:{api}/json/%s"),
    ]);
    let err = proxy(&[
        "--token-plugin",
        "BaseTokenAPI",
        "--token-source",
        &format!("http://127.0.0.1:{api}/err/%s"),
    ]);
    let down = proxy(&[
        "--token-plugin",
        "BaseTokenAPI",
        "--token-source",
        &format!("http://127.0.0.1:{}/tok/%s", free_port()),
    ]);
    assert_eq!(upgrade(base.port, "/?token=abc", &[]), 101);
    assert_eq!(upgrade(base.port, "/?token=nope", &[]), 404);
    assert_eq!(upgrade(json.port, "/?token=abc", &[]), 101);
    assert_eq!(upgrade(json.port, "/?token=str", &[]), 101);
    assert_eq!(upgrade(json.port, "/?token=nope", &[]), 404);
    // `?token=` wins over the header.
    assert_eq!(
        upgrade(base.port, "/?token=x", &[("X-Rfb-Token", "ignored")]),
        404
    );
    assert_eq!(upgrade(err.port, "/?token=abc", &[]), 503);
    assert_eq!(upgrade(down.port, "/?token=abc", &[]), 503);
    // The token is percent-encoded into the URL.
    assert_eq!(upgrade(base.port, "/?token=a/b%3F", &[]), 404);
    assert!(
        log.lock().unwrap().iter().any(|p| p == "/tok/a%2Fb%253F"),
        "{:?}",
        log.lock().unwrap()
    );
}

#[cfg(unix)]
#[test]
fn unix_socket_directory() {
    let dir = temp_dir("uds");
    let l = std::os::unix::net::UnixListener::bind(dir.join("vm1")).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || echo_stream(s));
        }
    });
    std::fs::write(dir.join("file"), b"not a socket").unwrap();
    let p = proxy(&[
        "--token-plugin",
        "UnixDomainSocketDirectory",
        "--token-source",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(upgrade(p.port, "/?token=vm1", &[]), 101);
    for bad in ["file", "missing", "../vm1", "..%2Fvm1", ".", ".."] {
        assert_eq!(
            upgrade(p.port, &format!("/?token={bad}"), &[]),
            404,
            "{bad}"
        );
    }
}

/// A TokenFile proxy with token `abc` → an echo target, plus `extra` options.
fn file_proxy(extra: &[&str]) -> (Proc, TempDir) {
    let dir = temp_dir("tokfile");
    let file = dir.join("tokens");
    std::fs::write(&file, format!("abc: 127.0.0.1:{}\n", echo_target())).unwrap();
    std::fs::write(dir.join("index.html"), b"<p>hi</p>").unwrap();
    let mut args = vec!["--token-plugin", "TokenFile", "--token-source"];
    let f = file.to_str().unwrap().to_string();
    args.push(&f);
    args.extend_from_slice(extra);
    (proxy(&args), dir)
}

#[test]
fn tokens_from_header_or_cookie() {
    let (p, _dir) = file_proxy(&[]);
    assert_eq!(upgrade(p.port, "/", &[("X-Rfb-Token", "abc")]), 101);
    assert_eq!(
        upgrade(p.port, "/", &[("Cookie", "a=1; token=abc; b=2")]),
        101
    );
    assert_eq!(
        upgrade(p.port, "/", &[("Cookie", "a=1"), ("Cookie", "token=abc")]),
        101
    );
    assert_eq!(upgrade(p.port, "/", &[("X-Rfb-Token", "nope")]), 404);
    assert_eq!(upgrade(p.port, "/", &[("Cookie", "mytoken=abc")]), 400);
    // `?token=` wins, then the header, then the cookie.
    assert_eq!(
        upgrade(p.port, "/?token=nope", &[("X-Rfb-Token", "abc")]),
        404
    );
    assert_eq!(
        upgrade(
            p.port,
            "/",
            &[("X-Rfb-Token", "abc"), ("Cookie", "token=nope")]
        ),
        101
    );
}

fn basic(cred: &str) -> String {
    // Base64 by hand: the test must not lean on the proxy's own decoder.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = cred.as_bytes();
    let mut out = String::from("Basic ");
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn basic_http_auth() {
    assert_eq!(basic("user:pw"), "Basic dXNlcjpwdw==");
    let (p, dir) = file_proxy(&[
        "--auth-plugin",
        "BasicHTTPAuth",
        "--auth-source",
        "user:s3:cret",
    ]);
    let ok = basic("user:s3:cret");
    let r = Client::connect(p.port, "/?token=abc", &[]).err().unwrap();
    assert_eq!(status_of(&r), 401);
    assert!(
        r.contains("WWW-Authenticate: Basic realm=\"Websockify\"\r\n"),
        "{r}"
    );
    assert_eq!(
        upgrade(
            p.port,
            "/?token=abc",
            &[("Authorization", &basic("user:wrong"))]
        ),
        401
    );
    assert_eq!(
        upgrade(p.port, "/?token=abc", &[("Authorization", "Bearer abc")]),
        403
    );
    assert_eq!(
        upgrade(p.port, "/?token=abc", &[("Authorization", "Basic !!")]),
        403
    );
    assert_eq!(
        upgrade(
            p.port,
            "/?token=abc",
            &[("Authorization", &basic("nocolon"))]
        ),
        403
    );
    assert_eq!(
        upgrade(p.port, "/?token=abc", &[("Authorization", &ok)]),
        101
    );
    // As websockify, the token lookup comes first.
    assert_eq!(upgrade(p.port, "/?token=nope", &[]), 404);
    // Without --web-auth plain requests are not checked (405: no --web).
    assert!(http(p.port, "GET", "/", &[]).starts_with("HTTP/1.1 405"));
    drop(p);
    let web = dir.to_str().unwrap().to_string();
    let args = [
        "--auth-plugin",
        "BasicHTTPAuth",
        "--auth-source",
        "user:s3:cret",
    ];
    let (p2, _dir2) = file_proxy(&[&args[..], &["--web", &web, "--web-auth"]].concat());
    let r = http(p2.port, "GET", "/index.html", &[]);
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
    assert!(r.contains("WWW-Authenticate: Basic realm=\"Websockify\""));
    let r = http(p2.port, "GET", "/index.html", &[("Authorization", &ok)]);
    assert!(
        r.starts_with("HTTP/1.1 200") && r.ends_with("<p>hi</p>"),
        "{r}"
    );
    let r = http(p2.port, "HEAD", "/", &[("Authorization", &basic("user:x"))]);
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
    assert_eq!(
        upgrade(p2.port, "/?token=abc", &[("Authorization", &ok)]),
        101
    );
    assert_eq!(upgrade(p2.port, "/?token=abc", &[]), 401);
    let (p3, _dir3) = file_proxy(&["--web", &web]);
    assert!(http(p3.port, "GET", "/", &[]).starts_with("HTTP/1.1 200"));
}

#[test]
fn expect_origin() {
    let origins = "https://desk.example http://127.0.0.1:8080";
    let (p, dir) = file_proxy(&["--auth-plugin", "ExpectOrigin", "--auth-source", origins]);
    let r = Client::connect(p.port, "/?token=abc", &[]).err().unwrap();
    assert!(r.starts_with("HTTP/1.1 403 Invalid Origin"), "{r}");
    assert_eq!(
        upgrade(p.port, "/?token=abc", &[("Origin", "https://evil.example")]),
        403
    );
    assert_eq!(
        upgrade(p.port, "/?token=abc", &[("Origin", "https://desk.example")]),
        101
    );
    assert_eq!(
        upgrade(
            p.port,
            "/?token=abc",
            &[("Origin", "http://127.0.0.1:8080")]
        ),
        101
    );
    let web = dir.to_str().unwrap().to_string();
    let (p2, _dir2) = file_proxy(&[
        "--auth-plugin",
        "ExpectOrigin",
        "--auth-source",
        origins,
        "--web",
        &web,
        "--web-auth",
    ]);
    assert!(http(p2.port, "GET", "/", &[]).starts_with("HTTP/1.1 403 Invalid Origin"));
    let r = http(p2.port, "GET", "/", &[("Origin", "https://desk.example")]);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(http(p.port, "GET", "/", &[]).starts_with("HTTP/1.1 405"));
}

#[test]
fn bad_plugin_options_fail_at_start() {
    for args in [
        &["--token-plugin", "TokenRedis"][..],
        &[
            "--token-plugin",
            "JWTTokenApi",
            "--token-source",
            "/nonexistent/key",
        ],
        &[
            "--token-plugin",
            "BaseTokenAPI",
            "--token-source",
            "http://x/no-placeholder",
        ],
        &[
            "--token-plugin",
            "UnixDomainSocketDirectory",
            "--token-source",
            "/nonexistent",
        ],
        &[
            "--token-plugin",
            "TokenRedis",
            "--token-source",
            "h:1:2:3:4:5",
        ],
        &["--token-plugin", "TokenFileName", "--token-source", "/tmp"],
        &[
            "--auth-plugin",
            "ClientCertCNAuth",
            "--auth-source",
            "x",
            "--unix-target",
            "/x",
        ],
        &["--auth-plugin", "BasicHTTPAuth", "--unix-target", "/x"],
        &["--auth-plugin", "ExpectOrigin", "--unix-target", "/x"],
        &["--web-auth", "--unix-target", "/x"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
            .args(args)
            .arg(format!("127.0.0.1:{}", free_port()))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} started");
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
}
