//! websockify's auth plugins (`--auth-plugin CLASS --auth-source ARG`): checked after the
//! token lookup on WebSocket upgrades, and on plain GET/HEAD requests too with `--web-auth`.
//!
//! - `BasicHTTPAuth`, source `user:password`: no `Authorization` header or wrong credentials
//!   → 401 with `WWW-Authenticate: Basic realm="Websockify"`; a header that is not
//!   `Basic <base64 of user:password>` → 403. Credentials are compared in constant time
//!   (websockify compares strings).
//! - `ExpectOrigin`, source `"origin1 origin2 …"`: an `Origin` header missing or not in the
//!   list → 403 "Invalid Origin".

use anyhow::bail;
use base64::Engine;
use rfb_ws::Request;

/// A refusal: status, reason phrase and extra response headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) reason: &'static str,
    pub(crate) headers: Vec<(&'static str, &'static str)>,
}

impl Refusal {
    fn forbidden(reason: &'static str) -> Self {
        Self {
            status: 403,
            reason,
            headers: Vec::new(),
        }
    }

    fn demand_auth() -> Self {
        Self {
            status: 401,
            reason: "Unauthorized",
            headers: vec![("WWW-Authenticate", "Basic realm=\"Websockify\"")],
        }
    }
}

/// An auth plugin.
#[derive(Debug)]
pub(crate) enum AuthPlugin {
    /// `user:password`.
    Basic(Vec<u8>),
    /// Accepted origins.
    ExpectOrigin(Vec<String>),
}

/// Equality whose time does not depend on where the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..n {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

impl AuthPlugin {
    /// Builds the plugin websockify calls `name` (bare or dotted) with `source`.
    pub(crate) fn new(name: &str, source: Option<&str>) -> anyhow::Result<Self> {
        let class = name.rsplit('.').next().unwrap_or(name);
        match class {
            "BasicHTTPAuth" => {
                let Some(src) = source.filter(|s| s.contains(':')) else {
                    bail!("--auth-plugin BasicHTTPAuth needs --auth-source user:password");
                };
                Ok(Self::Basic(src.as_bytes().to_vec()))
            }
            "ExpectOrigin" => {
                let origins: Vec<String> = source
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                if origins.is_empty() {
                    bail!("--auth-plugin ExpectOrigin needs --auth-source \"origin1 origin2 …\"");
                }
                Ok(Self::ExpectOrigin(origins))
            }
            other => bail!(
                "auth plugin {other:?} is not supported (supported: BasicHTTPAuth, ExpectOrigin)"
            ),
        }
    }

    /// Checks a request.
    pub(crate) fn check(&self, req: &Request) -> Result<(), Refusal> {
        match self {
            Self::Basic(expected) => {
                let Some(h) = req.header("authorization") else {
                    return Err(Refusal::demand_auth());
                };
                let Some(b64) = h.strip_prefix("Basic ") else {
                    return Err(Refusal::forbidden("Forbidden"));
                };
                let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
                    return Err(Refusal::forbidden("Forbidden"));
                };
                // websockify decodes ISO-8859-1 and compares text; re-encode as UTF-8 so a
                // non-ASCII password in the source compares the same way.
                let text: String = raw.iter().map(|&b| char::from(b)).collect();
                if !text.contains(':') {
                    return Err(Refusal::forbidden("Forbidden"));
                }
                if ct_eq(text.as_bytes(), expected) {
                    Ok(())
                } else {
                    Err(Refusal::demand_auth())
                }
            }
            Self::ExpectOrigin(list) => match req.header("origin") {
                Some(o) if list.iter().any(|x| x == o) => Ok(()),
                _ => Err(Refusal::forbidden("Invalid Origin")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            path: "/".into(),
            minor_version: 1,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    #[test]
    fn basic_auth() {
        let p = AuthPlugin::new("websockify.auth_plugins.BasicHTTPAuth", Some("u:p:w")).unwrap();
        let ok = base64::engine::general_purpose::STANDARD.encode("u:p:w");
        let bad = base64::engine::general_purpose::STANDARD.encode("u:x");
        let nocolon = base64::engine::general_purpose::STANDARD.encode("u");
        assert_eq!(
            p.check(&req(&[("Authorization", &format!("Basic {ok}"))])),
            Ok(())
        );
        assert_eq!(p.check(&req(&[])).unwrap_err().status, 401);
        let r = p
            .check(&req(&[("Authorization", &format!("Basic {bad}"))]))
            .unwrap_err();
        assert_eq!(r.status, 401);
        assert_eq!(r.headers[0].1, "Basic realm=\"Websockify\"");
        for h in ["Bearer x", "Basic !!!", &format!("Basic {nocolon}")] {
            assert_eq!(
                p.check(&req(&[("Authorization", h)])).unwrap_err().status,
                403,
                "{h}"
            );
        }
        assert!(AuthPlugin::new("BasicHTTPAuth", None).is_err());
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"ab", b"abc"));
    }

    #[test]
    fn expect_origin() {
        let p = AuthPlugin::new("ExpectOrigin", Some("https://a.example http://b:8080")).unwrap();
        assert_eq!(p.check(&req(&[("Origin", "http://b:8080")])), Ok(()));
        let r = p.check(&req(&[("Origin", "https://evil")])).unwrap_err();
        assert_eq!((r.status, r.reason), (403, "Invalid Origin"));
        assert_eq!(p.check(&req(&[])).unwrap_err().status, 403);
        assert!(AuthPlugin::new("ClientCertCNAuth", Some("x")).is_err());
    }
}
