//! Per-session recordings (`--record FILE` writes `FILE.N`), websockify's format.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use rfb_core::record::{self, Direction};

/// Writes one session; closes the array on drop so the file stays valid.
pub(crate) struct Recorder {
    out: BufWriter<File>,
    epoch: Instant,
}

impl Recorder {
    pub(crate) fn create(base: &Path, id: u64) -> std::io::Result<Self> {
        let mut name = base.as_os_str().to_owned();
        name.push(format!(".{id}"));
        let mut out = BufWriter::new(File::create(name)?);
        out.write_all(record::HEADER.as_bytes())?;
        Ok(Self {
            out,
            epoch: Instant::now(),
        })
    }

    /// Records a chunk; a failing disk stops recording but not the session.
    pub(crate) fn frame(&mut self, direction: Direction, data: &[u8]) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        if let Err(e) = self
            .out
            .write_all(record::format_frame(ms, direction, data).as_bytes())
        {
            tracing::warn!("recording: {e}");
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.out.write_all(record::FOOTER.as_bytes());
        let _ = self.out.flush();
    }
}
