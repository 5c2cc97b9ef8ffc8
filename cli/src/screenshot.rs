//! `rfb screenshot`: connect, wait until every pixel has been received, write a PNG.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rfb_core::{Config, Event, PixelFormatChoice};
use rfb_encodings::{DecodeStats, Decoders, Encoding, Framebuffer, PixelFormat};

use crate::driver::{Ended, Flow, Session};
use crate::{Common, addr};

/// Arguments of `rfb screenshot`.
#[derive(clap::Args)]
#[command(
    after_help = "Pseudo-encodings always offered after the pixel encodings: \
cursor (-239, so the server does not paint its pointer into the picture), desktopsize (-223) \
and lastrect (-224). quality (-32..-23) is added only with --quality, and compress \
(-256..-247) only with --compress."
)]
pub(crate) struct Args {
    /// Server: HOST:PORT, HOST::PORT, HOST:DISPLAY (0-99 means port 5900+N) or [IPv6]:PORT.
    server: String,
    /// Where to write the PNG.
    output: PathBuf,
    /// Comma-separated pixel encodings to offer, in preference order (e.g. `raw` or
    /// `copyrect,raw`). Names: raw, copyrect, rre, corre, hextile, zlib, zlibhex, trle, zrle,
    /// zywrle, tight, tightpng, jpeg; one this build cannot decode is refused with the list of
    /// those it can. Default: every decodable encoding, best first.
    #[arg(long, value_name = "LIST")]
    encodings: Option<String>,
    /// Add the quality-level pseudo-encoding 0-9 (lets Tight servers send lossy JPEG).
    #[arg(long, value_name = "0-9", value_parser = clap::value_parser!(u8).range(0..=9))]
    quality: Option<u8>,
    /// Add the compression-level pseudo-encoding 0-9.
    #[arg(long, value_name = "0-9", value_parser = clap::value_parser!(u8).range(0..=9))]
    compress: Option<u8>,
    /// Pixel format to request: rgbx8888 (32 bpp, default), rgb565 (16 bpp), bgr233 (8 bpp
    /// true colour), cmap8 (8 bpp colour map) or native (the server's own).
    #[arg(long, value_name = "FORMAT", default_value = "rgbx8888")]
    pixel_format: String,
    /// Keep the session open for SECS seconds after connecting, applying incremental updates,
    /// then write the final picture (for watching changes such as window moves).
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Print counts of rectangles per encoding and sub-encoding after the picture is written.
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    common: Common,
}

fn parse_pixel_format(s: &str) -> anyhow::Result<PixelFormatChoice> {
    Ok(match s {
        "rgbx8888" | "32" => PixelFormatChoice::Request(PixelFormat::RGBX8888),
        "rgb565" | "16" => PixelFormatChoice::Request(PixelFormat::RGB565),
        "bgr233" | "8" => PixelFormatChoice::Request(PixelFormat::BGR233),
        "cmap8" => PixelFormatChoice::Request(PixelFormat::COLOUR_MAP8),
        "native" => PixelFormatChoice::Native,
        other => {
            bail!("unknown pixel format {other:?} (use rgbx8888, rgb565, bgr233, cmap8 or native)")
        }
    })
}

