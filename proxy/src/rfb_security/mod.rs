//! RFB-aware security mode (`--vnc-security`), as OpenStack Nova's console proxy does: the
//! browser sees security type None (or VNC Authentication with a password the proxy holds)
//! from the proxy, while the proxy authenticates to the VNC server itself with stored
//! credentials, over VeNCrypt TLS (X509* with rustls, TLS* with OpenSSL) or VNC Authentication.
//! Servers that insist on TLS then work with any noVNC.
//!
//! Per WebSocket session, once the target's TCP connection is up (a failure there is still
//! websockify's close 1011):
//! 1. toward the browser (`rfb_server::SecurityGate`): ProtocolVersion 3.8, the one type
//!    offered, VNC Authentication checked if configured; SecurityResult is held back;
//! 2. toward the server (`upstream.rs`): rfb-core's client in handshake-only mode runs the
//!    version exchange (3.3, 3.7 or 3.8) and the configured security up to SecurityResult OK;
//!    a type outside the configured list is never chosen (no downgrade);
//! 3. the browser gets SecurityResult OK, or a failure carrying the reason (wrong stored
//!    password, certificate rejected, no common type), which noVNC shows;
//! 4. everything after SecurityResult (ClientInit, ServerInit, all messages: identical across
//!    protocol versions) is relayed by `pump.rs` through the TLS transform.
//!
//! The session's relay (`relay.rs`: WebSocket framing, back-pressure, heartbeat, recording,
//! shutdown) talks to this task over an in-memory pipe, as it does to the demo desktop. A
//! recording therefore holds the proxy's own handshake toward the browser and the plaintext
//! session, never the server's TLS.

mod pump;
mod upstream;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use crate::cli::Args;
use crate::target::{Target, TargetCredentials, TargetStream};
use rfb_server::{Security, SecurityGate};
use upstream::Upstream;

/// Size of the pipe between the relay and this task (as the demo desktop's).
const PIPE: usize = 256 * 1024;

/// Longest browser handshake accepted: VNC Authentication may wait for a person typing.
const BROWSER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Longest VNC server handshake (TLS included).
const SERVER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The mode's configuration, shared by every session.
#[derive(Debug)]
pub(crate) struct SecurityMode {
    /// The password browsers must give (VNC Authentication), or none (security None).
    browser_password: Option<Vec<u8>>,
    upstream: Upstream,
}

/// The first line of a password file (text; trailing CR/LF removed).
fn read_password(path: &Path, flag: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{flag} {}: cannot read", path.display()))?;
    let pw = text.lines().next().unwrap_or("").to_string();
    anyhow::ensure!(!pw.is_empty(), "{flag} {}: empty password", path.display());
    Ok(pw)
}

impl SecurityMode {
    /// The mode from the command line, if `--vnc-security` was given; every file is read and
    /// checked now, so a mistake fails at start rather than per connection.
    pub(crate) fn from_args(args: &Args) -> anyhow::Result<Option<Arc<Self>>> {
        let Some(list) = &args.vnc_security else {
            let any = args.vnc_username.is_some()
                || args.vnc_password_file.is_some()
                || args.vnc_ca_file.is_some()
                || args.vnc_fingerprint.is_some()
                || args.vnc_tls_server_name.is_some()
                || args.browser_auth.is_some()
                || args.browser_password_file.is_some();
            anyhow::ensure!(
                !any,
                "the --vnc-* and --browser-* security options need --vnc-security"
            );
            return Ok(None);
        };
        anyhow::ensure!(
            !(args.demo || args.demo_static),
            "--vnc-security has no meaning with --demo"
        );
        let password = args
            .vnc_password_file
            .as_deref()
            .map(|p| read_password(p, "--vnc-password-file"))
            .transpose()?;
        let verify = match (&args.vnc_ca_file, &args.vnc_fingerprint) {
            (Some(_), Some(_)) => {
                anyhow::bail!("give either --vnc-ca-file or --vnc-fingerprint, not both")
            }
            (Some(path), None) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("--vnc-ca-file {}: cannot read", path.display()))?;
                Some(rfb_tls::Verify::Ca(
                    rfb_tls::ca_from_pem(&pem)
                        .with_context(|| format!("--vnc-ca-file {}", path.display()))?,
                ))
            }
            (None, Some(f)) => Some(rfb_tls::Verify::Fingerprint(
                rfb_tls::parse_fingerprint(f).context("--vnc-fingerprint")?,
            )),
            (None, None) => None,
        };
        let upstream = Upstream::new(
            list,
            args.vnc_username.clone(),
            password,
            verify,
            args.vnc_tls_server_name.clone(),
        )?;
        let browser_password = match args.browser_auth.as_deref().unwrap_or("none") {
            "none" => {
                anyhow::ensure!(
                    args.browser_password_file.is_none(),
                    "--browser-password-file needs --browser-auth vncauth"
                );
                None
            }
            "vncauth" => {
                let Some(p) = &args.browser_password_file else {
                    anyhow::bail!("--browser-auth vncauth needs --browser-password-file");
                };
                Some(read_password(p, "--browser-password-file")?.into_bytes())
            }
            other => anyhow::bail!("--browser-auth {other:?}: expected none or vncauth"),
        };
        Ok(Some(Arc::new(Self {
            browser_password,
            upstream,
        })))
    }
}

