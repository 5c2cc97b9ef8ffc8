//! `Verify::Approve` against a real TigerVNC Xvnc (X509Vnc, X509Plain): the TLS handshake
//! completes, VeNCrypt raises `ServerVerification` with the certificate's SHA-256 fingerprint
//! (as `openssl x509 -fingerprint -sha256` prints it) and sends nothing inside TLS until
//! `approve_server`; approving finishes the connection, a driver that never approves sends no
//! credentials. Driven here over a blocking TCP socket, as the browser drives it over a
//! WebSocket.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rfb_core::rfb_encodings::Framebuffer;
use rfb_core::security::{SecurityType, ServerIdentity, VeNCryptFactory, VeNCryptSubtype};
use rfb_core::{Client, Config, Credentials, Error, Event};
use rfb_testkit::tempdir::TempDir;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};
use rfb_tls::{RustlsConnector, TimeProvider, TlsSettings, UnixTime, Verify};

const VNC_PW: &str = "vncpw123";

#[derive(Debug)]
struct Clock;

impl TimeProvider for Clock {
    fn current_time(&self) -> Option<UnixTime> {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(UnixTime::since_unix_epoch)
    }
}

struct Counter(u64);

impl rand_core::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1);
        self.0
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        for b in d {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(d);
        Ok(())
    }
}

/// A CA and a server certificate for 127.0.0.1 it signed, as PEM files.
fn pki(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "rfb approve CA");
    let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
    let mut p = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "rfb approve server");
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca).unwrap();
    fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

/// `openssl x509 -fingerprint -sha256`, in the lower-case form the client reports.
fn openssl_fingerprint(pem: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .expect("openssl");
    let s = String::from_utf8_lossy(&out.stdout);
    s.trim()
        .rsplit('=')
        .next()
        .expect("a fingerprint")
        .to_ascii_lowercase()
}

/// A fresh directory for one test's certificate, removed when the test passes.
fn tmp(name: &str) -> TempDir {
    TempDir::new(&format!("tls-approve-{name}"))
}

fn server(types: &str, dir: &Path) -> Option<Xvnc> {
    Xvnc::start_or_skip(
        XvncOptions::new(160, 100)
            .vnc_auth(VNC_PW)
            .arg("-SecurityTypes")
            .arg(types)
            .arg("-X509Cert")
            .arg(dir.join("cert.pem").display().to_string())
            .arg("-X509Key")
            .arg(dir.join("key.pem").display().to_string()),
    )
}

struct Conn {
    client: Client,
    sock: TcpStream,
    inbuf: Vec<u8>,
    fb: Framebuffer,
    /// Every byte written to the server.
    sent: usize,
}

impl Conn {
    fn open(addr: &str, subtype: VeNCryptSubtype) -> Self {
        let config = Config {
            security_types: vec![SecurityType::VeNCrypt],
            ..Default::default()
        };
        let mut client = Client::new(config, Duration::ZERO, Box::new(Counter(7)));
        let tls = RustlsConnector::new(TlsSettings {
            server_name: "127.0.0.1".into(),
            verify: Verify::Approve,
            time: Arc::new(Clock),
        })
        .unwrap();
        client.register_security(Arc::new(VeNCryptFactory::new(
            vec![subtype],
            Some(Arc::new(tls)),
        )));
        let sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Self {
            client,
            sock,
            inbuf: Vec::new(),
            fb: Framebuffer::default(),
            sent: 0,
        }
    }

    fn flush(&mut self) {
        while let Some(b) = self.client.poll_transmit() {
            self.sent += b.len();
            self.sock.write_all(&b).unwrap();
        }
    }

    fn feed(&mut self) -> Result<(), Error> {
        let n = self.client.handle_input(&self.inbuf, &mut self.fb)?;
        self.inbuf.drain(..n);
        self.flush();
        Ok(())
    }

    /// Reads until an event matching `want` arrives (events before it are dropped).
    fn until(&mut self, want: impl Fn(&Event) -> bool) -> Event {
        loop {
            while let Some(ev) = self.client.poll_event() {
                if want(&ev) {
                    return ev;
                }
                if let Event::Disconnected { reason } = &ev {
                    panic!("disconnected: {reason}");
                }
            }
            let mut buf = [0u8; 16384];
            let n = self.sock.read(&mut buf).expect("read");
            assert!(n > 0, "the server closed the connection");
            self.inbuf.extend_from_slice(&buf[..n]);
            self.feed().expect("handle_input");
        }
    }
}

fn x509_fingerprint(ev: &Event) -> String {
    match ev {
        Event::ServerVerification(ServerIdentity::X509 {
            fingerprint,
            subject,
            issuer,
            ..
        }) => {
            assert_eq!(subject.as_deref(), Some("CN=rfb approve server"));
            assert_eq!(issuer.as_deref(), Some("CN=rfb approve CA"));
            fingerprint.clone()
        }
        other => panic!("not a server verification: {other:?}"),
    }
}

#[test]
fn unverified_certificate_pauses_until_approved() {
    let dir = tmp("vnc");
    pki(&dir);
    let Some(x) = server("X509Vnc", &dir) else {
        return;
    };
    let want = openssl_fingerprint(&dir.join("cert.pem"));
    let mut c = Conn::open(&x.addr(), VeNCryptSubtype::X509Vnc);
    c.flush();
    let ev = c.until(|e| matches!(e, Event::ServerVerification(_)));
    assert_eq!(x509_fingerprint(&ev), want);
    // Credentials before approval are misuse, not a way around it.
    assert!(matches!(
        c.client.supply_credentials(&Credentials::default()),
        Err(Error::ApiMisuse(_))
    ));
    c.client.approve_server().unwrap();
    c.feed().unwrap();
    c.until(|e| matches!(e, Event::CredentialsRequired(_)));
    c.client
        .supply_credentials(&Credentials {
            password: Some(VNC_PW.into()),
            ..Default::default()
        })
        .unwrap();
    c.feed().unwrap();
    let ev = c.until(|e| matches!(e, Event::Connected(_)));
    let Event::Connected(info) = ev else {
        unreachable!()
    };
    assert_eq!((info.width, info.height), (160, 100));
    drop(x);
}

#[test]
fn nothing_inside_tls_is_sent_before_approval() {
    let dir = tmp("held");
    pki(&dir);
    let Some(x) = server("X509Vnc", &dir) else {
        return;
    };
    let mut c = Conn::open(&x.addr(), VeNCryptSubtype::X509Vnc);
    c.flush();
    c.until(|e| matches!(e, Event::ServerVerification(_)));
    // The server sends the VNC challenge once our Finished arrives, so it comes in a later
    // read: the client takes it in and answers nothing.
    let before = c.sent;
    let mut buf = [0u8; 4096];
    let n = c.sock.read(&mut buf).expect("the challenge");
    assert!(n > 0);
    c.inbuf.extend_from_slice(&buf[..n]);
    c.feed().unwrap();
    assert_eq!(c.sent, before, "bytes went out before approval");
    assert!(c.client.poll_event().is_none());
    // Approval, then the held challenge is answered without reading anything more.
    c.client.approve_server().unwrap();
    assert!(matches!(
        c.client.approve_server(),
        Err(Error::ApiMisuse(_))
    ));
    c.feed().unwrap();
    c.client
        .supply_credentials(&Credentials {
            password: Some(VNC_PW.into()),
            ..Default::default()
        })
        .unwrap();
    c.feed().unwrap();
    assert!(c.sent > before, "the held challenge was not answered");
    c.until(|e| matches!(e, Event::Connected(_)));
    drop(x);
}
