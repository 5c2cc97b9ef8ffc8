//! `rfb-proxy --demo-static`: the built-in demo desktop through the WebSocket with our client
//! core, and over plain RFB (`--demo-rfb-port`) with vncdotool, a third-party client.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rfb_core::rfb_encodings::{Encoding, Framebuffer, PixelFormat, Rect};
use rfb_core::{Client, Config, Event, PixelFormatChoice};
use rfb_testkit::harness::TestRng;
use rfb_testkit::image::Image;
use rfb_testkit::net::{free_port, wait_for_port};
use rfb_testkit::tempdir::TempDir;
use rfb_ws::{HeadLimits, Limits, Role, WsConnection, WsEvent};

const W: u16 = 1024;
const H: u16 = 768;
/// Where the demo echoes typed keys (proxy/src/demo.rs `KEYS`).
const KEYS: Rect = Rect::new(40, 520, 944, 36);
/// The demo's text colour.
const TEXT: [u8; 4] = [240, 240, 230, 255];

/// The proxy process, killed on drop.
struct Proxy {
    child: Child,
    port: u16,
    rfb_port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo_proxy() -> Proxy {
    demo_proxy_with(&[])
}

fn demo_proxy_with(extra: &[&str]) -> Proxy {
    let port = free_port();
    let rfb_port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
        .args(["--demo-static", "--demo-rfb-port", &rfb_port.to_string()])
        .args(extra)
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rfb-proxy");
    assert!(
        wait_for_port(port, Duration::from_secs(20)),
        "proxy did not listen"
    );
    assert!(
        wait_for_port(rfb_port, Duration::from_secs(20)),
        "demo RFB port did not listen"
    );
    Proxy {
        child,
        port,
        rfb_port,
    }
}

/// Our client core over a WebSocket (rfb-ws) to the proxy.
struct Session {
    s: TcpStream,
    ws: WsConnection,
    wire: Vec<u8>,
    rfb_in: Vec<u8>,
    client: Client,
    fb: Framebuffer,
    updates: usize,
}

impl Session {
    fn connect(port: u16, encodings: &[Encoding]) -> Self {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let key = rfb_ws::client_key([7; 16]);
        s.write_all(&rfb_ws::client_request(
            "127.0.0.1",
            "/websockify",
            &key,
            &["binary"],
        ))
        .unwrap();
        let mut wire = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "closed during the upgrade");
            wire.extend_from_slice(&chunk[..n]);
            if let Some((n, _)) =
                rfb_ws::client_verify_response(&wire, &key, &HeadLimits::default()).unwrap()
            {
                wire.drain(..n);
                break;
            }
        }
        let ws = WsConnection::new(
            Role::Client,
            Limits::default(),
            Some(Box::new(TestRng::default())),
        );
        let config = Config {
            pixel_format: PixelFormatChoice::Request(PixelFormat::RGBX8888),
            encodings: Config::encodings_with_pseudo(encodings),
            ..Config::default()
        };
        let client = Client::new(config, Duration::ZERO, Box::new(TestRng::default()));
        Self {
            s,
            ws,
            wire,
            rfb_in: Vec::new(),
            client,
            fb: Framebuffer::default(),
            updates: 0,
        }
    }

    /// Runs until `updates` FramebufferUpdates in all have been decoded.
    fn run_until_updates(&mut self, updates: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut chunk = vec![0u8; 256 * 1024];
        while self.updates < updates {
            assert!(Instant::now() < deadline, "timed out waiting for updates");
            let n = self.ws.handle_input(&self.wire).unwrap();
            self.wire.drain(..n);
            while let Some(ev) = self.ws.poll_event() {
                match ev {
                    WsEvent::Data { data, .. } => self.rfb_in.extend(data),
                    WsEvent::Close { code, reason } => panic!("closed: {code:?} {reason}"),
                    _ => {}
                }
            }
            let used = self
                .client
                .handle_input(&self.rfb_in, &mut self.fb)
                .unwrap();
            self.rfb_in.drain(..used);
            while let Some(ev) = self.client.poll_event() {
                if let Event::FramebufferUpdated { .. } = ev {
                    self.updates += 1;
                }
            }
            self.flush();
            if self.updates >= updates {
                break;
            }
            if n == 0 || self.wire.is_empty() {
                let n = self.s.read(&mut chunk).unwrap();
                assert!(n > 0, "proxy closed the connection");
                self.wire.extend_from_slice(&chunk[..n]);
            }
        }
    }

    fn flush(&mut self) {
        while let Some(b) = self.client.poll_transmit() {
            self.ws.send_binary(&b);
        }
        while let Some(b) = self.ws.poll_transmit() {
            self.s.write_all(&b).unwrap();
        }
    }
}

fn picture(port: u16, encodings: &[Encoding]) -> Framebuffer {
    let mut s = Session::connect(port, encodings);
    s.run_until_updates(1);
    assert_eq!((s.fb.width(), s.fb.height()), (W, H));
    s.fb
}

fn distinct_colours(fb: &Framebuffer) -> usize {
    let mut set: Vec<[u8; 4]> = fb
        .data()
        .chunks_exact(4)
        .map(|p| [p[0], p[1], p[2], p[3]])
        .collect();
    set.sort_unstable();
    set.dedup();
    set.len()
}

