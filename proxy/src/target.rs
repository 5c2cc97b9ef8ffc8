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
    /// A target with VNC credentials from a token plugin (JSON answers with `vnc_username` /
    /// `vnc_password`), used by `--vnc-security` instead of the command line's.
    WithCredentials(Box<Self>, TargetCredentials),
}

/// VNC credentials a token plugin gave for one target.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct TargetCredentials {
    /// User name for the VNC server.
    pub(crate) username: Option<String>,
    /// Password for the VNC server.
    pub(crate) password: Option<String>,
}

impl core::fmt::Debug for TargetCredentials {
    // Never print a password, even in debug logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TargetCredentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl TargetCredentials {
    /// `vnc_username` and `vnc_password` (strings) of a JSON object; `None` when it has
    /// neither.
    pub(crate) fn from_json(j: &serde_json::Value) -> Option<Self> {
        let field = |k: &str| j.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let c = Self {
            username: field("vnc_username"),
            password: field("vnc_password"),
        };
        (c.username.is_some() || c.password.is_some()).then_some(c)
    }
}

impl Target {
    /// `target` with `credentials` attached, if there are any.
    pub(crate) fn with_credentials(target: Self, credentials: Option<TargetCredentials>) -> Self {
        match credentials {
            Some(c) => Self::WithCredentials(Box::new(target), c),
            None => target,
        }
    }

    /// The target without attached credentials.
    pub(crate) fn base(&self) -> &Self {
        match self {
            Self::WithCredentials(t, _) => t.base(),
            t => t,
        }
    }

    /// Credentials a token plugin attached, if any.
    pub(crate) fn credentials(&self) -> Option<&TargetCredentials> {
        match self {
            Self::WithCredentials(_, c) => Some(c),
            _ => None,
        }
    }
}

impl core::fmt::Display for Target {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tcp(a) => f.write_str(a),
            Self::Unix(p) => write!(f, "unix:{}", p.display()),
            Self::Demo { .. } => f.write_str("the built-in demo desktop"),
            // Credentials are never shown.
            Self::WithCredentials(t, _) => t.fmt(f),
        }
    }
}

/// Connects to `target`; the error text is for the log (the client gets close 1011).
pub(crate) async fn connect(
    shared: &Shared,
    target: &Target,
) -> Result<Box<dyn TargetStream>, String> {
    match target.base() {
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
        Target::WithCredentials(..) => Err("nested credentials".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_json_stay_out_of_logs() {
        let j: serde_json::Value =
            serde_json::from_str(r#"{"host": "h", "port": 1, "vnc_password": "pw9"}"#).unwrap();
        let c = TargetCredentials::from_json(&j).unwrap();
        assert_eq!(c.password.as_deref(), Some("pw9"));
        assert_eq!(c.username, None);
        let j: serde_json::Value = serde_json::from_str(r#"{"host": "h", "port": 1}"#).unwrap();
        assert_eq!(TargetCredentials::from_json(&j), None);
        let t = Target::with_credentials(Target::Tcp("h:1".into()), Some(c));
        assert_eq!(t.to_string(), "h:1");
        assert_eq!(t.base(), &Target::Tcp("h:1".into()));
        assert!(!format!("{t:?}").contains("pw9"));
    }
}
