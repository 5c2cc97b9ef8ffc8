//! TLS, with rustls (ring provider, TLS 1.2 and 1.3):
//!
//! - toward clients: websockify's same-port sniffing. The first byte of each accepted
//!   connection decides: 0x16 (a TLS record, the ClientHello) or 0x80 (an SSLv2-style hello,
//!   which websockify also routes to TLS; rustls then refuses it) → TLS, anything else →
//!   plain HTTP/WebSocket, unless `--ssl-only`. The certificate and key files are re-read when
//!   they change (checked at most once a second, on new TLS connections); invalid new files
//!   leave the previous certificate in service, with a warning.
//! - toward the target (`--ssl-target`): the system CA store plus `--ssl-target-ca`, host name
//!   (or IP address) checked; `--ssl-target-insecure` skips verification.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
    SupportedProtocolVersion,
};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::Shared;
use crate::cli::Args;
use crate::target::{CONNECT_TIMEOUT, TargetStream};

/// Certificate files are looked at no more often than this.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// How long a refused plain client (`--ssl-only`) may take to read the 400.
const REFUSE_LINGER: Duration = Duration::from_secs(1);

const VERSIONS: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The ring provider, named explicitly: rustls' process-wide default panics when more than
/// one provider is compiled in (another dependency may enable aws-lc-rs).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// TLS settings shared by all sessions.
pub(crate) struct Tls {
    server: Option<ServerTls>,
    ssl_only: bool,
    target: Option<Arc<ClientConfig>>,
}

impl Tls {
    /// Loads everything the options name; any unreadable or invalid file is an error that
    /// names it.
    pub(crate) fn from_args(args: &Args) -> anyhow::Result<Self> {
        let server = match &args.cert {
            Some(cert) => Some(ServerTls::load(cert.clone(), args.key.clone())?),
            None if args.ssl_only || args.key.is_some() => {
                bail!("--ssl-only and --key need --cert")
            }
            None => None,
        };
        if let Some(s) = &server {
            tracing::info!(
                cert = %s.cert.display(),
                "TLS on the listening port{}",
                if args.ssl_only {
                    " (TLS only)"
                } else {
                    ", plain connections too"
                }
            );
        }
        let target = if args.ssl_target {
            if args.unix_target.is_some() {
                tracing::warn!("--ssl-target applies to TCP targets only, not --unix-target");
            }
            Some(Arc::new(client_config(
                args.ssl_target_ca.as_deref(),
                args.ssl_target_insecure,
            )?))
        } else {
            None
        };
        Ok(Self {
            server,
            ssl_only: args.ssl_only,
            target,
        })
    }

    /// Whether the listening port speaks TLS (for the URL the launcher prints).
    pub(crate) fn serves(&self) -> bool {
        self.server.is_some()
    }
}

/// A server certificate that follows its files.
struct ServerTls {
    cert: PathBuf,
    key: Option<PathBuf>,
    state: Mutex<Loaded>,
}

struct Loaded {
    config: Arc<ServerConfig>,
    /// What the files looked like when last read (read, not necessarily loaded: a broken
    /// file is tried once, not once a second).
    stamp: Stamp,
    checked: Instant,
}

/// Modification time, size and inode of each file (a rename over the file changes the
/// inode even when the time is preserved).
type Stamp = Vec<Option<(Option<SystemTime>, u64, u64)>>;

impl ServerTls {
    fn load(cert: PathBuf, key: Option<PathBuf>) -> anyhow::Result<Self> {
        let stamp = stamp(&cert, key.as_deref());
        let config = server_config(&cert, key.as_deref())?;
        Ok(Self {
            cert,
            key,
            state: Mutex::new(Loaded {
                config: Arc::new(config),
                stamp,
                checked: Instant::now(),
            }),
        })
    }

    /// The configuration for a new connection, re-reading the files if they changed.
    fn config(&self) -> Arc<ServerConfig> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if st.checked.elapsed() >= RELOAD_CHECK {
            st.checked = Instant::now();
            // The stamp is taken before reading, so a change during the read is seen next time.
            let now = stamp(&self.cert, self.key.as_deref());
            if now != st.stamp {
                st.stamp = now;
                match server_config(&self.cert, self.key.as_deref()) {
                    Ok(c) => {
                        st.config = Arc::new(c);
                        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                    }
                    Err(e) => tracing::warn!(
                        "TLS certificate not reloaded, the previous one stays in service: {e:#}"
                    ),
                }
            }
        }
        st.config.clone()
    }
}

