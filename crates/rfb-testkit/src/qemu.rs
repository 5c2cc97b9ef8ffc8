//! One QEMU per test with its VNC server on loopback and a QMP socket for screendumps.
//!
//! QEMU's VNC server speaks TightPNG (-260), which no other installable server does
//! (`shared/peers/README.md` §3). The machine has no disk and no network card
//! (`-nic none`, gotcha G7: iPXE would change the screen), so SeaBIOS prints its boot
//! attempts, "No bootable device." and stops (`-boot reboot-timeout=-1`: no retry). The VGA
//! text screen is 720×400.
//!
//! The one thing that still moves is the blinking text-mode cursor, which QEMU draws into the
//! framebuffer every ~320 ms. [`Qemu::start`] hides it (CRTC register 0x0A bit 5, "cursor
//! off", written through the monitor's `o` command) and returns only once the screen is final:
//! several successive QMP screendumps spanning more than a blink period are identical.
//!
//! Every file (log, QMP socket, dumps) lives in a private temporary directory, removed on drop
//! unless the test is panicking. QEMU is stopped by PID on drop (SIGTERM, grace period,
//! SIGKILL, reaped).

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use crate::image::Image;
use crate::net::{free_port, wait_for_port};
use crate::peer::{self, PeerError};
use crate::ppm;
use crate::time::Deadline;
use crate::xvnc::{
    DirGuard, PORT_TIMEOUT, START_TIMEOUT, TERM_GRACE, io_err, log_tail, make_temp_dir, spawn_err,
    terminate,
};

/// The QEMU binary.
const QEMU: &str = "qemu-system-x86_64";
/// Start attempts; later ones only happen when the chosen VNC port was taken meanwhile.
const START_ATTEMPTS: u32 = 4;
/// Upper bound for one QMP command.
const QMP_TIMEOUT: Duration = Duration::from_secs(20);
/// Upper bound for SeaBIOS to reach its final screen.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Time between screendumps while waiting for the final screen.
const SETTLE_POLL: Duration = Duration::from_millis(150);
/// Identical dumps needed: 5 polls span 600 ms, more than the cursor's ~320 ms blink phase.
const SETTLE_SAME: usize = 5;

/// A running QEMU owned by one test. Dropping it stops it.
pub struct Qemu {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
    qmp: Mutex<Qmp>,
    dumps: AtomicU32,
}

impl std::fmt::Debug for Qemu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qemu")
            .field("addr", &self.addr())
            .field("dir", &self.dir)
            .finish()
    }
}

/// A QMP connection in command mode.
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Connects (bounded), reads the greeting and enters command mode.
    fn connect(sock: &Path, child: &mut Child, log: &Path) -> Result<Self, PeerError> {
        let deadline = Deadline::after(START_TIMEOUT);
        let stream = loop {
            match UnixStream::connect(sock) {
                Ok(s) => break s,
                Err(e) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(PeerError::Exited {
                            what: QEMU.into(),
                            status: status.to_string(),
                            log_tail: log_tail(log),
                        });
                    }
                    if deadline.expired() {
                        return Err(PeerError::Timeout {
                            what: format!("QMP socket {} ({e})", sock.display()),
                            seconds: START_TIMEOUT.as_secs_f64(),
                            log_tail: log_tail(log),
                        });
                    }
                    thread::sleep(Duration::from_millis(20));
                }
            }
        };
        stream
            .set_read_timeout(Some(QMP_TIMEOUT))
            .map_err(io_err("set the QMP read timeout"))?;
        let writer = stream.try_clone().map_err(io_err("clone the QMP socket"))?;
        let mut qmp = Self {
            reader: BufReader::new(stream),
            writer,
        };
        let greeting = qmp.read_line()?;
        if !greeting.contains("\"QMP\"") {
            return Err(PeerError::Mismatch(format!("QMP greeting {greeting:?}")));
        }
        qmp.execute(r#"{"execute":"qmp_capabilities"}"#)?;
        Ok(qmp)
    }

    fn read_line(&mut self) -> Result<String, PeerError> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => Err(PeerError::Mismatch("QMP socket closed".into())),
            Ok(_) => Ok(line),
            Err(e) => Err(io_err("read from QMP")(e)),
        }
    }

    /// Sends one command (a JSON object on one line) and returns its `"return"` line;
    /// asynchronous events in between are skipped.
    fn execute(&mut self, command: &str) -> Result<String, PeerError> {
        self.writer
            .write_all(format!("{command}\n").as_bytes())
            .map_err(io_err("write to QMP"))?;
        loop {
            // Replies start with "return" or "error"; asynchronous events (which start with
            // "timestamp", e.g. VNC_CONNECTED from a port probe) are skipped.
            let line = self.read_line()?;
            let body = line.trim_start().trim_start_matches('{').trim_start();
            if body.starts_with("\"return\"") {
                return Ok(line);
            }
            if body.starts_with("\"error\"") {
                return Err(PeerError::Command {
                    command: command.to_owned(),
                    status: "QMP error".into(),
                    stderr: line.trim().to_owned(),
                });
            }
        }
    }
}

