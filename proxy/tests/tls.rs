//! rfb-proxy with TLS on loopback: certificates made here with rcgen, wss and ws on one port,
//! `--ssl-only`, bad certificate files, `--ssl-target` to a TLS echo target, and certificate
//! reload while a session stays open.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rfb_testkit::harness::TestRng;
use rfb_testkit::net::{free_port, wait_for_port};
use rfb_ws::{CloseCode, HeadLimits, Limits, Role, WsConnection, WsEvent};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{
    self, ClientConfig, ClientConnection, ProtocolVersion, RootCertStore, ServerConfig,
    ServerConnection, StreamOwned,
};

// ---- certificates ----

/// A CA that signs server certificates.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate and its key, PEM and DER.
struct Leaf {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        Self {
            issuer: CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    fn leaf(&self, cn: &str) -> Leaf {
        let mut p =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(ca: &Ca, version: &'static rustls::SupportedProtocolVersion) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.der()).unwrap();
    Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A scratch directory, removed on drop unless the test failed (then it stays for a look).
struct TempDir(rfb_testkit::tempdir::TempDir);

impl TempDir {
    fn new(name: &str) -> Self {
        Self(rfb_testkit::tempdir::TempDir::new(&format!(
            "proxy-tls-{name}"
        )))
    }

    /// Writes `name` atomically (temporary file, then rename), as a deployment tool would.
    fn write(&self, name: &str, text: &str) -> String {
        let tmp = self.0.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        let path = self.0.join(name);
        std::fs::rename(&tmp, &path).unwrap();
        path.to_str().unwrap().to_string()
    }
}

// ---- processes and targets ----

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

/// A TCP echo server on a thread; returns its port.
fn echo_target() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || echo(s));
        }
    });
    port
}

fn echo<S: Read + Write>(mut s: S) {
    let mut buf = [0u8; 65536];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || s.write_all(&buf[..n]).is_err() || s.flush().is_err() {
            break;
        }
    }
}

/// A TLS echo server (rustls, blocking) with `leaf` as its certificate; returns its port.
fn tls_echo_target(leaf: &Leaf) -> u16 {
    let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap();
    let config = Arc::new(
        ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der.clone()], key)
            .unwrap(),
    );
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = ServerConnection::new(config).unwrap();
                echo(StreamOwned::new(conn, s));
            });
        }
    });
    port
}

// ---- clients ----

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

fn tcp(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// A finished TLS handshake to the proxy, or the handshake error.
fn tls(port: u16, config: Arc<ClientConfig>) -> Result<TlsStream, String> {
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(config, name).unwrap();
    let mut sock = tcp(port);
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    Ok(StreamOwned::new(conn, sock))
}

fn peer_cert(s: &TlsStream) -> CertificateDer<'static> {
    s.conn.peer_certificates().unwrap()[0].clone().into_owned()
}

/// A blocking WebSocket client over rfb-ws, on any byte stream.
struct Client<S> {
    s: S,
    ws: WsConnection,
    buf: Vec<u8>,
}

impl<S: Read + Write> Client<S> {
    fn upgrade(mut s: S, path: &str) -> Result<Self, String> {
        let key = rfb_ws::client_key([7; 16]);
        s.write_all(&rfb_ws::client_request(
            "127.0.0.1",
            path,
            &key,
            &["binary"],
        ))
        .map_err(|e| e.to_string())?;
        s.flush().map_err(|e| e.to_string())?;
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
        self.s.flush().unwrap();
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

    /// Sends payloads of several sizes and checks each comes back byte-exact.
    fn echo_check(&mut self, sizes: &[usize]) {
        let mut seed = 0x9e37_79b9u32;
        for &size in sizes {
            let payload: Vec<u8> = (0..size)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            self.ws.send_binary(&payload);
            self.flush();
            let (got, close) = self.read_data(size);
            assert!(close.is_none(), "closed: {close:?}");
            assert!(got == payload, "payload of {size} bytes differs");
        }
    }
}

const SIZES: &[usize] = &[1, 125, 126, 65535, 65536, 200_000, 1 << 20];

// ---- tests ----

#[test]
fn wss_and_ws_share_the_port_tls12_and_tls13() {
    let dir = TempDir::new("share");
    let ca = Ca::new("rfb test CA");
    let leaf = ca.leaf("proxy one");
    // websockify's self.pem: certificate and key in one file.
    let combined = dir.write("self.pem", &format!("{}{}", leaf.cert_pem, leaf.key_pem));
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--cert", &combined],
    );

