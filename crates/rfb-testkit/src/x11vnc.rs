//! One `x11vnc` on its own `Xvfb` per test, on loopback, with the same X helpers as
//! [`Xvnc`](crate::xvnc::Xvnc).
//!
//! x11vnc (libvncserver) speaks encodings TigerVNC's Xvnc lacks: CoRRE, Zlib and ZYWRLE
//! (`shared/peers/README.md` §3). Each [`X11vnc`] starts:
//!
//! 1. `Xvfb -displayfd 1 -screen 0 WxHx24 -nolisten tcp`: the X server picks a free display
//!    itself and prints its number, race-free across threads and test binaries;
//! 2. `x11vnc -display :N -rfbport P -localhost …` on a port from [`free_port`], retried on
//!    another port if that one was taken meanwhile.
//!
//! The X helpers ([`Xvnc::set_root_solid`], [`Xvnc::show_image`], [`Xvnc::show_xterm`],
//! [`Xvnc::move_window`], [`Xvnc::settle`], [`Xvnc::xwd_root`], [`Xvnc::hide_pointer`], …) are
//! those of [`Xvnc`], reached through `Deref`: the Xvfb is wrapped in an [`Xvnc`] value that
//! owns it, its clients and the temporary directory. On drop x11vnc is stopped first (SIGTERM,
//! grace period, SIGKILL, reaped), then the X clients, then Xvfb; the directory is removed
//! unless the test is panicking.
//!
//! # Pointer and cursor
//!
//! x11vnc paints the pointer into the framebuffer for clients without a cursor
//! pseudo-encoding, and sends the XFIXES cursor shape to those with one. `xwd -root` never
//! contains the pointer, so by default x11vnc runs with `-nocursor`: no cursor is painted or
//! sent (an empty cursor rectangle may still arrive), and the framebuffer equals `xwd -root`.
//! [`X11vncOptions::show_cursor`] turns that off for tests about cursors.
//!
//! # Polling
//!
//! x11vnc learns about screen changes by polling the X server (`-noxdamage`: no DAMAGE
//! heuristics that skip "large" changes), so a change shows up in its framebuffer some tens of
//! milliseconds to a second after X has it. Tests that change the screen after x11vnc has
//! started compare with a bounded retry; [`X11vnc::start`] itself returns only after the port
//! accepts.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::net::{free_port, wait_for_port};
use crate::peer::{self, PeerError};
use crate::xvnc::{
    DirGuard, PORT_TIMEOUT, START_TIMEOUT, TERM_GRACE, Xvnc, io_err, log_tail, make_temp_dir,
    spawn_err, terminate, wait_bounded,
};

/// Start attempts of x11vnc; later ones only happen when its port was taken meanwhile.
const START_ATTEMPTS: u32 = 4;

/// How to start Xvfb and x11vnc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X11vncOptions {
    /// Screen width in pixels.
    pub width: u32,
    /// Screen height in pixels.
    pub height: u32,
    /// Let x11vnc paint or send the pointer (default `false`: `-nocursor`).
    pub show_cursor: bool,
    /// Let x11vnc exchange the X selections with clients (default `false`: `-nosel`).
    pub selection: bool,
    /// More arguments for `x11vnc`, after the ones this crate sets.
    pub extra_args: Vec<String>,
    /// Extra environment variables for the `x11vnc` process only (e.g. `OPENSSL_CONF`).
    pub env: Vec<(String, String)>,
}

impl X11vncOptions {
    /// A `width`×`height` screen at depth 24 (32-bit pixels), cursor off.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            show_cursor: false,
            selection: false,
            extra_args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Lets x11vnc exchange the X selections (PRIMARY, CLIPBOARD, CUT_BUFFER0) with clients.
    pub fn with_selection(mut self) -> Self {
        self.selection = true;
        self
    }

    /// Lets x11vnc show the pointer (painted in, or as a cursor pseudo-encoding).
    pub fn show_cursor(mut self) -> Self {
        self.show_cursor = true;
        self
    }