fn stamp(cert: &Path, key: Option<&Path>) -> Stamp {
    [Some(cert), key]
        .into_iter()
        .flatten()
        .map(|p| {
            let m = std::fs::metadata(p).ok()?;
            #[cfg(unix)]
            let ino = std::os::unix::fs::MetadataExt::ino(&m);
            #[cfg(not(unix))]
            let ino = 0;
            Some((m.modified().ok(), m.len(), ino))
        })
        .collect()
}

/// A PEM error as one line (pki-types prints the offending line as a byte vector).
fn pem_error(e: pem::Error) -> anyhow::Error {
    anyhow::Error::msg(match e {
        pem::Error::Io(e) => e.to_string(),
        pem::Error::MissingSectionEnd { .. } => "invalid PEM: a section has no END line".into(),
        pem::Error::IllegalSectionStart { .. } => "invalid PEM: bad BEGIN line".into(),
        pem::Error::Base64Decode(e) => format!("invalid PEM: bad base64 ({e})"),
        other => format!("invalid PEM: {other}"),
    })
}

/// Every certificate in a PEM file; none is an error.
fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certs.is_empty() {
        bail!("no CERTIFICATE in the file");
    }
    Ok(certs)
}

fn server_config(cert: &Path, key: Option<&Path>) -> anyhow::Result<ServerConfig> {
    let chain = read_certs(cert).with_context(|| format!("--cert {}", cert.display()))?;
    let key_der = match key {
        Some(k) => PrivateKeyDer::from_pem_file(k)
            .map_err(|e| match e {
                pem::Error::NoItemsFound => {
                    anyhow::anyhow!("no (unencrypted) PRIVATE KEY in the file")
                }
                e => pem_error(e),
            })
            .with_context(|| format!("--key {}", k.display()))?,
        None => PrivateKeyDer::from_pem_file(cert)
            .map_err(|e| match e {
                pem::Error::NoItemsFound => {
                    anyhow::anyhow!("no (unencrypted) PRIVATE KEY in the file; give --key FILE")
                }
                e => pem_error(e),
            })
            .with_context(|| format!("--cert {}", cert.display()))?,
    };
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .with_context(|| match key {
            Some(k) => format!(
                "--cert {} with --key {}: unusable certificate or key",
                cert.display(),
                k.display()
            ),
            None => format!("--cert {}: unusable certificate or key", cert.display()),
        })?;
    // No ALPN: a client offering h2 and http/1.1 falls back to HTTP/1.1, which is what a
    // WebSocket upgrade needs.
    config.alpn_protocols.clear();
    Ok(config)
}

/// An accepted connection after sniffing.
pub(crate) enum Incoming {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// Sniffs the first byte and does the TLS handshake when it is TLS. `None`: the connection
/// is finished (silent client, handshake failure, plain client refused); it was logged.
pub(crate) async fn incoming(
    shared: &Shared,
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    timeout: Duration,
) -> Option<Incoming> {
    let Some(server) = &shared.tls.server else {
        return Some(Incoming::Plain(stream));
    };
    // One deadline for the first byte and the handshake together.
    let deadline = tokio::time::Instant::now() + timeout;
    let mut first = [0u8; 1];
    match tokio::time::timeout_at(deadline, stream.peek(&mut first)).await {
        Err(_) => {
            tracing::info!(%peer, id, "nothing received within {timeout:?}; closed");
            return None;
        }
        Ok(Err(e)) => {
            tracing::debug!(%peer, id, "peek: {e}");
            return None;
        }
        Ok(Ok(0)) => {
            tracing::debug!(%peer, id, "client left before sending anything");
            return None;
        }
        Ok(Ok(_)) => {}
    }
    if first[0] == 0x16 || first[0] == 0x80 {
        let acceptor = TlsAcceptor::from(server.config());
        return match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
            Ok(Ok(s)) => {
                let (_, conn) = s.get_ref();
                tracing::debug!(%peer, id, version = ?conn.protocol_version(), "TLS handshake done");
                Some(Incoming::Tls(Box::new(s)))
            }
            Ok(Err(e)) => {
                tracing::info!(%peer, id, "TLS handshake failed: {e}");
                None
            }
            Err(_) => {
                tracing::info!(%peer, id, "TLS handshake not done within {timeout:?}; closed");
                None
            }
        };
    }
    if shared.tls.ssl_only {
        tracing::info!(%peer, id, "plain connection refused (--ssl-only)");
        refuse_plain(stream).await;
        return None;
    }
    Some(Incoming::Plain(stream))
}

