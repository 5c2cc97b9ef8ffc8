//! The tokio driver: moves bytes between a TCP socket and the sans-IO client, answers
//! credential requests, and hands events to the command.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use rfb_core::record::{self, Direction};
use rfb_core::{Client, Config, Credentials, Error as RfbError, Event};
use rfb_encodings::Framebuffer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::security::Auth;

/// What the command wants after an event.
pub(crate) enum Flow {
    Continue,
    Stop,
}

/// How [`Session::run`] ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The command returned [`Flow::Stop`].
    Stopped,
    /// The deadline passed first.
    Deadline,
}

/// One connection: socket, client state machine and framebuffer.
pub(crate) struct Session {
    stream: TcpStream,
    pub(crate) client: Client,
    pub(crate) fb: Framebuffer,
    inbuf: Vec<u8>,
    epoch: Instant,
    auth: Auth,
    addr: String,
    recorder: Option<Recorder>,
}

/// Writes the session in websockify's `VNC_frame_data` format (noVNC's playback page and our
/// benches replay it).
struct Recorder {
    out: BufWriter<File>,
    epoch: Instant,
}

impl Recorder {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot create recording {}", path.display()))?;
        let mut out = BufWriter::new(file);
        out.write_all(record::HEADER.as_bytes())?;
        Ok(Self {
            out,
            epoch: Instant::now(),
        })
    }

    fn frame(&mut self, direction: Direction, data: &[u8]) -> anyhow::Result<()> {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.out
            .write_all(record::format_frame(ms, direction, data).as_bytes())
            .context("writing the recording")
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Close the array even when the session ended in an error, so the file stays valid.
        let _ = self.out.write_all(record::FOOTER.as_bytes());
        let _ = self.out.flush();
    }
}

/// The operating system's CSPRNG, for security types that need randomness. Implemented on
/// `getrandom` directly rather than through `rand_core`'s feature, because features unify
/// across the workspace and the core crates must not gain ambient randomness.
struct OsRng;

impl rand_core::RngCore for OsRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // The OS generator failing is unrecoverable for a security handshake.
        getrandom::fill(dest).expect("the operating system's random number generator failed");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fn os_rng() -> Box<dyn rand_core::RngCore + Send> {
    Box::new(OsRng)
}

