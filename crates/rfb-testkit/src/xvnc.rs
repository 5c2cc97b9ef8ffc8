//! One TigerVNC `Xvnc` per test, on loopback, plus the X clients tests use to put known pixels
//! on its screen.
//!
//! Each [`Xvnc`] gets its own X display (chosen by the server itself through `-displayfd`, which
//! is race-free across threads and test binaries), its own RFB port and its own temporary
//! directory holding the server log, password files, XWD files and client logs. Every process it
//! starts is stopped by PID when it is dropped: the X clients first, then the server, each with
//! SIGTERM, a grace period and SIGKILL as a last resort, and each reaped.
//!
//! There is no window manager: windows appear at exactly the requested position, without
//! decorations, newer windows above older ones. Nothing on the screen moves by itself: no
//! clock, no blinking text cursor.
//!
//! The helper methods panic on failure (with the server's log tail in the message), because a
//! test cannot do anything useful after its X server misbehaved; [`Xvnc::start`] returns a
//! `Result` so tests can tell "not installed" or "not supported" apart from real failures.
//!
//! Limitation: TigerVNC removed 8-bit (PseudoColor) support from Xvnc in 1.11, so
//! `-depth 8` fails with "Couldn't add screen"; [`Xvnc::start`] reports that as
//! [`PeerError::Unsupported`] and [`Xvnc::start_or_skip`] skips visibly.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, mpsc};
use std::thread;
use std::time::Duration;
use std::{env, fmt, process};

use crate::image::Image;
use crate::net::{free_port, wait_for_port};
use crate::peer::{self, PeerError, package_for};
use crate::time::Deadline;
use crate::xwd::{self, Xwd, XwdFormat};

/// How long the server may take to report its display number (two busy cores, several
/// servers starting at once).
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the RFB port may take to accept after the display is up.
pub(crate) const PORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound for one helper command (`xwd`, `xdotool search --sync`, ...).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for the screen to show what a helper put on it.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);
/// Start attempts; later ones only happen when the chosen RFB port was taken meanwhile.
const START_ATTEMPTS: u32 = 4;
/// How long a process gets to exit after SIGTERM before SIGKILL.
pub(crate) const TERM_GRACE: Duration = Duration::from_secs(3);
/// Lines of a log quoted in error messages.
const LOG_TAIL_LINES: usize = 25;

/// The security type the server offers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Security {
    /// `-SecurityTypes None`: no authentication.
    #[default]
    None,
    /// `-SecurityTypes VncAuth` with this password (VNC uses only its first 8 characters).
    VncAuth {
        /// The password clients must give.
        password: String,
    },
}

/// How to start the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XvncOptions {
    /// Screen width in pixels.
    pub width: u32,
    /// Screen height in pixels.
    pub height: u32,
    /// X depth: 24 (default, 32-bit pixels) or 16 (RGB565). 8 is not supported by TigerVNC
    /// 1.11 and later; see the module documentation.
    pub depth: u32,
    /// Authentication offered to RFB clients.
    pub security: Security,
    /// More arguments for `Xvnc`, after the ones this crate sets (e.g. `-desktop NAME`).
    pub extra_args: Vec<String>,
}

impl Default for XvncOptions {
    fn default() -> Self {
        Self::new(1024, 768)
    }
}

impl XvncOptions {
    /// A `width`×`height` screen at depth 24 without authentication.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            depth: 24,
            security: Security::None,
            extra_args: Vec::new(),
        }
    }

    /// Sets the depth.
    pub fn depth(mut self, depth: u32) -> Self {
        self.depth = depth;
        self
    }

    /// Requires VNC authentication with `password`.
    pub fn vnc_auth(mut self, password: impl Into<String>) -> Self {
        self.security = Security::VncAuth {
            password: password.into(),
        };
        self
    }

    /// Appends one extra server argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// The programs a server started with these options and its helpers need.
    pub fn required_tools(&self) -> Vec<&'static str> {
        let mut tools = vec!["Xvnc", "xwd", "xwud", "xsetroot", "xdotool", "xterm"];
        if matches!(self.security, Security::VncAuth { .. }) {
            tools.push("vncpasswd");
        }
        tools
    }
}

/// An X window id, as printed and accepted by `xdotool`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowId(pub u64);

impl fmt::Display for WindowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A window this crate put on the screen, remembered so [`Xvnc::settle`] knows what to expect.
#[derive(Clone, Debug)]
struct Shown {
    id: WindowId,
    x: i64,
    y: i64,
    width: u32,
    height: u32,
    /// The exact pixels for images; `None` for xterms, whose glyphs are only checked for
    /// stability.
    expected: Option<Image>,
}

impl Shown {
    fn covers(&self, x: i64, y: i64) -> bool {
        x >= self.x
            && y >= self.y
            && x < self.x + i64::from(self.width)
            && y < self.y + i64::from(self.height)
    }
}

