//! A security gate: the server side of the handshake up to a SecurityResult the driver
//! decides later.
//!
//! An RFB-aware proxy (`rfb-proxy --vnc-security`) is the RFB server toward the browser only
//! until SecurityResult: it offers one simple type (None, or VNC Authentication with a password
//! it holds), then must authenticate to the real server before it can answer. [`Server`]
//! answers SecurityResult the moment the client has authenticated; a [`SecurityGate`] holds the
//! answer back ([`SecurityGate::is_ready`]) until the driver calls [`SecurityGate::accept`] or
//! [`SecurityGate::refuse`] with a reason (a wrong stored password, a rejected certificate),
//! which RFB 3.8 clients such as noVNC show. Everything after SecurityResult is the driver's
//! (it relays it). Sans-IO: bytes in, bytes out.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#handshake-messages>
//!
//! [`Server`]: crate::Server

use crate::{Error, Security, Version, parse_version, vnc_auth_response};

/// Longest failure reason sent (ours are one line; the wire allows a U32 length).
const MAX_REASON: usize = 4096;

/// Sent to a client whose VNC password is wrong.
pub const WRONG_PASSWORD: &str = "Authentication failed: wrong password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Version,
    Choice,
    Response,
    Ready,
    Done,
}

/// The server side of the handshake with a deferred SecurityResult. See the module docs.
#[derive(Debug)]
pub struct SecurityGate {
    security: Security,
    state: State,
    version: Version,
    out: Vec<u8>,
}

impl SecurityGate {
    /// Starts the handshake: ProtocolVersion 3.8 is queued. `security` is what the client
    /// must pass (its VncAuth challenge must be fresh random bytes from the driver).
    pub fn new(security: Security) -> Self {
        Self {
            security,
            state: State::Version,
            version: Version::V3_8,
            out: b"RFB 003.008\n".to_vec(),
        }
    }

    fn type_code(&self) -> u8 {
        match self.security {
            Security::None => 1,
            Security::VncAuth { .. } => 2,
        }
    }

    /// Feeds client bytes; returns how many were used. Uses nothing once the client has
    /// authenticated: later bytes (ClientInit) belong to the session the driver relays. After
    /// an error, the failure owed to the client (if its version has one) is in
    /// [`SecurityGate::take_output`].
    pub fn handle_input(&mut self, input: &[u8]) -> Result<usize, Error> {
        let mut pos = 0;
        loop {
            let b = &input[pos..];
            match self.state {
                State::Version => {
                    let Some(v) = b.get(..12) else {
                        return Ok(pos);
                    };
                    let v = parse_version(v);
                    let v = v.inspect_err(|_| self.state = State::Done)?;
                    self.version = v;
                    pos += 12;
                    if v == Version::V3_3 {
                        // 3.3: the server imposes the type (U32).
                        let code = u32::from(self.type_code());
                        self.out.extend_from_slice(&code.to_be_bytes());
                        self.after_choice();
                    } else {
                        self.out.extend_from_slice(&[1, self.type_code()]);
                        self.state = State::Choice;
                    }
                }
                State::Choice => {
                    let Some(&t) = b.first() else {
                        return Ok(pos);
                    };
                    pos += 1;
                    if t != self.type_code() {
                        self.state = State::Done;
                        if self.version == Version::V3_8 {
                            self.fail_result("security type not offered");
                        }
                        return Err(Error::SecurityType(t));
                    }
                    self.after_choice();
                }
                State::Response => {
                    let Some(r) = b.get(..16) else {
                        return Ok(pos);
                    };
                    pos += 16;
                    let Security::VncAuth {
                        password,
                        challenge,
                    } = &self.security
                    else {
                        self.state = State::Done;
                        return Err(Error::ApiMisuse("no VncAuth configured"));
                    };
                    if vnc_auth_response(password, challenge) != r {
                        self.state = State::Done;
                        self.fail_result(WRONG_PASSWORD);
                        return Err(Error::AuthFailed);
                    }
                    self.state = State::Ready;
                }
                State::Ready | State::Done => return Ok(pos),
            }
        }
    }

    fn after_choice(&mut self) {
        match &self.security {
            Security::VncAuth { challenge, .. } => {
                let c = *challenge;
                self.out.extend_from_slice(&c);
                self.state = State::Response;
            }
            Security::None => self.state = State::Ready,
        }
    }

    /// The protocol version the client chose.
    pub fn version(&self) -> Version {
        self.version
    }

    /// True once the client has authenticated and waits for SecurityResult.
    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    /// Whether a failure can still be told: RFB 3.3 and 3.7 send no SecurityResult after
    /// None, so there the driver can only close the connection.
    pub fn can_report(&self) -> bool {
        self.version == Version::V3_8 || matches!(self.security, Security::VncAuth { .. })
    }

