//! Shared code of the benchmarks: loading the recorded corpus.
#![forbid(unsafe_code)]

pub mod loopback;

use std::path::{Path, PathBuf};

use rfb_core::record::{self, Frame};

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
