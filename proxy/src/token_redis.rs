//! websockify's TokenRedis: `--token-source host[:port[:db[:password[:namespace]]]]`.
//!
//! Empty fields take the defaults (6379, db 0, no password, no namespace); a field wrapped in
//! double quotes may contain `:`. The key is `namespace:token` (the bare token without a
//! namespace); the value is `host:port` or JSON `{"host": "host:port"}`, as websockify
//! writes them, and bracketed or bare IPv6 targets are accepted too (websockify's
//! `split(":")` refuses them). Unlike websockify (a new client per lookup) one
//! [`ConnectionManager`] is shared by every lookup and reconnects by itself; a lookup that
//! does not answer within [`LOOKUP_TIMEOUT`] errors, and the session answers 503.

use std::time::Duration;

use anyhow::{Context, bail};
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use crate::cli::normalise_target;
use crate::target::Target;
use crate::token::{LookupFuture, TokenPlugin};

/// Time allowed for one lookup (connecting included).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The parsed `--token-source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedisSource {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) db: i64,
    pub(crate) password: Option<String>,
    pub(crate) namespace: String,
}

/// Splits on `:` as websockify's `parse_source_args` does: a whole field wrapped in double
/// quotes (`"a:b"`, followed by `:` or the end) may contain `:`; quotes elsewhere are
/// literal.
fn split_fields(src: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut rest = src;
    loop {
        if let Some(inner) = rest.strip_prefix('"') {
            if let Some(close) = inner.find('"') {
                let after = &inner[close + 1..];
                if close > 0 && (after.is_empty() || after.starts_with(':')) {
                    fields.push(inner[..close].to_string());
                    match after.strip_prefix(':') {
                        Some(r) => {
                            rest = r;
                            continue;
                        }
                        None => return fields,
                    }
                }
            }
        }
        match rest.split_once(':') {
            Some((f, r)) => {
                fields.push(f.to_string());
                rest = r;
            }
            None => {
                fields.push(rest.to_string());
                return fields;
            }
        }
    }
}

impl RedisSource {
    /// Parses websockify's source string.
    pub(crate) fn parse(src: &str) -> anyhow::Result<Self> {
        let f = split_fields(src);
        if f.len() > 5 {
            bail!("TokenRedis source: too many fields (host[:port[:db[:password[:namespace]]]])");
        }
        let field = |i: usize| f.get(i).map(String::as_str).filter(|s| !s.is_empty());
        let host = field(0).unwrap_or("localhost").to_string();
        let port = match field(1) {
            Some(p) => p
                .parse()
                .with_context(|| format!("TokenRedis source: bad port {p:?}"))?,
            None => 6379,
        };
        let db = match field(2) {
            Some(d) => d
                .parse()
                .with_context(|| format!("TokenRedis source: bad db {d:?}"))?,
            None => 0,
        };
        Ok(Self {
            host,
            port,
            db,
            password: field(3).map(str::to_string),
            namespace: field(4).unwrap_or("").to_string(),
        })
    }

    /// The Redis key for `token`.
    pub(crate) fn key(&self, token: &str) -> String {
        if self.namespace.is_empty() {
            token.to_string()
        } else {
            format!("{}:{token}", self.namespace)
        }
    }
}

/// Parses a stored value: JSON `{"host": "h:p"}` or plain `h:p`; `None` when malformed.
pub(crate) fn parse_value(v: &str) -> Option<String> {
    let v = v.trim();
    let target = if v.starts_with('{') {
        let j: serde_json::Value = serde_json::from_str(v).ok()?;
        j.get("host")?.as_str()?.to_string()
    } else {
        v.to_string()
    };
    if target.chars().any(char::is_whitespace) {
        return None;
    }
    normalise_target(&target).ok()
}

/// `vnc_username` / `vnc_password` of a JSON value (for `--vnc-security`).
pub(crate) fn json_credentials(v: &str) -> Option<crate::target::TargetCredentials> {
    let j: serde_json::Value = serde_json::from_str(v.trim()).ok()?;
    crate::target::TargetCredentials::from_json(&j)
}

/// The TokenRedis plugin.
pub(crate) struct TokenRedis {
    src: RedisSource,
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
}

