//! Shared code of the benchmarks: loading the recorded corpus and replaying it instrumented.
#![forbid(unsafe_code)]

pub mod loopback;

use std::path::{Path, PathBuf};

use std::time::Duration;

use rfb_core::record::{self, Direction, Frame};
use rfb_core::rfb_encodings::DrawTarget;
use rfb_core::{Config, Credentials, Event};

/// A recording and its name (the file stem, e.g. `xvnc-zrle`).
#[derive(Debug)]
pub struct Recording {
    /// File stem.
    pub name: String,
    /// Parsed frames.
    pub frames: Vec<Frame>,
}

/// The committed corpus directory.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recordings")
}

/// Loads every `*.js` recording in `dir`, sorted by name. Unreadable files are reported and
/// skipped so one bad file does not hide the others' numbers.
pub fn load(dir: &Path) -> Vec<Recording> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Recording> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .filter_map(|p| {
            let name = p.file_stem()?.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).ok()?;
            match record::parse(&text) {
                Ok(frames) => Some(Recording { name, frames }),
                Err(e) => {
                    eprintln!("skipping {}: {e}", p.display());
                    None
                }
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Replays the server side of `r` through a fresh client with zlib capture on (see
/// `Decoders::capture_compressed`), drawing into `target` and showing every event to
/// `on_event`; returns the captured zlib stream segments, each inflatable from a fresh
/// stream. The same loop as `rfb_testkit::replay`, which owns its client: capture must be on
/// from the first byte. A decode error ends the replay there (what was captured is kept).
pub fn instrumented_replay(
    r: &Recording,
    target: &mut dyn DrawTarget,
    mut on_event: impl FnMut(&Event),
) -> Vec<Vec<u8>> {
    let mut client = rfb_core::Client::new(
        Config::default(),
        Duration::ZERO,
        Box::new(rfb_testkit::harness::TestRng::default()),
    );
    client.capture_compressed(true);
    let mut buf = Vec::new();
    for f in r
        .frames
        .iter()
        .filter(|f| f.direction == Direction::FromServer)
    {
        buf.extend_from_slice(&f.data);
        loop {
            let Ok(used) = client.handle_input(&buf, target) else {
                return client.take_compressed();
            };
            buf.drain(..used);
            while client.poll_transmit().is_some() {}
            let mut supplied = false;
            while let Some(ev) = client.poll_event() {
                if let Event::CredentialsRequired(_) = ev {
                    let _ = client.supply_credentials(&Credentials::default());
                    supplied = true;
                }
                on_event(&ev);
            }
            if !supplied || buf.is_empty() {
                break;
            }
        }
    }
    client.take_compressed()
}
