//! VeNCrypt (19) on scripted servers: the subtype negotiation, Plain, an inner authentication
//! running inside a transform installed mid-handler (a toy XOR "TLS" stands in for rustls,
//! which cli/tests/vencrypt.rs tests against Xvnc), and the refusals that keep a client
//! configured for TLS from ending up without it.

use std::sync::Arc;

use rfb_core::security::{
    TlsConnector, TlsKind, Transform, VeNCryptFactory, VeNCryptSubtype, plain_message,
    vnc_auth_response,
};
use rfb_core::{Config, Credentials, Error, Event, SecurityType};
use rfb_encodings::{Encoding, PixelFormat};
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, script};

const KEY: u8 = 0x5c;

struct Xor;

impl Transform for Xor {
    fn decrypt(
        &mut self,
        input: &[u8],
        plain: &mut Vec<u8>,
        _: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        plain.extend(input.iter().map(|b| b ^ KEY));
        Ok(input.len())
    }
    fn encrypt(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend(plain.iter().map(|b| b ^ KEY));
        Ok(())
    }
}

/// A "TLS" whose first flight is `HELLO` and whose records are XOR.
struct XorTls;

impl TlsConnector for XorTls {
    fn supports(&self, kind: TlsKind) -> bool {
        kind == TlsKind::X509
    }
    fn connect(&self, _: TlsKind, out: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error> {
        out.extend_from_slice(b"HELLO");
        Ok(Box::new(Xor))
    }
}

fn xor(b: &[u8]) -> Vec<u8> {
    b.iter().map(|x| x ^ KEY).collect()
}

fn config() -> Config {
    Config {
        security_types: vec![SecurityType::VeNCrypt],
        encodings: vec![Encoding::Raw],
        ..Config::default()
    }
}

fn subtypes(list: &[u32]) -> Vec<u8> {
    let mut b = vec![list.len() as u8];
    for t in list {
        b.extend_from_slice(&t.to_be_bytes());
    }
    b
}

/// RFB 3.8 up to the VeNCrypt subtype list.
fn opening(list: &[u32]) -> Vec<Step> {
    vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 19]),
        Expect(vec![19]),
        Send(vec![0, 2]),
        Expect(vec![0, 2]),
        Send([vec![0], subtypes(list)].concat()),
    ]
}

fn pair(
    subs: Vec<VeNCryptSubtype>,
    tls: bool,
    steps: Vec<Step>,
    chunk: usize,
    creds: Option<Credentials>,
) -> (Pair, Result<(), Error>) {
    let mut p = Pair::new(config(), steps).chunked(chunk);
    let tls: Option<Arc<dyn TlsConnector>> = tls.then(|| Arc::new(XorTls) as _);
    p.client
        .register_security(Arc::new(VeNCryptFactory::new(subs, tls)));
    let mut r = p.drive();
    if let (Ok(()), Some(c)) = (&r, creds) {
        if p.events
            .iter()
            .any(|e| matches!(e, Event::CredentialsRequired(n) if n.username && n.password))
        {
            r = p.client.supply_credentials(&c).and_then(|()| p.drive());
        }
    }
    (p, r)
}

fn connected(p: &Pair) -> bool {
    p.events.iter().any(|e| matches!(e, Event::Connected(_)))
}

fn after_security(encrypt: bool) -> Vec<Step> {
    let f = |b: Vec<u8>| if encrypt { xor(&b) } else { b };
    let mut steps = vec![
        Send(f(vec![0, 0, 0, 0])),
        Expect(f(vec![1])),
        Send(f(script::server_init(2, 2, &PixelFormat::RGBX8888, "v"))),
    ];
    for s in script::client_setup(2, 2, &config().encodings) {
        steps.push(match s {
            Expect(b) => Expect(f(b)),
            other => other,
        });
    }
    steps
}

#[test]
fn plain_without_tls() {
    for chunk in [usize::MAX, 1] {
        let mut steps = opening(&[262, 256]);
        steps.push(Expect(256u32.to_be_bytes().to_vec()));
        steps.push(Expect(plain_message("user", "pw").unwrap()));
        steps.extend(after_security(false));
        let (p, r) = pair(
            vec![VeNCryptSubtype::X509Plain, VeNCryptSubtype::Plain],
            // No TLS connector: X509Plain cannot be run, so Plain (also listed) is chosen.
            false,
            steps,
            chunk,
            Some(Credentials {
                username: Some("user".into()),
                password: Some("pw".into()),
                target: None,
            }),
        );
        r.unwrap();
        assert!(
            p.server.finished() && connected(&p),
            "chunk {chunk}: {:?}",
            p.events
        );
    }
}

