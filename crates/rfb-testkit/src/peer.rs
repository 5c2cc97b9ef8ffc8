//! Checks for the third-party programs tests drive, and the error type for driving them.
//!
//! Outside CI a missing tool skips the test *visibly*: a `SKIPPED:` line goes straight to the
//! process's stderr, bypassing libtest's output capture, so a green run without the peers does
//! not pass silently. In CI (`CI=true`) a missing tool is a broken runner and panics.

use std::env;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::xwd::XwdError;

/// Errors from starting or driving a peer process.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// A program could not be started (usually: not installed).
    #[error("cannot run {program}: {source} (apt-get install {package})")]
    Spawn {
        /// The program.
        program: String,
        /// The Debian package that provides it.
        package: &'static str,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file or pipe operation in the test directory failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The server exited before it was ready.
    #[error("{what} exited early ({status}); log tail:\n{log_tail}")]
    Exited {
        /// What exited.
        what: String,
        /// Its exit status.
        status: String,
        /// The end of its log.
        log_tail: String,
    },
    /// A bounded wait ran out.
    #[error("timed out after {seconds:.1} s waiting for {what}; log tail:\n{log_tail}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the wait was.
        seconds: f64,
        /// The end of the relevant log.
        log_tail: String,
    },
    /// A helper command ran but failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// Its standard error output.
        stderr: String,
    },
    /// The installed server cannot do what was asked (for example `Xvnc -depth 8`).
    #[error("not supported by the installed server: {reason}; log tail:\n{log_tail}")]
    Unsupported {
        /// Why, in words.
        reason: String,
        /// The end of the server log.
        log_tail: String,
    },
    /// A dump from the server could not be parsed.
    #[error("bad XWD from the server: {0}")]
    Xwd(#[from] XwdError),
    /// The server did not show what the helper expected.
    #[error("{0}")]
    Mismatch(String),
}

/// The Debian package that provides `tool` (a name or a path), for "apt-get install" hints.
pub fn package_for(tool: &str) -> &'static str {
    let name = tool.rsplit('/').next().unwrap_or(tool);
    match name {
        "Xvnc" | "Xtigervnc" => "tigervnc-standalone-server",
        "vncpasswd" | "tigervncpasswd" => "tigervnc-tools",
        "xwd" | "xwud" | "xclock" | "xeyes" => "x11-apps",
        "xsetroot" | "xrandr" | "xset" => "x11-xserver-utils",
        "xwininfo" | "xdpyinfo" | "xprop" => "x11-utils",
        "xterm" => "xterm",
        "xdotool" => "xdotool",
        "Xvfb" => "xvfb",
        "x11vnc" => "x11vnc",
        // Fonts are needed by xterm; listing them helps when xterm fails to start (gotcha G8).
        "fonts" => "xfonts-base",
        _ => "the package providing it",
    }
}

/// Where `tool` would be executed from: a path containing `/` is taken as is, otherwise the
/// first executable file of that name on `PATH`.
pub fn find_on_path(tool: &str) -> Option<PathBuf> {
    let is_exec = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if tool.contains('/') {
        let p = PathBuf::from(tool);
        return is_exec(&p).then_some(p);
    }
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| is_exec(p))
}

