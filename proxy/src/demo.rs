//! The built-in demo desktop (`--demo`): an in-process RFB server on `rfb-server`, so the
//! proxy and a browser client can be tried with no VNC server installed.
//!
//! The desktop is 1024×768: a tiled colour background, a title, a clock (UTC), a box that
//! slides left and right (sent as CopyRect to clients that offer it), and the last typed keys
//! and pointer position as text. It is redrawn ten times a second; with `--demo-static`
//! nothing moves and there is no clock, so the picture is the same every time (for tests),
//! but typed keys and the pointer are still echoed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rfb_server::{Config, Copy, DrawTarget, Event, Framebuffer, Rect, Server};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Desktop size.
pub(crate) const WIDTH: u16 = 1024;
/// Desktop size.
pub(crate) const HEIGHT: u16 = 768;
/// Desktop name in ServerInit.
pub(crate) const NAME: &str = "rfb-proxy demo";

const BOX: u16 = 128;
const BOX_Y: u16 = 300;
const BOX_MIN_X: u16 = 40;
const BOX_MAX_X: u16 = WIDTH - 40 - BOX;
const STEP: u16 = 8;
const CLOCK: Rect = Rect::new(40, 120, 600, 48);
const KEYS: Rect = Rect::new(40, 520, 944, 36);
const POINTER: Rect = Rect::new(40, 580, 944, 36);
const PANEL: [u8; 4] = [24, 28, 40, 255];
const TEXT: [u8; 4] = [240, 240, 230, 255];
const MAX_KEYS: usize = 40;

/// Serves one RFB connection on `stream` until the client leaves. `animate`: false for
/// `--demo-static`.
pub(crate) async fn serve<S>(stream: S, animate: bool) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut server = Server::new(Config::new(WIDTH, HEIGHT, NAME));
    let mut desk = Desktop::new(animate, unix_secs());
    let mut inbuf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        while let Some(b) = server.poll_transmit() {
            wr.write_all(&b).await?;
        }
        wr.flush().await?;
        tokio::select! {
            n = rd.read(&mut chunk) => {
                let n = n?;
                if n == 0 {
                    return Ok(());
                }
                inbuf.extend_from_slice(&chunk[..n]);
                let used = server
                    .handle_input(&inbuf)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                inbuf.drain(..used);
                while let Some(ev) = server.poll_event() {
                    desk.handle(&ev);
                }
            }
            _ = tick.tick(), if animate => desk.step(unix_secs()),
        }
        desk.flush(&mut server)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
}

