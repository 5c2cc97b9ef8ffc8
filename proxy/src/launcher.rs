//! noVNC's launcher behaviour (`novnc_proxy`): the URL to open, a start-up check of the VNC
//! server with a hint, a throwaway self-signed certificate, syslog output, and one-line errors
//! for a listening port that is taken.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::target::Target;

/// The address a person should type for a listening address: an unspecified IP (all
/// interfaces) becomes `localhost`.
fn url_host(local: SocketAddr) -> String {
    match local.ip() {
        ip if ip.is_unspecified() => "localhost".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    }
}

/// The cut-and-paste URL of the app, with `host`/`port`/`encrypt` filled in as vnc.html reads
/// them.
pub(crate) fn app_url(local: SocketAddr, tls: bool) -> String {
    let host = url_host(local);
    let port = local.port();
    let (scheme, encrypt) = if tls {
        ("https", "&encrypt=1")
    } else {
        ("http", "")
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    format!("{scheme}://{host}:{port}/vnc.html?host={bare}&port={port}{encrypt}")
}

/// Prints the URL block on stdout, as novnc_proxy does.
pub(crate) fn print_url(local: SocketAddr, tls: bool, target: Option<&Target>) {
    let mut out = std::io::stdout().lock();
    let what = match target {
        Some(Target::Demo { .. }) => "the built-in demo desktop".to_string(),
        Some(t) => format!("the VNC server at {t}"),
        None => "VNC servers chosen by token".to_string(),
    };
    let _ = writeln!(
        out,
        "\nrfb-proxy: serving the web app for {what}.\nNavigate to this URL:\n\n    {}\n\nPress Ctrl-C to exit\n",
        app_url(local, tls)
    );
    let _ = out.flush();
}

/// Checks once that the VNC server answers, and warns with a hint when it does not (it may
/// start later, so this is not fatal).
pub(crate) async fn check_vnc(target: &Target) {
    let Target::Tcp(addr) = target else {
        return;
    };
    let attempt = tokio::time::timeout(
        Duration::from_secs(3),
        tokio::net::TcpStream::connect(addr.as_str()),
    )
    .await;
    let problem = match attempt {
        Ok(Ok(_)) => return,
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within 3 s".to_string(),
    };
    tracing::warn!(
        "no VNC server answers at {addr} ({problem}): start one (e.g. `Xvnc :1` or \
         `x11vnc`), point --vnc at it, or use --demo for the built-in desktop"
    );
}

/// A throwaway certificate for `localhost` and the loopback addresses (`--self-signed`).
pub(crate) struct SelfSigned {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    /// SHA-256 of the certificate, `AA:BB:...`, for the user to compare in the browser.
    pub(crate) fingerprint: String,
    /// Holds the files; removed when the proxy ends (the TLS reload reads them until then).
    _dir: ScratchDir,
}

/// A directory removed on drop: a clean shutdown (or a start-up error) leaves no key behind.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Makes the certificate and writes it, with its private key, to a temporary directory only
/// this user can read.
pub(crate) fn self_signed() -> anyhow::Result<SelfSigned> {
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let cert = rcgen::generate_simple_self_signed(names).context("--self-signed")?;
    let path = std::env::temp_dir().join(format!("rfb-proxy-self-signed-{}", std::process::id()));
    // A stale directory of an earlier process with this PID (killed, so never cleaned).
    let _ = std::fs::remove_dir_all(&path);
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&path)
        .context("--self-signed: temporary directory")?;
    let dir = ScratchDir(path);
    let (cert_path, key_path) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).context("--self-signed: write cert")?;
    std::fs::write(&key_path, cert.signing_key.serialize_pem())
        .context("--self-signed: write key")?;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(cert.cert.der());
    let fingerprint = digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    Ok(SelfSigned {
        cert: cert_path,
        key: key_path,
        fingerprint,
        _dir: dir,
    })
}