#[test]
fn x509_vnc_runs_inside_the_transform() {
    let challenge: Vec<u8> = (1..=16).collect();
    let response = vnc_auth_response(&challenge.clone().try_into().unwrap(), "secret");
    for chunk in [usize::MAX, 1] {
        let mut steps = opening(&[2, 261]);
        steps.push(Expect(261u32.to_be_bytes().to_vec()));
        // The ack and the first encrypted bytes arrive together: the client must switch to
        // decrypting mid-segment.
        steps.push(Send([vec![1], xor(&challenge)].concat()));
        steps.push(Expect(b"HELLO".to_vec()));
        steps.push(Expect(xor(&response)));
        steps.extend(after_security(true));
        let mut p = Pair::new(config(), steps).chunked(chunk);
        p.client.register_security(Arc::new(VeNCryptFactory::new(
            vec![VeNCryptSubtype::X509Vnc],
            Some(Arc::new(XorTls)),
        )));
        p.drive().unwrap();
        p.client
            .supply_credentials(&Credentials {
                password: Some("secret".into()),
                ..Credentials::default()
            })
            .unwrap();
        p.drive().unwrap();
        assert!(
            p.server.finished(),
            "chunk {chunk}: {:?}",
            p.server.unmatched()
        );
        assert!(connected(&p));
    }
}

#[test]
fn x509_none_goes_straight_to_the_result() {
    let mut steps = opening(&[260]);
    steps.push(Expect(260u32.to_be_bytes().to_vec()));
    steps.push(Send(vec![1]));
    steps.push(Expect(b"HELLO".to_vec()));
    steps.extend(after_security(true));
    let (p, r) = pair(vec![VeNCryptSubtype::X509None], true, steps, 3, None);
    r.unwrap();
    assert!(p.server.finished() && connected(&p));
}

fn fails(steps: Vec<Step>, subs: Vec<VeNCryptSubtype>) -> Error {
    let (_, r) = pair(subs, true, steps, usize::MAX, None);
    r.expect_err("must fail")
}

#[test]
fn refusals_are_typed() {
    let x509 = vec![VeNCryptSubtype::X509Vnc, VeNCryptSubtype::X509None];
    // VeNCrypt 0.1.
    let steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 19]),
        Expect(vec![19]),
        Send(vec![0, 1]),
    ];
    assert!(matches!(fails(steps, x509.clone()), Error::Unsupported(_)));
    // The server refuses our version.
    let mut steps = opening(&[260]);
    steps.truncate(6);
    steps.push(Send(vec![1]));
    assert!(matches!(
        fails(steps, x509.clone()),
        Error::ConnectionRefused { .. }
    ));
    // No subtypes.
    let steps = opening(&[]);
    assert!(matches!(
        fails(steps, x509.clone()),
        Error::ConnectionRefused { .. }
    ));
    // Only subtypes without TLS while TLS is required: never a silent downgrade.
    let e = fails(opening(&[1, 2, 256, 257]), x509.clone());
    assert!(
        matches!(&e, Error::Unsupported(m) if m.contains("no common VeNCrypt subtype")),
        "{e}"
    );
    // The server refuses the chosen TLS subtype.
    let mut steps = opening(&[261]);
    steps.push(Expect(261u32.to_be_bytes().to_vec()));
    steps.push(Send(vec![0]));
    assert!(matches!(
        fails(steps, x509),
        Error::ConnectionRefused { .. }
    ));
}

#[test]
fn truncated_exchanges_wait_without_panicking() {
    let full = {
        let mut b = vec![0, 2, 0];
        b.extend(subtypes(&[261, 262]));
        b
    };
    for cut in 0..full.len() {
        let steps = vec![
            Send(b"RFB 003.008\n".to_vec()),
            Expect(b"RFB 003.008\n".to_vec()),
            Send(vec![1, 19]),
            Expect(vec![19]),
            Send(full[..cut].to_vec()),
        ];
        let (p, r) = pair(vec![VeNCryptSubtype::X509Vnc], true, steps, 1, None);
        r.unwrap();
        assert!(!connected(&p));
    }
}