impl TokenRedis {
    /// Builds the plugin from `--token-source`.
    pub(crate) fn new(source: Option<&str>) -> anyhow::Result<Self> {
        let Some(source) = source else {
            bail!(
                "--token-plugin TokenRedis needs --token-source host[:port[:db[:password[:namespace]]]]"
            );
        };
        let src = RedisSource::parse(source)?;
        use redis::IntoConnectionInfo;
        let host = src.host.trim_start_matches('[').trim_end_matches(']');
        let mut settings = redis::RedisConnectionInfo::default().set_db(src.db);
        if let Some(pw) = &src.password {
            settings = settings.set_password(pw);
        }
        let info = redis::ConnectionAddr::Tcp(host.to_string(), src.port)
            .into_connection_info()
            .context("TokenRedis")?
            .set_redis_settings(settings);
        let client = redis::Client::open(info).context("TokenRedis")?;
        Ok(Self {
            src,
            client,
            conn: OnceCell::new(),
        })
    }

    async fn get(&self, token: &str) -> anyhow::Result<Option<Target>> {
        // Connect lazily (a Redis that is down at start must not stop the proxy), then
        // reuse the manager, which reconnects on its own.
        let conn = self
            .conn
            .get_or_try_init(|| {
                let cfg = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(LOOKUP_TIMEOUT))
                    .set_response_timeout(Some(LOOKUP_TIMEOUT))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), cfg)
            })
            .await
            .with_context(|| format!("Redis {}:{}", self.src.host, self.src.port))?;
        let mut conn = conn.clone();
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.src.key(token))
            .query_async(&mut conn)
            .await
            .context("Redis GET")?;
        let Some(value) = value else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&value);
        match parse_value(&text) {
            // A JSON value may carry VNC credentials for --vnc-security.
            Some(t) => Ok(Some(Target::with_credentials(
                Target::Tcp(t),
                json_credentials(&text),
            ))),
            None => {
                tracing::warn!(
                    token = %crate::session::token_tag(token),
                    "TokenRedis: value is neither host:port nor {{\"host\": \"host:port\"}}"
                );
                Ok(None)
            }
        }
    }
}

impl TokenPlugin for TokenRedis {
    fn lookup<'a>(&'a self, token: &'a str) -> LookupFuture<'a> {
        Box::pin(async move {
            match tokio::time::timeout(LOOKUP_TIMEOUT, self.get(token)).await {
                Ok(r) => r,
                Err(_) => bail!("Redis lookup timed out after {LOOKUP_TIMEOUT:?}"),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websockify_source_forms() {
        let s = RedisSource::parse("myredis.local").unwrap();
        assert_eq!(
            (
                s.host.as_str(),
                s.port,
                s.db,
                s.password,
                s.namespace.as_str()
            ),
            ("myredis.local", 6379, 0, None, "")
        );
        let s = RedisSource::parse("h:6380:2:pw:ns").unwrap();
        assert_eq!(
            (s.port, s.db, s.password.as_deref(), s.namespace.as_str()),
            (6380, 2, Some("pw"), "ns")
        );
        let s = RedisSource::parse("h::::\"a:b\"").unwrap();
        assert_eq!((s.port, s.db, s.password.as_deref()), (6379, 0, None));
        assert_eq!(s.namespace, "a:b");
        assert_eq!(s.key("t"), "a:b:t");
        let s = RedisSource::parse("h:::\"p:w\"").unwrap();
        assert_eq!(s.password.as_deref(), Some("p:w"));
        assert_eq!(s.key("t"), "t");
        // Quotes inside a field, or unbalanced, are literal (websockify's regex).
        let s = RedisSource::parse("h:::it's:a\"b").unwrap();
        assert_eq!(s.password.as_deref(), Some("it's"));
        assert_eq!(s.namespace, "a\"b");
        assert_eq!(split_fields("\"x:y\"z:1"), ["\"x", "y\"z", "1"]);
        assert_eq!(split_fields("a:\"b:c\":d"), ["a", "b:c", "d"]);
        assert!(RedisSource::parse("h:1:2:3:4:5").is_err());
        assert!(RedisSource::parse("h:x").is_err());
    }

    #[test]
    fn websockify_values() {
        assert_eq!(
            parse_value("127.0.0.1:5901\n").as_deref(),
            Some("127.0.0.1:5901")
        );
        assert_eq!(
            parse_value(r#"{"host": "h:5901"}"#).as_deref(),
            Some("h:5901")
        );
        assert_eq!(parse_value("[::1]:5901").as_deref(), Some("[::1]:5901"));
        assert_eq!(
            parse_value(r#"{"host": "[fe80::1]:1"}"#).as_deref(),
            Some("[fe80::1]:1")
        );
        assert_eq!(parse_value(r#"{"host": 5}"#), None);
        assert_eq!(parse_value("{bad json"), None);
        assert_eq!(parse_value("nohostport"), None);
        assert_eq!(parse_value("a b:1"), None);
    }
}
