//! VeNCrypt with a connector that leaves trust to the application (`connect_with_status`, as
//! rfb-tls's `Verify::Approve` does): the inner authentication waits for the handshake, an
//! unverified certificate is raised as `ServerVerification`, and nothing is sent inside the
//! transform (no credentials, no VNC response) until `approve_server`. A toy "TLS" (handshake
//! `HELLO`/`WORLD`, then XOR records) stands in for rustls, which
//! crates/rfb-tls/tests/approve_xvnc.rs runs against Xvnc.

use std::sync::{Arc, Mutex};

use rfb_core::security::{
    ServerIdentity, TlsConnector, TlsKind, TlsSession, TlsStatus, Transform, VeNCryptFactory,
    VeNCryptSubtype, vnc_auth_response,
};
use rfb_core::{Config, Credentials, Error, Event, SecurityType};
use rfb_encodings::{Encoding, PixelFormat};
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, script};

const KEY: u8 = 0x3a;
const FINGERPRINT: &str = "01:02:03";

#[derive(Default)]
struct State {
    established: bool,
    approved: bool,
}

#[derive(Default)]
struct Status(Mutex<State>);

impl TlsStatus for Status {
    fn established(&self) -> bool {
        self.0.lock().unwrap().established
    }
    fn unverified(&self) -> Option<ServerIdentity> {
        let s = self.0.lock().unwrap();
        (s.established && !s.approved).then(|| ServerIdentity::X509 {
            fingerprint: FINGERPRINT.into(),
            subject: Some("CN=toy".into()),
            issuer: None,
            reason: "nothing configured".into(),
        })
    }
    fn approve(&self) {
        self.0.lock().unwrap().approved = true;
    }
}

/// Waits for `WORLD` (the handshake), then XOR; holds plaintext until approved.
struct Toy {
    status: Arc<Status>,
    greeting: Vec<u8>,
    held: Vec<u8>,
}

impl Transform for Toy {
    fn decrypt(
        &mut self,
        input: &[u8],
        plain: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        let mut rest = input;
        while !self.status.established() {
            let Some((&b, more)) = rest.split_first() else {
                return Ok(input.len());
            };
            self.greeting.push(b);
            rest = more;
            if self.greeting == b"WORLD" {
                self.status.0.lock().unwrap().established = true;
            }
        }
        plain.extend(rest.iter().map(|b| b ^ KEY));
        self.encrypt(&[], out)?;
        Ok(input.len())
    }
    fn encrypt(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.held.extend_from_slice(plain);
        if self.status.0.lock().unwrap().approved {
            out.extend(self.held.drain(..).map(|b| b ^ KEY));
        }
        Ok(())
    }
}

struct ToyTls;

impl TlsConnector for ToyTls {
    fn supports(&self, kind: TlsKind) -> bool {
        kind == TlsKind::X509
    }
    fn connect(&self, kind: TlsKind, out: &mut Vec<u8>) -> Result<Box<dyn Transform>, Error> {
        self.connect_with_status(kind, out).map(|(t, _)| t)
    }
    fn connect_with_status(&self, _: TlsKind, out: &mut Vec<u8>) -> Result<TlsSession, Error> {
        out.extend_from_slice(b"HELLO");
        let status = Arc::new(Status::default());
        let t = Toy {
            status: status.clone(),
            greeting: Vec::new(),
            held: Vec::new(),
        };
        Ok((Box::new(t), Some(status)))
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

const CHALLENGE: [u8; 16] = *b"0123456789abcdef";

/// RFB 3.8, VeNCrypt X509Vnc through the toy handshake; the server sends its VNC challenge
/// right after the handshake, as Xvnc does.
fn script_x509vnc() -> Vec<Step> {
    let mut steps = vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![1, 19]),
        Expect(vec![19]),
        Send(vec![0, 2]),
        Expect(vec![0, 2]),
        Send(vec![0, 1, 0, 0, 1, 5]),
        Expect(261u32.to_be_bytes().to_vec()),
        Send(vec![1]),
        Expect(b"HELLO".to_vec()),
        Send([b"WORLD".to_vec(), xor(&CHALLENGE)].concat()),
        Expect(xor(&vnc_auth_response(&CHALLENGE, "pw"))),
        Send(xor(&[0, 0, 0, 0])),
        Expect(xor(&[1])),
        Send(xor(&script::server_init(2, 2, &PixelFormat::RGBX8888, "v"))),
    ];
    for s in script::client_setup(2, 2, &config().encodings) {
        steps.push(match s {
            Expect(b) => Expect(xor(&b)),
            other => other,
        });
    }
    steps
}