/// Escapes a string for a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A VNC display number whose port (5900 + D) was free a moment ago.
fn free_display() -> u16 {
    loop {
        let port = free_port();
        // Ephemeral ports lie far above 5900; the check keeps the arithmetic honest.
        if port > 5900 && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port - 5900;
        }
    }
}

impl Qemu {
    /// Starts QEMU, waits for its VNC port and for the final SeaBIOS screen (cursor hidden).
    ///
    /// Errors: [`PeerError::Spawn`] when QEMU is missing, [`PeerError::Exited`],
    /// [`PeerError::Timeout`] or [`PeerError::Mismatch`] with the log tail otherwise.
    pub fn start() -> Result<Self, PeerError> {
        Self::start_in(make_temp_dir()?, &[], "")
    }

    /// [`Qemu::start`] with more QEMU arguments after the ones this module sets (a boot disk,
    /// an audio backend, ...). A `{dir}` in an argument is replaced by [`Qemu::dir`], so files
    /// the test writes there first (see `prepare`) can be named. The VNC option is
    /// `127.0.0.1:D` plus `vnc_suffix` (e.g. `,audiodev=snd`).
    pub fn start_with_files(
        extra: &[&str],
        vnc_suffix: &str,
        prepare: impl Fn(&Path) -> std::io::Result<()>,
    ) -> Result<Self, PeerError> {
        let dir = make_temp_dir()?;
        if let Err(e) = prepare(&dir) {
            let _ = fs::remove_dir_all(&dir);
            return Err(io_err("write the QEMU test files")(e));
        }
        Self::start_in(dir, extra, vnc_suffix)
    }

