//! `rfb resize`: ask the server for a new framebuffer size and screen layout (SetDesktopSize)
//! and print its answer (the ExtendedDesktopSize rectangle sent back to this client).

use anyhow::{Context, bail};
use rfb_core::{Config, Event, LayoutChange, ResizeReason, ResizeStatus, Screen};

use crate::driver::{Ended, Flow, Session};
use crate::{Common, addr};

/// Arguments of `rfb resize`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Server: HOST:PORT, HOST::PORT, HOST:DISPLAY (0-99 means port 5900+N) or [IPv6]:PORT.
    server: String,
    /// New framebuffer size, e.g. 1024x768.
    size: String,
    /// Screen layout `x,y,w,h;x,y,w,h;...` (default: one screen covering the framebuffer).
    /// Screens keep the ids and flags of the server's screens in order; extra ones get new ids.
    #[arg(long, value_name = "LAYOUT")]
    screens: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// Parses `WxH`.
fn parse_size(s: &str) -> anyhow::Result<(u16, u16)> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .with_context(|| format!("size {s:?} is not WIDTHxHEIGHT"))?;
    let w: u16 = w
        .trim()
        .parse()
        .with_context(|| format!("bad width in {s:?}"))?;
    let h: u16 = h
        .trim()
        .parse()
        .with_context(|| format!("bad height in {s:?}"))?;
    Ok((w, h))
}

/// Parses `x,y,w,h;...` into rectangles.
fn parse_screens(s: &str) -> anyhow::Result<Vec<[u16; 4]>> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let v: Vec<u16> = part
            .split(',')
            .map(|n| n.trim().parse::<u16>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("screen {part:?} is not x,y,w,h"))?;
        let [x, y, w, h] = v[..] else {
            bail!("screen {part:?} is not x,y,w,h");
        };
        out.push([x, y, w, h]);
    }
    if out.is_empty() {
        bail!("--screens lists no screen");
    }
    Ok(out)
}

/// Gives the requested rectangles ids: the server's screens' ids (and flags) in order, then
/// fresh ids not used by any of them.
fn assign_ids(rects: &[[u16; 4]], current: &[Screen]) -> Vec<Screen> {
    let mut next = current
        .iter()
        .map(|s| s.id)
        .max()
        .map_or(1, |m| m.wrapping_add(1));
    rects
        .iter()
        .enumerate()
        .map(|(i, &[x, y, w, h])| match current.get(i) {
            Some(s) => Screen {
                x,
                y,
                width: w,
                height: h,
                ..*s
            },
            None => {
                while current.iter().any(|s| s.id == next) {
                    next = next.wrapping_add(1);
                }
                let id = next;
                next = next.wrapping_add(1);
                Screen::new(id, x, y, w, h)
            }
        })
        .collect()
}

fn print_layout(l: &LayoutChange) {
    println!("size: {}x{}", l.width, l.height);
    println!("screens: {}", l.screens.len());
    for s in &l.screens {
        println!(
            "screen: id={} x={} y={} width={} height={} flags={:#x}",
            s.id, s.x, s.y, s.width, s.height, s.flags
        );
    }
}

pub(crate) async fn run(args: &Args) -> anyhow::Result<()> {
    let addr = addr::parse(&args.server)?;
    let (width, height) = parse_size(&args.size)?;
    let rects = args.screens.as_deref().map(parse_screens).transpose()?;
    let deadline = args.common.deadline()?;
    let config = Config {
        shared: !args.common.exclusive,
        repeater_id: args.common.repeater_id.clone(),
        // One full request brings the current layout; nothing else is needed.
        continuous_updates: false,
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
    // Phase 1: the server's answer to the initial full request carries its layout, which
    // also shows that it accepts SetDesktopSize.
    let mut seen_layout = false;
    let mut unsupported = false;
    let ended = s
        .run(deadline, |ev, _, _| match ev {
            Event::ScreenLayout(_) => {
                seen_layout = true;
                Flow::Stop
            }
            // Pixels of the full update came without any layout: no ExtendedDesktopSize.
            Event::FramebufferUpdated { damage } if !damage.is_empty() && !seen_layout => {
                unsupported = true;
                Flow::Stop
            }
            _ => Flow::Continue,
        })
        .await?;
    if !seen_layout {
        if unsupported {
            bail!("the server does not support resizing (it sent no ExtendedDesktopSize)");
        }
        if ended == Ended::Deadline {
            bail!("timed out waiting for the server's screen layout");
        }
    }
    let current = s.client.screens().unwrap_or(&[]).to_vec();
    let screens = rects
        .as_ref()
        .map(|r| assign_ids(r, &current))
        .unwrap_or_default();
    s.client
        .set_desktop_size(width, height, &screens)
        .map_err(crate::driver::describe)?;
    // Phase 2: the answer addressed to this client (reason 1); after "forwarded", the change.
    let mut forwarded = false;
    let mut outcome: Option<anyhow::Result<LayoutChange>> = None;
    let ended = s
        .run(deadline, |ev, _, _| match ev {
            Event::ScreenLayout(l) if l.reason == ResizeReason::ThisClient && !forwarded => {
                if l.status == ResizeStatus::Forwarded {
                    println!("status: {}", l.status);
                    forwarded = true;
                    return Flow::Continue;
                }
                outcome = Some(if l.status == ResizeStatus::Success {
                    Ok(l.clone())
                } else {
                    Err(anyhow::anyhow!(
                        "the server refused the resize: {}",
                        l.status
                    ))
                });
                Flow::Stop
            }
            Event::ScreenLayout(l) if forwarded && (l.width, l.height) == (width, height) => {
                outcome = Some(Ok(l.clone()));
                Flow::Stop
            }
            _ => Flow::Continue,
        })
        .await?;
    match outcome {
        Some(Ok(l)) => {
            println!("status: {}", ResizeStatus::Success);
            print_layout(&l);
            Ok(())
        }
        Some(Err(e)) => Err(e),
        None if forwarded => bail!("the server forwarded the request but no resize followed"),
        None if ended == Ended::Deadline => bail!("timed out waiting for the server's answer"),
        None => bail!("the session ended without an answer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_layouts_parse() {
        assert_eq!(parse_size("1024x768").unwrap(), (1024, 768));
        assert!(parse_size("1024").is_err());
        assert!(parse_size("70000x1").is_err());
        assert_eq!(
            parse_screens("0,0,10,10; 10,0,5,5").unwrap(),
            vec![[0, 0, 10, 10], [10, 0, 5, 5]]
        );
        assert!(parse_screens("0,0,10").is_err());
        assert!(parse_screens("").is_err());
    }

    #[test]
    fn ids_are_kept_then_fresh() {
        let cur = [Screen {
            flags: 4,
            ..Screen::new(5, 0, 0, 1, 1)
        }];
        let s = assign_ids(&[[0, 0, 2, 2], [2, 0, 2, 2], [0, 2, 2, 2]], &cur);
        assert_eq!((s[0].id, s[0].flags), (5, 4));
        assert_eq!((s[1].id, s[2].id), (6, 7));
        assert_eq!(s[1].flags, 0);
    }
}
