//! `rfb`: a command-line VNC client built on the sans-IO `rfb-core` state machine.
#![forbid(unsafe_code)]
// A driver measures real time; the workspace's clock ban is for the core crates.
#![allow(clippy::disallowed_methods)]

mod addr;
mod audio;
mod clipboard;
mod driver;
mod info;
mod keys;
mod password;
mod resize;
mod screenshot;
mod security;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

/// A VNC (RFB) client for the command line.
#[derive(Parser)]
#[command(name = "rfb", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command shares.
#[derive(clap::Args, Clone)]
pub(crate) struct Common {
    /// Read the VNC password from FILE: its first line, or the 8-byte file `vncpasswd` writes.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// User name for security types that need one (VeNCrypt Plain, X509Plain, RA2).
    #[arg(long, value_name = "NAME")]
    username: Option<String>,
    /// Target system for xvp authentication (security type 22).
    #[arg(long, value_name = "NAME")]
    target: Option<String>,
    /// Security types to accept, in preference order: names or numbers, comma-separated
    /// (e.g. `x509plain,x509vnc,vncauth`; VeNCrypt subtypes by name or number ≥ 256).
    #[arg(long, value_name = "LIST")]
    security: Option<String>,
    /// Trust the server's TLS certificate if it chains to a CA in this PEM file (and names
    /// the host). Without --security, only TLS security types are then accepted.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Trust the server's TLS certificate, or its RSA key for the RA2 types (`--security
    /// ra2,ra2ne,ra2_256,ra2ne_256`), if its SHA-256 fingerprint is this (hex, colons
    /// optional). Without --security, only TLS security types are then accepted.
    #[arg(long, value_name = "SHA256")]
    fingerprint: Option<String>,
    /// Give up after SECS seconds in all (connect, handshake and the first update).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    timeout: f64,
    /// Ask the server to disconnect other viewers (ClientInit shared flag 0).
    #[arg(long)]
    exclusive: bool,
    /// UltraVNC repeater ID to send when the server is a repeater (e.g. ID:1234).
    #[arg(long, value_name = "ID")]
    repeater_id: Option<String>,
    /// Record the session to FILE in websockify's VNC_frame_data format (replayable by
    /// noVNC's playback page and by this project's benches).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

impl Common {
    pub(crate) fn password(&self) -> anyhow::Result<Option<String>> {
        self.password_file
            .as_deref()
            .map(password::read)
            .transpose()
    }

    /// Credentials and security choices, with every file read.
    pub(crate) fn auth(&self) -> anyhow::Result<security::Auth> {
        security::Auth::new(
            self.username.clone(),
            self.target.clone(),
            self.password()?,
            self.security.as_deref(),
            self.ca_file.as_deref(),
            self.fingerprint.as_deref(),
        )
    }

    pub(crate) fn deadline(&self) -> anyhow::Result<Instant> {
        let secs = self.timeout;
        if !(secs.is_finite() && secs > 0.0) {
            anyhow::bail!("--timeout must be a positive number of seconds, not {secs}");
        }
        Ok(Instant::now() + Duration::from_secs_f64(secs.min(86_400.0)))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print the server's protocol version, security types, desktop name, size and pixel format.
    Info {
        /// Server: HOST:PORT, HOST::PORT, HOST:DISPLAY (0-99 means port 5900+N) or [IPv6]:PORT.
        server: String,
        #[command(flatten)]
        common: Common,
    },
    /// Save the remote screen as a PNG.
    Screenshot(screenshot::Args),
    /// Ask the server for a new desktop size and screen layout (SetDesktopSize); prints the
    /// server's answer and fails when it refuses.
    Resize(resize::Args),
    /// Get or set the server's clipboard text.
    #[command(subcommand)]
    Clipboard(clipboard::ClipboardCommand),
    /// Type text on the server as key presses (for servers without a clipboard, e.g. QEMU).
    Type(clipboard::TypeArgs),
    /// Press and release keys by keysym name and/or physical key (scancodes for QEMU).
    Key(keys::Args),
    /// Record the server's audio (QEMU Audio) to a WAV file.
    Audio(audio::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rfb: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Info { server, common } => info::run(&server, &common).await,
            Command::Screenshot(args) => screenshot::run(&args).await,
            Command::Resize(args) => resize::run(&args).await,
            Command::Clipboard(cmd) => clipboard::run(&cmd).await,
            Command::Type(args) => clipboard::type_text(&args).await,
            Command::Key(args) => keys::run(&args).await,
            Command::Audio(args) => audio::run(&args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the outermost context and its causes, joined.
            let msg = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("rfb: {msg}");
            ExitCode::FAILURE
        }
    }
}