impl Session {
    /// Connects and creates the client; the deadline bounds the TCP connect.
    pub(crate) async fn connect(
        addr: &str,
        mut config: Config,
        auth: Auth,
        record: Option<&Path>,
        deadline: Instant,
    ) -> anyhow::Result<Self> {
        let left = deadline.saturating_duration_since(Instant::now());
        let stream = match tokio::time::timeout(left, TcpStream::connect(addr)).await {
            Err(_) => bail!("timed out connecting to {addr}"),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                bail!("connection refused by {addr} (is a VNC server listening there?)")
            }
            Ok(Err(e)) => return Err(e).with_context(|| format!("cannot connect to {addr}")),
            Ok(Ok(s)) => s,
        };
        stream.set_nodelay(true).ok();
        let recorder = record.map(Recorder::create).transpose()?;
        let epoch = Instant::now();
        auth.configure(&mut config);
        let mut client = Client::new(config, Duration::ZERO, os_rng());
        auth.register(&mut client, addr)?;
        Ok(Self {
            stream,
            client,
            fb: Framebuffer::default(),
            inbuf: Vec::new(),
            epoch,
            auth,
            addr: addr.to_string(),
            recorder,
        })
    }

    /// Sends everything the client queued.
    pub(crate) async fn flush(&mut self) -> anyhow::Result<()> {
        while let Some(bytes) = self.client.poll_transmit() {
            if let Some(r) = self.recorder.as_mut() {
                r.frame(Direction::FromClient, &bytes)?;
            }
            self.stream
                .write_all(&bytes)
                .await
                .with_context(|| format!("writing to {}", self.addr))?;
        }
        Ok(())
    }

    /// Drains events into `on_event`, answering credential requests itself.
    fn drain_events(
        &mut self,
        on_event: &mut dyn FnMut(&Event, &Client, &Framebuffer) -> Flow,
    ) -> anyhow::Result<Flow> {
        let mut flow = Flow::Continue;
        while let Some(ev) = self.client.poll_event() {
            // The command sees every event first and may stop before credentials are sent.
            if let Flow::Stop = on_event(&ev, &self.client, &self.fb) {
                flow = Flow::Stop;
                continue;
            }
            if let Event::ServerVerification(_) = &ev {
                // No one to ask here: an RA2 server key is trusted only when pinned with
                // --fingerprint (its factory then never raises it); the error names the
                // fingerprint to pin.
                return Err(describe(
                    self.client
                        .reject_server()
                        .err()
                        .unwrap_or(RfbError::ApiMisuse("server not approved")),
                ));
            }
            if let Event::CredentialsRequired(need) = &ev {
                if need.username && self.auth.username.is_none() {
                    bail!("the server requires a user name (pass --username NAME)");
                }
                if need.target && self.auth.target.is_none() {
                    bail!("the server requires a target (pass --target NAME)");
                }
                let Some(pw) = self.auth.password.clone() else {
                    bail!("the server requires a password (pass --password-file FILE)");
                };
                self.client
                    .supply_credentials(&Credentials {
                        username: need.username.then(|| self.auth.username.clone()).flatten(),
                        password: Some(pw),
                        target: need.target.then(|| self.auth.target.clone()).flatten(),
                    })
                    .map_err(describe)?;
                // Bytes that arrived before the credentials were supplied are still in inbuf.
                let used = self
                    .client
                    .handle_input(&self.inbuf, &mut self.fb)
                    .map_err(describe)?;
                self.inbuf.drain(..used);
            }
        }
        Ok(flow)
    }

    /// Runs the connection until `on_event` says stop or `deadline` passes.
    pub(crate) async fn run(
        &mut self,
        deadline: Instant,
        mut on_event: impl FnMut(&Event, &Client, &Framebuffer) -> Flow,
    ) -> anyhow::Result<Ended> {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            self.flush().await?;
            let flow = self.drain_events(&mut on_event)?;
            self.flush().await?;
            if let Flow::Stop = flow {
                return Ok(Ended::Stopped);
            }
            let now = Instant::now();
            self.client
                .handle_timeout(now - self.epoch)
                .map_err(describe)?;
            if now >= deadline {
                return Ok(Ended::Deadline);
            }
            let read = tokio::time::timeout(deadline - now, self.stream.read(&mut buf)).await;
            let n = match read {
                Err(_) => continue, // deadline reached: reported at the top of the loop
                Ok(Err(e)) => {
                    return Err(e).with_context(|| format!("reading from {}", self.addr));
                }
                Ok(Ok(n)) => n,
            };
            if n == 0 {
                let r = self.client.handle_eof(self.inbuf.len());
                self.drain_events(&mut on_event)?;
                return Err(match r {
                    Ok(()) => anyhow!("the server closed the connection"),
                    Err(e) => describe(e),
                });
            }
            if let Some(r) = self.recorder.as_mut() {
                r.frame(Direction::FromServer, &buf[..n])?;
            }
            self.inbuf.extend_from_slice(&buf[..n]);
            let used = self
                .client
                .handle_input(&self.inbuf, &mut self.fb)
                .map_err(describe)?;
            self.inbuf.drain(..used);
        }
    }
}

/// Turns a protocol error into a one-line message a user can act on.
pub(crate) fn describe(e: RfbError) -> anyhow::Error {
    match &e {
        RfbError::AuthFailed { reason } => anyhow!("authentication failed: {reason}"),
        RfbError::CertificateRejected {
            reason,
            fingerprint,
        } => anyhow!(
            "server certificate rejected: {reason}; its SHA-256 fingerprint is {fingerprint} \
             (pass --fingerprint {fingerprint} to trust it, or --ca-file PEM)"
        ),
        RfbError::ServerKeyRejected {
            reason,
            fingerprint,
        } => anyhow!(
            "server RSA key rejected: {reason}; its SHA-256 fingerprint is {fingerprint} \
             (pass --fingerprint {fingerprint} to trust it)"
        ),
        _ => anyhow!("{e}"),
    }
}
