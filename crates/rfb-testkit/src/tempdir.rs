//! Per-test temporary directories that clean up after a passing test.
//!
//! Tests write logs, certificates, token files and screenshots into a directory under the
//! system temp dir. Left behind, these pile up by the thousand over a day of runs; removed
//! unconditionally, they take the evidence of a failure with them. [`TempDir`] does what the
//! peer launchers ([`crate::xvnc::Xvnc`], [`crate::qemu::Qemu`]) already do for their own
//! directories: on drop it removes the tree, unless the thread is panicking (a failed
//! assertion), in which case it keeps it and says where on stderr.
//!
//! ```no_run
//! use rfb_testkit::tempdir::TempDir;
//!
//! let dir = TempDir::new("vencrypt-ca");
//! std::fs::write(dir.join("ca.pem"), b"...").unwrap();
//! // `dir` derefs to `Path`; dropped at the end of the test, the directory goes with it.
//! ```

use std::ffi::OsStr;
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use crate::peer;

/// A directory `std::env::temp_dir()/rfb-<tag>-<pid>`, removed on drop unless the thread is
/// panicking.
///
/// The process id keeps concurrent test binaries apart; within one binary the `tag` must be
/// unique per test (tests run on parallel threads). A stale directory of the same name (an
/// earlier process that had the same pid) is removed first, so the test starts empty.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh, empty `rfb-<tag>-<pid>` under the system temp dir.
    ///
    /// # Panics
    ///
    /// If the directory cannot be created (this is test setup: there is nothing to recover).
    pub fn new(tag: &str) -> Self {
        Self::try_new(tag).unwrap_or_else(|e| panic!("temporary directory for {tag:?}: {e}"))
    }

    /// [`TempDir::new`] returning the I/O error instead of panicking.
    pub fn try_new(tag: &str) -> io::Result<Self> {
        let path = std::env::temp_dir().join(format!("rfb-{tag}-{}", std::process::id()));
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

/// So a `TempDir` can be a command argument (`Command::arg(&dir)`), as a `PathBuf` can.
impl AsRef<OsStr> for TempDir {
    fn as_ref(&self) -> &OsStr {
        self.path.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A failing test: keep its logs for a look.
            peer::visible_line(&format!(
                "rfb-testkit: test failed; kept {}",
                self.path.display()
            ));
        } else {
            // Best effort: a missing or half-removed directory is not the test's failure.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_on_a_normal_drop() {
        let dir = TempDir::new("tempdir-normal");
        let path = dir.to_path_buf();
        assert!(path.is_dir());
        assert!(
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with(&format!("-{}", std::process::id()))
        );
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/log"), b"x").unwrap();
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn kept_when_dropped_during_a_panic() {
        let path = std::env::temp_dir().join(format!("rfb-tempdir-panic-{}", std::process::id()));
        let result = std::panic::catch_unwind(|| {
            let dir = TempDir::new("tempdir-panic");
            std::fs::write(dir.join("log"), b"evidence").unwrap();
            panic!("a failing test");
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(path.join("log")).unwrap(), b"evidence");
        std::fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn a_stale_directory_is_emptied() {
        let first = TempDir::new("tempdir-stale");
        std::fs::write(first.join("old"), b"x").unwrap();
        // Forget the guard, as a killed process would.
        let path = first.to_path_buf();
        std::mem::forget(first);
        let second = TempDir::new("tempdir-stale");
        assert_eq!(second.path(), path);
        assert!(!second.join("old").exists());
    }
}
