//! Scripted RFB servers for the security types no installable Debian server offers (Apple ARD
//! 30, UltraVNC MSLogonII 113, xvp 22, Plain inside VeNCrypt 19/256, Tight 16, RA2ne 6).
//!
//! The server is `scripted/rfb_auth_server.py`, run by the peers' venv Python with the
//! `cryptography` package: one process per test on its own port, offering one security type,
//! checking the credentials it was started with, then serving a static `width`×`height`
//! framebuffer of [`pattern_rgb`] as Raw rectangles. It prints one line per outcome
//! (`auth ok ...`, `auth failed ...`, `xvp init sent`, `update sent ...`) that tests read with
//! [`ScriptedServer::log`]. Each server side is written from rfbproto's descriptions; it counts
//! as a peer because npm noVNC authenticates against it too (proxy/tests/scripted_security.rs).

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::net::free_port;
use crate::peer::{self, PeerError, require_venv};
use crate::time::Deadline;

/// How long the script may take to listen (RSA key generation for RA2ne included).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The security type a scripted server offers (`--type` of the script).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RA2ne (6): RSA key exchange and AES-EAX during authentication, plaintext afterwards.
    Ra2ne,
    /// Tight (16) with a NOTUNNEL tunnel list and one auth capability.
    Tight(TightAuth),
    /// VeNCrypt (19) 0.2 offering only Plain (256), without TLS.
    Plain,
    /// xvp (22): username and target, then VNC Authentication.
    Xvp,
    /// Apple Remote Desktop (30): DH, MD5, AES-128-ECB.
    Ard,
    /// UltraVNC MSLogonII (113): 64-bit DH, DES-CBC.
    MsLogonII,
}

/// The authentication capability a Tight scripted server lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TightAuth {
    /// `STDV NOAUTH__` (1).
    None,
    /// `STDV VNCAUTH_` (2).
    Vnc,
    /// `TGHT ULGNAUTH` (129), Unix login (username and password).
    Unix,
}

impl Scheme {
    /// The script's `--type` value.
    fn script_name(self) -> &'static str {
        match self {
            Self::Ra2ne => "ra2ne",
            Self::Tight(_) => "tight",
            Self::Plain => "plain",
            Self::Xvp => "xvp",
            Self::Ard => "ard",
            Self::MsLogonII => "mslogon2",
        }
    }

    /// The RFB security type number offered on the wire.
    pub fn number(self) -> u8 {
        match self {
            Self::Ra2ne => 6,
            Self::Tight(_) => 16,
            Self::Plain => 19,
            Self::Xvp => 22,
            Self::Ard => 30,
            Self::MsLogonII => 113,
        }
    }
}

/// Credentials the server accepts; empty fields are not checked by types that lack them
/// (an empty username makes RA2ne ask for the password only).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// User name (ARD, MSLogonII, xvp, Plain, Tight Unix login, RA2ne subtype 1).
    pub username: String,
    /// Password.
    pub password: String,
    /// xvp target system.
    pub target: String,
}

/// The colour of framebuffer pixel (`x`, `y`): red grows with x, green with y, blue in 8×8
/// checks. The script computes the same function.
pub fn pattern_rgb(x: u32, y: u32) -> [u8; 3] {
    let blue = if (x / 8 + y / 8) % 2 == 1 { 240 } else { 40 };
    [((x * 4) & 0xff) as u8, ((y * 5) & 0xff) as u8, blue]
}

/// One running scripted server, stopped (by its PID) when dropped.
#[derive(Debug)]
pub struct ScriptedServer {
    child: Child,
    port: u16,
    log: PathBuf,
    /// Framebuffer width.
    pub width: u32,
    /// Framebuffer height.
    pub height: u32,
}

/// The script's path in this crate.
pub fn script_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripted/rfb_auth_server.py")
}

impl ScriptedServer {
    /// Starts a 64×48 server for `scheme` accepting `creds`; `None` (skipped visibly, or a
    /// panic in CI) when the venv Python is missing.
    ///
    /// # Panics
    /// If Python exists but the server does not start (e.g. `cryptography` is missing).
    pub fn start_or_skip(scheme: Scheme, creds: &Credentials) -> Option<Self> {
        let python = require_venv("python")?;
        match Self::start(&python, scheme, creds, 64, 48) {
            Ok(s) => Some(s),
            Err(e) => panic!(
                "scripted {} server failed to start: {e}",
                scheme.script_name()
            ),
        }
    }

