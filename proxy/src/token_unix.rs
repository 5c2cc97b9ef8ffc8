//! websockify's UnixDomainSocketDirectory: `--token-source DIR`; the token names a Unix
//! socket inside DIR. Tokens with a path separator, `..`, a NUL or a leading `.` are
//! refused, and the file must be a socket (no symlink out of DIR is followed to a socket
//! elsewhere: the canonical path must stay under the canonical DIR).

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::session::token_tag;
use crate::target::Target;
use crate::token::{LookupFuture, TokenPlugin};

/// The UnixDomainSocketDirectory plugin.
pub(crate) struct UnixSocketDir {
    dir: PathBuf,
}

impl UnixSocketDir {
    /// Builds the plugin from `--token-source DIR`.
    pub(crate) fn new(source: Option<&str>) -> anyhow::Result<Self> {
        let Some(dir) = source else {
            bail!("--token-plugin UnixDomainSocketDirectory needs --token-source DIR");
        };
        let dir = std::fs::canonicalize(dir).with_context(|| format!("token source {dir}"))?;
        if !dir.is_dir() {
            bail!("token source {}: not a directory", dir.display());
        }
        Ok(Self { dir })
    }

    /// The socket for `token`, if there is one.
    pub(crate) fn find(&self, token: &str) -> Option<PathBuf> {
        if token.is_empty()
            || token.starts_with('.')
            || token.contains(['/', '\\', '\0'])
            || token.contains("..")
        {
            return None;
        }
        let path = self.dir.join(token);
        let canon = std::fs::canonicalize(&path).ok()?;
        if !canon.starts_with(&self.dir) {
            return None;
        }
        let meta = std::fs::metadata(&canon).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            meta.file_type().is_socket().then_some(path)
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }
}

impl TokenPlugin for UnixSocketDir {
    fn lookup<'a>(&'a self, token: &'a str) -> LookupFuture<'a> {
        Box::pin(async move {
            let found = self.find(token);
            if found.is_none() {
                tracing::debug!(token = %token_tag(token), "no socket for this token");
            }
            Ok(found.map(Target::Unix))
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_sockets_inside_the_dir() {
        let dir = std::env::temp_dir().join(format!("rfb-uds-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _l = std::os::unix::net::UnixListener::bind(dir.join("vm1")).unwrap();
        std::fs::write(dir.join("plain"), b"x").unwrap();
        let p = UnixSocketDir::new(dir.to_str()).unwrap();
        assert!(p.find("vm1").is_some());
        for bad in ["plain", "missing", "../vm1", "a/vm1", "..", ".", ""] {
            assert!(p.find(bad).is_none(), "{bad}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