fn pair(chunk: usize) -> Pair {
    let mut p = Pair::new(config(), script_x509vnc()).chunked(chunk);
    p.client.register_security(Arc::new(VeNCryptFactory::new(
        vec![VeNCryptSubtype::X509Vnc],
        Some(Arc::new(ToyTls)),
    )));
    p
}

/// Approves, then hands the client an empty slice: plaintext the server sent while it waited
/// is inside the client (the driver's part, as documented on `approve_server`).
fn approve(p: &mut Pair) -> Result<(), Error> {
    p.client.approve_server()?;
    p.client.handle_input(&[], &mut p.fb)?;
    p.drive()
}

fn password() -> Credentials {
    Credentials {
        password: Some("pw".into()),
        ..Default::default()
    }
}

#[test]
fn waits_for_approval_then_authenticates() {
    for chunk in [usize::MAX, 1] {
        let mut p = pair(chunk);
        p.drive().unwrap();
        let verifications: Vec<_> = p
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ServerVerification(ServerIdentity::X509 { fingerprint, .. }) => {
                    Some(fingerprint.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(verifications, [FINGERPRINT], "chunk {chunk}");
        assert!(
            !p.events
                .iter()
                .any(|e| matches!(e, Event::CredentialsRequired(_))),
            "chunk {chunk}: credentials asked before approval"
        );
        // The challenge arrived; nothing answers it, and credentials are refused for now.
        assert!(!p.server.finished());
        assert!(
            p.server.unmatched().is_empty(),
            "chunk {chunk}: sent before approval"
        );
        assert!(matches!(
            p.client.supply_credentials(&password()),
            Err(Error::ApiMisuse(_))
        ));
        p.drive().unwrap();
        assert!(!p.client.is_connected());

        approve(&mut p).unwrap();
        assert!(
            p.events
                .iter()
                .any(|e| matches!(e, Event::CredentialsRequired(n) if n.password)),
            "chunk {chunk}"
        );
        p.client.supply_credentials(&password()).unwrap();
        p.drive().unwrap();
        assert!(p.client.is_connected(), "chunk {chunk}: {:?}", p.client);
        assert!(p.server.finished(), "chunk {chunk}");
    }
}

#[test]
fn approval_out_of_turn_is_misuse_and_harmless() {
    let mut p = pair(usize::MAX);
    // Before anything: no handler at all.
    assert!(matches!(
        p.client.approve_server(),
        Err(Error::ApiMisuse(_))
    ));
    p.drive().unwrap();
    approve(&mut p).unwrap();
    // A second approval is misuse; the connection goes on regardless.
    assert!(matches!(
        p.client.approve_server(),
        Err(Error::ApiMisuse(_))
    ));
    p.drive().unwrap();
    p.client.supply_credentials(&password()).unwrap();
    p.drive().unwrap();
    assert!(p.client.is_connected());
}

#[test]
fn a_flood_while_waiting_for_approval_is_a_limit_error() {
    let mut steps = script_x509vnc();
    // The handshake, then far more than a challenge before anyone approved anything.
    steps.truncate(10);
    steps.push(Send(
        [b"WORLD".to_vec(), xor(&vec![7; 100 * 1024])].concat(),
    ));
    let mut p = Pair::new(config(), steps);
    p.client.register_security(Arc::new(VeNCryptFactory::new(
        vec![VeNCryptSubtype::X509Vnc],
        Some(Arc::new(ToyTls)),
    )));
    let r = p.drive();
    assert!(matches!(r, Err(Error::LimitExceeded { .. })), "{r:?}");
}

#[test]
fn rejecting_the_certificate_is_a_typed_error_with_its_fingerprint() {
    let mut p = pair(usize::MAX);
    p.drive().unwrap();
    let e = p.client.reject_server().unwrap_err();
    assert_eq!(
        e,
        Error::CertificateRejected {
            reason: "the application did not approve it".into(),
            fingerprint: FINGERPRINT.into(),
        }
    );
    // Sticky, and nothing (no VNC response) went out inside the transform.
    assert_eq!(p.client.error(), Some(&e));
    assert!(p.client.supply_credentials(&password()).is_err());
    assert!(!p.server.finished());
}