/// `--ssl-only` and a plain client: a plain 400, then a short drain so that closing with
/// unread request bytes does not reset the connection before the client reads the answer.
async fn refuse_plain(mut s: TcpStream) {
    let resp = rfb_ws::error_response(
        400,
        "Bad Request: this port only speaks TLS (https, wss)",
        &[],
    );
    if s.write_all(&resp).await.is_err() || s.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut buf = [0u8; 4096];
        let mut total = 0usize;
        while total < 64 * 1024 {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    };
    let _ = tokio::time::timeout(REFUSE_LINGER, drain).await;
}

fn client_config(ca: Option<&Path>, insecure: bool) -> anyhow::Result<ClientConfig> {
    let provider = provider();
    let builder =
        ClientConfig::builder_with_provider(provider.clone()).with_protocol_versions(VERSIONS)?;
    if insecure {
        tracing::warn!(
            "--ssl-target-insecure: target certificates are NOT verified; anyone on the path to \
             the target can read and change the session"
        );
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::debug!("system CA store: {e}");
    }
    let (system, _) = roots.add_parsable_certificates(native.certs);
    if let Some(ca) = ca {
        let what = || format!("--ssl-target-ca {}", ca.display());
        for c in read_certs(ca).with_context(what)? {
            roots
                .add(c)
                .map_err(|e| anyhow::anyhow!("not a usable CA certificate: {e}"))
                .with_context(what)?;
        }
    }
    if roots.is_empty() {
        bail!(
            "--ssl-target: no CA certificates in the system store; give --ssl-target-ca FILE \
             (or --ssl-target-insecure)"
        );
    }
    tracing::info!(
        system,
        total = roots.len(),
        "TLS to the target, verified against the CA certificates"
    );
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// `--ssl-target-insecure`: any certificate is accepted; the handshake signatures are still
/// checked (they prove nothing without the certificate check, but keep rustls' invariants).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The name to verify for a `host:port` target: a DNS name (also sent as SNI) or an IP
/// address (checked against the certificate's IP addresses).
fn server_name(addr: &str) -> Result<ServerName<'static>, String> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|e| format!("{host:?}: {e}"))
}

/// With `--ssl-target`, TLS over the TCP connection to the target; otherwise the connection
/// as it is. The error text is for the log (the client gets close 1011).
pub(crate) async fn wrap_target(
    shared: &Shared,
    addr: &str,
    tcp: TcpStream,
) -> Result<Box<dyn TargetStream>, String> {
    let Some(config) = &shared.tls.target else {
        return Ok(Box::new(tcp));
    };
    let name = server_name(addr)?;
    let connector = TlsConnector::from(config.clone());
    match tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(Box::new(s)),
        Ok(Err(e)) => Err(format!("TLS to the target: {e}")),
        Err(_) => Err("TLS to the target: handshake timed out".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_from_targets() {
        assert!(matches!(
            server_name("vnc.example.com:5901"),
            Ok(ServerName::DnsName(_))
        ));
        assert!(matches!(
            server_name("127.0.0.1:5901"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("[::1]:5901"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(server_name("bad name!:1").is_err());
    }

    #[test]
    fn missing_and_invalid_files_are_named() {
        let dir = std::env::temp_dir().join(format!("rfb-proxy-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = format!("{:#}", server_config(&missing, None).unwrap_err());
        assert!(e.contains("missing.pem"), "{e}");
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\n!!!!\n").unwrap();
        let e = format!("{:#}", server_config(&junk, None).unwrap_err());
        assert!(e.contains("junk.pem") && e.contains("invalid PEM"), "{e}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "hello\n").unwrap();
        let e = format!("{:#}", server_config(&empty, None).unwrap_err());
        assert!(e.contains("no CERTIFICATE"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