/// Serves the demo over plain TCP on `listener` (`--demo-rfb-port`), one task a connection.
pub(crate) async fn serve_tcp(listener: tokio::net::TcpListener, animate: bool) {
    loop {
        let Ok((s, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        s.set_nodelay(true).ok();
        tokio::spawn(async move {
            if let Err(e) = serve(s, animate).await {
                tracing::debug!(%peer, "demo session: {e}");
            }
        });
    }
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The desktop's state and the changes not yet sent.
pub(crate) struct Desktop {
    fb: Framebuffer,
    animate: bool,
    box_x: u16,
    forward: bool,
    clock_secs: u64,
    keys: String,
    pointer: Option<(u16, u16, u8)>,
    damage: Vec<Rect>,
    copies: Vec<Copy>,
}

impl Desktop {
    pub(crate) fn new(animate: bool, now_secs: u64) -> Self {
        let mut d = Self {
            fb: Framebuffer::new(WIDTH, HEIGHT),
            animate,
            box_x: BOX_MIN_X,
            forward: true,
            clock_secs: now_secs,
            keys: String::new(),
            pointer: None,
            damage: Vec::new(),
            copies: Vec::new(),
        };
        background(&mut d.fb, Rect::new(0, 0, WIDTH, HEIGHT));
        d.fb.fill_rgba(Rect::new(0, 0, WIDTH, 64), PANEL);
        draw_text(&mut d.fb, 40, 14, 5, TEXT, "rfb-proxy demo desktop");
        draw_text(
            &mut d.fb,
            40,
            700,
            2,
            TEXT,
            "Type and move the pointer: the desktop echoes them.",
        );
        d.draw_box();
        d.draw_clock();
        d.draw_keys();
        d.draw_pointer();
        d
    }

    #[cfg(test)]
    pub(crate) fn framebuffer(&self) -> &Framebuffer {
        &self.fb
    }

    fn draw_box(&mut self) {
        let (x0, y0) = (self.box_x, BOX_Y);
        for y in 0..BOX {
            let mut row = Vec::with_capacity(usize::from(BOX) * 4);
            for x in 0..BOX {
                let (dx, dy) = (i32::from(x) - 64, i32::from(y) - 64);
                let ring = ((dx * dx + dy * dy) as f32).sqrt() as u32 / 12;
                let px = if x < 4 || y < 4 || x >= BOX - 4 || y >= BOX - 4 {
                    [255, 255, 255, 255]
                } else if ring % 2 == 0 {
                    [230, 90, 40, 255]
                } else {
                    [250, 200, 60, 255]
                };
                row.extend_from_slice(&px);
            }
            self.fb.put_rgba(Rect::new(x0, y0 + y, BOX, 1), &row);
        }
    }

    fn draw_clock(&mut self) {
        self.fb.fill_rgba(CLOCK, PANEL);
        let text = if self.animate {
            let s = self.clock_secs % 86_400;
            format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
        } else {
            "static demo".to_string()
        };
        draw_text(&mut self.fb, CLOCK.x + 8, CLOCK.y + 6, 5, TEXT, &text);
    }

    fn draw_keys(&mut self) {
        self.fb.fill_rgba(KEYS, PANEL);
        let text = format!("Keys: {}", self.keys);
        draw_text(&mut self.fb, KEYS.x + 8, KEYS.y + 4, 4, TEXT, &text);
    }

    fn draw_pointer(&mut self) {
        self.fb.fill_rgba(POINTER, PANEL);
        let text = match self.pointer {
            Some((x, y, b)) => format!("Pointer: {x},{y} buttons {b}"),
            None => "Pointer: -".to_string(),
        };
        draw_text(&mut self.fb, POINTER.x + 8, POINTER.y + 4, 4, TEXT, &text);
    }

    /// Reacts to a client message.
    pub(crate) fn handle(&mut self, ev: &Event) {
        match ev {
            Event::Key { keysym, down: true } => {
                match *keysym {
                    k @ 0x20..=0x7e => self.keys.push(char::from(k as u8)),
                    0xff08 => {
                        self.keys.pop();
                    }
                    _ => return,
                }
                while self.keys.chars().count() > MAX_KEYS {
                    self.keys.remove(0);
                }
                self.draw_keys();
                self.damage.push(KEYS);
            }
            Event::Pointer { buttons, x, y } => {
                let p = Some((*x, *y, *buttons));
                if p != self.pointer {
                    self.pointer = p;
                    self.draw_pointer();
                    self.damage.push(POINTER);
                }
            }
            _ => {}
        }
    }

    /// One animation step (ten a second): the box moves, the clock ticks.
    pub(crate) fn step(&mut self, now_secs: u64) {
        if !self.animate {
            return;
        }
        if now_secs != self.clock_secs {
            self.clock_secs = now_secs;
            self.draw_clock();
            self.damage.push(CLOCK);
        }
        let old = self.box_x;
        let next = if self.forward { old + STEP } else { old - STEP };
        if next >= BOX_MAX_X || next <= BOX_MIN_X {
            self.forward = !self.forward;
        }
        self.box_x = next.clamp(BOX_MIN_X, BOX_MAX_X);
        // Restore the background where the box was, draw it at the new place, and tell the
        // client to copy it (the box looks the same everywhere).
        background(&mut self.fb, Rect::new(old, BOX_Y, BOX, BOX));
        self.draw_box();
        let dst = Rect::new(self.box_x, BOX_Y, BOX, BOX);
        if self.copies.len() < 8 {
            self.copies.push(Copy {
                src_x: old,
                src_y: BOX_Y,
                dst,
            });
        } else {
            self.damage.push(dst);
        }
        // The uncovered strip (the whole old box is simplest; the copy lands first).
        let strip = if self.box_x > old {
            Rect::new(old, BOX_Y, self.box_x - old, BOX)
        } else {
            Rect::new(self.box_x + BOX, BOX_Y, old - self.box_x, BOX)
        };
        self.damage.push(strip);
    }

    /// Sends what changed if the client asked for an update.
    pub(crate) fn flush(&mut self, server: &mut Server) -> Result<(), rfb_server::Error> {
        let Some((incremental, area)) = server.update_requested() else {
            return Ok(());
        };
        if server.send_update(&self.fb, &self.damage, &self.copies)? {
            let full = Rect::new(0, 0, WIDTH, HEIGHT);
            if incremental || area == full {
                self.damage.clear();
                self.copies.clear();
            }
        }
        Ok(())
    }
}

/// The background: 32×32 tiles in soft colours that vary across the screen.
fn background(fb: &mut Framebuffer, r: Rect) {
    let mut row = Vec::with_capacity(usize::from(r.width) * 4);
    for y in r.y..r.y + r.height {
        row.clear();
        for x in r.x..r.x + r.width {
            let (tx, ty) = (u32::from(x / 32), u32::from(y / 32));
            let check = (tx + ty) % 2 * 18;
            row.extend_from_slice(&[
                (40 + tx * 4 + check) as u8,
                (60 + ty * 5 + check) as u8,
                (140 + check) as u8,
                255,
            ]);
        }
        fb.put_rgba(Rect::new(r.x, y, r.width, 1), &row);
    }
}

/// Draws `text` with the 5×7 font, each dot `scale` pixels, 6 dots a character.
fn draw_text(fb: &mut Framebuffer, x: u16, y: u16, scale: u16, rgba: [u8; 4], text: &str) {
    let mut cx = x;
    for ch in text.chars() {
        let c = u32::from(ch);
        let glyph = if (0x20..0x7f).contains(&c) {
            &FONT[(c - 0x20) as usize]
        } else {
            &FONT[usize::from(b'?' - 0x20)]
        };
        for (col, bits) in glyph.iter().enumerate() {
            for row in 0..7u16 {
                if bits >> row & 1 == 1 {
                    let r = Rect::new(cx + col as u16 * scale, y + row * scale, scale, scale);
                    if r.fits_within(fb.width(), fb.height()) {
                        fb.fill_rgba(r, rgba);
                    }
                }
            }
        }
        cx = cx.saturating_add(6 * scale);
    }
}

/// The classic 5×7 font, ASCII 0x20–0x7E, five columns a glyph, bit 0 at the top.
static FONT: [[u8; 5]; 95] = [
    [0x00, 0x00, 0x00, 0x00, 0x00],
    [0x00, 0x00, 0x5F, 0x00, 0x00],
    [0x00, 0x07, 0x00, 0x07, 0x00],
    [0x14, 0x7F, 0x14, 0x7F, 0x14],
    [0x24, 0x2A, 0x7F, 0x2A, 0x12],
    [0x23, 0x13, 0x08, 0x64, 0x62],
    [0x36, 0x49, 0x55, 0x22, 0x50],
    [0x00, 0x05, 0x03, 0x00, 0x00],
    [0x00, 0x1C, 0x22, 0x41, 0x00],
    [0x00, 0x41, 0x22, 0x1C, 0x00],
    [0x08, 0x2A, 0x1C, 0x2A, 0x08],
    [0x08, 0x08, 0x3E, 0x08, 0x08],
    [0x00, 0x50, 0x30, 0x00, 0x00],
    [0x08, 0x08, 0x08, 0x08, 0x08],
    [0x00, 0x60, 0x60, 0x00, 0x00],
    [0x20, 0x10, 0x08, 0x04, 0x02],
    [0x3E, 0x51, 0x49, 0x45, 0x3E],
    [0x00, 0x42, 0x7F, 0x40, 0x00],
    [0x42, 0x61, 0x51, 0x49, 0x46],
    [0x21, 0x41, 0x45, 0x4B, 0x31],
    [0x18, 0x14, 0x12, 0x7F, 0x10],
    [0x27, 0x45, 0x45, 0x45, 0x39],
    [0x3C, 0x4A, 0x49, 0x49, 0x30],
    [0x01, 0x71, 0x09, 0x05, 0x03],
    [0x36, 0x49, 0x49, 0x49, 0x36],
    [0x06, 0x49, 0x49, 0x29, 0x1E],
    [0x00, 0x36, 0x36, 0x00, 0x00],
    [0x00, 0x56, 0x36, 0x00, 0x00],
    [0x08, 0x14, 0x22, 0x41, 0x00],
    [0x14, 0x14, 0x14, 0x14, 0x14],
    [0x00, 0x41, 0x22, 0x14, 0x08],
    [0x02, 0x01, 0x51, 0x09, 0x06],
    [0x32, 0x49, 0x79, 0x41, 0x3E],
    [0x7E, 0x11, 0x11, 0x11, 0x7E],
    [0x7F, 0x49, 0x49, 0x49, 0x36],
    [0x3E, 0x41, 0x41, 0x41, 0x22],
    [0x7F, 0x41, 0x41, 0x22, 0x1C],
    [0x7F, 0x49, 0x49, 0x49, 0x41],
    [0x7F, 0x09, 0x09, 0x09, 0x01],
    [0x3E, 0x41, 0x49, 0x49, 0x7A],
    [0x7F, 0x08, 0x08, 0x08, 0x7F],
    [0x00, 0x41, 0x7F, 0x41, 0x00],
    [0x20, 0x40, 0x41, 0x3F, 0x01],
    [0x7F, 0x08, 0x14, 0x22, 0x41],
    [0x7F, 0x40, 0x40, 0x40, 0x40],
    [0x7F, 0x02, 0x0C, 0x02, 0x7F],
    [0x7F, 0x04, 0x08, 0x10, 0x7F],
    [0x3E, 0x41, 0x41, 0x41, 0x3E],
    [0x7F, 0x09, 0x09, 0x09, 0x06],
    [0x3E, 0x41, 0x51, 0x21, 0x5E],
    [0x7F, 0x09, 0x19, 0x29, 0x46],
    [0x46, 0x49, 0x49, 0x49, 0x31],
    [0x01, 0x01, 0x7F, 0x01, 0x01],
    [0x3F, 0x40, 0x40, 0x40, 0x3F],
    [0x1F, 0x20, 0x40, 0x20, 0x1F],
    [0x3F, 0x40, 0x38, 0x40, 0x3F],
    [0x63, 0x14, 0x08, 0x14, 0x63],
    [0x07, 0x08, 0x70, 0x08, 0x07],
    [0x61, 0x51, 0x49, 0x45, 0x43],
    [0x00, 0x7F, 0x41, 0x41, 0x00],
    [0x02, 0x04, 0x08, 0x10, 0x20],
    [0x00, 0x41, 0x41, 0x7F, 0x00],
    [0x04, 0x02, 0x01, 0x02, 0x04],
    [0x40, 0x40, 0x40, 0x40, 0x40],
    [0x00, 0x01, 0x02, 0x04, 0x00],
    [0x20, 0x54, 0x54, 0x54, 0x78],
    [0x7F, 0x48, 0x44, 0x44, 0x38],
    [0x38, 0x44, 0x44, 0x44, 0x20],
    [0x38, 0x44, 0x44, 0x48, 0x7F],
    [0x38, 0x54, 0x54, 0x54, 0x18],
    [0x08, 0x7E, 0x09, 0x01, 0x02],
    [0x0C, 0x52, 0x52, 0x52, 0x3E],
    [0x7F, 0x08, 0x04, 0x04, 0x78],
    [0x00, 0x44, 0x7D, 0x40, 0x00],
    [0x20, 0x40, 0x44, 0x3D, 0x00],
    [0x7F, 0x10, 0x28, 0x44, 0x00],
    [0x00, 0x41, 0x7F, 0x40, 0x00],
    [0x7C, 0x04, 0x18, 0x04, 0x78],
    [0x7C, 0x08, 0x04, 0x04, 0x78],
    [0x38, 0x44, 0x44, 0x44, 0x38],
    [0x7C, 0x14, 0x14, 0x14, 0x08],
    [0x08, 0x14, 0x14, 0x18, 0x7C],
    [0x7C, 0x08, 0x04, 0x04, 0x08],
    [0x48, 0x54, 0x54, 0x54, 0x20],
    [0x04, 0x3F, 0x44, 0x40, 0x20],
    [0x3C, 0x40, 0x40, 0x20, 0x7C],
    [0x1C, 0x20, 0x40, 0x20, 0x1C],
    [0x3C, 0x40, 0x30, 0x40, 0x3C],
    [0x44, 0x28, 0x10, 0x28, 0x44],
    [0x0C, 0x50, 0x50, 0x50, 0x3C],
    [0x44, 0x64, 0x54, 0x4C, 0x44],
    [0x00, 0x08, 0x36, 0x41, 0x00],
    [0x00, 0x00, 0x7F, 0x00, 0x00],
    [0x00, 0x41, 0x36, 0x08, 0x00],
    [0x08, 0x04, 0x08, 0x10, 0x08],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_desktop_is_deterministic_and_echoes_keys() {
        let a = Desktop::new(false, 0);
        let mut b = Desktop::new(false, 12345);
        assert_eq!(a.framebuffer(), b.framebuffer());
        b.step(99);
        assert_eq!(a.framebuffer(), b.framebuffer(), "static: nothing moves");
        b.handle(&Event::Key {
            keysym: u32::from(b'x'),
            down: true,
        });
        assert_ne!(a.framebuffer(), b.framebuffer());
        assert_eq!(b.damage, [KEYS]);
    }

    /// The animated desktop against our client core in memory: after every update the
    /// client's picture equals the desktop's, and the box arrives as CopyRect.
    #[test]
    fn animated_updates_decode_exactly_with_copyrect() {
        use rfb_core::rfb_encodings::Encoding;
        let config = rfb_core::Config {
            encodings: rfb_core::Config::encodings_with_pseudo(&[
                Encoding::CopyRect,
                Encoding::Zrle,
            ]),
            ..rfb_core::Config::default()
        };
        let mut client = rfb_core::Client::new(
            config,
            Duration::ZERO,
            Box::new(rfb_testkit::harness::TestRng::default()),
        );
        let mut server = Server::new(Config::new(WIDTH, HEIGHT, NAME));
        let mut desk = Desktop::new(true, 0);
        let mut fb = Framebuffer::default();
        let (mut to_client, mut to_server) = (Vec::new(), Vec::new());
        let mut updates = 0;
        for round in 0..120u64 {
            // Steps run whether or not a request is outstanding, so copies pile up.
            desk.step(round / 10);
            if round % 7 == 0 {
                desk.handle(&Event::Key {
                    keysym: 0x41 + (round % 26) as u32,
                    down: true,
                });
            }
            if round % 3 != 0 {
                continue;
            }
            for _ in 0..4 {
                let n = server.handle_input(&to_server).unwrap();
                to_server.drain(..n);
                while let Some(e) = server.poll_event() {
                    desk.handle(&e);
                }
                desk.flush(&mut server).unwrap();
                while let Some(b) = server.poll_transmit() {
                    to_client.extend(b);
                }
                let n = client.handle_input(&to_client, &mut fb).unwrap();
                to_client.drain(..n);
                while let Some(e) = client.poll_event() {
                    if matches!(e, rfb_core::Event::FramebufferUpdated { .. }) {
                        updates += 1;
                        assert!(&fb == desk.framebuffer(), "differs after update {updates}");
                    }
                }
                while let Some(b) = client.poll_transmit() {
                    to_server.extend(b);
                }
            }
        }
        assert!(updates > 20, "{updates} updates");
        assert!(client.decode_stats().rects[&Encoding::CopyRect] > 10);
    }

    #[test]
    fn animation_moves_the_box_with_a_copy() {
        let mut d = Desktop::new(true, 0);
        let before = d.framebuffer().clone();
        d.step(0);
        assert_ne!(&before, d.framebuffer());
        assert_eq!(d.copies.len(), 1);
        assert_eq!(d.copies[0].dst.x, BOX_MIN_X + STEP);
        for i in 0..400 {
            d.step(i);
            assert!((BOX_MIN_X..=BOX_MAX_X).contains(&d.box_x));
        }
    }
}