/// Randomness from the operating system, for the core's security handlers and challenges.
pub(crate) struct OsRng;

impl rand_core::RngCore for OsRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        getrandom::fill(dest).expect("the operating system's random number generator failed");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// The host a target's TLS certificate should name (overridden by `--vnc-tls-server-name`).
fn host_of(target: &Target) -> String {
    match target {
        Target::Tcp(addr) => {
            let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        }
        _ => "localhost".into(),
    }
}

/// Puts the mode between the relay and the connected `server` stream: returns the relay's
/// end of a pipe whose other end this session's task serves. The task ends when the relay
/// drops its end, even while it is blocked on a server that stopped reading.
pub(crate) fn wrap(
    mode: Arc<SecurityMode>,
    server: Box<dyn TargetStream>,
    target: &Target,
    id: u64,
) -> Box<dyn TargetStream> {
    let (near, far) = tokio::io::duplex(PIPE);
    let (alive, gone) = tokio::sync::oneshot::channel::<()>();
    let host = host_of(target.base());
    let credentials = target.credentials().cloned();
    tokio::spawn(async move {
        let end = tokio::select! {
            end = session(&mode, far, server, &host, credentials.as_ref()) => end,
            // Dropping the session future closes the server connection.
            _ = gone => "the browser's session ended".to_string(),
        };
        tracing::info!(id, "rfb-security: {end}");
    });
    Box::new(RelayEnd {
        pipe: near,
        _alive: alive,
    })
}

/// The relay's end of the pipe; dropping it tells the task (its oneshot sender drops).
struct RelayEnd {
    pipe: DuplexStream,
    _alive: tokio::sync::oneshot::Sender<()>,
}

impl tokio::io::AsyncRead for RelayEnd {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.pipe).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for RelayEnd {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.pipe).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.pipe).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.pipe).poll_shutdown(cx)
    }
}

/// One session; returns a line for the log.
async fn session(
    mode: &SecurityMode,
    mut browser: DuplexStream,
    mut server: Box<dyn TargetStream>,
    host: &str,
    credentials: Option<&TargetCredentials>,
) -> String {
    let security = match &mode.browser_password {
        Some(password) => {
            let mut challenge = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut OsRng, &mut challenge);
            Security::VncAuth {
                password: password.clone(),
                challenge,
            }
        }
        None => Security::None,
    };
    let mut side = SecurityGate::new(security);
    let mut from_browser: Vec<u8> = Vec::new();
    match tokio::time::timeout(
        BROWSER_TIMEOUT,
        browser_handshake(&mut side, &mut browser, &mut from_browser),
    )
    .await
    {
        Err(_) => return "the browser did not finish its handshake in time".into(),
        Ok(Err(e)) => {
            let _ = browser.shutdown().await;
            return e;
        }
        Ok(Ok(())) => {}
    }
    let auth = tokio::time::timeout(
        SERVER_TIMEOUT,
        mode.upstream.authenticate(&mut server, host, credentials),
    )
    .await
    .unwrap_or_else(|_| Err("VNC server: no SecurityResult in time".into()));
    let (a, server_raw) = match auth {
        Ok(x) => x,
        Err(reason) => {
            side.refuse(&reason);
            let _ = browser.write_all(&side.take_output()).await;
            let _ = browser.shutdown().await;
            let _ = server.shutdown().await;
            return format!("refused the browser: {reason}");
        }
    };
    let what = format!(
        "authenticated to the VNC server with {} (RFB {})",
        a.security, a.version
    );
    tracing::info!("rfb-security: {what}");
    side.accept();
    let mut to_browser = side.take_output();
    to_browser.extend_from_slice(&a.plaintext);
    // Browser bytes that came with its last handshake message (ClientInit) are session bytes.
    let mut to_server = a.to_server;
    let mut transform = a.transform;
    if !from_browser.is_empty() {
        match transform.as_mut() {
            Some(t) => {
                if let Err(e) = t.encrypt(&from_browser, &mut to_server) {
                    return format!("VNC server: {e}");
                }
            }
            None => to_server.extend_from_slice(&from_browser),
        }
    }
    let end = pump::pump(
        browser, server, transform, to_server, to_browser, server_raw,
    )
    .await;
    format!("{what}; ended: {end}")
}

/// Runs the browser side until it waits for SecurityResult; leaves later bytes in `rest`.
async fn browser_handshake(
    side: &mut SecurityGate,
    browser: &mut DuplexStream,
    rest: &mut Vec<u8>,
) -> Result<(), String> {
    let mut chunk = [0u8; 256];
    loop {
        let out = side.take_output();
        if !out.is_empty() {
            browser
                .write_all(&out)
                .await
                .map_err(|e| format!("browser: {e}"))?;
        }
        if side.is_ready() {
            return Ok(());
        }
        let n = browser
            .read(&mut chunk)
            .await
            .map_err(|e| format!("browser: {e}"))?;
        if n == 0 {
            return Err("the browser left during the handshake".into());
        }
        rest.extend_from_slice(&chunk[..n]);
        match side.handle_input(rest) {
            Ok(used) => {
                rest.drain(..used);
            }
            Err(e) => {
                let _ = browser.write_all(&side.take_output()).await;
                return Err(format!("refused the browser: {e}"));
            }
        }
    }
}
