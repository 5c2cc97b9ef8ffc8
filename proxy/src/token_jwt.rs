//! websockify's JWTTokenApi: `--token-source KEYFILE`; the token is a signed JWT (JWS
//! compact form) whose claims `host` and `port` name the target.
//!
//! The key file is a PEM public key (RSA → RS256/384/512 and PS256/384/512, EC P-256/P-384 →
//! ES256/ES384, Ed25519 → EdDSA) or, failing that, a symmetric key stored as websockify's
//! jwcrypto reads it (`JWK(kty='oct', k=<file contents>)`: the base64url text of the secret)
//! → HS256/384/512. `nbf` and `exp` are enforced when present, with no leeway (as
//! websockify). Encrypted tokens (JWE, five dot-separated parts) are refused with a log line:
//! no well-kept Rust crate decrypts them here.

use anyhow::{Context, bail};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::cli::normalise_target;
use crate::session::token_tag;
use crate::target::Target;
use crate::token::{LookupFuture, TokenPlugin};

/// The JWTTokenApi plugin.
pub(crate) struct JwtTokenApi {
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// Reads the key file: PEM first, then a base64url `oct` secret.
fn load_key(data: &[u8]) -> anyhow::Result<(DecodingKey, Vec<Algorithm>)> {
    use Algorithm::*;
    if data.windows(11).any(|w| w == b"-----BEGIN ") {
        if data.windows(16).any(|w| w == b"PRIVATE KEY-----") {
            bail!("a private key: give the public key instead (openssl pkey -pubout -in KEY)");
        }
        if let Ok(k) = DecodingKey::from_rsa_pem(data) {
            return Ok((k, vec![RS256, RS384, RS512, PS256, PS384, PS512]));
        }
        if let Ok(k) = DecodingKey::from_ec_pem(data) {
            return Ok((k, vec![ES256, ES384]));
        }
        if let Ok(k) = DecodingKey::from_ed_pem(data) {
            return Ok((k, vec![EdDSA]));
        }
        bail!("not an RSA, EC or Ed25519 public key in PEM form");
    }
    let text = std::str::from_utf8(data).context("symmetric key: not text")?;
    let k: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    // As Python's urlsafe_b64decode (jwcrypto): padding optional, stray low bits ignored.
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let secret = lenient
        .decode(&k)
        .context("symmetric key: expected the base64url `k` of an oct JWK")?;
    if secret.is_empty() {
        bail!("symmetric key is empty");
    }
    Ok((DecodingKey::from_secret(&secret), vec![HS256, HS384, HS512]))
}

impl JwtTokenApi {
    /// Builds the plugin from `--token-source KEYFILE`.
    pub(crate) fn new(source: Option<&str>) -> anyhow::Result<Self> {
        let Some(path) = source else {
            bail!("--token-plugin JWTTokenApi needs --token-source KEYFILE");
        };
        let data = std::fs::read(path).with_context(|| format!("JWT key file {path}"))?;
        let (key, algorithms) = load_key(&data).with_context(|| format!("JWT key file {path}"))?;
        Ok(Self { key, algorithms })
    }

    /// Verifies `token` and returns `host:port`, or why it was refused.
    pub(crate) fn verify(&self, token: &str) -> Result<String, String> {
        if token.split('.').count() == 5 {
            return Err("encrypted tokens (JWE) are not supported; use a signed JWT (JWS)".into());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("bad JWT: {e}"))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(format!(
                "JWT algorithm {:?} does not match the key (accepted: {:?})",
                header.alg, self.algorithms
            ));
        }
        let mut v = Validation::new(header.alg);
        v.algorithms = self.algorithms.clone();
        v.required_spec_claims.clear();
        v.leeway = 0;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &self.key, &v)
            .map_err(|e| format!("JWT refused: {e}"))?;
        let c = &data.claims;
        let host = c
            .get("host")
            .and_then(|h| h.as_str())
            .ok_or("JWT has no string claim `host`")?;
        let port = match c.get("port") {
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => return Err("JWT has no claim `port`".into()),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        normalise_target(&target).map_err(|e| format!("JWT target: {e:#}"))
    }
}

impl TokenPlugin for JwtTokenApi {
    fn lookup<'a>(&'a self, token: &'a str) -> LookupFuture<'a> {
        Box::pin(async move {
            match self.verify(token) {
                Ok(t) => Ok(Some(Target::Tcp(t))),
                Err(why) => {
                    tracing::info!(token = %token_tag(token), "JWTTokenApi: {why}");
                    Ok(None)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_jwe() {
        // websockify's tests/fixtures/symmetric.key style: base64url text.
        let (_, algs) = load_key(b"c2VjcmV0LWtleS1mb3ItdGVzdHM\n").unwrap();
        assert_eq!(algs[0], Algorithm::HS256);
        // websockify's own fixture (tests/fixtures/symmetric.key): trailing bits set.
        assert!(load_key(b"secret_sauce_secret_sauce_secret_sauce_secret_sauce").is_ok());
        assert!(load_key(b"c2VjcmV0LWtleS1mb3ItdGVzdHM=").is_ok());
        assert!(load_key(b"-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n").is_err());
        assert!(load_key(b"\n").is_err());
        let e = load_key(b"-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n");
        assert!(e.unwrap_err().to_string().contains("public key"));
        let p = JwtTokenApi {
            key: DecodingKey::from_secret(b"k"),
            algorithms: vec![Algorithm::HS256],
        };
        assert!(p.verify("a.b.c.d.e").unwrap_err().contains("JWE"));
        assert!(p.verify("garbage").is_err());
    }
}