    /// Appends one extra `x11vnc` argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// Sets an environment variable for the `x11vnc` process (not for Xvfb or X clients).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The programs the servers and the X helpers need.
    pub fn required_tools(&self) -> Vec<&'static str> {
        vec![
            "Xvfb", "x11vnc", "xwd", "xwud", "xsetroot", "xdotool", "xterm",
        ]
    }

    /// The x11vnc command line for display `display` and RFB port `port`.
    fn x11vnc_args(&self, display: u32, port: u16) -> Vec<String> {
        let mut args: Vec<String> = [
            "-display",
            &format!(":{display}"),
            "-rfbport",
            &port.to_string(),
            // Loopback only (IPv4 and IPv6), no password prompt or warning banner.
            "-localhost",
            "-nopw",
            // Keep serving after a client leaves; let tests connect several clients at once.
            "-forever",
            "-shared",
            // No ~/.x11vncrc: the developer's settings must not change what tests see.
            "-norc",
            // Poll the whole screen instead of trusting DAMAGE heuristics.
            "-noxdamage",
            // No client-side cache: it makes the framebuffer 11 times as tall.
            "-noncache",
            // No bell traffic in the tests' sessions (nor clipboard, unless asked for below).
            "-nobell",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if !self.selection {
            args.push("-nosel".into());
        }
        if !self.show_cursor {
            args.push("-nocursor".into());
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }
}

/// A running Xvfb plus x11vnc owned by one test. Dropping it stops everything it started.
///
/// Dereferences to the [`Xvnc`] value that wraps the Xvfb, for the X helpers; its
/// [`Xvnc::addr`] and [`Xvnc::port`] are x11vnc's.
pub struct X11vnc {
    x11vnc: Option<Child>,
    x: Xvnc,
    log: PathBuf,
}

impl std::fmt::Debug for X11vnc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11vnc")
            .field("display", &self.x.display())
            .field("addr", &self.x.addr())
            .field("dir", &self.x.dir())
            .finish()
    }
}

impl Deref for X11vnc {
    type Target = Xvnc;

    fn deref(&self) -> &Xvnc {
        &self.x
    }
}

/// Starts `Xvfb -displayfd 1` and waits for its display number.
fn start_xvfb(opts: &X11vncOptions, log: &Path) -> Result<(Child, u32), PeerError> {
    let log_file = File::create(log).map_err(io_err("create the Xvfb log"))?;
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0"])
        .arg(format!("{}x{}x24", opts.width, opts.height))
        .args(["-nolisten", "tcp"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(spawn_err("Xvfb"))?;
    let stdout = child.stdout.take();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let Some(stdout) = stdout else {
            let _ = tx.send(None);
            return;
        };
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let got = match reader.read_line(&mut line) {
            Ok(n) if n > 0 => Some(line.trim().to_owned()),
            _ => None,
        };
        let _ = tx.send(got);
        // Keep draining so a later write can never block the server.
        let _ = io::copy(&mut reader, &mut io::sink());
    });
    let failure = match rx.recv_timeout(START_TIMEOUT) {
        Ok(Some(line)) => match line.parse::<u32>() {
            Ok(display) => return Ok((child, display)),
            Err(_) => PeerError::Mismatch(format!(
                "Xvfb -displayfd printed {line:?}, not a display number; log tail:\n{}",
                log_tail(log)
            )),
        },
        Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = wait_bounded(&mut child, TERM_GRACE)
                .map_or_else(|| "still running".to_owned(), |s| s.to_string());
            PeerError::Exited {
                what: "Xvfb".into(),
                status,
                log_tail: log_tail(log),
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => PeerError::Timeout {
            what: "Xvfb to report its display number".into(),
            seconds: START_TIMEOUT.as_secs_f64(),
            log_tail: log_tail(log),
        },
    };
    terminate(&mut child, TERM_GRACE);
    Err(failure)
}

/// Starts x11vnc on a free port of display `display`; returns it and its port.
fn start_x11vnc(opts: &X11vncOptions, display: u32, log: &Path) -> Result<(Child, u16), PeerError> {
    let mut last_tail = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port();
        let log_file = File::create(log).map_err(io_err("create the x11vnc log"))?;
        let log_err = log_file
            .try_clone()
            .map_err(io_err("clone the x11vnc log handle"))?;
        let mut child = Command::new("x11vnc")
            .args(opts.x11vnc_args(display, port))
            .env("DISPLAY", format!(":{display}"))
            .envs(opts.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(log_err))
            .spawn()
            .map_err(spawn_err("x11vnc"))?;
        if wait_for_port(port, PORT_TIMEOUT) {
            // Something accepts on the port; make sure it is our x11vnc and not a process
            // that took the port first (x11vnc then exits at once).
            thread::sleep(Duration::from_millis(50));
            if let Ok(None) = child.try_wait() {
                return Ok((child, port));
            }
        }
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        terminate(&mut child, TERM_GRACE);
        last_tail = log_tail(log);
        if !exited {
            return Err(PeerError::Timeout {
                what: format!("x11vnc on :{display} to accept on RFB port {port}"),
                seconds: PORT_TIMEOUT.as_secs_f64(),
                log_tail: last_tail,
            });
        }
        // It exited: most likely the port was taken between free_port and its bind. Retry on
        // another port.
    }
    Err(PeerError::Exited {
        what: format!("x11vnc ({START_ATTEMPTS} attempts)"),
        status: "exited during start-up".into(),
        log_tail: last_tail,
    })
}

