//! `rfb info`: what a server offers, without taking a screenshot.

use rfb_core::{Config, Event};
use rfb_encodings::PixelFormat;

use crate::driver::{Ended, Flow, Session};
use crate::{Common, addr};

/// Formats a pixel format the way VNC tools usually print it.
pub(crate) fn describe_pf(pf: &PixelFormat) -> String {
    if pf.true_colour {
        format!(
            "{} bpp, depth {}, {}-endian, true colour, max r/g/b {}/{}/{}, shift r/g/b {}/{}/{}",
            pf.bits_per_pixel,
            pf.depth,
            if pf.big_endian { "big" } else { "little" },
            pf.red_max,
            pf.green_max,
            pf.blue_max,
            pf.red_shift,
            pf.green_shift,
            pf.blue_shift
        )
    } else {
        format!("{} bpp, depth {}, colour map", pf.bits_per_pixel, pf.depth)
    }
}

pub(crate) async fn run(server: &str, common: &Common) -> anyhow::Result<()> {
    let addr = addr::parse(server)?;
    let deadline = common.deadline()?;
    let config = Config {
        shared: !common.exclusive,
        auto_update: false,
        repeater_id: common.repeater_id.clone(),
        security_types: rfb_core::security::SecurityType::ALL_NAMED.to_vec(),
        ..Config::default()
    };
    let auth = common.auth()?;
    let has_password = auth.password.is_some();
    let mut s = Session::connect(&addr, config, auth, common.record.as_deref(), deadline).await?;
    let mut auth_needed = false;
    let r = s
        .run(deadline, |ev, _, _| match ev {
            Event::ProtocolVersion { server, version } => {
                println!("server version: {server} (speaking {version})");
                Flow::Continue
            }
            Event::SecurityTypes(types) => {
                let list: Vec<String> = types.iter().map(|t| t.to_string()).collect();
                println!("security types: {}", list.join(", "));
                Flow::Continue
            }
            Event::CredentialsRequired(_) if !has_password => {
                auth_needed = true;
                Flow::Stop
            }
            Event::Connected(info) => {
                println!("security used: {}", info.security);
                println!("desktop name: {}", info.name);
                println!("size: {}x{}", info.width, info.height);
                println!("pixel format: {}", describe_pf(&info.server_pixel_format));
                Flow::Stop
            }
            _ => Flow::Continue,
        })
        .await;
    if auth_needed {
        println!("desktop: not shown, the server requires a password (pass --password-file)");
        return Ok(());
    }
    match r? {
        Ended::Stopped => Ok(()),
        Ended::Deadline => anyhow::bail!("timed out waiting for ServerInit (--timeout)"),
    }
}
