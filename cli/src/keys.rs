//! `rfb key`: press and release keys on the server, by keysym name and/or physical key.
//!
//! A key given with a physical position (a DOM `code` such as `KeyA`, or an XT scancode such
//! as `0x1e`) goes out as a QEMU Extended Key Event when the server acknowledged -258, so the
//! server's own keyboard layout applies; otherwise as a plain KeyEvent with the keysym.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args as ClapArgs;
use rfb_core::{Config, Event, KeySent, LedState};

use crate::driver::{Ended, Flow, Session, describe};
use crate::{Common, addr};

#[derive(ClapArgs)]
pub(crate) struct Args {
    /// Server: HOST:PORT, HOST::PORT, HOST:DISPLAY (0-99 means port 5900+N) or [IPv6]:PORT.
    server: String,
    /// Keys to tap, in order. Each is KEYSYM, KEYSYM@CODE or @CODE: KEYSYM is a keysym name
    /// (`a`, `Return`, `Caps_Lock`, `U20AC`, `0xff0d`); CODE is the physical key as a DOM code
    /// (`KeyA`, `Enter`, `CapsLock`) or an XT scancode (`0x1e`, `0xe04d`). Join keys with `+`
    /// to hold them together (`Control_L+Alt_L+Delete`): pressed left to right, released in
    /// reverse.
    #[arg(required = true, value_name = "KEY")]
    keys: Vec<String>,
    /// After typing, wait until the server reports these lock LEDs lit (a comma list of
    /// `caps`, `num`, `scroll`, or `none`), then print the state. Fails at --timeout.
    #[arg(long, value_name = "LEDS")]
    wait_leds: Option<String>,
    /// Seconds to stay connected after sending (default 0.5 s + 20 ms per key event): QEMU
    /// drops key events still queued when the client disconnects.
    #[arg(long, value_name = "SECONDS")]
    linger: Option<f64>,
    #[command(flatten)]
    common: Common,
}

/// One key: a keysym (0 = unknown) and an XT scancode (0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    keysym: u32,
    scancode: u16,
}

/// Parses CODE: a DOM code name or a hexadecimal XT scancode.
fn parse_code(code: &str) -> anyhow::Result<u16> {
    if let Some(hex) = code.strip_prefix("0x") {
        return u16::from_str_radix(hex, 16)
            .ok()
            .filter(|&v| rfb_core::qemu::xt_keycode(v).is_some())
            .with_context(|| {
                format!("{code:?} is not an XT make scancode (0x01-0x7e, 0xe001-0xe07e)")
            });
    }
    rfb_keysym::xt_scancode(code).with_context(|| {
        format!("unknown key code {code:?} (a DOM code such as KeyA or ArrowLeft)")
    })
}

/// Parses one KEY element (no `+`).
fn parse_key(text: &str) -> anyhow::Result<Key> {
    let (sym, code) = match text.split_once('@') {
        Some((s, c)) => (s, Some(c)),
        None => (text, None),
    };
    let keysym = if sym.is_empty() {
        0
    } else {
        rfb_keysym::keysym_from_name(sym).with_context(|| {
            format!("unknown keysym name {sym:?} (X names such as a, Return, Shift_L)")
        })?
    };
    let scancode = code.map(parse_code).transpose()?.unwrap_or(0);
    if keysym == 0 && scancode == 0 {
        bail!("key {text:?} has neither a keysym nor a code");
    }
    Ok(Key { keysym, scancode })
}

/// Parses a chord `A+B+C`. A lone `+` is the plus keysym.
fn parse_chord(text: &str) -> anyhow::Result<Vec<Key>> {
    if text == "+" {
        return Ok(vec![parse_key("plus")?]);
    }
    text.split('+').map(parse_key).collect()
}

/// Parses `--wait-leds`.
fn parse_leds(text: &str) -> anyhow::Result<LedState> {
    let mut s = LedState::default();
    for part in text.split(',').map(str::trim) {
        match part {
            "none" => {}
            "caps" => s.caps_lock = true,
            "num" => s.num_lock = true,
            "scroll" => s.scroll_lock = true,
            other => bail!("unknown LED {other:?} (caps, num, scroll or none)"),
        }
    }
    Ok(s)
}

/// The LED state as `--wait-leds` spells it.
pub(crate) fn describe_leds(s: LedState) -> String {
    let on: Vec<&str> = [
        (s.caps_lock, "caps"),
        (s.num_lock, "num"),
        (s.scroll_lock, "scroll"),
    ]
    .iter()
    .filter(|(b, _)| *b)
    .map(|(_, n)| *n)
    .collect();
    if on.is_empty() {
        "none".into()
    } else {
        on.join(",")
    }
}

