//! `rfb audio`: record the server's QEMU Audio stream (-259) to a WAV file.
//!
//! The recording stops after exactly `--duration` seconds of samples (counted in frames at the
//! requested rate, not by the wall clock), so a silent guest, which sends nothing, makes the
//! command wait until `--timeout`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args as ClapArgs, ValueEnum};
use rfb_core::{AudioEvent, AudioFormat, Config, Event, SampleFormat};

use crate::driver::{Ended, Flow, Session, describe};
use crate::{Common, addr};

/// Sample types a WAV file can hold as plain PCM (8-bit unsigned, 16/32-bit signed).
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Sample {
    U8,
    S16,
    S32,
}

impl Sample {
    fn format(self) -> SampleFormat {
        match self {
            Self::U8 => SampleFormat::U8,
            Self::S16 => SampleFormat::S16,
            Self::S32 => SampleFormat::S32,
        }
    }
}

#[derive(ClapArgs)]
pub(crate) struct Args {
    /// Server: HOST:PORT, HOST::PORT, HOST:DISPLAY (0-99 means port 5900+N) or [IPv6]:PORT.
    server: String,
    /// The WAV file to write.
    output: PathBuf,
    /// Seconds of audio to record.
    #[arg(long, value_name = "SECS")]
    duration: f64,
    /// Sample type.
    #[arg(long, value_enum, default_value_t = Sample::S16)]
    sample: Sample,
    /// Channels: 1 or 2.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    channels: u8,
    /// Frames per second (QEMU accepts up to 48000).
    #[arg(long, default_value_t = 44_100)]
    rate: u32,
    /// --timeout counts from the start, and is extended by --duration.
    #[command(flatten)]
    common: Common,
}

/// A canonical 44-byte RIFF/WAVE header for little-endian PCM.
pub(crate) fn wav_header(format: AudioFormat, data_len: u32) -> Vec<u8> {
    let bits = u16::from(format.sample.bytes()) * 8;
    let block = u16::from(format.channels) * u16::from(format.sample.bytes());
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_len).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&u16::from(format.channels).to_le_bytes());
    h.extend_from_slice(&format.frequency.to_le_bytes());
    h.extend_from_slice(&(format.frequency * u32::from(block)).to_le_bytes());
    h.extend_from_slice(&block.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

pub(crate) async fn run(args: &Args) -> anyhow::Result<()> {
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 3600.0) {
        bail!("--duration must be between 0 and 3600 seconds");
    }
    if args.rate == 0 {
        bail!("--rate must be positive");
    }
    let format = AudioFormat {
        sample: args.sample.format(),
        channels: args.channels,
        frequency: args.rate,
    };
    let frames = (args.duration * f64::from(args.rate)).ceil() as u64;
    let want = frames * u64::from(format.frame_bytes());
    let want = u32::try_from(want).context("the recording would not fit a WAV file")?;
    let addr = addr::parse(&args.server)?;
    let deadline = args.common.deadline()? + Duration::from_secs_f64(args.duration);
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
    // The -259 acknowledgement comes as a pseudo-rectangle of the first update(s).
    let ended = s
        .run(deadline, |ev, client, _| match ev {
            _ if client.audio_supported() => Flow::Stop,
            Event::FramebufferUpdated { damage } if !damage.is_empty() => Flow::Stop,
            _ => Flow::Continue,
        })
        .await?;
    if ended == Ended::Deadline {
        bail!("timed out waiting for the first update (--timeout)");
    }
    if !s.client.audio_supported() {
        bail!("the server does not offer QEMU Audio (for QEMU: -vnc ...,audiodev=ID)");
    }
    s.client.set_audio_format(format).map_err(describe)?;
    s.client.enable_audio().map_err(describe)?;
    let mut pcm: Vec<u8> = Vec::with_capacity((want as usize).min(16 << 20));
    let ended = s
        .run(deadline, |ev, _, _| {
            if let Event::Audio(AudioEvent::Data { bytes, .. }) = ev {
                let room = want as usize - pcm.len();
                pcm.extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
            if pcm.len() == want as usize {
                Flow::Stop
            } else {
                Flow::Continue
            }
        })
        .await?;
    if ended == Ended::Deadline {
        let got = pcm.len() as f64 / f64::from(format.frame_bytes()) / f64::from(args.rate);
        bail!(
            "timed out with {got:.2} s of {} s recorded (is the guest playing sound?)",
            args.duration
        );
    }
    s.client.disable_audio().map_err(describe)?;
    s.flush().await?;
    let mut file = wav_header(format, want);
    file.extend_from_slice(&pcm);
    std::fs::write(&args.output, &file)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!(
        "wrote {} ({frames} frames, {:?} x {} at {} Hz)",
        args.output.display(),
        format.sample,
        format.channels,
        format.frequency
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The canonical header, field by field, for 16-bit stereo 44.1 kHz and 4 data bytes.
    #[test]
    fn header_bytes() {
        let h = wav_header(AudioFormat::CD, 4);
        let mut want = b"RIFF".to_vec();
        want.extend([40, 0, 0, 0]);
        want.extend(b"WAVEfmt ");
        want.extend([16, 0, 0, 0, 1, 0, 2, 0]);
        want.extend([0x44, 0xac, 0, 0]); // 44100
        want.extend([0x10, 0xb1, 2, 0]); // 176400 bytes/s
        want.extend([4, 0, 16, 0]);
        want.extend(b"data");
        want.extend([4, 0, 0, 0]);
        assert_eq!(h, want);
    }
}
