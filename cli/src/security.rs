//! Security options: which types to accept (`--security`), credentials (`--username`,
//! `--password-file`) and TLS trust (`--ca-file`, `--fingerprint`), applied to a connection.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, anyhow, bail};
use rfb_core::security::Ra2Settings;
use rfb_core::{Client, Config};
use rfb_tls::options::{ListError, SecurityList, SecurityOptions};
use rfb_tls::{TimeProvider, UnixTime, Verify};

/// Parses `--security` (`rfb_tls::options::parse_list`: comma-separated names or numbers,
/// VeNCrypt subtypes selecting VeNCrypt), with the option's name in the error.
pub(crate) fn parse_list(s: &str) -> anyhow::Result<SecurityList> {
    rfb_tls::options::parse_list(s).map_err(|e| match e {
        ListError::Empty => anyhow!("--security: the list is empty"),
        e => anyhow!("--security: {e}"),
    })
}

/// The driver's clock for certificate validity.
#[derive(Debug)]
struct SystemClock;

impl TimeProvider for SystemClock {
    fn current_time(&self) -> Option<UnixTime> {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(UnixTime::since_unix_epoch)
    }
}

/// Credentials and security choices for one connection.
#[derive(Clone, Default)]
pub(crate) struct Auth {
    pub(crate) username: Option<String>,
    pub(crate) target: Option<String>,
    pub(crate) password: Option<String>,
    list: Option<SecurityList>,
    verify: Option<Verify>,
}

impl Auth {
    /// Reads files named by the options (the CA file is parsed now, so a bad one fails early).
    pub(crate) fn new(
        username: Option<String>,
        target: Option<String>,
        password: Option<String>,
        security: Option<&str>,
        ca_file: Option<&Path>,
        fingerprint: Option<&str>,
    ) -> anyhow::Result<Self> {
        let list = security.map(parse_list).transpose()?;
        let verify = match (ca_file, fingerprint) {
            (Some(_), Some(_)) => bail!("give either --ca-file or --fingerprint, not both"),
            (Some(path), None) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read --ca-file {}", path.display()))?;
                Some(Verify::Ca(
                    rfb_tls::ca_from_pem(&pem).with_context(|| path.display().to_string())?,
                ))
            }
            (None, Some(f)) => Some(Verify::Fingerprint(
                rfb_tls::parse_fingerprint(f).context("--fingerprint")?,
            )),
            (None, None) => None,
        };
        Ok(Self {
            username,
            target,
            password,
            list,
            verify,
        })
    }

    /// The shared options for a server reached as `addr` (`host:port`): its host is the name
    /// the certificate must carry; without a CA or pin a certificate fails with its
    /// fingerprint, which the CLI prints for `--fingerprint` (nobody to ask interactively).
    fn options(&self, addr: &str) -> SecurityOptions {
        SecurityOptions::new(
            self.list.clone(),
            self.verify.clone(),
            Arc::new(SystemClock),
        )
        .with_server_name(host_of(addr))
        .with_anonymous(cfg!(feature = "anon-tls"))
    }

    /// Sets the accepted types in `config`: the `--security` list, or only TLS subtypes when a
    /// CA file or fingerprint was given, or the command's own list plus VeNCrypt.
    pub(crate) fn configure(&self, config: &mut Config) {
        // The server name plays no part in the types.
        self.options("").configure(config);
    }

    /// Registers VeNCrypt with TLS for a server reached as `addr` (`host:port`), and the RA2
    /// types with `--fingerprint` pinning the server's RSA key too (RA2 is the CLI's own: the
    /// bindings do not offer it).
    pub(crate) fn register(&self, client: &mut Client, addr: &str) -> anyhow::Result<()> {
        let ra2 = match &self.verify {
            Some(Verify::Fingerprint(fp)) => Ra2Settings::pinned(*fp),
            _ => Ra2Settings::default(),
        };
        for f in ra2.factories() {
            client.register_security(f);
        }
        self.options(addr).register(client).context("TLS settings")
    }
}

/// The host of `host:port` / `[v6]:port`.
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    // The list syntax itself is tested in rfb_tls::options.
    #[test]
    fn lists_and_hosts() {
        let l = parse_list("ra2_256,x509plain").unwrap();
        assert_eq!(l.subtypes.len(), 1);
        let e = parse_list("bogus").unwrap_err().to_string();
        assert!(e.starts_with("--security: unknown security type"), "{e}");
        let e = parse_list("").unwrap_err().to_string();
        assert_eq!(e, "--security: the list is empty");
        assert_eq!(host_of("[::1]:5900"), "::1");
        assert_eq!(host_of("127.0.0.1:5901"), "127.0.0.1");
    }
}
