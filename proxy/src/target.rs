//! Where a session goes, and connecting to it: every kind of target becomes one boxed byte
//! stream, so the relay does not care whether it is TCP, a Unix socket, TLS to the target or
//! the built-in demo desktop.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::Shared;

/// A byte stream to a target.
pub(crate) trait TargetStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> TargetStream for T {}

/// Time allowed to connect to the target.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a session connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `host:port` over TCP.
    Tcp(String),
    /// A Unix socket.
    Unix(PathBuf),
    /// The built-in demo desktop (`--demo`), served in-process; `animate` is false for
    /// `--demo-static`.
    Demo {
        /// Moving box and clock on.
        animate: bool,
    },
}

impl core::fmt::Display for Target {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tcp(a) => f.write_str(a),
            Self::Unix(p) => write!(f, "unix:{}", p.display()),
            Self::Demo { .. } => f.write_str("the built-in demo desktop"),
        }
    }
}

/// Connects to `target`; the error text is for the log (the client gets close 1011).
pub(crate) async fn connect(
    shared: &Shared,
    target: &Target,
) -> Result<Box<dyn TargetStream>, String> {
    match target {
        Target::Tcp(addr) => {
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(t)) => {
                    t.set_nodelay(true).ok();
                    // --ssl-target: TLS over this connection (tls.rs).
                    crate::tls::wrap_target(shared, addr, t).await
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("timed out".into()),
            }
        }
        #[cfg(unix)]
        Target::Unix(path) => tokio::net::UnixStream::connect(path)
            .await
            .map(|s| Box::new(s) as Box<dyn TargetStream>)
            .map_err(|e| e.to_string()),
        Target::Demo { animate } => {
            // The demo server runs on one end of an in-memory pipe; the relay gets the other.
            let (near, far) = tokio::io::duplex(256 * 1024);
            let animate = *animate;
            tokio::spawn(async move {
                if let Err(e) = crate::demo::serve(far, animate).await {
                    tracing::debug!("demo session: {e}");
                }
            });
            Ok(Box::new(near))
        }
        #[cfg(not(unix))]
        Target::Unix(_) => Err("Unix sockets are not supported on this platform".into()),
    }
}