    fn start_in(dir: PathBuf, extra: &[&str], vnc_suffix: &str) -> Result<Self, PeerError> {
        let extra: Vec<String> = extra
            .iter()
            .map(|a| a.replace("{dir}", &dir.to_string_lossy()))
            .collect();
        let mut guard = DirGuard(Some(dir.clone()));
        let log = dir.join("qemu.log");
        let sock = dir.join("qmp.sock");
        let mut last_tail = String::new();
        for _ in 0..START_ATTEMPTS {
            let display = free_display();
            let port = 5900 + display;
            let _ = fs::remove_file(&sock);
            let log_file = File::create(&log).map_err(io_err("create the QEMU log"))?;
            let log_err = log_file
                .try_clone()
                .map_err(io_err("clone the QEMU log handle"))?;
            let mut child = Command::new(QEMU)
                .args(["-display", "none", "-m", "64", "-nic", "none"])
                .args(["-boot", "reboot-timeout=-1"])
                .arg("-vnc")
                .arg(format!("127.0.0.1:{display}{vnc_suffix}"))
                .args(&extra)
                .arg("-qmp")
                .arg(format!("unix:{},server=on,wait=off", sock.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::from(log_file))
                .stderr(Stdio::from(log_err))
                .spawn()
                .map_err(spawn_err(QEMU))?;
            let qmp = match Qmp::connect(&sock, &mut child, &log) {
                Ok(qmp) => qmp,
                Err(e) => {
                    terminate(&mut child, TERM_GRACE);
                    last_tail = log_tail(&log);
                    if last_tail.contains("Address already in use") {
                        continue;
                    }
                    return Err(e);
                }
            };
            if !wait_for_port(port, PORT_TIMEOUT) {
                terminate(&mut child, TERM_GRACE);
                return Err(PeerError::Timeout {
                    what: format!("QEMU VNC to accept on port {port}"),
                    seconds: PORT_TIMEOUT.as_secs_f64(),
                    log_tail: log_tail(&log),
                });
            }
            guard.0 = None;
            let q = Self {
                child: Some(child),
                port,
                dir,
                log,
                qmp: Mutex::new(qmp),
                dumps: AtomicU32::new(0),
            };
            // On error `q` drops here, which stops QEMU and removes the directory.
            q.try_settle()?;
            return Ok(q);
        }
        Err(PeerError::Exited {
            what: format!("{QEMU} ({START_ATTEMPTS} attempts, VNC port always taken)"),
            status: "address in use".into(),
            log_tail: last_tail,
        })
    }

    /// Starts QEMU for a test, or returns `None` after a visible `SKIPPED:` line when it is
    /// not installed (outside CI; in CI that panics).
    ///
    /// ```no_run
    /// # use rfb_testkit::qemu::Qemu;
    /// let Some(q) = Qemu::start_or_skip() else { return };
    /// let screen = q.screendump();
    /// ```
    ///
    /// # Panics
    /// If QEMU is installed but fails to start or to settle.
    pub fn start_or_skip() -> Option<Self> {
        if !peer::require_all(&[QEMU]) {
            return None;
        }
        match Self::start() {
            Ok(q) => Some(q),
            Err(e) => panic!("QEMU failed to start: {e}"),
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

    /// This instance's private directory (log, QMP socket, dumps).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last lines of QEMU's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    fn fail(&self, e: PeerError) -> ! {
        panic!(
            "QEMU helper failed: {e}\nQEMU log tail:\n{}",
            self.log_tail()
        )
    }

    /// Runs one QMP command (a JSON object) and returns the reply line.
    ///
    /// # Panics
    /// If QMP fails or answers with an error.
    pub fn qmp(&self, command: &str) -> String {
        self.try_qmp(command).unwrap_or_else(|e| self.fail(e))
    }

    fn try_qmp(&self, command: &str) -> Result<String, PeerError> {
        self.qmp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .execute(command)
    }

    /// Runs one human-monitor command through QMP and returns its output.
    fn try_hmp(&self, command_line: &str) -> Result<String, PeerError> {
        self.try_qmp(&format!(
            r#"{{"execute":"human-monitor-command","arguments":{{"command-line":{}}}}}"#,
            json_string(command_line)
        ))
    }

    /// The screen as QEMU's display holds it (QMP `screendump`, a PPM).
    ///
    /// # Panics
    /// If QMP fails or the dump does not parse.
    pub fn screendump(&self) -> Image {
        self.try_screendump().unwrap_or_else(|e| self.fail(e))
    }

    fn try_screendump(&self) -> Result<Image, PeerError> {
        let n = self.dumps.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("screen-{n}.ppm"));
        let name = path.to_string_lossy().into_owned();
        self.try_qmp(&format!(
            r#"{{"execute":"screendump","arguments":{{"filename":{}}}}}"#,
            json_string(&name)
        ))?;
        let bytes = fs::read(&path).map_err(io_err(format!("read {name}")))?;
        let _ = fs::remove_file(&path);
        ppm::read_ppm(&bytes)
            .map_err(|e| PeerError::Mismatch(format!("screendump {name} is not a PPM: {e}")))
    }

    /// Hides the VGA text cursor: CRTC index 0x0A (cursor start), bit 5 = cursor off.
    fn try_hide_text_cursor(&self) -> Result<(), PeerError> {
        self.try_hmp("o /b 0x3d4 0x0a")?;
        self.try_hmp("o /b 0x3d5 0x20")?;
        Ok(())
    }

    /// Waits until the screen no longer changes: [`SETTLE_SAME`] identical dumps in a row,
    /// with the text cursor hidden before each.
    fn try_settle(&self) -> Result<(), PeerError> {
        let deadline = Deadline::after(SETTLE_TIMEOUT);
        let mut previous: Option<Image> = None;
        let mut same = 0;
        loop {
            // SeaBIOS may reprogram the cursor while it is still printing: hide it each time.
            self.try_hide_text_cursor()?;
            let img = self.try_screendump()?;
            if previous.as_ref() == Some(&img) {
                same += 1;
                if same + 1 >= SETTLE_SAME {
                    return Ok(());
                }
            } else {
                same = 0;
            }
            previous = Some(img);
            if deadline.expired() {
                return Err(PeerError::Timeout {
                    what: "the SeaBIOS screen to stop changing".into(),
                    seconds: SETTLE_TIMEOUT.as_secs_f64(),
                    log_tail: self.log_tail(),
                });
            }
            thread::sleep(SETTLE_POLL);
        }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, TERM_GRACE);
        }
        if thread::panicking() {
            peer::visible_line(&format!(
                "rfb-testkit: test failed; kept {} (QEMU log and dumps)",
                self.dir.display()
            ));
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A 512-byte master boot record, assembled here by hand (16-bit real mode, loaded at
/// 0x7c00), that:
///
/// 1. programs PIT channel 2 for a square wave (mode 3) of 1193182 / 1193 ≈ 1 kHz and
///    opens the PC speaker gate (port 0x61 bits 0 and 1), so the speaker sounds for good;
/// 2. enables interrupts and loops on `int 16h` (AH=1 "check keystroke", AH=0 to consume one)
///    and `hlt`, so the BIOS keeps handling the keyboard: SeaBIOS updates the keyboard LEDs from
///    its lock flags on each `int 16h`, which QEMU reports as LED state.
pub fn beep_mbr() -> Vec<u8> {
    let divisor: u16 = 1193;
    let [lo, hi] = divisor.to_le_bytes();
    let mut code = vec![
        0xb0, 0xb6, // mov al, 0b10_11_011_0: channel 2, lobyte/hibyte, mode 3, binary
        0xe6, 0x43, // out 0x43, al
        0xb8, lo, hi, // mov ax, divisor
        0xe6, 0x42, // out 0x42, al (low byte)
        0x88, 0xe0, // mov al, ah
        0xe6, 0x42, // out 0x42, al (high byte)
        0xe4, 0x61, // in al, 0x61
        0x0c, 0x03, // or al, 3: timer 2 gate + speaker data
        0xe6, 0x61, // out 0x61, al
        0xfb, // sti
        // loop:
        0xb4, 0x01, // mov ah, 1
        0xcd, 0x16, // int 0x16 (ZF set: no key)
        0x74, 0x04, // jz +4 (to hlt)
        0xb4, 0x00, // mov ah, 0
        0xcd, 0x16, // int 0x16 (take the key)
        0xf4, // hlt (until the next interrupt)
        0xeb, 0xf3, // jmp loop (-13)
    ];
    code.resize(510, 0);
    code.extend_from_slice(&[0x55, 0xaa]);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), r#""a\"b\\c\u000a""#);
        assert_eq!(json_string("/tmp/x.ppm"), r#""/tmp/x.ppm""#);
    }

    #[test]
    fn free_display_maps_to_a_port() {
        let d = free_display();
        assert!(u32::from(d) + 5900 <= 65535);
    }
}
