//! Command line: websockify's form, `rfb-proxy [options] [source_addr:]source_port
//! [target_addr:target_port]`, with its option names.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;

use crate::target::Target;

/// A WebSocket-to-TCP proxy for VNC: a drop-in for websockify.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "rfb-proxy",
    version,
    about,
    after_help = "Two forms:\n  \
noVNC's launcher (serves the built-in web app, prints the URL to open):\n    \
rfb-proxy --vnc localhost:5901\n    rfb-proxy --demo\n    \
rfb-proxy --listen 8443 --vnc 10.0.0.5:5900 --self-signed\n  \
websockify's (files only with --web):\n    \
rfb-proxy 6080 localhost:5901\n    rfb-proxy --web ./web 0.0.0.0:6080 localhost:5901\n    \
rfb-proxy --token-plugin TokenFile --token-source ./tokens 6080"
)]
pub(crate) struct Args {
    /// `[source_addr:]source_port` to listen on (a bare port listens on all interfaces, as
    /// websockify does), then `target_addr:target_port` unless a token plugin or
    /// --unix-target chooses the target.
    #[arg(value_name = "ADDR", num_args = 0..=2)]
    pub(crate) addrs: Vec<String>,
    /// noVNC launcher form: `[HOST:]PORT` to listen on (default 6080, all interfaces, as
    /// novnc_proxy). Without positional addresses the built-in web app is served.
    #[arg(long, value_name = "[HOST:]PORT", conflicts_with = "addrs")]
    pub(crate) listen: Option<String>,
    /// noVNC launcher form: the VNC server, `HOST:PORT` (default `localhost:5900`).
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "addrs")]
    pub(crate) vnc: Option<String>,
    /// Make a throwaway self-signed certificate for `https://` and `wss://` (printed with its
    /// SHA-256 fingerprint); for trying TLS quickly, not for production.
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    pub(crate) self_signed: bool,
    /// Also send logs to syslog: a local socket such as `/dev/log`, or a UDP `host:port`.
    #[arg(long, value_name = "SERVER")]
    pub(crate) syslog: Option<String>,
    /// Serve static files from DIR on the same port (GET/HEAD; no directory listings).
    #[arg(long, value_name = "DIR")]
    pub(crate) web: Option<PathBuf>,
    /// Accepted for websockify compatibility: directory listings are never served.
    #[arg(long)]
    pub(crate) file_only: bool,
    /// TLS certificate chain (PEM); it may hold the private key too, as websockify's self.pem.
    /// TLS and plain connections share the port (the first byte decides); the file is re-read
    /// when it changes.
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,
    /// TLS private key (PEM), when it is not in the --cert file.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Refuse plain (non-TLS) connections: they get a plain HTTP 400.
    #[arg(long, requires = "cert")]
    pub(crate) ssl_only: bool,
    /// Connect to the target over TLS, checking its certificate and host name against the
    /// system CA store.
    #[arg(long)]
    pub(crate) ssl_target: bool,
    /// With --ssl-target, also trust the CA certificates in FILE (PEM), e.g. a self-signed
    /// VNC server's.
    #[arg(long, value_name = "FILE", requires = "ssl_target")]
    pub(crate) ssl_target_ca: Option<PathBuf>,
    /// With --ssl-target, do not verify the target's certificate at all (insecure).
    #[arg(long, requires = "ssl_target", conflicts_with = "ssl_target_ca")]
    pub(crate) ssl_target_insecure: bool,
    /// Serve the built-in demo desktop instead of a target (no VNC server needed). Never
    /// implied: a missing target is an error, not a fake desktop.
    #[arg(long)]
    pub(crate) demo: bool,
    /// Like --demo, but frozen: nothing moves and there is no clock (for tests); typed keys
    /// and the pointer are still echoed.
    #[arg(long)]
    pub(crate) demo_static: bool,
    /// With --demo, also serve the demo as plain RFB (no WebSocket) on this TCP port of the
    /// listen address, for VNC clients such as vncdotool.
    #[arg(long, value_name = "PORT")]
    pub(crate) demo_rfb_port: Option<u16>,
    /// Connect to a Unix socket instead of a TCP target.
    #[arg(long, value_name = "FILE")]
    pub(crate) unix_target: Option<PathBuf>,
    /// Record each session to FILE.N in websockify's VNC_frame_data format.
    #[arg(long, value_name = "FILE")]
    pub(crate) record: Option<PathBuf>,
    /// Token plugin: TokenFile (re-read when changed), ReadOnlyTokenFile (read once),
    /// TokenRedis, JWTTokenApi, BaseTokenAPI, JSONTokenApi, UnixDomainSocketDirectory.
    #[arg(long, value_name = "CLASS")]
    pub(crate) token_plugin: Option<String>,
    /// Argument of the token plugin: a file or directory (token files,
    /// UnixDomainSocketDirectory), `host[:port[:db[:password[:namespace]]]]` (TokenRedis), a
    /// key file (JWTTokenApi), a URL with `%s` (BaseTokenAPI, JSONTokenApi).
    #[arg(long, value_name = "ARG")]
    pub(crate) token_source: Option<String>,
    /// Take the token from the Host header (minus the port) instead of `?token=`.
    #[arg(long)]
    pub(crate) host_token: bool,
    /// Auth plugin: BasicHTTPAuth (source `user:password`) or ExpectOrigin (source
    /// `"origin1 origin2"`), checked after the token lookup.
    #[arg(long, value_name = "CLASS")]
    pub(crate) auth_plugin: Option<String>,
    /// Argument of the auth plugin.
    #[arg(long, value_name = "ARG")]
    pub(crate) auth_source: Option<String>,
    /// Run the auth plugin on plain GET/HEAD requests too (files, endpoints).
    #[arg(long)]
    pub(crate) web_auth: bool,
    /// Send a WebSocket ping every N seconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) heartbeat: u64,
    /// Exit after N seconds with no connection (0: never), as websockify does.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) idle_timeout: u64,
    /// Stop accepting and exit N seconds after start (0: never), as websockify does.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) timeout: u64,
    /// Largest WebSocket frame accepted from a client, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub(crate) max_frame: u64,
    /// Most simultaneous sessions; more are refused with 503.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub(crate) max_connections: usize,
    /// Also write logs to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) log_file: Option<PathBuf>,
    /// More logging (debug level).
    #[arg(short, long)]
    pub(crate) verbose: bool,
    /// Do not serve `/metrics` (`/health` stays).
    #[arg(long)]
    pub(crate) no_metrics: bool,
    /// Proxies whose `X-Forwarded-For` is believed: from a client in one of these ranges, the
    /// rightmost address in that header that is not itself trusted is the client.
    #[arg(long, value_name = "CIDR[,CIDR…]", value_delimiter = ',')]
    pub(crate) trust_forwarded: Vec<crate::client_addr::Cidr>,
    /// Send a PROXY protocol v2 header with the client's address to the target before any
    /// RFB byte (the target must expect it).
    #[arg(long)]
    pub(crate) proxy_protocol: bool,
    /// RFB-aware security mode: the proxy authenticates to the VNC server itself with these
    /// security types, in order (names or numbers as the rfb CLI's --security: vencrypt,
    /// vncauth, none, VeNCrypt subtypes x509vnc, x509plain, x509none, tlsvnc, tlsplain,
    /// tlsnone, plain), while the browser sees None or --browser-auth vncauth.
    #[arg(long, value_name = "LIST")]
    pub(crate) vnc_security: Option<String>,
    /// With --vnc-security: the user name for the VNC server (VeNCrypt Plain, X509Plain,
    /// TLSPlain).
    #[arg(long, value_name = "NAME")]
    pub(crate) vnc_username: Option<String>,
    /// With --vnc-security: a file whose first line is the VNC server's password.
    #[arg(long, value_name = "FILE")]
    pub(crate) vnc_password_file: Option<PathBuf>,
    /// With --vnc-security: CA certificates (PEM) that the VNC server's X.509 certificate
    /// must chain to.
    #[arg(long, value_name = "PEM")]
    pub(crate) vnc_ca_file: Option<PathBuf>,
    /// With --vnc-security: the SHA-256 fingerprint of the VNC server's certificate (hex,
    /// colons allowed), pinned instead of a CA.
    #[arg(long, value_name = "SHA256")]
    pub(crate) vnc_fingerprint: Option<String>,
    /// With --vnc-security: the name the VNC server's certificate must carry (default: the
    /// target's host).
    #[arg(long, value_name = "NAME")]
    pub(crate) vnc_tls_server_name: Option<String>,
    /// With --vnc-security: what the browser must do: `none` (default) or `vncauth` (VNC
    /// Authentication with --browser-password-file).
    #[arg(long, value_name = "none|vncauth")]
    pub(crate) browser_auth: Option<String>,
    /// With --browser-auth vncauth: a file whose first line is the password browsers must give.
    #[arg(long, value_name = "FILE")]
    pub(crate) browser_password_file: Option<PathBuf>,
}

