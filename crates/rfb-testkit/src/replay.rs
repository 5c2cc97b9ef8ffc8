//! Replays a recorded session (websockify's `VNC_frame_data`, as `rfb --record` and
//! `rfb-proxy --record` write it) through a fresh client core: the server's bytes are fed in
//! as they were received; what the client would send is discarded.

use std::time::Duration;

use rfb_core::record::{Direction, Frame};
use rfb_core::{Client, Config, Credentials, Error, Event};
use rfb_encodings::Framebuffer;

use crate::harness::TestRng;

/// What a replay produced.
#[derive(Debug)]
pub struct Replay {
    /// The final framebuffer.
    pub fb: Framebuffer,
    /// FramebufferUpdate messages completed.
    pub updates: u64,
    /// Pixels covered by damage, summed over every update (the decode workload).
    pub damaged_pixels: u64,
    /// The client, for its statistics.
    pub client: Client,
}

/// Feeds every server frame of `frames` through a client made with `config`, answering a
/// password request with `password`. The config must match the recorded session's (pixel
/// format, security types): the recorded server bytes were produced for it.
pub fn replay(frames: &[Frame], config: Config, password: Option<&str>) -> Result<Replay, Error> {
    let mut client = Client::new(config, Duration::ZERO, Box::new(TestRng::default()));
    let mut fb = Framebuffer::default();
    let mut buf: Vec<u8> = Vec::new();
    let (mut updates, mut damaged_pixels) = (0, 0);
    for f in frames
        .iter()
        .filter(|f| f.direction == Direction::FromServer)
    {
        buf.extend_from_slice(&f.data);
        loop {
            let used = client.handle_input(&buf, &mut fb)?;
            buf.drain(..used);
            while client.poll_transmit().is_some() {}
            let mut supplied = false;
            while let Some(ev) = client.poll_event() {
                match ev {
                    Event::FramebufferUpdated { damage } => {
                        updates += 1;
                        damaged_pixels += damage.iter().map(|r| r.area()).sum::<u64>();
                    }
                    Event::CredentialsRequired(_) => {
                        client.supply_credentials(&Credentials {
                            password: password.map(str::to_string),
                            ..Credentials::default()
                        })?;
                        supplied = true;
                    }
                    _ => {}
                }
            }
            if !supplied || buf.is_empty() {
                break;
            }
        }
    }
    Ok(Replay {
        fb,
        updates,
        damaged_pixels,
        client,
    })
}
