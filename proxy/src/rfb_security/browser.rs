//! The browser-facing half of the RFB-aware security mode: the proxy is the RFB server up to
//! SecurityResult, offering one simple type (None, or VNC Authentication with a password the
//! proxy holds). Sans-IO: bytes in, bytes out.
//!
//! `rfb_server::Server` answers SecurityResult the moment the client has authenticated; here
//! the answer must wait until the proxy has authenticated to the real server, so that a failure
//! there (wrong stored password, rejected certificate) reaches the browser as a SecurityResult
//! failure with a reason. Hence this small state machine; the DES response check is
//! `rfb_server::vnc_auth_response`.
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#handshake-messages>

/// What the browser must prove.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum BrowserAuth {
    /// Nothing (security type None).
    None,
    /// VNC Authentication against this password (first 8 bytes count, as in every VNC server).
    VncAuth(Vec<u8>),
}

impl core::fmt::Debug for BrowserAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::VncAuth(_) => "VncAuth(..)",
        })
    }
}

/// The protocol version the browser chose (the proxy always offers 3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum BrowserVersion {
    V3_3,
    V3_7,
    V3_8,
}

/// Why the browser side failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BrowserError {
    /// Not an RFB ProtocolVersion (the raw 12 bytes, lossily decoded).
    Version(String),
    /// The browser chose a type that was not offered.
    SecurityType(u8),
    /// Wrong VNC password.
    AuthFailed,
}

impl core::fmt::Display for BrowserError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Version(v) => write!(f, "the browser sent no RFB version ({v:?})"),
            Self::SecurityType(t) => write!(f, "the browser chose security type {t}, not offered"),
            Self::AuthFailed => f.write_str("the browser's VNC password is wrong"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Version,
    Choice,
    Response,
    /// The browser has authenticated; SecurityResult waits for the real server.
    Ready,
    Done,
}

/// The server side of the handshake toward the browser.
#[derive(Debug)]
pub(crate) struct BrowserSide {
    auth: BrowserAuth,
    challenge: [u8; 16],
    state: State,
    version: BrowserVersion,
    out: Vec<u8>,
}

/// Authentication failed, as sent in a 3.8 SecurityResult reason.
pub(crate) const WRONG_PASSWORD: &str = "Authentication failed: wrong password";

impl BrowserSide {
    /// Starts the handshake (our ProtocolVersion is queued). `challenge`: 16 fresh random
    /// bytes, used only with [`BrowserAuth::VncAuth`].
    pub(crate) fn new(auth: BrowserAuth, challenge: [u8; 16]) -> Self {
        Self {
            auth,
            challenge,
            state: State::Version,
            version: BrowserVersion::V3_8,
            out: b"RFB 003.008\n".to_vec(),
        }
    }

    fn type_code(&self) -> u8 {
        match self.auth {
            BrowserAuth::None => 1,
            BrowserAuth::VncAuth(_) => 2,
        }
    }

    /// Feeds browser bytes; returns how many were used. Stops (using nothing more) once the
    /// browser has authenticated: later bytes belong to the session.
    pub(crate) fn handle_input(&mut self, input: &[u8]) -> Result<usize, BrowserError> {
        let mut pos = 0;
        loop {
            let b = &input[pos..];
            match self.state {
                State::Version => {
                    let Some(v) = b.get(..12) else {
                        return Ok(pos);
                    };
                    self.version = parse_version(v)?;
                    pos += 12;
                    if self.version == BrowserVersion::V3_3 {
                        // 3.3: the server decides the type (U32).
                        self.out
                            .extend_from_slice(&u32::from(self.type_code()).to_be_bytes());
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
                        if self.version == BrowserVersion::V3_8 {
                            self.fail_result("security type not offered");
                        }
                        return Err(BrowserError::SecurityType(t));
                    }
                    self.after_choice();
                }
                State::Response => {
                    let Some(r) = b.get(..16) else {
                        return Ok(pos);
                    };
                    pos += 16;
                    let BrowserAuth::VncAuth(pw) = &self.auth else {
                        return Ok(pos);
                    };
                    if rfb_server::vnc_auth_response(pw, &self.challenge) != r {
                        self.state = State::Done;
                        self.fail_result(WRONG_PASSWORD);
                        return Err(BrowserError::AuthFailed);
                    }
                    self.state = State::Ready;
                }
                State::Ready | State::Done => return Ok(pos),
            }
        }
    }

    fn after_choice(&mut self) {
        match self.auth {
            BrowserAuth::VncAuth(_) => {
                self.out.extend_from_slice(&self.challenge);
                self.state = State::Response;
            }
            BrowserAuth::None => self.state = State::Ready,
        }
    }

    /// True once the browser has authenticated and waits for SecurityResult.
    pub(crate) fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    /// Whether a failure can still be told to the browser: 3.3 and 3.7 send no SecurityResult
    /// after None, so there the connection can only be closed.
    pub(crate) fn can_report(&self) -> bool {
        self.version == BrowserVersion::V3_8 || matches!(self.auth, BrowserAuth::VncAuth(_))
    }

    /// The real server accepted the proxy: SecurityResult OK (where the version has one).
    pub(crate) fn accept(&mut self) {
        if self.can_report() {
            self.out.extend_from_slice(&0u32.to_be_bytes());
        }
        self.state = State::Done;
    }