/// The default listen port of noVNC's launcher.
pub(crate) const LAUNCHER_PORT: u16 = 6080;
/// The default VNC server of noVNC's launcher.
pub(crate) const LAUNCHER_VNC: &str = "localhost:5900";

impl Args {
    /// noVNC's launcher form (no positional addresses): the app is served and a URL printed.
    pub(crate) fn launcher(&self) -> bool {
        self.addrs.is_empty()
    }

    /// The listen address: a bare port means every interface, as websockify does.
    pub(crate) fn listen_addr(&self) -> anyhow::Result<String> {
        if self.launcher() {
            return match &self.listen {
                Some(l) => normalise_listen(l),
                None => Ok(format!("0.0.0.0:{LAUNCHER_PORT}")),
            };
        }
        let Some(first) = self.addrs.first() else {
            bail!("missing [source_addr:]source_port");
        };
        normalise_listen(first)
    }

    /// The fixed target, if any; errors on websockify's "too many arguments" combinations.
    pub(crate) fn fixed_target(&self) -> anyhow::Result<Option<Target>> {
        let positional = self.addrs.get(1);
        if self.demo || self.demo_static {
            if positional.is_some()
                || self.vnc.is_some()
                || self.unix_target.is_some()
                || self.token_plugin.is_some()
            {
                bail!("give either a target or --demo");
            }
            if self.proxy_protocol {
                bail!("--proxy-protocol has no meaning with --demo");
            }
            return Ok(Some(Target::Demo {
                animate: !self.demo_static,
            }));
        }
        if self.demo_rfb_port.is_some() {
            bail!("--demo-rfb-port needs --demo or --demo-static");
        }
        let n = usize::from(positional.is_some() || self.vnc.is_some())
            + usize::from(self.unix_target.is_some())
            + usize::from(self.token_plugin.is_some());
        if n > 1 {
            bail!(
                "Too many arguments: give a target address, --unix-target or --token-plugin, not several"
            );
        }
        if let Some(t) = positional {
            return Ok(Some(Target::Tcp(normalise_target(t)?)));
        }
        if self.launcher() && self.unix_target.is_none() && self.token_plugin.is_none() {
            let vnc = self.vnc.as_deref().unwrap_or(LAUNCHER_VNC);
            return Ok(Some(Target::Tcp(normalise_target(vnc)?)));
        }
        if let Some(p) = &self.unix_target {
            return Ok(Some(Target::Unix(p.clone())));
        }
        if self.token_plugin.is_none() {
            bail!("missing target_addr:target_port (or --unix-target, or --token-plugin)");
        }
        Ok(None)
    }
}

