//! rfb-tls on its own: settings are checked up front, the first flight is a TLS ClientHello,
//! anonymous TLS is refused by the rustls connector, and a server that answers with garbage
//! or with an untrusted certificate ends in a typed error. (cli/tests/vencrypt.rs runs the
//! full handshake against Xvnc.)

use std::sync::Arc;

use rfb_core::Error;
use rfb_core::security::{TlsConnector, TlsKind};
use rfb_tls::{RustlsConnector, TimeProvider, TlsSettings, UnixTime, Verify, ca_from_pem};

#[derive(Debug)]
struct Fixed;

impl TimeProvider for Fixed {
    fn current_time(&self) -> Option<UnixTime> {
        // 2026-11-25: certificates made by rcgen now are valid then.
        Some(UnixTime::since_unix_epoch(core::time::Duration::from_secs(
            1_795_000_000,
        )))
    }
}

fn settings(name: &str, verify: Verify) -> TlsSettings {
    TlsSettings {
        server_name: name.into(),
        verify,
        time: Arc::new(Fixed),
    }
}

#[test]
fn bad_settings_fail_early() {
    assert!(matches!(
        RustlsConnector::new(settings("not a name!", Verify::AskUser)),
        Err(Error::Tls { .. })
    ));
    assert!(matches!(
        ca_from_pem(b"no pem here"),
        Err(Error::Tls { .. })
    ));
    let ca = rcgen::generate_simple_self_signed(vec!["ca".into()]).unwrap();
    let certs = ca_from_pem(ca.cert.pem().as_bytes()).unwrap();
    assert_eq!(certs.len(), 1);
    assert!(RustlsConnector::new(settings("127.0.0.1", Verify::Ca(certs))).is_ok());
}

#[test]
fn client_hello_then_typed_errors() {
    let c = RustlsConnector::new(settings("localhost", Verify::AskUser)).unwrap();
    assert!(c.supports(TlsKind::X509));
    assert!(!c.supports(TlsKind::Anonymous));
    let mut out = Vec::new();
    assert!(matches!(
        c.connect(TlsKind::Anonymous, &mut out),
        Err(Error::Unsupported(_))
    ));
    let mut t = c.connect(TlsKind::X509, &mut out).unwrap();
    // A handshake record (22), TLS 1.0-1.2 record version, a ClientHello (1).
    assert_eq!(out[0], 22);
    assert_eq!(out[1], 3);
    assert_eq!(out[5], 1);
    // Plaintext queued before the handshake is not sent in clear.
    let mut wire = Vec::new();
    t.encrypt(b"secret credentials", &mut wire).unwrap();
    assert!(!wire.windows(6).any(|w| w == b"secret"));
    // A server that answers with non-TLS bytes: a TLS error, not a panic.
    let mut plain = Vec::new();
    let r = t.decrypt(b"RFB 003.008\nthis is not TLS", &mut plain, &mut wire);
    assert!(matches!(r, Err(Error::Tls { .. })), "{r:?}");
    assert!(plain.is_empty());
}