/// A listening error in one line that names the problem and the fix.
pub(crate) fn bind_error(listen: &str, e: &std::io::Error) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {listen}: the port is in use (another rfb-proxy or websockify?); \
             choose another with --listen PORT"
        ),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "cannot listen on {listen}: permission denied (ports below 1024 need privileges); \
             choose another with --listen PORT"
        ),
        _ => anyhow::anyhow!("cannot listen on {listen}: {e}"),
    }
}

/// Where `--syslog` lines go.
#[derive(Debug, Clone)]
pub(crate) enum SyslogTarget {
    /// A local datagram socket such as `/dev/log`.
    Unix(PathBuf),
    /// A UDP server, `host:port`.
    Udp(String),
}

impl SyslogTarget {
    /// `/dev/log`-style paths are sockets, anything else `host:port`.
    pub(crate) fn parse(s: &str) -> Self {
        if s.starts_with('/') {
            Self::Unix(PathBuf::from(s))
        } else {
            Self::Udp(s.to_string())
        }
    }
}

/// A `tracing` writer that sends each formatted line to syslog (RFC 3164 framing, facility
/// user, severity info) and to the normal output as well.
pub(crate) struct SyslogWriter {
    target: SyslogTarget,
    line: Vec<u8>,
}

impl SyslogWriter {
    pub(crate) fn new(target: SyslogTarget) -> Self {
        Self {
            target,
            line: Vec::new(),
        }
    }

    fn send(&self, msg: &[u8]) {
        // <14> = facility user (1) * 8 + severity info (6).
        let mut datagram = format!("<14>rfb-proxy[{}]: ", std::process::id()).into_bytes();
        datagram.extend_from_slice(msg);
        match &self.target {
            #[cfg(unix)]
            SyslogTarget::Unix(path) => {
                if let Ok(s) = std::os::unix::net::UnixDatagram::unbound() {
                    let _ = s.send_to(&datagram, path);
                }
            }
            #[cfg(not(unix))]
            SyslogTarget::Unix(_) => {}
            SyslogTarget::Udp(addr) => {
                if let Ok(s) = std::net::UdpSocket::bind("0.0.0.0:0") {
                    let _ = s.send_to(&datagram, addr.as_str());
                }
            }
        }
    }
}

impl Write for SyslogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        self.line.extend_from_slice(buf);
        while let Some(i) = self.line.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.line.drain(..=i).collect();
            self.send(line.trim_ascii_end());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.send(line.trim_ascii_end());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_people_can_open() {
        let any: SocketAddr = "0.0.0.0:6080".parse().unwrap();
        assert_eq!(
            app_url(any, false),
            "http://localhost:6080/vnc.html?host=localhost&port=6080"
        );
        let one: SocketAddr = "192.0.2.7:443".parse().unwrap();
        assert_eq!(
            app_url(one, true),
            "https://192.0.2.7:443/vnc.html?host=192.0.2.7&port=443&encrypt=1"
        );
        let v6: SocketAddr = "[::1]:6080".parse().unwrap();
        assert_eq!(
            app_url(v6, false),
            "http://[::1]:6080/vnc.html?host=::1&port=6080"
        );
    }

    #[test]
    fn self_signed_certificate_and_fingerprint() {
        let made = self_signed().unwrap();
        let (cert, key) = (made.cert.clone(), made.key.clone());
        assert!(
            std::fs::read_to_string(&cert)
                .unwrap()
                .contains("BEGIN CERTIFICATE")
        );
        assert!(
            std::fs::read_to_string(&key)
                .unwrap()
                .contains("PRIVATE KEY")
        );
        assert_eq!(made.fingerprint.len(), 32 * 3 - 1, "{}", made.fingerprint);
        let dir = cert.parent().unwrap().to_path_buf();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "only this user may read the key");
        }
        // The key goes with the proxy.
        drop(made);
        assert!(!dir.exists(), "{} was left behind", dir.display());
    }

    #[test]
    fn syslog_lines_reach_a_udp_server() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let mut w = SyslogWriter::new(SyslogTarget::parse(&addr));
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world\n").unwrap();
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let got = String::from_utf8_lossy(&buf[..n]);
        assert!(got.starts_with("<14>rfb-proxy["), "{got}");
        assert!(got.ends_with("]: hello world"), "{got}");
    }
}