    for (version, want) in [
        (&rustls::version::TLS13, ProtocolVersion::TLSv1_3),
        (&rustls::version::TLS12, ProtocolVersion::TLSv1_2),
    ] {
        let s = tls(p.port, client_config(&ca, version)).unwrap();
        assert_eq!(s.conn.protocol_version(), Some(want));
        assert_eq!(peer_cert(&s), leaf.der);
        let mut c = Client::upgrade(s, "/websockify").unwrap();
        c.echo_check(SIZES);
        c.ws.send_close(CloseCode::Normal, "bye");
        c.flush();
        let (_, close) = c.read_data(usize::MAX);
        assert_eq!(close.map(|c| c.0), Some(Some(CloseCode::Normal)));
    }

    // A client that does not trust the CA fails its handshake; nothing else is affected.
    let stranger = Ca::new("someone else");
    let err = tls(p.port, client_config(&stranger, &rustls::version::TLS13)).unwrap_err();
    assert!(
        err.contains("certificate") || err.contains("Unknown"),
        "{err}"
    );
    // Garbage that starts like a TLS record: the proxy just closes that connection.
    let mut g = tcp(p.port);
    g.write_all(b"\x16\x03\x01\x00\x05hello, not TLS at all")
        .unwrap();
    let mut rest = Vec::new();
    let _ = g.read_to_end(&mut rest);
    assert!(!String::from_utf8_lossy(&rest).contains("HTTP/1.1 101"));

    // Plain ws on the same port, without --ssl-only.
    let mut c = Client::upgrade(tcp(p.port), "/websockify").unwrap();
    c.echo_check(SIZES);
    // And TLS still works after all that.
    let s = tls(p.port, client_config(&ca, &rustls::version::TLS13)).unwrap();
    Client::upgrade(s, "/").unwrap().echo_check(&[1000]);
}

#[test]
fn ssl_only_refuses_plain_with_a_400() {
    let dir = TempDir::new("only");
    let ca = Ca::new("rfb test CA");
    let leaf = ca.leaf("proxy only");
    let cert = dir.write("cert.pem", &leaf.cert_pem);
    let key = dir.write("key.pem", &leaf.key_pem);
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--cert", &cert, "--key", &key, "--ssl-only"],
    );
    let mut s = tcp(p.port);
    s.write_all(
        rfb_ws::client_request("127.0.0.1", "/", "dGhlIHNhbXBsZSBub25jZQ==", &[]).as_slice(),
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    assert!(out.contains("TLS"), "{out}");
    // Plain ws cannot upgrade; wss can.
    assert!(Client::upgrade(tcp(p.port), "/").is_err());
    let s = tls(p.port, client_config(&ca, &rustls::version::TLS13)).unwrap();
    Client::upgrade(s, "/").unwrap().echo_check(SIZES);
}

