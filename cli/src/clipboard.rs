//! `rfb clipboard get|set` and `rfb type`: the server's clipboard through the Extended
//! Clipboard when the server offers it (UTF-8) or legacy cut text (Latin-1) otherwise, and
//! paste-as-keystrokes for servers without a clipboard.
//!
//! When is the extended path known? A server that supports it sends its *caps* in answer to
//! SetEncodings, which the client sends before its first update request; so the caps arrive
//! before the first FramebufferUpdate. The commands wait for whichever comes first, then
//! know which path the session uses.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rfb_core::clipboard::{ClipboardEvent, Formats};
use rfb_core::{Client, Config, Event};
use rfb_encodings::Encoding;

use crate::driver::{Ended, Flow, Session};
use crate::{Common, addr};

/// `rfb clipboard` subcommands.
#[derive(clap::Subcommand)]
pub(crate) enum ClipboardCommand {
    /// Print the server's clipboard text to stdout, exactly (no newline added). Waits up to
    /// --timeout for it; asks for it with an Extended Clipboard request when offered,
    /// otherwise waits for the server to send its clipboard (legacy ServerCutText). Servers
    /// that only announce changes (TigerVNC answers no request before its first notify)
    /// deliver the next clipboard change made while connected.
    Get {
        /// Server: HOST:PORT, HOST::PORT, HOST:DISPLAY (0-99 means port 5900+N) or [IPv6]:PORT.
        server: String,
        /// Print which clipboard path the session used to stderr.
        #[arg(short, long)]
        verbose: bool,
        /// Do not offer the Extended Clipboard: legacy Latin-1 cut text only.
        #[arg(long)]
        legacy: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Set the server's clipboard to TEXT ("-" reads stdin). UTF-8 with the Extended
    /// Clipboard; otherwise Latin-1, with each character outside Latin-1 sent as "?".
    Set {
        /// Server: HOST:PORT, HOST::PORT, HOST:DISPLAY (0-99 means port 5900+N) or [IPv6]:PORT.
        server: String,
        /// The text, or "-" for stdin.
        text: String,
        /// Stay connected to answer the server's requests until another application takes
        /// the clipboard or --timeout passes. Servers such as TigerVNC serve a client's
        /// clipboard only while that client is connected.
        #[arg(long)]
        hold: bool,
        /// Without --hold: stay connected SECS seconds after sending. x11vnc lost the text
        /// when the client closed the connection right after sending it.
        #[arg(long, value_name = "SECS", default_value_t = 0.5)]
        linger: f64,
        /// Print which clipboard path the session used to stderr.
        #[arg(short, long)]
        verbose: bool,
        /// Do not offer the Extended Clipboard: legacy Latin-1 cut text only.
        #[arg(long)]
        legacy: bool,
        #[command(flatten)]
        common: Common,
    },
}

/// Arguments of `rfb type`.
#[derive(clap::Args)]
pub(crate) struct TypeArgs {
    /// Server: HOST:PORT, HOST::PORT, HOST:DISPLAY (0-99 means port 5900+N) or [IPv6]:PORT.
    server: String,
    /// The text to type, or "-" for stdin. Newlines are typed as Return, tabs as Tab;
    /// characters a US keyboard types with Shift are sent inside Shift_L (QEMU needs it).
    text: String,
    /// Stay connected SECS seconds after sending the keys. Default: 0.5 s plus 20 ms per key
    /// event, because QEMU feeds keys to the guest one per `key-delay-ms` (10 ms by default)
    /// and drops the ones still queued when the client disconnects.
    #[arg(long, value_name = "SECS")]
    linger: Option<f64>,
    #[command(flatten)]
    common: Common,
}

fn read_text(arg: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the text from stdin (it must be UTF-8)")?;
    Ok(s)
}

fn config(common: &Common, legacy: bool) -> Config {
    let mut c = Config {
        shared: !common.exclusive,
        repeater_id: common.repeater_id.clone(),
        ..Config::default()
    };
    if legacy {
        c.encodings.retain(|e| *e != Encoding::ExtendedClipboard);
    }
    c
}

async fn connect(
    server: &str,
    common: &Common,
    legacy: bool,
) -> anyhow::Result<(Session, Instant)> {
    let addr = addr::parse(server)?;
    let deadline = common.deadline()?;
    let s = Session::connect(
        &addr,
        config(common, legacy),
        common.auth()?,
        common.record.as_deref(),
        deadline,
    )
    .await?;
    Ok((s, deadline))
}

/// Runs until the extended caps or the first update arrive; returns whether the extended
/// clipboard is in use. Clipboard text seen meanwhile is handed to `on_text`.
async fn await_path(
    s: &mut Session,
    deadline: Instant,
    on_text: &mut dyn FnMut(&str),
) -> anyhow::Result<bool> {
    let ended = s
        .run(deadline, |ev, _, _| match ev {
            Event::Clipboard(ClipboardEvent::ServerCaps(_)) | Event::FramebufferUpdated { .. } => {
                Flow::Stop
            }
            Event::ClipboardText(t) => {
                on_text(t);
                Flow::Continue
            }
            _ => Flow::Continue,
        })
        .await?;
    if ended == Ended::Deadline {
        bail!("timed out waiting for the session to start (--timeout)");
    }
    Ok(s.client.extended_clipboard_active())
}

fn report_path(verbose: bool, client: &Client) {
    if verbose {
        match client.server_clipboard_caps() {
            Some(caps) => eprintln!(
                "rfb: clipboard path: extended clipboard (UTF-8), server caps: formats {:?}, \
                 actions {:#010x}, sizes {:?}",
                caps.formats, caps.actions.0, caps.max_sizes
            ),
            None => eprintln!("rfb: clipboard path: legacy cut text (Latin-1)"),
        }
    }
}

pub(crate) async fn run(cmd: &ClipboardCommand) -> anyhow::Result<()> {
    match cmd {
        ClipboardCommand::Get {
            server,
            verbose,
            legacy,
            common,
        } => get(server, *verbose, *legacy, common).await,
        ClipboardCommand::Set {
            server,
            text,
            hold,
            linger,
            verbose,
            legacy,
            common,
        } => {
            let opts = SetOptions {
                hold: *hold,
                linger: *linger,
                verbose: *verbose,
                legacy: *legacy,
            };
            set(server, &read_text(text)?, &opts, common).await
        }
    }
}

async fn get(server: &str, verbose: bool, legacy: bool, common: &Common) -> anyhow::Result<()> {
    let (mut s, deadline) = connect(server, common, legacy).await?;
    let mut got: Option<String> = None;
    let extended = await_path(&mut s, deadline, &mut |t| got = Some(t.to_owned())).await?;
    report_path(verbose, &s.client);
    if got.is_none() {
        if extended {
            // Ignored when the server takes no requests; then its notify/provide is awaited.
            let _ = s.client.request_clipboard(Formats::TEXT);
        }
        let ended = s
            .run(deadline, |ev, _, _| match ev {
                Event::ClipboardText(t) => {
                    got = Some(t.clone());
                    Flow::Stop
                }
                _ => Flow::Continue,
            })
            .await?;
        if ended == Ended::Deadline {
            bail!("the server sent no clipboard text before --timeout");
        }
    }
    let text = got.unwrap_or_default();
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The flags of `rfb clipboard set`.
#[derive(Clone, Copy)]
struct SetOptions {
    hold: bool,
    linger: f64,
    verbose: bool,
    legacy: bool,
}

async fn set(server: &str, text: &str, o: &SetOptions, common: &Common) -> anyhow::Result<()> {
    let SetOptions {
        hold,
        linger,
        verbose,
        legacy,
    } = *o;
    if !(linger.is_finite() && linger >= 0.0) {
        bail!("--linger must be a non-negative number of seconds, not {linger}");
    }
    let (mut s, deadline) = connect(server, common, legacy).await?;
    await_path(&mut s, deadline, &mut |_| {}).await?;
    report_path(verbose, &s.client);
    s.client
        .send_clipboard_text(text)
        .map_err(crate::driver::describe)?;
    s.flush().await?;
    if verbose {
        eprintln!("rfb: clipboard sent");
    }
    if hold {
        // Serves requests (answered inside the core) until someone else owns the clipboard.
        s.run(deadline, |ev, _, _| match ev {
            Event::Clipboard(ClipboardEvent::Notify(_)) | Event::ClipboardText(_) => Flow::Stop,
            Event::Clipboard(ClipboardEvent::Request(_)) if verbose => {
                eprintln!("rfb: the server requested the clipboard");
                Flow::Continue
            }
            _ => Flow::Continue,
        })
        .await?;
    } else {
        // Requests arriving meanwhile are answered inside the core.
        let until = Instant::now() + Duration::from_secs_f64(linger.min(3600.0));
        s.run(until, |_, _, _| Flow::Continue).await?;
    }
    Ok(())
}

/// `rfb type`: connect, type the text as key events, disconnect.
pub(crate) async fn type_text(args: &TypeArgs) -> anyhow::Result<()> {
    let text = read_text(&args.text)?;
    let (mut s, deadline) = connect(&args.server, &args.common, false).await?;
    let ended = s
        .run(deadline, |ev, _, _| match ev {
            Event::Connected(_) => Flow::Stop,
            _ => Flow::Continue,
        })
        .await?;
    if ended == Ended::Deadline {
        bail!("timed out waiting for ServerInit (--timeout)");
    }
    let events = rfb_core::clipboard::keystrokes(&text, &rfb_keysym::keysym_from_char)
        .0
        .len();
    let linger = match args.linger {
        Some(l) if l.is_finite() && l >= 0.0 => Duration::from_secs_f64(l.min(3600.0)),
        Some(l) => bail!("--linger must be a non-negative number of seconds, not {l}"),
        None => Duration::from_millis(500 + 20 * events.min(1 << 20) as u64),
    };
    let skipped = s
        .client
        .type_text(&text, &rfb_keysym::keysym_from_char)
        .map_err(crate::driver::describe)?;
    s.flush().await?;
    s.run(Instant::now() + linger, |_, _, _| Flow::Continue)
        .await?;
    if skipped > 0 {
        eprintln!("rfb: {skipped} character(s) have no keysym and were not typed");
    }
    Ok(())
}