#[test]
fn demo_static_decodes_the_same_picture_each_time() {
    let p = demo_proxy();
    let zrle = picture(p.port, &[Encoding::Zrle]);
    assert!(
        distinct_colours(&zrle) > 20,
        "a real picture, not a blank screen"
    );
    let again = picture(p.port, &[Encoding::Zrle]);
    assert!(zrle == again, "static demo differs between connections");
    let raw = picture(p.port, &[Encoding::Raw]);
    assert!(zrle == raw, "ZRLE and Raw decode to different pictures");
}

#[test]
fn demo_works_with_web_on_the_same_port() {
    let dir = TempDir::new("demo-web");
    std::fs::write(dir.join("index.html"), "<p>demo page</p>").unwrap();
    let p = demo_proxy_with(&["--web", dir.to_str().unwrap()]);
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    let _ = s.read_to_string(&mut page);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("demo page"));
    let fb = picture(p.port, &[Encoding::Zrle]);
    assert!(distinct_colours(&fb) > 20);
}

#[test]
fn demo_and_a_target_together_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
        .args(["--demo", "127.0.0.1:0", "127.0.0.1:5900"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("give either a target or --demo"), "{err}");
    // And no target at all is never silently a demo.
    let out = Command::new(env!("CARGO_BIN_EXE_rfb-proxy"))
        .args(["127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn demo_echoes_typed_keys() {
    let p = demo_proxy();
    let mut s = Session::connect(p.port, &[Encoding::CopyRect, Encoding::Zrle]);
    s.run_until_updates(1);
    let before = s.fb.clone();
    for c in "hi!".bytes() {
        s.client.send_key(u32::from(c), true).unwrap();
        s.client.send_key(u32::from(c), false).unwrap();
    }
    s.flush();
    // Each key may come in its own incremental update: wait until the third one shows.
    while !has_glyph(&s.fb, 8) {
        let n = s.updates;
        s.run_until_updates(n + 1);
    }
    assert!(
        has_glyph(&s.fb, 6) && has_glyph(&s.fb, 7),
        "'h' and 'i' echoed"
    );
    assert!(!has_glyph(&before, 6), "nothing there before typing");
    // Only the key panel changed.
    for y in 0..H {
        for x in 0..W {
            let inside = x >= KEYS.x
                && u32::from(x) < KEYS.right()
                && y >= KEYS.y
                && u32::from(y) < KEYS.bottom();
            if !inside {
                assert_eq!(s.fb.pixel(x, y), before.pixel(x, y), "changed at {x},{y}");
            }
        }
    }
}

/// True when character cell `idx` of the key panel's text ("Keys: " is cells 0–5) has ink.
fn has_glyph(fb: &Framebuffer, idx: u16) -> bool {
    let x0 = KEYS.x + 8 + idx * 24;
    (KEYS.y + 4..KEYS.y + 32).any(|y| (x0..x0 + 24).any(|x| fb.pixel(x, y) == Some(TEXT)))
}

#[test]
fn vncdotool_capture_matches_our_client() {
    let Some(vncdo) = rfb_testkit::peer::require_venv("vncdo") else {
        return;
    };
    let p = demo_proxy();
    let ours = picture(p.port, &[Encoding::Zrle]);
    let dir = TempDir::new("demo");
    let server = format!("127.0.0.1::{}", p.rfb_port);
    // vncdo's command line asks for Raw; its Python API can be told to ask for ZRLE.
    let raw_png = dir.join("raw.png");
    let status = Command::new(&vncdo)
        .args(["-s", &server, "capture"])
        .arg(&raw_png)
        .stdout(Stdio::null())
        .status()
        .expect("run vncdo");
    assert!(status.success(), "vncdo failed: {status}");
    let python = vncdo.with_file_name("python");
    let script = dir.join("zrle.py");
    std::fs::write(
        &script,
        "import sys\nfrom vncdotool import api, rfb, client\n\
         client.VNCDoToolClient.encoding = rfb.Encoding.ZRLE\n\
         c = api.connect(sys.argv[1])\nc.captureScreen(sys.argv[2])\n\
         c.disconnect()\napi.shutdown()\n",
    )
    .unwrap();
    let zrle_png = dir.join("zrle.png");
    let status = Command::new(&python)
        .arg(&script)
        .arg(&server)
        .arg(&zrle_png)
        .stdout(Stdio::null())
        .status()
        .expect("run vncdotool's API");
    assert!(status.success(), "vncdotool (ZRLE) failed: {status}");
    for png in [&raw_png, &zrle_png] {
        let img = Image::read_png(png).expect("read vncdotool's PNG");
        assert_eq!((img.width, img.height), (u32::from(W), u32::from(H)));
        let mut diffs = 0;
        for y in 0..H {
            for x in 0..W {
                let a = img.pixel(u32::from(x), u32::from(y));
                let b = ours.pixel(x, y).unwrap();
                if a[..3] != b[..3] {
                    diffs += 1;
                }
            }
        }
        assert_eq!(
            diffs,
            0,
            "vncdotool's {} differs from our decode",
            png.display()
        );
    }
}
