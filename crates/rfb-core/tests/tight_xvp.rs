//! Tight security (16) and xvp (22) on scripted servers built from the spec's descriptions
//! (cli/tests/tight.rs runs Tight against Xtightvnc; no xvp server is installable, so xvp is
//! checked here only).

use rfb_core::security::{vnc_auth_response, xvp_header};
use rfb_core::{Config, Credentials, Error, Event, SecurityType};
use rfb_encodings::{Encoding, PixelFormat};
use rfb_testkit::harness::Step::{self, *};
use rfb_testkit::harness::{Pair, script};

fn config(t: SecurityType) -> Config {
    Config {
        security_types: vec![t],
        encodings: vec![Encoding::Raw],
        ..Config::default()
    }
}

fn cap(code: i32, vendor: &[u8; 4], sig: &[u8; 8]) -> Vec<u8> {
    [&code.to_be_bytes()[..], vendor, sig].concat()
}

fn caps(list: &[Vec<u8>]) -> Vec<u8> {
    let mut b = (list.len() as u32).to_be_bytes().to_vec();
    for c in list {
        b.extend_from_slice(c);
    }
    b
}

fn opening(t: u8) -> Vec<Step> {
    vec![
        Send(b"RFB 003.008\n".to_vec()),
        Expect(b"RFB 003.008\n".to_vec()),
        Send(vec![2, 2, t]),
        Expect(vec![t]),
    ]
}

/// SecurityResult ok, then ServerInit (with `tail` after the name) and the client's setup.
fn finish(t: SecurityType, tail: Vec<u8>) -> Vec<Step> {
    let mut init = script::server_init(4, 4, &PixelFormat::RGBX8888, "t");
    init.extend(tail);
    let mut steps = vec![Send(vec![0, 0, 0, 0]), Expect(vec![1]), Send(init)];
    steps.extend(script::client_setup(4, 4, &config(t).encodings));
    steps
}

fn drive(t: SecurityType, steps: Vec<Step>, chunk: usize, c: Option<Credentials>) -> Pair {
    let mut p = Pair::new(config(t), steps).chunked(chunk);
    p.drive().unwrap();
    if let Some(c) = c {
        p.client.supply_credentials(&c).unwrap();
        p.drive().unwrap();
    }
    p
}

fn connected(p: &Pair) -> bool {
    p.events.iter().any(|e| matches!(e, Event::Connected(_)))
}

fn tight_vnc_steps(tunnels: Vec<Vec<u8>>, ext: Vec<u8>) -> Vec<Step> {
    let challenge = [9u8; 16];
    let mut steps = opening(16);
    let sends_tunnel = !tunnels.is_empty();
    steps.push(Send(caps(&tunnels)));
    if sends_tunnel {
        steps.push(Expect(vec![0, 0, 0, 0]));
    }
    steps.push(Send(caps(&[
        cap(130, b"TGHT", b"XTRNAUTH"),
        cap(2, b"STDV", b"VNCAUTH_"),
    ])));
    steps.push(Expect(vec![0, 0, 0, 2]));
    steps.push(Send(challenge.to_vec()));
    steps.push(Expect(vnc_auth_response(&challenge, "pw").to_vec()));
    steps.extend(finish(SecurityType::Tight, ext));
    steps
}

#[test]
fn tight_with_and_without_tunnel_list() {
    // Interaction capabilities: 1 server message, 0 client messages, 2 encodings.
    let mut ext = vec![0, 1, 0, 0, 0, 2, 0, 0];
    ext.extend(cap(150, b"TGHT", b"CUS_EOCU"));
    ext.extend(cap(5, b"TGHT", b"TIGHT___"));
    ext.extend(cap(-32, b"TGHT", b"NEWFBSIZ"));
    for chunk in [usize::MAX, 1] {
        for tunnels in [vec![], vec![cap(0, b"TGHT", b"NOTUNNEL")]] {
            let steps = tight_vnc_steps(tunnels, ext.clone());
            let p = drive(
                SecurityType::Tight,
                steps,
                chunk,
                Some(Credentials {
                    password: Some("pw".into()),
                    ..Credentials::default()
                }),
            );
            assert!(
                p.server.finished(),
                "chunk {chunk}: {:?}",
                p.server.unmatched()
            );
            assert!(connected(&p));
        }
    }
}

#[test]
fn tight_refusals() {
    let run = |steps: Vec<Step>| {
        let mut p = Pair::new(config(SecurityType::Tight), steps);
        p.drive()
    };
    // An unknown tunnel only.
    let mut steps = opening(16);
    steps.push(Send(caps(&[cap(1, b"XXXX", b"SOMETUNL")])));
    assert!(matches!(run(steps), Err(Error::Unsupported(_))));
    // A NOTUNNEL code with the wrong signature does not count.
    let mut steps = opening(16);
    steps.push(Send(caps(&[cap(0, b"TGHT", b"NOTUNNEX")])));
    assert!(matches!(run(steps), Err(Error::Unsupported(_))));
    // No usable authentication.
    let mut steps = opening(16);
    steps.push(Send(caps(&[])));
    steps.push(Send(caps(&[cap(130, b"TGHT", b"XTRNAUTH")])));
    assert!(matches!(run(steps), Err(Error::Unsupported(_))));
    // A huge count is a limit error before anything is waited for.
    let mut steps = opening(16);
    steps.push(Send(vec![0xff, 0xff, 0xff, 0xff]));
    assert!(matches!(run(steps), Err(Error::LimitExceeded { .. })));
}

#[test]
fn xvp_sends_user_and_target_then_vnc_auth() {
    let challenge = [3u8; 16];
    for chunk in [usize::MAX, 1] {
        let mut steps = opening(22);
        steps.push(Expect(xvp_header("root", "vm1").unwrap()));
        steps.push(Send(challenge.to_vec()));
        steps.push(Expect(vnc_auth_response(&challenge, "xvppw").to_vec()));
        steps.extend(finish(SecurityType::Xvp, vec![]));
        let p = drive(
            SecurityType::Xvp,
            steps,
            chunk,
            Some(Credentials {
                username: Some("root".into()),
                password: Some("xvppw".into()),
                target: Some("vm1".into()),
            }),
        );
        let needed = p.events.iter().find_map(|e| match e {
            Event::CredentialsRequired(n) => Some(*n),
            _ => None,
        });
        let n = needed.expect("credentials event");
        assert!(n.username && n.password && n.target);
        assert!(
            p.server.finished(),
            "chunk {chunk}: {:?}",
            p.server.unmatched()
        );
        assert!(connected(&p));
    }
    assert_eq!(xvp_header("u", "t").unwrap(), [1, 1, b'u', b't']);
    assert!(xvp_header(&"x".repeat(256), "t").is_err());
}