    /// Security succeeded: SecurityResult OK is queued (where the version has one). The
    /// client's ClientInit and everything after are the driver's to relay.
    pub fn accept(&mut self) {
        if self.can_report() {
            self.out.extend_from_slice(&0u32.to_be_bytes());
        }
        self.state = State::Done;
    }

    /// Security failed behind the gate: SecurityResult failed is queued, with `reason` in RFB
    /// 3.8 (cut at 4096 bytes). Close the connection after sending it.
    pub fn refuse(&mut self, reason: &str) {
        if self.can_report() {
            self.fail_result(reason);
        }
        self.state = State::Done;
    }

    fn fail_result(&mut self, reason: &str) {
        self.out.extend_from_slice(&1u32.to_be_bytes());
        if self.version == Version::V3_8 {
            let mut end = reason.len().min(MAX_REASON);
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            let r = &reason.as_bytes()[..end];
            self.out.extend_from_slice(&(r.len() as u32).to_be_bytes());
            self.out.extend_from_slice(r);
        }
    }

    /// Takes the bytes to send to the client.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH: [u8; 16] = *b"0123456789abcdef";

    fn vnc(pw: &[u8]) -> Security {
        Security::VncAuth {
            password: pw.to_vec(),
            challenge: CH,
        }
    }

    #[test]
    fn none_in_3_8_waits_for_the_driver_then_accepts() {
        let mut g = SecurityGate::new(Security::None);
        assert_eq!(g.take_output(), b"RFB 003.008\n");
        // ClientInit (1) already sent behind the choice stays unconsumed.
        assert_eq!(g.handle_input(b"RFB 003.008\n\x01\x01").unwrap(), 13);
        assert_eq!(g.take_output(), [1, 1]);
        assert!(g.is_ready());
        g.accept();
        assert_eq!(g.take_output(), [0, 0, 0, 0]);
        assert!(!g.is_ready());
    }

    #[test]
    fn a_refusal_reaches_a_3_8_client_with_its_reason() {
        let mut g = SecurityGate::new(Security::None);
        g.handle_input(b"RFB 003.008\n\x01").unwrap();
        g.take_output();
        g.refuse("cert rejected");
        assert_eq!(g.take_output(), b"\0\0\0\x01\0\0\0\x0dcert rejected");
        // Cut at a character boundary.
        let mut g = SecurityGate::new(Security::None);
        g.handle_input(b"RFB 003.008\n\x01").unwrap();
        g.take_output();
        g.refuse(&"é".repeat(3000));
        assert_eq!(g.take_output().len(), 8 + 4096);
    }

    #[test]
    fn vnc_auth_right_and_wrong() {
        let mut g = SecurityGate::new(vnc(b"secret"));
        g.handle_input(b"RFB 003.008\n\x02").unwrap();
        let out = g.take_output();
        assert_eq!(&out[out.len() - 16..], CH, "the challenge");
        assert_eq!(
            g.handle_input(&vnc_auth_response(b"secret", &CH)).unwrap(),
            16
        );
        assert!(g.is_ready());

        let mut g = SecurityGate::new(vnc(b"secret"));
        g.handle_input(b"RFB 003.008\n\x02").unwrap();
        g.take_output();
        let bad = vnc_auth_response(b"other", &CH);
        assert_eq!(g.handle_input(&bad), Err(Error::AuthFailed));
        let out = g.take_output();
        assert_eq!(&out[..4], [0, 0, 0, 1]);
        assert!(out.ends_with(WRONG_PASSWORD.as_bytes()));
        assert!(!g.is_ready());
    }

    #[test]
    fn older_clients_and_bad_input() {
        // 3.3: the server imposes the type; with None nothing follows and failures are silent.
        let mut g = SecurityGate::new(Security::None);
        g.take_output();
        g.handle_input(b"RFB 003.003\n").unwrap();
        assert_eq!(g.take_output(), [0, 0, 0, 1]);
        assert!(g.is_ready() && !g.can_report());
        g.accept();
        assert!(g.take_output().is_empty());
        // 3.7 with VncAuth still has a SecurityResult (without a reason).
        let mut g = SecurityGate::new(vnc(b"x"));
        g.handle_input(b"RFB 003.007\n\x02").unwrap();
        g.take_output();
        g.handle_input(&vnc_auth_response(b"x", &CH)).unwrap();
        g.refuse("no");
        assert_eq!(g.take_output(), [0, 0, 0, 1]);
        let mut g = SecurityGate::new(Security::None);
        assert!(matches!(
            g.handle_input(b"GET / HTTP/1"),
            Err(Error::Version(_))
        ));
        let mut g = SecurityGate::new(Security::None);
        assert_eq!(
            g.handle_input(b"RFB 003.008\n\x02"),
            Err(Error::SecurityType(2))
        );
    }
}
