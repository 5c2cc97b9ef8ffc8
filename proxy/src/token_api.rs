//! websockify's BaseTokenAPI and JSONTokenApi: `--token-source URL` containing `%s`; a
//! lookup is an HTTP GET of the URL with the token (percent-encoded) in place of `%s`.
//!
//! BaseTokenAPI reads a body `host:port`; JSONTokenApi a JSON body `{"host": …, "port": …}`
//! (port a number or a string). A 2xx answer with a usable body gives the target; any 4xx
//! (or a 2xx with an unusable body) means "unknown token" (404); a 5xx, a timeout
//! ([`API_TIMEOUT`]) or a connection failure is an error (503). One `reqwest` client (with
//! its connection pool) serves every lookup; http and https URLs both work (rustls).

use std::time::Duration;

use anyhow::{Context, bail};

use crate::cli::normalise_target;
use crate::session::token_tag;
use crate::target::Target;
use crate::token::{LookupFuture, TokenPlugin};

/// Time allowed for one HTTP lookup.
const API_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP token API plugins.
pub(crate) struct TokenApi {
    url: String,
    json: bool,
    client: reqwest::Client,
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for b in token.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `host:port` from a BaseTokenAPI body.
pub(crate) fn parse_plain(body: &str) -> Option<String> {
    let b = body.trim();
    if b.chars().any(char::is_whitespace) {
        return None;
    }
    normalise_target(b).ok()
}

/// `host:port` from a JSONTokenApi body.
pub(crate) fn parse_json(body: &str) -> Option<String> {
    let j: serde_json::Value = serde_json::from_str(body).ok()?;
    let host = j.get("host")?.as_str()?;
    let port = match j.get("port")? {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.clone(),
        _ => return None,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.contains(':') {
        normalise_target(&format!("[{host}]:{port}")).ok()
    } else {
        normalise_target(&format!("{host}:{port}")).ok()
    }
}

impl TokenApi {
    /// Builds BaseTokenAPI (`json == false`) or JSONTokenApi from `--token-source URL`.
    pub(crate) fn new(json: bool, source: Option<&str>) -> anyhow::Result<Self> {
        let name = if json { "JSONTokenApi" } else { "BaseTokenAPI" };
        let Some(url) = source else {
            bail!("--token-plugin {name} needs --token-source URL (with %s for the token)");
        };
        if !url.contains("%s") {
            bail!("--token-source {url:?}: the URL needs %s where the token goes");
        }
        let probe = url.replace("%s", "t");
        let parsed =
            reqwest::Url::parse(&probe).with_context(|| format!("--token-source {url:?}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("--token-source {url:?}: only http and https URLs");
        }
        let client = reqwest::Client::builder()
            .timeout(API_TIMEOUT)
            .connect_timeout(API_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .context("HTTP client")?;
        Ok(Self {
            url: url.to_string(),
            json,
            client,
        })
    }

    async fn get(&self, token: &str) -> anyhow::Result<Option<Target>> {
        let url = self.url.replace("%s", &encode(token));
        let resp = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("token API: {}", e.without_url()))?;
        let status = resp.status();
        if status.is_server_error() {
            bail!("token API answered {status}");
        }
        if !status.is_success() {
            return Ok(None);
        }
        let body = resp
            .text()
            .await
            .map_err(|e| anyhow::anyhow!("token API body: {}", e.without_url()))?;
        let target = if self.json {
            parse_json(&body)
        } else {
            parse_plain(&body)
        };
        if target.is_none() {
            tracing::warn!(
                token = %token_tag(token),
                "token API: unusable answer (expected {})",
                if self.json { "{\"host\": …, \"port\": …}" } else { "host:port" }
            );
        }
        // A JSON answer may carry VNC credentials for --vnc-security.
        let credentials = if self.json {
            crate::token_redis::json_credentials(&body)
        } else {
            None
        };
        Ok(target.map(|t| Target::with_credentials(Target::Tcp(t), credentials)))
    }
}

impl TokenPlugin for TokenApi {
    fn lookup<'a>(&'a self, token: &'a str) -> LookupFuture<'a> {
        Box::pin(self.get(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_encoding() {
        assert_eq!(encode("a b/c?d%"), "a%20b%2Fc%3Fd%25");
        assert_eq!(encode("eyJ.x-y_z~"), "eyJ.x-y_z~");
        assert_eq!(
            parse_plain("127.0.0.1:5901\n").as_deref(),
            Some("127.0.0.1:5901")
        );
        assert_eq!(parse_plain("nope"), None);
        assert_eq!(
            parse_json(r#"{"host": "h", "port": 5901}"#).as_deref(),
            Some("h:5901")
        );
        assert_eq!(
            parse_json(r#"{"host": "::1", "port": "7"}"#).as_deref(),
            Some("[::1]:7")
        );
        assert_eq!(parse_json(r#"{"host": "h"}"#), None);
        assert!(TokenApi::new(false, Some("http://x/tok")).is_err());
        assert!(TokenApi::new(true, Some("ftp://x/%s")).is_err());
    }
}