/// Parses `--encodings`: known names only, decodable ones only, no pseudo-encodings.
pub(crate) fn parse_encodings(list: &str) -> anyhow::Result<Vec<Encoding>> {
    let decodable: Vec<&str> = Decoders::supported_pixel_encodings()
        .iter()
        .map(|e| e.name())
        .collect();
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(e) = Encoding::from_name(name) else {
            bail!(
                "unknown encoding {name:?} (decodable: {})",
                decodable.join(", ")
            );
        };
        if e.is_pseudo() {
            bail!("{name} is a pseudo-encoding; --encodings takes pixel encodings only");
        }
        if !Decoders::can_decode(e) {
            bail!(
                "this build cannot decode {name} yet (decodable: {})",
                decodable.join(", ")
            );
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.is_empty() {
        bail!("--encodings is empty");
    }
    Ok(out)
}

/// Tracks which pixels have been received since connecting, so the picture is written only
/// when every pixel has arrived at least once (a full update may span several messages).
struct Coverage {
    width: u16,
    covered: Vec<bool>,
    missing: usize,
}

impl Coverage {
    fn new(width: u16, height: u16) -> Self {
        let n = usize::from(width) * usize::from(height);
        Self {
            width,
            covered: vec![false; n],
            missing: n,
        }
    }

    fn add(&mut self, r: &rfb_encodings::Rect) {
        for y in r.y..(r.bottom().min(u32::from(u16::MAX)) as u16) {
            for x in r.x..(r.right().min(u32::from(self.width)) as u16) {
                let i = usize::from(y) * usize::from(self.width) + usize::from(x);
                if let Some(c) = self.covered.get_mut(i) {
                    if !*c {
                        *c = true;
                        self.missing -= 1;
                    }
                }
            }
        }
    }
}

pub(crate) async fn run(args: &Args) -> anyhow::Result<()> {
    let addr = addr::parse(&args.server)?;
    let mut encodings = match &args.encodings {
        Some(list) => parse_encodings(list)?,
        None => Decoders::supported_pixel_encodings(),
    };
    if let Some(q) = args.quality {
        encodings.push(Encoding::QualityLevel(q));
    }
    if let Some(c) = args.compress {
        encodings.push(Encoding::CompressLevel(c));
    }
    let duration = match args.duration {
        Some(d) if d.is_finite() && d >= 0.0 => Some(Duration::from_secs_f64(d.min(86_400.0))),
        Some(d) => bail!("--duration must be a non-negative number of seconds, not {d}"),
        None => None,
    };
    let config = Config {
        shared: !args.common.exclusive,
        pixel_format: parse_pixel_format(&args.pixel_format)?,
        encodings: Config::encodings_with_pseudo(&encodings),
        repeater_id: args.common.repeater_id.clone(),
        ..Config::default()
    };
    let started = Instant::now();
    let mut deadline = args.common.deadline()?;
    if let Some(d) = duration {
        // The session length comes on top of the time allowed to connect.
        deadline += d;
    }
    let mut s = Session::connect(
        &addr,
        config,
        args.common.auth()?,
        args.common.record.as_deref(),
        deadline,
    )
    .await?;
    let mut coverage: Option<Coverage> = None;
    let mut complete = false;
    // Phase 1: until every pixel has arrived once.
    let ended = s
        .run(deadline, |ev, _, _| {
            match ev {
                Event::Connected(info) => coverage = Some(Coverage::new(info.width, info.height)),
                Event::Resized { width, height } => {
                    coverage = Some(Coverage::new(*width, *height));
                }
                Event::FramebufferUpdated { damage } => {
                    if let Some(c) = coverage.as_mut() {
                        damage.iter().for_each(|r| c.add(r));
                        complete = c.missing == 0;
                    }
                }
                _ => {}
            }
            if complete { Flow::Stop } else { Flow::Continue }
        })
        .await?;
    if ended == Ended::Deadline {
        bail!("timed out waiting for the screen (--timeout)");
    }
    // Phase 2 (--duration): keep applying incremental updates until the window closes.
    if let Some(d) = duration {
        s.run(started + d, |_, _, _| Flow::Continue).await?;
    }
    write_png(&s.fb, &args.output)?;
    if args.stats {
        print_stats(s.client.decode_stats());
    }
    Ok(())
}

fn write_png(fb: &Framebuffer, path: &PathBuf) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut enc = png::Encoder::new(
        BufWriter::new(file),
        u32::from(fb.width()),
        u32::from(fb.height()),
    );
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc
        .write_header()
        .with_context(|| format!("writing {}", path.display()))?;
    let rgb: Vec<u8> = fb
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    w.write_image_data(&rgb)
        .with_context(|| format!("writing {}", path.display()))?;
    w.finish()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// One line per counter, stable and easy to grep: `stats: encoding=raw rects=3 pixels=1200`.
fn print_stats(stats: &DecodeStats) {
    for (enc, rects) in &stats.rects {
        let px = stats.pixels.get(enc).copied().unwrap_or(0);
        println!("stats: encoding={} rects={rects} pixels={px}", enc.name());
    }
    for ((enc, sub), n) in &stats.subencodings {
        println!("stats: subencoding={}/{sub} count={n}", enc.name());
    }
}