    /// Starts the script with `python`, retrying on another port when the chosen one was
    /// taken meanwhile.
    ///
    /// # Errors
    /// When the script exits before listening or does not listen in time.
    pub fn start(
        python: &std::path::Path,
        scheme: Scheme,
        creds: &Credentials,
        width: u32,
        height: u32,
    ) -> Result<Self, PeerError> {
        let mut last = None;
        for _ in 0..5 {
            match Self::try_start(python, scheme, creds, width, height) {
                Ok(s) => return Ok(s),
                Err(e @ PeerError::Exited { .. }) if e.to_string().contains("bind") => {
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("five attempts failed"))
    }

    fn try_start(
        python: &std::path::Path,
        scheme: Scheme,
        creds: &Credentials,
        width: u32,
        height: u32,
    ) -> Result<Self, PeerError> {
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "rfb-scripted-{}-{}-{port}.log",
            scheme.script_name(),
            std::process::id()
        ));
        let io = |what: &str, source| PeerError::Io {
            what: what.to_string(),
            source,
        };
        let out = File::create(&log).map_err(|e| io("create the server log", e))?;
        let err = out
            .try_clone()
            .map_err(|e| io("duplicate the log handle", e))?;
        let mut cmd = Command::new(python);
        cmd.arg(script_path())
            .args(["--port", &port.to_string()])
            .args(["--type", scheme.script_name()])
            .args(["--username", &creds.username])
            .args(["--password", &creds.password])
            .args(["--target", &creds.target])
            .args(["--width", &width.to_string()])
            .args(["--height", &height.to_string()]);
        if let Scheme::Tight(auth) = scheme {
            let name = match auth {
                TightAuth::None => "none",
                TightAuth::Vnc => "vnc",
                TightAuth::Unix => "unix",
            };
            cmd.args(["--tight-auth", name]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| PeerError::Spawn {
                program: python.display().to_string(),
                package: "python3-venv (scripts/install-test-deps.sh)",
                source,
            })?;
        let mut server = Self {
            child,
            port,
            log,
            width,
            height,
        };
        let deadline = Deadline::after(START_TIMEOUT);
        loop {
            if server.log().contains("listening on ") {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(PeerError::Exited {
                    what: "rfb_auth_server.py".into(),
                    status: status.to_string(),
                    log_tail: server.log(),
                });
            }
            if deadline.expired() {
                return Err(PeerError::Timeout {
                    what: format!("rfb_auth_server.py to listen on {port}"),
                    seconds: START_TIMEOUT.as_secs_f64(),
                    log_tail: server.log(),
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Everything the server has printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// RA2ne: the SHA-256 fingerprint of the server's RSA key in its wire form (`u32` bits,
    /// modulus, exponent), as colon-separated lower-case hex, computed by the script.
    pub fn rsa_fingerprint(&self) -> Option<String> {
        self.log().lines().find_map(|l| {
            l.strip_prefix("rsa key sha256=")
                .map(|f| f.trim().to_string())
        })
    }

    /// Waits (up to 20 s) until the log contains `needle`; returns the log either way, for the
    /// caller's assertion to show.
    pub fn wait_log(&self, needle: &str) -> String {
        let deadline = Deadline::after(Duration::from_secs(20));
        loop {
            let log = self.log();
            if log.contains(needle) || deadline.expired() {
                return log;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The log is the evidence of a failing test: keep it then, delete it otherwise.
        if thread::panicking() {
            peer::visible_line(&format!(
                "rfb-testkit: test failed; kept {}",
                self.log.display()
            ));
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_matches_the_script() {
        assert_eq!(pattern_rgb(0, 0), [0, 0, 40]);
        assert_eq!(pattern_rgb(8, 0), [32, 0, 240]);
        assert_eq!(pattern_rgb(63, 47), [252, 235, 40]);
    }
}