/// Whether this run is in CI, where missing peers are errors rather than skips.
pub fn in_ci() -> bool {
    env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Writes one line to the real stderr. libtest captures `eprintln!` of passing tests, which
/// would hide skips; a direct write to the stderr handle is not captured.
pub fn visible_line(line: &str) {
    let mut err = std::io::stderr().lock();
    // Nothing useful can be done if stderr itself is gone.
    let _ = writeln!(err, "{line}");
}

/// Returns `true` if `tool` is on `PATH`.
///
/// If it is missing: with `CI=true` this panics naming the package to install; otherwise it
/// prints `SKIPPED: <tool> not installed (apt-get install <pkg>)` to stderr and returns `false`
/// so the test can return early.
pub fn require(tool: &str) -> bool {
    require_with(tool, in_ci(), &mut std::io::stderr().lock())
}

/// [`require`] with the CI flag and the output passed in, so it can be tested quietly.
fn require_with(tool: &str, ci: bool, out: &mut dyn Write) -> bool {
    if find_on_path(tool).is_some() {
        return true;
    }
    let pkg = package_for(tool);
    if ci {
        panic!("{tool} not installed but CI=true: apt-get install {pkg}");
    }
    // Nothing useful can be done if stderr itself is gone.
    let _ = writeln!(out, "SKIPPED: {tool} not installed (apt-get install {pkg})");
    false
}

/// [`require`] for several tools, reporting every missing one rather than just the first, so
/// one run lists everything there is to install.
pub fn require_all(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| find_on_path(t).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if in_ci() {
        let list: Vec<String> = missing
            .iter()
            .map(|t| format!("{t} ({})", package_for(t)))
            .collect();
        panic!("not installed but CI=true: {}", list.join(", "));
    }
    for tool in missing {
        require(tool);
    }
    false
}

/// Reports a skip for a reason other than a missing tool (always a skip, CI or not, because
/// installing something would not help).
pub fn skip(reason: &str) {
    visible_line(&format!("SKIPPED: {reason}"));
}

/// The workspace root (where `target/peers` lives): the nearest directory above the running
/// test's package (`CARGO_MANIFEST_DIR`, which `cargo test` sets) whose `Cargo.toml` has a
/// `[workspace]`, else the one above this crate's manifest as compiled. The runtime value
/// comes first because clones sharing one target directory share these artifacts too.
pub fn workspace_root() -> PathBuf {
    let runtime = env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    if let Some(start) = runtime {
        let mut dir = Some(start.as_path());
        while let Some(d) = dir {
            let is_workspace = std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"));
            if is_workspace {
                return d.to_path_buf();
            }
            dir = d.parent();
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// `target/peers`, where `scripts/install-test-deps.sh` puts the Python venv and the node
/// packages of the third-party peers.
pub fn peers_dir() -> PathBuf {
    workspace_root().join("target/peers")
}

/// An executable of the peers' Python venv (`python`, `websockify`, `vncdo`, …), if
/// installed. Use [`require_venv`] to skip or fail like [`require`].
pub fn venv_bin(name: &str) -> Option<PathBuf> {
    let p = peers_dir().join("venv/bin").join(name);
    p.is_file().then_some(p)
}

/// Like [`require`] for a venv executable: skips visibly outside CI, fails in CI.
pub fn require_venv(name: &str) -> Option<PathBuf> {
    let found = venv_bin(name);
    if found.is_none() {
        let msg =
            format!("{name} not in target/peers/venv (run: bash scripts/install-test-deps.sh)");
        if in_ci() {
            panic!("CI=true and {msg}");
        }
        skip(&msg);
    }
    found
}

/// The node project with the npm peers (`node_modules/@novnc/novnc`, `playwright-core`), if
/// installed; skips visibly outside CI, fails in CI.
pub fn require_node_package(package: &str) -> Option<PathBuf> {
    let dir = peers_dir().join("node");
    if dir.join("node_modules").join(package).is_dir() {
        return Some(dir);
    }
    let msg =
        format!("npm {package} not in target/peers/node (run: bash scripts/install-test-deps.sh)");
    if in_ci() {
        panic!("CI=true and {msg}");
    }
    skip(&msg);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sh() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("/bin/sh").is_some());
        assert!(find_on_path("definitely-not-a-tool-rfb").is_none());
    }

    #[test]
    fn packages() {
        assert_eq!(package_for("Xvnc"), "tigervnc-standalone-server");
        assert_eq!(package_for("xwud"), "x11-apps");
    }

    #[test]
    fn missing_tool_skips_outside_ci() {
        let mut out = Vec::new();
        assert!(!require_with("definitely-not-a-tool-rfb", false, &mut out));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SKIPPED: definitely-not-a-tool-rfb not installed (apt-get install the package providing it)\n"
        );
        let mut out = Vec::new();
        assert!(require_with("sh", true, &mut out));
        assert!(out.is_empty());
    }

    #[test]
    #[should_panic(expected = "apt-get install x11-apps")]
    fn missing_tool_panics_in_ci() {
        // xwud is real, but looking it up under a path that cannot exist makes it "missing".
        let _ = require_with("/nonexistent/xwud", true, &mut Vec::new());
    }
}