/// `[host:]port` → `host:port`; IPv6 hosts in brackets.
fn normalise_listen(s: &str) -> anyhow::Result<String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(format!("0.0.0.0:{port}"));
    }
    let (host, port) = s
        .rsplit_once(':')
        .with_context(|| format!("{s:?}: expected [source_addr:]source_port"))?;
    let port: u16 = port.parse().with_context(|| format!("{s:?}: bad port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// `host:port` (IPv6 in brackets or bare, split at the last colon as websockify does).
pub(crate) fn normalise_target(s: &str) -> anyhow::Result<String> {
    let (host, port) = s
        .rsplit_once(':')
        .with_context(|| format!("{s:?}: expected target_addr:target_port"))?;
    let port: u16 = port.parse().with_context(|| format!("{s:?}: bad port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        bail!("{s:?}: empty host");
    }
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websockify_address_forms() {
        assert_eq!(normalise_listen("6080").unwrap(), "0.0.0.0:6080");
        assert_eq!(
            normalise_listen("127.0.0.1:6080").unwrap(),
            "127.0.0.1:6080"
        );
        assert_eq!(normalise_listen("[::1]:6080").unwrap(), "[::1]:6080");
        assert_eq!(
            normalise_target("localhost:5901").unwrap(),
            "localhost:5901"
        );
        assert_eq!(normalise_target("::1:5901").unwrap(), "[::1]:5901");
        assert_eq!(
            normalise_target("[fe80::1]:5901").unwrap(),
            "[fe80::1]:5901"
        );
        assert!(normalise_target("nohost").is_err());
        assert!(normalise_target(":5901").is_err());
        let a = Args::parse_from(["rfb-proxy", "6080", "h:1", "--token-plugin", "TokenFile"]);
        assert!(
            a.fixed_target()
                .unwrap_err()
                .to_string()
                .contains("Too many")
        );
        let a = Args::parse_from(["rfb-proxy", "6080"]);
        assert!(a.fixed_target().is_err());
        // noVNC's launcher form.
        let a = Args::parse_from(["rfb-proxy"]);
        assert!(a.launcher());
        assert_eq!(a.listen_addr().unwrap(), "0.0.0.0:6080");
        assert_eq!(
            a.fixed_target().unwrap(),
            Some(Target::Tcp("localhost:5900".into()))
        );
        let a = Args::parse_from(["rfb-proxy", "--listen", "127.0.0.1:7000", "--vnc", "h:5901"]);
        assert_eq!(a.listen_addr().unwrap(), "127.0.0.1:7000");
        assert_eq!(
            a.fixed_target().unwrap(),
            Some(Target::Tcp("h:5901".into()))
        );
        let a = Args::parse_from(["rfb-proxy", "--demo", "--listen", "7000"]);
        assert_eq!(a.listen_addr().unwrap(), "0.0.0.0:7000");
        assert_eq!(
            a.fixed_target().unwrap(),
            Some(Target::Demo { animate: true })
        );
        assert!(Args::try_parse_from(["rfb-proxy", "--vnc", "h:1", "6080"]).is_err());
        let a = Args::parse_from(["rfb-proxy", "--demo", "--vnc", "h:1"]);
        assert!(a.fixed_target().is_err());
        let a = Args::parse_from(["rfb-proxy", "--demo", "6080"]);
        assert_eq!(
            a.fixed_target().unwrap(),
            Some(Target::Demo { animate: true })
        );
        let a = Args::parse_from(["rfb-proxy", "--demo-static", "6080"]);
        assert_eq!(
            a.fixed_target().unwrap(),
            Some(Target::Demo { animate: false })
        );
        let a = Args::parse_from(["rfb-proxy", "--demo", "6080", "h:1"]);
        assert_eq!(
            a.fixed_target().unwrap_err().to_string(),
            "give either a target or --demo"
        );
    }
}