/// A running `Xvnc` owned by one test. Dropping it stops everything it started.
pub struct Xvnc {
    server: Option<Child>,
    display: u32,
    port: u16,
    width: u32,
    height: u32,
    depth: u32,
    dir: PathBuf,
    log: PathBuf,
    plain_password: Option<PathBuf>,
    children: Mutex<Vec<Child>>,
    /// Our windows in creation order, which is also stacking order without a window manager.
    windows: Mutex<Vec<Shown>>,
    format: OnceLock<XwdFormat>,
    next_name: AtomicU32,
}

impl fmt::Debug for Xvnc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Xvnc")
            .field("display", &self.display())
            .field("addr", &self.addr())
            .field("size", &(self.width, self.height))
            .field("depth", &self.depth)
            .field("dir", &self.dir)
            .finish()
    }
}

/// Deletes a half-built test directory unless disarmed.
pub(crate) struct DirGuard(pub(crate) Option<PathBuf>);

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

pub(crate) fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> PeerError {
    let what = what.into();
    move |source| PeerError::Io { what, source }
}

pub(crate) fn spawn_err(program: &str) -> impl FnOnce(io::Error) -> PeerError + '_ {
    move |source| PeerError::Spawn {
        program: program.to_owned(),
        package: package_for(program),
        source,
    }
}

/// A fresh directory under the system temp dir, unique across threads and processes.
pub(crate) fn make_temp_dir() -> Result<PathBuf, PeerError> {
    static SERIAL: AtomicU32 = AtomicU32::new(0);
    let base = env::temp_dir();
    loop {
        let n = SERIAL.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("rfb-testkit-{}-{n}", process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            // A leftover from an earlier process with the same pid: take the next number.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100_000 => continue,
            Err(e) => return Err(io_err(format!("create {}", dir.display()))(e)),
        }
    }
}

/// The last lines of a log file, or a note saying why there are none.
///
/// Lines that explain a failure but scroll out of the tail (Xvnc prints "Unrecognized option"
/// and then a hundred lines of usage) are quoted first.
pub fn log_tail(path: &Path) -> String {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return format!("(no log at {}: {e})", path.display()),
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let tail_start = lines.len().saturating_sub(LOG_TAIL_LINES);
    let key: Vec<&str> = lines[..tail_start]
        .iter()
        .copied()
        .filter(|l| {
            l.contains("Unrecognized option")
                || l.contains("Fatal server error")
                || (l.starts_with("(EE)") && l.trim().len() > 5)
        })
        .take(10)
        .collect();
    let tail = lines[tail_start..].join("\n");
    if key.is_empty() {
        tail
    } else {
        format!("{}\n[...]\n{tail}", key.join("\n"))
    }
}

