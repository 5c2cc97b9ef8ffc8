//! The server-facing half of the RFB-aware security mode: the proxy is an RFB client up to
//! SecurityResult (rfb-core in handshake-only mode, `Client::stop_after_security`), with the
//! security types, credentials and TLS trust given on the command line.

use std::sync::Arc;
use std::time::SystemTime;

use rfb_core::handover::Authenticated;
use rfb_core::rfb_encodings::Framebuffer;
use rfb_core::security::{SecurityType, VeNCryptFactory, VeNCryptSubtype};
use rfb_core::{Client, Config, Credentials, Error as RfbError, Event};
use rfb_tls::options::{Connectors, ListError};
use rfb_tls::{TimeProvider, TlsSettings, UnixTime, Verify};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::target::TargetCredentials;

/// VeNCrypt subtypes tried when `--vnc-security vencrypt` names none: the TLS ones only (the
/// point of this mode is TLS to the server). X.509 ones need `--vnc-ca-file` or
/// `--vnc-fingerprint` and are left out without them; TLSPlain (a password inside anonymous
/// TLS, open to a man in the middle) only when named, as in the rfb CLI.
const DEFAULT_SUBTYPES: &[VeNCryptSubtype] = &[
    VeNCryptSubtype::X509Plain,
    VeNCryptSubtype::X509Vnc,
    VeNCryptSubtype::X509None,
    VeNCryptSubtype::TlsVnc,
    VeNCryptSubtype::TlsNone,
];

fn is_x509(s: VeNCryptSubtype) -> bool {
    matches!(
        s,
        VeNCryptSubtype::X509None | VeNCryptSubtype::X509Vnc | VeNCryptSubtype::X509Plain
    )
}

/// How the proxy authenticates to VNC servers.
#[derive(Clone)]
pub(crate) struct Upstream {
    types: Vec<SecurityType>,
    subtypes: Vec<VeNCryptSubtype>,
    username: Option<String>,
    password: Option<String>,
    verify: Option<Verify>,
    server_name: Option<String>,
}

impl core::fmt::Debug for Upstream {
    // Never print the stored password.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Upstream")
            .field("types", &self.types)
            .field("subtypes", &self.subtypes)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Parses `--vnc-security`: comma-separated names or numbers, as the rfb CLI's `--security`
/// (`vencrypt`, `vncauth`, `none`, VeNCrypt subtype names such as `x509vnc` or `tlsvnc`, or
/// numbers; numbers from 256 are subtypes). Types that change what follows SecurityResult
/// (Tight's capability lists in ServerInit) cannot be relayed and are refused.
///
/// The syntax is `rfb_tls::options::parse_list`'s; this adapter refuses Tight and words its
/// errors for the proxy's option (no list of known names: the proxy accepts fewer).
pub(crate) fn parse_list(s: &str) -> anyhow::Result<(Vec<SecurityType>, Vec<VeNCryptSubtype>)> {
    match rfb_tls::options::parse_list_refusing(s, &[SecurityType::Tight]) {
        Ok(l) => Ok((l.types, l.subtypes)),
        Err(ListError::Refused { .. }) => {
            anyhow::bail!("--vnc-security: tight cannot be relayed (it changes ServerInit)")
        }
        Err(ListError::Unknown { word }) => {
            anyhow::bail!("--vnc-security: unknown security type {word:?}")
        }
        Err(ListError::Empty) => anyhow::bail!("--vnc-security: the list is empty"),
        Err(e) => anyhow::bail!("--vnc-security: {e}"),
    }
}

impl Upstream {
    /// Checks the options together: a trust anchor for X.509 subtypes named explicitly,
    /// anonymous TLS only in builds that have it.
    pub(crate) fn new(
        list: &str,
        username: Option<String>,
        password: Option<String>,
        verify: Option<Verify>,
        server_name: Option<String>,
    ) -> anyhow::Result<Self> {
        let (types, mut subtypes) = parse_list(list)?;
        if let Some(s) = subtypes.iter().find(|s| is_x509(**s)) {
            anyhow::ensure!(
                verify.is_some(),
                "--vnc-security {}: give --vnc-ca-file or --vnc-fingerprint to trust the VNC \
                 server's certificate",
                s.name()
            );
        }
        #[cfg(not(feature = "anon-tls"))]
        if let Some(s) = subtypes.iter().find(|s| {
            matches!(
                s,
                VeNCryptSubtype::TlsNone | VeNCryptSubtype::TlsVnc | VeNCryptSubtype::TlsPlain
            )
        }) {
            anyhow::bail!(
                "--vnc-security {}: this rfb-proxy was built without anonymous TLS (feature \
                 anon-tls)",
                s.name()
            );
        }
        if types.contains(&SecurityType::VeNCrypt) && subtypes.is_empty() {
            subtypes = DEFAULT_SUBTYPES
                .iter()
                .copied()
                .filter(|s| verify.is_some() || !is_x509(*s))
                .collect();
        }
        Ok(Self {
            types,
            subtypes,
            username,
            password,
            verify,
            server_name,
        })
    }