/// Runs the proxy expecting it to fail at start; returns its stderr.
fn start_failure(args: &[&str]) -> String {
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
        .args(args)
        .arg(format!("127.0.0.1:{port}"))
        .arg("127.0.0.1:1")
        .stdin(Stdio::null())
        .output()
        .expect("run rfb-proxy");
    assert!(!out.status.success(), "{args:?} started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_certificate_files_exit_non_zero_naming_the_file() {
    let dir = TempDir::new("bad");
    let ca = Ca::new("rfb test CA");
    let leaf = ca.leaf("proxy bad");
    let other = ca.leaf("other key");
    let missing = dir.0.join("nope.pem");
    let missing = missing.to_str().unwrap();
    let junk = dir.write("junk.pem", "-----BEGIN CERTIFICATE-----\n%%%%\n");
    let cert_only = dir.write("cert.pem", &leaf.cert_pem);
    let wrong_key = dir.write("wrong-key.pem", &other.key_pem);
    let cases: [(Vec<&str>, &str); 5] = [
        (vec!["--cert", missing], "nope.pem"),
        (vec!["--cert", &junk], "junk.pem"),
        (vec!["--cert", &cert_only], "give --key"),
        (vec!["--cert", &cert_only, "--key", missing], "nope.pem"),
        (
            vec!["--cert", &cert_only, "--key", &wrong_key],
            "wrong-key.pem",
        ),
    ];
    for (args, want) in cases {
        let err = start_failure(&args);
        let lines: Vec<&str> = err.lines().filter(|l| l.contains("rfb-proxy:")).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
        assert!(lines[0].contains(want), "{args:?}: {err}");
    }
    let err = start_failure(&["--ssl-only"]);
    assert!(err.contains("--cert"), "{err}");
    let err = start_failure(&["--ssl-target", "--ssl-target-ca", missing]);
    assert!(err.contains("nope.pem"), "{err}");
}

#[test]
fn ssl_target_with_extra_ca_and_insecure() {
    let dir = TempDir::new("target");
    let target_ca = Ca::new("self-signed VNC server CA");
    let target = tls_echo_target(&target_ca.leaf("vnc server"));
    let ca_file = dir.write("target-ca.pem", &target_ca.pem());
    let addr = format!("127.0.0.1:{target}");

    // Verified against the extra CA (IP address checked against the certificate).
    let p = proxy_to(&addr, &["--ssl-target", "--ssl-target-ca", &ca_file]);
    let mut c = Client::upgrade(tcp(p.port), "/websockify").unwrap();
    c.echo_check(SIZES);
    drop(p);

    // Without that CA the target is not trusted: 101, then close 1011.
    let p = proxy_to(&addr, &["--ssl-target"]);
    let mut c = Client::upgrade(tcp(p.port), "/websockify").unwrap();
    let (_, close) = c.read_data(usize::MAX);
    assert_eq!(close.map(|c| c.0), Some(Some(CloseCode::Internal)));
    drop(p);

    // --ssl-target-insecure skips verification.
    let p = proxy_to(&addr, &["--ssl-target", "--ssl-target-insecure"]);
    let mut c = Client::upgrade(tcp(p.port), "/").unwrap();
    c.echo_check(&[1, 70_000]);
}

/// New connections get a new certificate once the files change; invalid new files leave the
/// last good one in service; an open session is not disturbed.
#[test]
fn certificates_reload_while_sessions_stay_open() {
    let dir = TempDir::new("reload");
    let ca = Ca::new("rfb test CA");
    let first = ca.leaf("first");
    let second = ca.leaf("second");
    let cert = dir.write("cert.pem", &first.cert_pem);
    let key = dir.write("key.pem", &first.key_pem);
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--cert", &cert, "--key", &key],
    );
    let config = client_config(&ca, &rustls::version::TLS13);
    let s = tls(p.port, config.clone()).unwrap();
    assert_eq!(peer_cert(&s), first.der);
    let mut open = Client::upgrade(s, "/").unwrap();
    open.echo_check(&[1000]);

    // Key first, then certificate: in between the pair does not match and is not loaded.
    dir.write("key.pem", &second.key_pem);
    dir.write("cert.pem", &second.cert_pem);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = tls(p.port, config.clone()).unwrap();
        if peer_cert(&s) == second.der {
            Client::upgrade(s, "/").unwrap().echo_check(&[1000]);
            break;
        }
        assert!(Instant::now() < deadline, "new certificate never served");
        std::thread::sleep(Duration::from_millis(200));
    }
    open.echo_check(SIZES);

    // Broken files: the second certificate stays in service.
    dir.write("cert.pem", "-----BEGIN CERTIFICATE-----\n%%%%\n");
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..3 {
        let s = tls(p.port, config.clone()).unwrap();
        assert_eq!(peer_cert(&s), second.der);
        std::thread::sleep(Duration::from_millis(400));
    }
    open.echo_check(&[5000]);
    // Fixed again: served again (same certificate, the files changed once more).
    dir.write("cert.pem", &second.cert_pem);
    let s = tls(p.port, config).unwrap();
    Client::upgrade(s, "/").unwrap().echo_check(&[10]);
}

/// With --cert, a client that sends nothing is closed after the head timeout (10 s), and
/// the port keeps serving meanwhile.
#[test]
fn silent_client_is_closed_after_the_head_timeout() {
    let dir = TempDir::new("silent");
    let ca = Ca::new("rfb test CA");
    let leaf = ca.leaf("proxy silent");
    let cert = dir.write("cert.pem", &leaf.cert_pem);
    let key = dir.write("key.pem", &leaf.key_pem);
    let p = proxy_to(
        &format!("127.0.0.1:{}", echo_target()),
        &["--cert", &cert, "--key", &key],
    );
    let started = Instant::now();
    let mut silent = tcp(p.port);
    let s = tls(p.port, client_config(&ca, &rustls::version::TLS13)).unwrap();
    Client::upgrade(s, "/").unwrap().echo_check(&[100]);
    let mut rest = Vec::new();
    let n = silent.read_to_end(&mut rest).unwrap();
    assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(&rest));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(19),
        "closed after {waited:?}"
    );
}