/// Stops `child`: SIGTERM, up to `grace` to exit, then SIGKILL; always reaps it.
///
/// The child is not reaped before this returns, so its PID cannot have been reused by another
/// process when the signal is sent.
pub(crate) fn terminate(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // std only offers SIGKILL; SIGTERM lets Xvnc remove its socket and xterm hang up its shell.
    let termed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if termed {
        let deadline = Deadline::after(grace);
        while !deadline.expired() {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for `child` with a deadline, killing it if the deadline passes.
pub(crate) fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Deadline::after(timeout);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if !deadline.expired() => thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

fn read_in_thread<R: Read + Send + 'static>(r: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock (a failed helper) must not stop Drop from cleaning up.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What one attempt to start the server produced.
enum Attempt {
    Up(Child, u32),
    PortTaken,
}

impl Xvnc {
    /// Starts a server, waits until its display and its RFB port accept connections.
    ///
    /// Errors: [`PeerError::Spawn`] when `Xvnc` (or `vncpasswd`) is missing,
    /// [`PeerError::Unsupported`] for a depth the server rejects, [`PeerError::Exited`] or
    /// [`PeerError::Timeout`] with the server's log tail otherwise.
    pub fn start(opts: XvncOptions) -> Result<Self, PeerError> {
        let dir = make_temp_dir()?;
        let mut guard = DirGuard(Some(dir.clone()));
        let log = dir.join("Xvnc.log");

        let mut plain_password = None;
        let mut vnc_password = None;
        if let Security::VncAuth { password } = &opts.security {
            let obfuscated = dir.join("passwd.vnc");
            let out = run_with_input("vncpasswd", &["-f"], format!("{password}\n").as_bytes())?;
            fs::write(&obfuscated, out).map_err(io_err("write the vncpasswd file"))?;
            // Plain text without a newline, for our CLI's --password-file.
            let plain = dir.join("password.txt");
            fs::write(&plain, password).map_err(io_err("write the plain password file"))?;
            vnc_password = Some(obfuscated);
            plain_password = Some(plain);
        }

        let mut last_tail = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            match Self::attempt(&opts, port, &log, vnc_password.as_deref())? {
                Attempt::PortTaken => {
                    // Another process took the port between free_port and Xvnc's bind.
                    last_tail = log_tail(&log);
                    continue;
                }
                Attempt::Up(mut server, display) => {
                    if !wait_for_port(port, PORT_TIMEOUT) {
                        terminate(&mut server, TERM_GRACE);
                        return Err(PeerError::Timeout {
                            what: format!("Xvnc :{display} to accept on RFB port {port}"),
                            seconds: PORT_TIMEOUT.as_secs_f64(),
                            log_tail: log_tail(&log),
                        });
                    }
                    guard.0 = None;
                    return Ok(Self {
                        server: Some(server),
                        display,
                        port,
                        width: opts.width,
                        height: opts.height,
                        depth: opts.depth,
                        dir,
                        log,
                        plain_password,
                        children: Mutex::new(Vec::new()),
                        windows: Mutex::new(Vec::new()),
                        format: OnceLock::new(),
                        next_name: AtomicU32::new(0),
                    });
                }
            }
        }
        Err(PeerError::Exited {
            what: format!("Xvnc ({START_ATTEMPTS} attempts, RFB port always taken)"),
            status: "address in use".into(),
            log_tail: last_tail,
        })
    }

    fn attempt(
        opts: &XvncOptions,
        port: u16,
        log: &Path,
        passwd: Option<&Path>,
    ) -> Result<Attempt, PeerError> {
        let log_file = File::create(log).map_err(io_err("create the Xvnc log"))?;
        let mut cmd = Command::new("Xvnc");
        // -displayfd 1: the server picks a free display itself (atomically, by binding the
        // display's sockets) and prints its number on stdout once fully initialised.
        cmd.args(["-displayfd", "1"])
            .arg("-geometry")
            .arg(format!("{}x{}", opts.width, opts.height))
            .arg("-depth")
            .arg(opts.depth.to_string())
            // G2: without -localhost=1 Xvnc listens on every interface.
            .arg("-localhost=1")
            // G3: negative authentication tests would otherwise get blacklisted.
            .arg("-UseBlacklist=0")
            .arg("-AlwaysShared")
            .arg("-rfbport")
            .arg(port.to_string())
            .arg("-SecurityTypes")
            .arg(if passwd.is_some() { "VncAuth" } else { "None" });
        if let Some(p) = passwd {
            cmd.arg("-PasswordFile").arg(p);
        }
        cmd.args(&opts.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        let mut child = cmd.spawn().map_err(spawn_err("Xvnc"))?;

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
            // Keep draining so a later write to stdout can never block the server.
            let _ = io::copy(&mut reader, &mut io::sink());
        });

        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(line)) => match line.parse::<u32>() {
                Ok(display) => Ok(Attempt::Up(child, display)),
                Err(_) => {
                    terminate(&mut child, TERM_GRACE);
                    Err(PeerError::Mismatch(format!(
                        "Xvnc -displayfd printed {line:?}, not a display number; log tail:\n{}",
                        log_tail(log)
                    )))
                }
            },
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                // stdout closed without a number: the server died during start-up.
                let status = wait_bounded(&mut child, TERM_GRACE)
                    .map_or_else(|| "still running".to_owned(), |s| s.to_string());
                let tail = log_tail(log);
                if tail.contains("Address already in use") {
                    Ok(Attempt::PortTaken)
                } else if tail.contains("Couldn't add screen") {
                    Err(PeerError::Unsupported {
                        reason: format!(
                            "Xvnc -depth {} (TigerVNC dropped 8-bit PseudoColor support in 1.11; use 16 or 24)",
                            opts.depth
                        ),
                        log_tail: tail,
                    })
                } else {
                    Err(PeerError::Exited {
                        what: "Xvnc".into(),
                        status,
                        log_tail: tail,
                    })
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                terminate(&mut child, TERM_GRACE);
                Err(PeerError::Timeout {
                    what: "Xvnc to report its display number".into(),
                    seconds: START_TIMEOUT.as_secs_f64(),
                    log_tail: log_tail(log),
                })
            }
        }
    }

    /// Starts a server for a test, or returns `None` after a visible `SKIPPED:` line when the
    /// tools are missing (outside CI; in CI that panics) or the server cannot do what `opts`
    /// asks ([`PeerError::Unsupported`]).
    ///
    /// ```no_run
    /// # use rfb_testkit::xvnc::{Xvnc, XvncOptions};
    /// let Some(x) = Xvnc::start_or_skip(XvncOptions::new(640, 480)) else { return };
    /// ```
    ///
    /// # Panics
    /// If the tools exist but the server fails to start for any other reason.
    pub fn start_or_skip(opts: XvncOptions) -> Option<Self> {
        if !peer::require_all(&opts.required_tools()) {
            return None;
        }
        match Self::start(opts) {
            Ok(x) => Some(x),
            Err(PeerError::Unsupported { reason, .. }) => {
                peer::skip(&format!("not supported: {reason}"));
                None
            }
            Err(e) => panic!("Xvnc failed to start: {e}"),
        }
    }

    /// Wraps an X server this crate started some other way (Xvfb for [`crate::x11vnc`]) so it
    /// gets the same X helpers and the same cleanup: on drop, tracked clients are stopped,
    /// then `server`, then `dir` is removed. `port` is the RFB port [`Xvnc::addr`] reports
    /// (served by another tracked process).
    pub(crate) fn adopt(
        server: Child,
        display: u32,
        port: u16,
        (width, height, depth): (u32, u32, u32),
        dir: PathBuf,
        log: PathBuf,
    ) -> Self {
        Self {
            server: Some(server),
            display,
            port,
            width,
            height,
            depth,
            dir,
            log,
            plain_password: None,
            children: Mutex::new(Vec::new()),
            windows: Mutex::new(Vec::new()),
            format: OnceLock::new(),
            next_name: AtomicU32::new(0),
        }
    }

    /// The RFB port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `"127.0.0.1:PORT"`, the RFB address to connect to.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The X display, `":N"`.
    pub fn display(&self) -> String {
        format!(":{}", self.display)
    }

    /// Screen width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Screen height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The X depth the server runs at.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// A file holding the VNC password in plain text (no trailing newline), for the CLI's
    /// `--password-file`; `None` without VNC authentication.
    pub fn password_file(&self) -> Option<PathBuf> {
        self.plain_password.clone()
    }

    /// This server's private directory (logs, password files, XWD files); removed on drop
    /// unless the test is panicking, in which case it is kept for inspection.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// A `Command` for an X client of this display (`DISPLAY` set, C locale). It is not
    /// tracked; use [`Xvnc::spawn`] for long-running clients.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        // The C locale keeps xterm out of UTF-8 mode and on the same core font everywhere.
        cmd.env("DISPLAY", self.display())
            .env("LC_ALL", "C")
            .env("LANG", "C");
        cmd
    }

    /// Starts a long-running X client of this display; it is stopped when `self` is dropped.
    /// Its output goes to a log file in [`Xvnc::dir`]. Returns its PID.
    ///
    /// # Panics
    /// If the program cannot be started.
    pub fn spawn(&self, program: &str, args: &[&str]) -> u32 {
        self.try_spawn(program, args)
            .unwrap_or_else(|e| self.fail(e))
            .0
    }

    /// Starts a tracked client; returns its PID and the log file its output goes to.
    fn try_spawn(&self, program: &str, args: &[&str]) -> Result<(u32, PathBuf), PeerError> {
        let n = self.next_name.fetch_add(1, Ordering::Relaxed);
        let log_path = self.dir.join(format!("{program}-{n}.log"));
        let log = File::create(&log_path).map_err(io_err("create a client log"))?;
        let log2 = log
            .try_clone()
            .map_err(io_err("clone a client log handle"))?;
        let child = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .map_err(spawn_err(program))?;
        let pid = child.id();
        lock(&self.children).push(child);
        Ok((pid, log_path))
    }

    /// Runs an X client of this display to completion (bounded) and returns its stdout.
    ///
    /// # Panics
    /// If it cannot be started, times out or exits unsuccessfully.
    pub fn run(&self, program: &str, args: &[&str]) -> Vec<u8> {
        self.try_run(program, args).unwrap_or_else(|e| self.fail(e))
    }

    fn try_run(&self, program: &str, args: &[&str]) -> Result<Vec<u8>, PeerError> {
        run_command(self.command(program), program, args, &[])
    }

    fn fail(&self, e: PeerError) -> ! {
        panic!(
            "Xvnc {} helper failed: {e}\nXvnc log tail:\n{}",
            self.display(),
            self.log_tail()
        )
    }

    /// Fills the root window with one colour (`xsetroot -solid`), e.g. `"#336699"`.
    ///
    /// # Panics
    /// If `xsetroot` fails (for example on an unknown colour name).
    pub fn set_root_solid(&self, color: &str) {
        // xsetroot closes its connection with XCloseDisplay, which syncs, so the server has
        // painted the root by the time it exits.
        self.run("xsetroot", &["-solid", color]);
    }

    /// Makes the root window's pointer invisible (an all-clear 8×1 bitmap cursor; xsetroot wants an explicit hotspot and bitmap(1)'s layout) and parks the
    /// pointer at (0, 0).
    ///
    /// Xvnc paints the cursor into the framebuffer for a client that lacks a cursor
    /// pseudo-encoding, and also for one that has it whenever the server's pointer is not where
    /// that client last put it, while `xwd -root` never contains a cursor: without this,
    /// screenshots and dumps differ where the pointer is.
    ///
    /// # Panics
    /// If xsetroot or xdotool fails.
    pub fn hide_pointer(&self) {
        let xbm = self.dir.join("blank.xbm");
        let blank = "#define blank_width 8\n#define blank_height 1\n#define blank_x_hot 0\n#define blank_y_hot 0\nstatic unsigned char blank_bits[] = {\n   0x00};\n";
        if let Err(source) = fs::write(&xbm, blank) {
            self.fail(PeerError::Io {
                what: format!("writing {}", xbm.display()),
                source,
            });
        }
        let path = xbm.to_string_lossy().into_owned();
        self.run("xsetroot", &["-cursor", &path, &path]);
        self.park_pointer(0, 0);
    }

    /// Dumps the root window (`xwd -root -silent`) with its header.
    ///
    /// # Panics
    /// If `xwd` fails or its output does not parse.
    pub fn xwd_root_dump(&self) -> Xwd {
        self.try_dump(&["-root", "-silent"])
            .unwrap_or_else(|e| self.fail(e))
    }

    fn try_dump(&self, args: &[&str]) -> Result<Xwd, PeerError> {
        let bytes = self.try_run("xwd", args)?;
        let dump = xwd::parse(&bytes)?;
        if let Some(f) = dump.format() {
            let _ = self.format.set(f);
        }
        Ok(dump)
    }

    /// The whole screen as the X server holds it, converted to RGBA8 exactly as X reports
    /// colours.
    ///
    /// # Panics
    /// If `xwd` fails or its output does not parse.
    pub fn xwd_root(&self) -> Image {
        self.xwd_root_dump().image
    }

    /// The contents of one window (`xwd -id`).
    ///
    /// # Panics
    /// If `xwd` fails (for example because the window is partly off screen).
    pub fn xwd_window(&self, id: WindowId) -> Image {
        self.try_dump(&["-id", &id.to_string(), "-silent"])
            .unwrap_or_else(|e| self.fail(e))
            .image
    }

    /// The server's pixel format (TrueColor masks), learnt from a root dump.
    ///
    /// # Panics
    /// If the root visual is not TrueColor (never the case for Xvnc).
    pub fn format(&self) -> XwdFormat {
        if let Some(f) = self.format.get() {
            return *f;
        }
        let dump = self.xwd_root_dump();
        dump.format().unwrap_or_else(|| {
            self.fail(PeerError::Mismatch(format!(
                "root visual class {} is not TrueColor",
                dump.header.visual_class
            )))
        })
    }

    /// What `img` looks like on this server: identical at depth 24, each component reduced to
    /// the server's precision (and re-expanded the way X does) at depth 16. Compare dumps
    /// against this, not against the original image.
    pub fn as_displayed(&self, img: &Image) -> Image {
        self.format().displayed(img)
    }

    fn unique_name(&self, kind: &str) -> String {
        format!(
            "rfb-testkit-{kind}-{}",
            self.next_name.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Shows `img` with its top-left corner at `(x, y)` (negative values place it partly off
    /// screen) in an `xwud` window, and returns once the server holds exactly
    /// [`Xvnc::as_displayed`]`(img)` there.
    ///
    /// The XWD file is written in the server's own format because `xwud` refuses a dump whose
    /// depth has no matching visual. `xwud` runs with `-noclick`; note that it still quits on
    /// the keys `q`, `Q` and Ctrl-C while it has the keyboard focus.
    ///
    /// # Panics
    /// If `xwud` fails or the pixels do not appear within the time limit.
    pub fn show_image(&self, img: &Image, x: i32, y: i32) -> WindowId {
        self.try_show_image(img, x, y)
            .unwrap_or_else(|e| self.fail(e))
    }

    fn try_show_image(&self, img: &Image, x: i32, y: i32) -> Result<WindowId, PeerError> {
        let format = self.format();
        let name = self.unique_name("image");
        let path = self.dir.join(format!("{name}.xwd"));
        fs::write(&path, xwd::write_xwd_with(img, &format, &name)?)
            .map_err(io_err("write an XWD file"))?;
        let path_arg = path.to_string_lossy().into_owned();
        // "+-5" is how X geometry spells a negative offset from the left/top edge.
        let geometry = format!("+{x}+{y}");
        let (pid, log) = self.try_spawn(
            "xwud",
            &["-in", &path_arg, "-geometry", &geometry, "-noclick"],
        )?;
        // xwud titles its window "xwud: " followed by the dump's window name.
        let id = self.find_window(&format!("xwud: {name}"), pid, &log)?;
        lock(&self.windows).push(Shown {
            id,
            x: i64::from(x),
            y: i64::from(y),
            width: img.width,
            height: img.height,
            expected: Some(format.displayed(img)),
        });
        self.try_settle()?;
        Ok(id)
    }

    /// Shows an `xterm` of `cols`×`rows` characters at `(x, y)` displaying `text` (printed
    /// verbatim, `\n` starts a new line) with the text cursor hidden and nothing blinking, and
    /// returns once the text has been drawn and the window is still.
    ///
    /// Black on white, core font `fixed`, no scrollbar, no window border.
    ///
    /// # Panics
    /// If xterm fails to start or the window never settles.
    pub fn show_xterm(&self, text: &str, x: i32, y: i32, cols: u32, rows: u32) -> WindowId {
        self.try_show_xterm(text, x, y, cols, rows)
            .unwrap_or_else(|e| self.fail(e))
    }

    fn try_show_xterm(
        &self,
        text: &str,
        x: i32,
        y: i32,
        cols: u32,
        rows: u32,
    ) -> Result<WindowId, PeerError> {
        let title = self.unique_name("xterm");
        let ready = self.dir.join(format!("{title}.ready"));
        let ready_arg = ready.to_string_lossy().into_owned();
        // Hide the cursor (DECTCEM) so focus changes cannot redraw it, print the text, then ask
        // for a cursor position report: xterm answers only after it has parsed everything
        // before it, so the ready file means "the text is in xterm". Raw mode without echo
        // keeps the answer off the screen. Then block forever without touching the terminal.
        let script = r#"printf '\033[?25l'; printf '%s' "$1"; stty raw -echo; printf '\033[6n'; dd bs=1 count=1 >/dev/null 2>&1; : > "$2"; exec sleep 1000000"#;
        let geometry = format!("{cols}x{rows}+{x}+{y}");
        let (pid, xterm_log) = self.try_spawn(
            "xterm",
            &[
                "-T",
                &title,
                "-geometry",
                &geometry,
                "-bw",
                "0",
                "+sb",
                "-fn",
                "fixed",
                "-fg",
                "black",
                "-bg",
                "white",
                "-xrm",
                "XTerm*cursorBlink: false",
                // The title is how find_window finds it: text must not be able to change it.
                "-xrm",
                "XTerm*allowTitleOps: false",
                "-e",
                "sh",
                "-c",
                script,
                "sh",
                text,
                &ready_arg,
            ],
        )?;
        let id = self.find_window(&title, pid, &xterm_log)?;
        let deadline = Deadline::after(SETTLE_TIMEOUT);
        while !ready.exists() {
            if let Some(status) = self.exit_status(pid) {
                return Err(PeerError::Exited {
                    what: format!("xterm {title}"),
                    status: status.to_string(),
                    log_tail: log_tail(&xterm_log),
                });
            }
            if deadline.expired() {
                return Err(PeerError::Timeout {
                    what: format!("xterm {title} to print its text"),
                    seconds: SETTLE_TIMEOUT.as_secs_f64(),
                    log_tail: log_tail(&xterm_log),
                });
            }
            thread::sleep(Duration::from_millis(10));
        }
        let (gx, gy, gw, gh) = self.try_geometry(id)?;
        lock(&self.windows).push(Shown {
            id,
            x: gx,
            y: gy,
            width: gw,
            height: gh,
            expected: None,
        });
        self.try_settle()?;
        Ok(id)
    }

    /// Waits (bounded) for a visible window whose name matches `name` exactly, created by the
    /// tracked client `pid` whose output goes to `log`.
    ///
    /// Polls instead of using `xdotool search --sync` so that a client dying at start-up (xterm
    /// without fonts, xwud rejecting a dump) fails at once with its own message instead of
    /// after a long timeout.
    fn find_window(&self, name: &str, pid: u32, log: &Path) -> Result<WindowId, PeerError> {
        let pattern = format!("^{}$", regex_escape(name));
        let deadline = Deadline::after(SETTLE_TIMEOUT);
        loop {
            // xdotool exits with status 1 while no window matches; only output counts.
            let found = self
                .try_run("xdotool", &["search", "--onlyvisible", "--name", &pattern])
                .ok()
                .and_then(|out| {
                    let text = String::from_utf8_lossy(&out).into_owned();
                    text.lines().next().and_then(|l| l.trim().parse().ok())
                });
            if let Some(id) = found {
                return Ok(WindowId(id));
            }
            if let Some(status) = self.exit_status(pid) {
                return Err(PeerError::Exited {
                    what: format!("client for window {name:?}"),
                    status: status.to_string(),
                    log_tail: log_tail(log),
                });
            }
            if deadline.expired() {
                return Err(PeerError::Timeout {
                    what: format!("window {name:?} to be mapped"),
                    seconds: SETTLE_TIMEOUT.as_secs_f64(),
                    log_tail: log_tail(log),
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The exit status of the tracked child `pid`, or `None` while it runs.
    fn exit_status(&self, pid: u32) -> Option<ExitStatus> {
        let mut children = lock(&self.children);
        let child = children.iter_mut().find(|c| c.id() == pid)?;
        child.try_wait().ok().flatten()
    }

    /// Position and size of a window in root coordinates.
    fn try_geometry(&self, id: WindowId) -> Result<(i64, i64, u32, u32), PeerError> {
        let out = self.try_run(
            "xdotool",
            &["getwindowgeometry", "--shell", &id.to_string()],
        )?;
        let text = String::from_utf8_lossy(&out);
        let vars: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let num = |k: &str| vars.get(k).and_then(|v| v.trim().parse::<i64>().ok());
        match (num("X"), num("Y"), num("WIDTH"), num("HEIGHT")) {
            (Some(x), Some(y), Some(w), Some(h)) => Ok((x, y, w.max(0) as u32, h.max(0) as u32)),
            _ => Err(PeerError::Mismatch(format!(
                "xdotool getwindowgeometry printed {text:?}"
            ))),
        }
    }

    /// Moves a window's top-left corner to `(x, y)` (`xdotool windowmove`) and waits until the
    /// screen has settled.
    ///
    /// # Panics
    /// If xdotool fails or the screen does not settle.
    pub fn move_window(&self, id: WindowId, x: i32, y: i32) {
        let r = self
            .try_run(
                "xdotool",
                &[
                    "windowmove",
                    &id.to_string(),
                    &x.to_string(),
                    &y.to_string(),
                ],
            )
            .and_then(|_| {
                if let Some(w) = lock(&self.windows).iter_mut().find(|w| w.id == id) {
                    w.x = i64::from(x);
                    w.y = i64::from(y);
                }
                self.try_settle()
            });
        r.unwrap_or_else(|e| self.fail(e));
    }

    /// Waits until the X server has processed every request sent so far by the helpers (an
    /// `xdotool getmouselocation` round trip). Clients that draw on their own (xterm, xwud)
    /// may still be busy; [`Xvnc::settle`] waits for them.
    ///
    /// # Panics
    /// If xdotool fails.
    pub fn sync(&self) {
        self.run("xdotool", &["getmouselocation"]);
    }

    /// Moves the pointer to `(x, y)` so it sits somewhere harmless, then syncs.
    ///
    /// # Panics
    /// If xdotool fails.
    pub fn park_pointer(&self, x: i32, y: i32) {
        self.run("xdotool", &["mousemove", &x.to_string(), &y.to_string()]);
        self.sync();
    }

    /// Waits until the screen is what the helpers put there: every image window shows exactly
    /// its expected pixels wherever no later window covers it, and two successive root dumps
    /// are identical (so xterms have finished drawing).
    ///
    /// # Panics
    /// If that does not happen within the time limit; the message names the first mismatch.
    pub fn settle(&self) {
        self.try_settle().unwrap_or_else(|e| self.fail(e));
    }

    fn try_settle(&self) -> Result<(), PeerError> {
        let deadline = Deadline::after(SETTLE_TIMEOUT);
        let mut previous: Option<Image> = None;
        loop {
            let root = self.try_dump(&["-root", "-silent"])?.image;
            let windows = lock(&self.windows).clone();
            let mismatch = first_window_mismatch(&root, &windows);
            let stable = previous.as_ref() == Some(&root);
            if mismatch.is_none() && stable {
                return Ok(());
            }
            if deadline.expired() {
                return Err(PeerError::Mismatch(match mismatch {
                    Some(m) => format!("screen did not settle: {m}"),
                    None => "screen kept changing between dumps".to_owned(),
                }));
            }
            previous = Some(root);
            thread::sleep(Duration::from_millis(30));
        }
    }
}

/// The first pixel where an image window does not show what it should, ignoring pixels off
/// screen or under a later (higher) window.
fn first_window_mismatch(root: &Image, windows: &[Shown]) -> Option<String> {
    for (i, w) in windows.iter().enumerate() {
        let Some(expected) = &w.expected else {
            continue;
        };
        let above = &windows[i + 1..];
        for iy in 0..w.height {
            let sy = w.y + i64::from(iy);
            if sy < 0 || sy >= i64::from(root.height) {
                continue;
            }
            for ix in 0..w.width {
                let sx = w.x + i64::from(ix);
                if sx < 0 || sx >= i64::from(root.width) || above.iter().any(|a| a.covers(sx, sy)) {
                    continue;
                }
                // Both coordinates were bounds-checked against the root just above.
                let got = root.pixel(sx as u32, sy as u32);
                let want = expected.pixel(ix, iy);
                if got[..3] != want[..3] {
                    return Some(format!(
                        "window {} pixel ({ix}, {iy}) at screen ({sx}, {sy}) is {got:?}, expected {want:?}",
                        w.id
                    ));
                }
            }
        }
    }
    None
}

/// Escapes regex metacharacters for `xdotool search --name`.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Runs a prepared command to completion with a time limit and returns its stdout.
fn run_command(
    mut cmd: Command,
    program: &str,
    args: &[&str],
    input: &[u8],
) -> Result<Vec<u8>, PeerError> {
    let mut child = cmd
        .args(args)
        .stdin(if input.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err(program))?;
    if let Some(mut stdin) = child.stdin.take() {
        // Small inputs (a password) fit in the pipe buffer, so this cannot block.
        stdin
            .write_all(input)
            .map_err(io_err(format!("write to {program}")))?;
    }
    // Read both pipes in threads: xwd writes megabytes, which would fill a pipe and deadlock a
    // sequential read.
    let out = read_in_thread(child.stdout.take());
    let err = read_in_thread(child.stderr.take());
    let command = format!("{program} {}", args.join(" "));
    let Some(status) = wait_bounded(&mut child, COMMAND_TIMEOUT) else {
        return Err(PeerError::Timeout {
            what: format!("`{command}`"),
            seconds: COMMAND_TIMEOUT.as_secs_f64(),
            log_tail: String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned(),
        });
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        return Err(PeerError::Command {
            command,
            status: status.to_string(),
            stderr: String::from_utf8_lossy(&stderr).trim().to_owned(),
        });
    }
    Ok(stdout)
}

pub(crate) fn run_with_input(
    program: &str,
    args: &[&str],
    input: &[u8],
) -> Result<Vec<u8>, PeerError> {
    run_command(Command::new(program), program, args, input)
}

impl Drop for Xvnc {
    fn drop(&mut self) {
        // Clients first, newest first, so none of them sees its server vanish mid-request.
        let mut children = std::mem::take(&mut *lock(&self.children));
        for child in children.iter_mut().rev() {
            terminate(child, TERM_GRACE);
        }
        if let Some(mut server) = self.server.take() {
            terminate(&mut server, TERM_GRACE);
        }
        if thread::panicking() {
            // Keep the evidence of a failing test: server log, client logs, XWD files.
            peer::visible_line(&format!(
                "rfb-testkit: test failed; kept {} (Xvnc {} log and files)",
                self.dir.display(),
                self.display()
            ));
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_regex() {
        assert_eq!(regex_escape("xwud: a.b-1"), "xwud: a\\.b-1");
        assert_eq!(regex_escape("(x)*"), "\\(x\\)\\*");
    }

    #[test]
    fn options_builder() {
        let o = XvncOptions::new(10, 20)
            .depth(16)
            .vnc_auth("pw")
            .arg("-desktop")
            .arg("t");
        assert_eq!(o.depth, 16);
        assert_eq!(
            o.security,
            Security::VncAuth {
                password: "pw".into()
            }
        );
        assert_eq!(o.extra_args, vec!["-desktop", "t"]);
        assert!(o.required_tools().contains(&"vncpasswd"));
        assert!(
            !XvncOptions::default()
                .required_tools()
                .contains(&"vncpasswd")
        );
    }

    #[test]
    fn mismatch_ignores_covered_and_offscreen_pixels() {
        let root = Image::solid(4, 4, [9, 9, 9]);
        let img = Shown {
            id: WindowId(1),
            x: -1,
            y: 0,
            width: 3,
            height: 2,
            expected: Some(Image::solid(3, 2, [9, 9, 9])),
        };
        assert!(first_window_mismatch(&root, std::slice::from_ref(&img)).is_none());
        let wrong = Shown {
            expected: Some(Image::solid(3, 2, [1, 1, 1])),
            ..img.clone()
        };
        assert!(first_window_mismatch(&root, std::slice::from_ref(&wrong)).is_some());
        let cover = Shown {
            id: WindowId(2),
            x: 0,
            y: 0,
            width: 2,
            height: 2,
            expected: None,
        };
        assert!(first_window_mismatch(&root, &[wrong, cover]).is_none());
    }

    #[test]
    fn log_tail_quotes_key_lines_that_scrolled_away() {
        let dir = make_temp_dir().unwrap();
        let path = dir.join("log");
        let mut text = String::from("Unrecognized option: -Bogus\n");
        for i in 0..100 {
            text.push_str(&format!("usage line {i}\n"));
        }
        fs::write(&path, text).unwrap();
        let tail = log_tail(&path);
        assert!(
            tail.starts_with("Unrecognized option: -Bogus\n[...]\n"),
            "{tail}"
        );
        assert!(tail.ends_with("usage line 99"));
        assert_eq!(tail.lines().count(), 2 + LOG_TAIL_LINES);
        assert!(log_tail(&dir.join("missing")).starts_with("(no log at"));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn temp_dirs_are_unique() {
        let a = make_temp_dir().unwrap();
        let b = make_temp_dir().unwrap();
        assert_ne!(a, b);
        fs::remove_dir(a).unwrap();
        fs::remove_dir(b).unwrap();
    }
}