    fn client(&self, host: &str) -> Result<Client, String> {
        let config = Config {
            security_types: self.types.clone(),
            ..Config::default()
        };
        let mut client = Client::new(config, core::time::Duration::ZERO, Box::new(super::OsRng));
        client.stop_after_security();
        if self.types.contains(&SecurityType::VeNCrypt) {
            let settings = TlsSettings {
                server_name: self.server_name.clone().unwrap_or_else(|| host.to_string()),
                // Without a trust anchor every certificate is rejected with its fingerprint;
                // only anonymous subtypes are configured then.
                verify: self.verify.clone().unwrap_or(Verify::AskUser),
                time: Arc::new(SystemClock),
            };
            let tls = Connectors::new(settings)
                .map_err(|e| e.to_string())?
                .with_anonymous(cfg!(feature = "anon-tls"));
            client.register_security(Arc::new(VeNCryptFactory::new(
                self.subtypes.clone(),
                Some(Arc::new(tls)),
            )));
        }
        Ok(client)
    }

    /// The credentials asked for: the token plugin's (`token`), else the command line's.
    fn credentials(
        &self,
        need: rfb_core::CredentialsNeeded,
        token: Option<&TargetCredentials>,
    ) -> Result<Credentials, String> {
        let username = token
            .and_then(|t| t.username.clone())
            .or_else(|| self.username.clone());
        let password = token
            .and_then(|t| t.password.clone())
            .or_else(|| self.password.clone());
        if need.password && password.is_none() {
            return Err(
                "the VNC server asks for a password, and the proxy has none \
                        (--vnc-password-file, or vnc_password from the token plugin)"
                    .into(),
            );
        }
        if need.username && username.is_none() {
            return Err(
                "the VNC server asks for a user name, and the proxy has none \
                        (--vnc-username, or vnc_username from the token plugin)"
                    .into(),
            );
        }
        if need.target {
            return Err("the VNC server asks for a target, which the proxy cannot give".into());
        }
        Ok(Credentials {
            username,
            password,
            target: None,
        })
    }

    /// Runs the client handshake on `s` up to SecurityResult OK. Returns the handed-over
    /// state and raw server bytes not yet consumed (only without a transform), or a reason
    /// for the browser.
    pub(crate) async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        s: &mut S,
        host: &str,
        token: Option<&TargetCredentials>,
    ) -> Result<(Authenticated, Vec<u8>), String> {
        let mut client = self.client(host)?;
        let mut fb = Framebuffer::default();
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        let reason = |e: RfbError| format!("VNC server: {e}");
        loop {
            let used = client.handle_input(&buf, &mut fb).map_err(reason)?;
            buf.drain(..used);
            let mut supplied = false;
            while let Some(ev) = client.poll_event() {
                match ev {
                    Event::CredentialsRequired(need) => {
                        let c = self.credentials(need, token)?;
                        client.supply_credentials(&c).map_err(reason)?;
                        supplied = true;
                    }
                    // An identity nothing configured can vouch for (an RA2 key, a certificate
                    // without CA or pin): there is nobody to ask, so it is refused, and the
                    // error names its fingerprint.
                    Event::ServerVerification(_) => {
                        let e = client.reject_server().err().unwrap_or(RfbError::Closed);
                        return Err(format!(
                            "VNC server: the proxy has no way to verify its identity: {e}"
                        ));
                    }
                    _ => {}
                }
            }
            while let Some(out) = client.poll_transmit() {
                s.write_all(&out)
                    .await
                    .map_err(|e| format!("VNC server: {e}"))?;
            }
            if supplied {
                continue;
            }
            if client.is_authenticated() {
                let a = client
                    .take_authenticated()
                    .ok_or("VNC server: no handover")?;
                return Ok((a, buf));
            }
            // The client asks for at most a string's length more (its limits bound it).
            let n = s
                .read(&mut chunk)
                .await
                .map_err(|e| format!("VNC server: {e}"))?;
            if n == 0 {
                let e = client
                    .handle_eof(buf.len())
                    .err()
                    .unwrap_or(RfbError::Closed);
                return Err(reason(e));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_checks() {
        let (t, s) = parse_list("x509vnc,vncauth,262").unwrap();
        assert_eq!(t, [SecurityType::VeNCrypt, SecurityType::VncAuth]);
        assert_eq!(s, [VeNCryptSubtype::X509Vnc, VeNCryptSubtype::X509Plain]);
        assert!(parse_list("tight").is_err());
        assert!(parse_list("bogus").is_err());
        assert!(parse_list(",").is_err());
        // X.509 named without trust: refused up front.
        let e = Upstream::new("x509vnc", None, None, None, None).unwrap_err();
        assert!(e.to_string().contains("--vnc-ca-file"), "{e}");
        // Plain `vencrypt` without trust: the anonymous TLS subtypes only.
        let u = Upstream::new("vencrypt", None, None, None, None).unwrap();
        assert!(u.subtypes.iter().all(|s| !is_x509(*s)));
        assert!(!u.subtypes.is_empty());
        let u = Upstream::new(
            "vencrypt",
            None,
            None,
            Some(Verify::Fingerprint([0; 32])),
            None,
        )
        .unwrap();
        assert_eq!(u.subtypes, DEFAULT_SUBTYPES);
        assert!(
            !format!(
                "{:?}",
                Upstream {
                    password: Some("pw".into()),
                    ..u
                }
            )
            .contains("pw\"")
        );
    }
}