pub(crate) async fn run(args: &Args) -> anyhow::Result<()> {
    let chords: Vec<Vec<Key>> = args
        .keys
        .iter()
        .map(|k| parse_chord(k))
        .collect::<anyhow::Result<_>>()?;
    let want_leds = args.wait_leds.as_deref().map(parse_leds).transpose()?;
    let addr = addr::parse(&args.server)?;
    let deadline = args.common.deadline()?;
    let config = Config {
        shared: !args.common.exclusive,
        repeater_id: args.common.repeater_id.clone(),
        ..Config::default()
    };
    let mut s = Session::connect(
        &addr,
        config,
        args.common.auth()?,
        args.common.record.as_deref(),
        deadline,
    )
    .await?;
    // The -258 acknowledgement comes as a pseudo-rectangle of the first update(s): wait for it
    // or for the first real screen update, whichever comes first.
    let ended = s
        .run(deadline, |ev, client, _| match ev {
            _ if client.qemu_extended_keys() => Flow::Stop,
            Event::FramebufferUpdated { damage } if !damage.is_empty() => Flow::Stop,
            _ => Flow::Continue,
        })
        .await?;
    if ended == Ended::Deadline {
        bail!("timed out waiting for the first update (--timeout)");
    }
    let (mut extended, mut plain, mut dropped) = (0, 0, 0);
    for chord in &chords {
        let presses = chord.iter().map(|k| (k, true));
        let releases = chord.iter().rev().map(|k| (k, false));
        for (k, down) in presses.chain(releases) {
            let sent = s
                .client
                .send_key_scancode(k.keysym, k.scancode, down)
                .map_err(describe)?;
            match sent {
                KeySent::Extended => extended += 1,
                KeySent::Keysym => plain += 1,
                KeySent::Dropped => dropped += 1,
            }
        }
    }
    s.flush().await?;
    println!("key events: {extended} by scancode, {plain} by keysym, {dropped} dropped");
    if dropped > 0 {
        eprintln!(
            "rfb: {dropped} key event(s) had only a code and the server does not take scancodes"
        );
    }
    if let Some(want) = want_leds {
        wait_leds(&mut s, want, deadline).await?;
    } else {
        let events = (extended + plain) as u64;
        let linger = match args.linger {
            Some(l) if l.is_finite() && l >= 0.0 => Duration::from_secs_f64(l.min(3600.0)),
            Some(l) => bail!("--linger must be a non-negative number of seconds, not {l}"),
            None => Duration::from_millis(500 + 20 * events.min(1 << 20)),
        };
        s.run(Instant::now() + linger, |_, _, _| Flow::Continue)
            .await?;
    }
    Ok(())
}

async fn wait_leds(s: &mut Session, want: LedState, deadline: Instant) -> anyhow::Result<()> {
    let ended = s
        .run(deadline, |_, client, _| {
            if client.led_state() == Some(want) {
                Flow::Stop
            } else {
                Flow::Continue
            }
        })
        .await?;
    let now = s.client.led_state();
    if ended == Ended::Deadline {
        let last = now.map_or("never reported".into(), describe_leds);
        bail!(
            "timed out waiting for LEDs {} (last: {last})",
            describe_leds(want)
        );
    }
    println!("leds: {}", describe_leds(want));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse() {
        assert_eq!(
            parse_key("a").unwrap(),
            Key {
                keysym: 0x61,
                scancode: 0
            }
        );
        assert_eq!(
            parse_key("Right@ArrowRight").unwrap(),
            Key {
                keysym: 0xff53,
                scancode: 0xe04d
            }
        );
        assert_eq!(
            parse_key("@0x3a").unwrap(),
            Key {
                keysym: 0,
                scancode: 0x3a
            }
        );
        assert!(parse_key("@0x9e").is_err());
        assert!(parse_key("@NoSuchKey").is_err());
        assert!(parse_key("NoSuchKeysym").is_err());
        assert!(parse_key("@").is_err());
        let chord = parse_chord("Control_L@ControlLeft+c").unwrap();
        assert_eq!(chord.len(), 2);
        assert_eq!(parse_chord("+").unwrap()[0].keysym, 0x2b);
    }

    #[test]
    fn leds_parse() {
        let s = parse_leds("caps,num").unwrap();
        assert!(s.caps_lock && s.num_lock && !s.scroll_lock);
        assert_eq!(describe_leds(s), "caps,num");
        assert_eq!(describe_leds(parse_leds("none").unwrap()), "none");
        assert!(parse_leds("shift").is_err());
    }
}
