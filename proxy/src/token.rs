//! Token plugins: the [`TokenPlugin`] interface, [`make_plugin`] to build one by websockify's
//! class name, and websockify's TokenFile and ReadOnlyTokenFile formats. The other plugins
//! live in `token_redis.rs`, `token_jwt.rs`, `token_api.rs` and `token_unix.rs`
//! (TokenFileName is not supported).
//!
//! A source is a file or a directory of files; each line is `token: host:port` (the target
//! split at its last colon, so bare IPv6 works); `#` starts a comment. TokenFile re-reads the
//! source when a file's modification time changes (websockify re-reads on every lookup);
//! ReadOnlyTokenFile reads once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

use std::future::Future;
use std::pin::Pin;

use anyhow::{Context, bail};

use crate::cli::normalise_target;
use crate::target::Target;

/// What a lookup returns: the target, `None` for an unknown token, or an error (a backend
/// that is down), which the session answers with 503.
pub(crate) type LookupFuture<'a> =
    Pin<Box<dyn Future<Output = anyhow::Result<Option<Target>>> + Send + 'a>>;

/// A token plugin: token → target, as websockify's `--token-plugin` classes.
pub(crate) trait TokenPlugin: Send + Sync {
    /// Resolves `token`.
    fn lookup<'a>(&'a self, token: &'a str) -> LookupFuture<'a>;
}

/// Builds the plugin websockify calls `name` (a bare class name or a dotted path ending in
/// one) with `source` (`--token-source`).
pub(crate) fn make_plugin(
    name: &str,
    source: Option<&str>,
) -> anyhow::Result<Box<dyn TokenPlugin>> {
    let class = name.rsplit('.').next().unwrap_or(name);
    match class {
        "TokenFile" | "ReadOnlyTokenFile" => Ok(Box::new(TokenFile::new(class, source)?)),
        "TokenRedis" => Ok(Box::new(crate::token_redis::TokenRedis::new(source)?)),
        "JWTTokenApi" => Ok(Box::new(crate::token_jwt::JwtTokenApi::new(source)?)),
        "BaseTokenAPI" => Ok(Box::new(crate::token_api::TokenApi::new(false, source)?)),
        "JSONTokenApi" => Ok(Box::new(crate::token_api::TokenApi::new(true, source)?)),
        "UnixDomainSocketDirectory" => Ok(Box::new(crate::token_unix::UnixSocketDir::new(source)?)),
        other => bail!(
            "token plugin {other:?} is not supported (supported: TokenFile, ReadOnlyTokenFile, \
             TokenRedis, JWTTokenApi, BaseTokenAPI, JSONTokenApi, UnixDomainSocketDirectory)"
        ),
    }
}

/// File stamps (path, modification time) of the last read, and the tokens read.
type Loaded = (
    Option<Vec<(PathBuf, Option<SystemTime>)>>,
    BTreeMap<String, String>,
);

/// A token-file plugin.
#[derive(Debug)]
pub(crate) struct TokenFile {
    source: PathBuf,
    reload: bool,
    state: Mutex<Loaded>,
}

impl TokenFile {
    /// Builds the plugin named `plugin` reading `source`.
    pub(crate) fn new(plugin: &str, source: Option<&str>) -> anyhow::Result<Self> {
        let reload = plugin == "TokenFile";
        let Some(source) = source else {
            bail!("--token-plugin {plugin} needs --token-source FILE_OR_DIR");
        };
        let t = Self {
            source: PathBuf::from(source),
            reload,
            state: Mutex::new((None, BTreeMap::new())),
        };
        // Fail at start for an unreadable source rather than on the first connection.
        t.refresh()?;
        Ok(t)
    }

    fn files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let meta = std::fs::metadata(&self.source)
            .with_context(|| format!("token source {}", self.source.display()))?;
        if meta.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&self.source)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            v.sort();
            Ok(v)
        } else {
            Ok(vec![self.source.clone()])
        }
    }

    /// Re-reads the source if any file changed (or on first use).
    fn refresh(&self) -> anyhow::Result<()> {
        let files = self.files()?;
        let stamps: Vec<(PathBuf, Option<SystemTime>)> = files
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    std::fs::metadata(p).and_then(|m| m.modified()).ok(),
                )
            })
            .collect();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.0.is_some() && (!self.reload || st.0.as_ref() == Some(&stamps)) {
            return Ok(());
        }
        let mut map = BTreeMap::new();
        for f in &files {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("reading token file {}", f.display()))?;
            parse_into(&text, &mut map);
        }
        *st = (Some(stamps), map);
        Ok(())
    }

    /// The target for `token`.
    fn get(&self, token: &str) -> Option<String> {
        if let Err(e) = self.refresh() {
            tracing::warn!("token source: {e:#}");
        }
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.1.get(token).cloned()
    }
}

impl TokenPlugin for TokenFile {
    fn lookup<'a>(&'a self, token: &'a str) -> LookupFuture<'a> {
        Box::pin(async move { Ok(self.get(token).map(Target::Tcp)) })
    }
}

/// Parses `token: host:port` lines; malformed lines are skipped with a warning (as
/// websockify does, so one bad line does not take every token down).
fn parse_into(text: &str, map: &mut BTreeMap<String, String>) {
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // websockify splits on ':' followed by whitespace.
        let Some(pos) = line
            .match_indices(':')
            .map(|(p, _)| p)
            .find(|&p| line[p + 1..].starts_with(char::is_whitespace))
        else {
            tracing::warn!("token file line {}: expected `token: host:port`", i + 1);
            continue;
        };
        let (tok, target) = (line[..pos].trim(), line[pos + 1..].trim());
        match normalise_target(target) {
            Ok(t) => {
                map.insert(tok.to_string(), t);
            }
            Err(e) => tracing::warn!("token file line {}: {e:#}", i + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websockify_lines() {
        let mut m = BTreeMap::new();
        parse_into(
            "# comment\nabc: 127.0.0.1:5901\nwith:colon: h:7\nv6:\t::1:5902\nbad line\nnohost: :5\nx:  h:70000\n",
            &mut m,
        );
        assert_eq!(m.get("abc").map(String::as_str), Some("127.0.0.1:5901"));
        assert_eq!(m.get("v6").map(String::as_str), Some("[::1]:5902"));
        assert_eq!(m.get("with:colon").map(String::as_str), Some("h:7"));
        assert_eq!(m.len(), 3);
    }
}