    /// The proxy could not authenticate to the real server: SecurityResult failed with
    /// `reason` (3.8 only carries a reason).
    pub(crate) fn refuse(&mut self, reason: &str) {
        if self.can_report() {
            self.fail_result(reason);
        }
        self.state = State::Done;
    }

    fn fail_result(&mut self, reason: &str) {
        self.out.extend_from_slice(&1u32.to_be_bytes());
        if self.version == BrowserVersion::V3_8 {
            let r = reason.as_bytes();
            // A reason is a U32-prefixed string; ours are short, but never trust a length.
            let r = &r[..r.len().min(4096)];
            self.out.extend_from_slice(&(r.len() as u32).to_be_bytes());
            self.out.extend_from_slice(r);
        }
    }

    /// Bytes to send to the browser.
    pub(crate) fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }
}

/// `RFB xxx.yyy\n` → the version served: 3.3–3.6 → 3.3, 3.7, ≥ 3.8 → 3.8 (as rfbproto says).
fn parse_version(b: &[u8]) -> Result<BrowserVersion, BrowserError> {
    let bad = || BrowserError::Version(String::from_utf8_lossy(b).into_owned());
    if b.len() != 12 || &b[..4] != b"RFB " || b[7] != b'.' || b[11] != b'\n' {
        return Err(bad());
    }
    let num = |s: &[u8]| -> Option<u32> {
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| s.iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0')))
    };
    match (
        num(&b[4..7]).ok_or_else(bad)?,
        num(&b[8..11]).ok_or_else(bad)?,
    ) {
        (3, 3..=6) => Ok(BrowserVersion::V3_3),
        (3, 7) => Ok(BrowserVersion::V3_7),
        (3, 8..) | (4.., _) => Ok(BrowserVersion::V3_8),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH: [u8; 16] = *b"0123456789abcdef";

    #[test]
    fn none_in_3_8_waits_for_the_server_then_accepts() {
        let mut b = BrowserSide::new(BrowserAuth::None, CH);
        assert_eq!(b.take_output(), b"RFB 003.008\n");
        // ClientInit (1) already queued behind the choice stays unconsumed.
        assert_eq!(b.handle_input(b"RFB 003.008\n\x01\x01").unwrap(), 13);
        assert_eq!(b.take_output(), [1, 1]);
        assert!(b.is_ready());
        b.accept();
        assert_eq!(b.take_output(), [0, 0, 0, 0]);
    }

    #[test]
    fn failure_reason_reaches_a_3_8_browser() {
        let mut b = BrowserSide::new(BrowserAuth::None, CH);
        b.handle_input(b"RFB 003.008\n\x01").unwrap();
        b.take_output();
        b.refuse("cert rejected");
        assert_eq!(b.take_output(), b"\0\0\0\x01\0\0\0\x0dcert rejected");
    }

    #[test]
    fn vnc_auth_right_and_wrong() {
        let pw = b"secret".to_vec();
        let mut b = BrowserSide::new(BrowserAuth::VncAuth(pw.clone()), CH);
        b.handle_input(b"RFB 003.008\n\x02").unwrap();
        let out = b.take_output();
        assert_eq!(&out[out.len() - 16..], CH, "the challenge");
        let good = rfb_server::vnc_auth_response(&pw, &CH);
        assert_eq!(b.handle_input(&good).unwrap(), 16);
        assert!(b.is_ready());

        let mut b = BrowserSide::new(BrowserAuth::VncAuth(pw), CH);
        b.handle_input(b"RFB 003.008\n\x02").unwrap();
        b.take_output();
        let bad = rfb_server::vnc_auth_response(b"other", &CH);
        assert_eq!(b.handle_input(&bad), Err(BrowserError::AuthFailed));
        let out = b.take_output();
        assert_eq!(&out[..4], [0, 0, 0, 1]);
        assert!(out.ends_with(WRONG_PASSWORD.as_bytes()));
    }

    #[test]
    fn older_browsers_and_bad_input() {
        // 3.3: the server imposes the type; with None nothing follows and failures are silent.
        let mut b = BrowserSide::new(BrowserAuth::None, CH);
        b.take_output();
        b.handle_input(b"RFB 003.003\n").unwrap();
        assert_eq!(b.take_output(), [0, 0, 0, 1]);
        assert!(b.is_ready() && !b.can_report());
        b.accept();
        assert!(b.take_output().is_empty());
        // 3.7 with VncAuth still has a SecurityResult (without reason).
        let mut b = BrowserSide::new(BrowserAuth::VncAuth(b"x".to_vec()), CH);
        b.handle_input(b"RFB 003.007\n\x02").unwrap();
        b.take_output();
        b.handle_input(&rfb_server::vnc_auth_response(b"x", &CH))
            .unwrap();
        b.refuse("no");
        assert_eq!(b.take_output(), [0, 0, 0, 1]);
        let mut b = BrowserSide::new(BrowserAuth::None, CH);
        assert!(matches!(
            b.handle_input(b"GET / HTTP/1"),
            Err(BrowserError::Version(_))
        ));
        let mut b = BrowserSide::new(BrowserAuth::None, CH);
        assert_eq!(
            b.handle_input(b"RFB 003.008\n\x02"),
            Err(BrowserError::SecurityType(2))
        );
    }
}
