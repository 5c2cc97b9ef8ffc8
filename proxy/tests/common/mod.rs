//! Helpers shared by the proxy's integration tests: processes stopped by PID, the proxy
//! launcher, bounded command runs, temporary directories.
#![allow(dead_code)] // each test file uses a different subset

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rfb_testkit::net::wait_for_port;
pub(crate) use rfb_testkit::tempdir::TempDir;

pub(crate) mod web;

/// A process we started, stopped by its PID on drop. `group`: it was made the leader of a new
/// process group (websockify forks a child per connection), and the whole group is stopped.
pub(crate) struct Proc {
    pub(crate) child: Child,
    group: bool,
}

impl Proc {
    pub(crate) fn spawn(cmd: &mut Command, group: bool) -> Self {
        if group {
            std::os::unix::process::CommandExt::process_group(cmd, 0);
        }
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        Self { child, group }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.group {
            // The group id is the leader's PID: this reaches websockify's forked children too.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn proxy_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
}

/// Starts rfb-proxy with `args`; `port` is the one they make it listen on. Its temporary
/// files (the `--self-signed` certificate) go next to `log`, in the test's directory: the
/// proxy is killed, so it cannot remove them itself.
pub(crate) fn start_proxy(args: &[String], port: u16, log: &Path) -> Proc {
    let mut cmd = proxy_bin();
    if let Some(dir) = log.parent().filter(|d| d.is_absolute()) {
        cmd.env("TMPDIR", dir);
    }
    let p = Proc::spawn(
        cmd.args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("log file")),
        false,
    );
    assert!(
        wait_for_port(port, Duration::from_secs(20)),
        "rfb-proxy did not listen on {port}"
    );
    p
}

/// Runs `cmd` for at most `limit`, killing it when the time is up; returns (success, stdout,
/// stderr).
pub(crate) fn output_within(mut cmd: Command, limit: Duration) -> (bool, String, String) {
    let dir = std::env::temp_dir();
    let tag = format!("{}-{:?}", std::process::id(), std::thread::current().id())
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "");
    let (out_path, err_path) = (
        dir.join(format!("rfb-proxy-test-{tag}.out")),
        dir.join(format!("rfb-proxy-test-{tag}.err")),
    );
    let mut p = Proc::spawn(
        cmd.stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap()),
        false,
    );
    let deadline = Instant::now() + limit;
    let ok = loop {
        if let Some(st) = p.child.try_wait().expect("try_wait") {
            break st.success();
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(p);
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    (ok, out, err)
}

/// A fresh temporary directory for one test, removed when the test ends unless it failed
/// (then its logs stay for a look).
pub(crate) fn temp_dir(tag: &str) -> TempDir {
    TempDir::new(&format!("proxy-{tag}"))
}

/// Copies a directory tree.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}