impl X11vnc {
    /// Starts Xvfb and x11vnc and waits until the RFB port accepts connections.
    ///
    /// Errors: [`PeerError::Spawn`] when a program is missing, [`PeerError::Exited`] or
    /// [`PeerError::Timeout`] with the relevant log tail otherwise.
    pub fn start(opts: X11vncOptions) -> Result<Self, PeerError> {
        let dir = make_temp_dir()?;
        let mut guard = DirGuard(Some(dir.clone()));
        let xvfb_log = dir.join("Xvfb.log");
        let log = dir.join("x11vnc.log");
        let (mut xvfb, display) = start_xvfb(&opts, &xvfb_log)?;
        let (x11vnc, port) = match start_x11vnc(&opts, display, &log) {
            Ok(started) => started,
            Err(e) => {
                terminate(&mut xvfb, TERM_GRACE);
                return Err(e);
            }
        };
        guard.0 = None;
        let x = Xvnc::adopt(
            xvfb,
            display,
            port,
            (opts.width, opts.height, 24),
            dir,
            xvfb_log,
        );
        Ok(Self {
            x11vnc: Some(x11vnc),
            x,
            log,
        })
    }

    /// Starts the servers for a test, or returns `None` after a visible `SKIPPED:` line when
    /// a tool is missing (outside CI; in CI that panics).
    ///
    /// ```no_run
    /// # use rfb_testkit::x11vnc::X11vnc;
    /// let Some(x) = X11vnc::start_or_skip(640, 480) else { return };
    /// x.set_root_solid("#336699");
    /// ```
    ///
    /// # Panics
    /// If the tools exist but a server fails to start.
    pub fn start_or_skip(width: u32, height: u32) -> Option<Self> {
        Self::start_or_skip_with(X11vncOptions::new(width, height))
    }

    /// [`X11vnc::start_or_skip`] with options.
    ///
    /// # Panics
    /// If the tools exist but a server fails to start.
    pub fn start_or_skip_with(opts: X11vncOptions) -> Option<Self> {
        if !peer::require_all(&opts.required_tools()) {
            return None;
        }
        match Self::start(opts) {
            Ok(x) => Some(x),
            Err(e) => panic!("x11vnc failed to start: {e}"),
        }
    }

    /// The last lines of the x11vnc log, then of the Xvfb log.
    pub fn log_tail(&self) -> String {
        format!(
            "x11vnc:\n{}\nXvfb:\n{}",
            log_tail(&self.log),
            self.x.log_tail()
        )
    }

    /// Whether x11vnc is still running (it should be for the whole test).
    pub fn is_running(&mut self) -> bool {
        self.x11vnc
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for X11vnc {
    fn drop(&mut self) {
        // x11vnc first, so it never sees its X server vanish; then `self.x` drops: the X
        // clients, Xvfb and the directory.
        if let Some(mut child) = self.x11vnc.take() {
            let scratch = ssl_scratch_files(child.id());
            terminate(&mut child, TERM_GRACE);
            for f in scratch {
                let _ = fs::remove_file(f);
            }
        }
    }
}

/// The `/tmp/x11vnc-certret.*` and `/tmp/x11vnc-dhret.*` files x11vnc (`-ssl`) makes per
/// connection (hard-coded to /tmp, so not in our directory) and leaves behind when stopped
/// mid-session: the ones its process or its SSL helpers hold open, found in `/proc`.
fn ssl_scratch_files(pid: u32) -> Vec<PathBuf> {
    let children =
        fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    let pids =
        std::iter::once(pid.to_string()).chain(children.split_whitespace().map(String::from));
    let mut files = Vec::new();
    for p in pids {
        let Ok(fds) = fs::read_dir(format!("/proc/{p}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = fs::read_link(fd.path()) {
                let name = target.to_string_lossy();
                if (name.starts_with("/tmp/x11vnc-certret.")
                    || name.starts_with("/tmp/x11vnc-dhret."))
                    && !name.ends_with(" (deleted)")
                    && !files.contains(&target)
                {
                    files.push(target);
                }
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line() {
        let args = X11vncOptions::new(10, 20).x11vnc_args(7, 5999);
        let joined = args.join(" ");
        assert!(joined.starts_with("-display :7 -rfbport 5999 -localhost"));
        assert!(args.iter().any(|a| a == "-nocursor"));
        let with = X11vncOptions::new(10, 20)
            .show_cursor()
            .arg("-wait")
            .arg("5")
            .x11vnc_args(7, 5999);
        assert!(!with.iter().any(|a| a == "-nocursor"));
        assert_eq!(&with[with.len() - 2..], ["-wait", "5"]);
        assert!(args.iter().any(|a| a == "-nosel"));
        let sel = X11vncOptions::new(10, 20)
            .with_selection()
            .x11vnc_args(7, 5999);
        assert!(!sel.iter().any(|a| a == "-nosel"));
    }
}
