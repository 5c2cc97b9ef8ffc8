//! Open H.264 through a whole `rfb-core` session against a scripted server: the client offers
//! encoding 50 only when asked to (`Decoders::target_decoded`), and `rfb-core`, which has no
//! H.264-specific code, routes the rectangles to the framing decoder, so the target sees them
//! in wire order between the other rectangles of the update, fed one byte at a time.

use std::time::Duration;

use rfb_core::{Client, Config, Error, Event};
use rfb_encodings::{
    Decoders, DrawTarget, Encoding, Framebuffer, H264Flags, H264Rect, PixelFormat, Rect,
};
use rfb_testkit::harness::{ScriptedServer, Step, TestRng, script};

const STREAM: &[u8] = include_bytes!("data/h264/ffmpeg-16x16-aud.h264");

#[derive(Debug, Default)]
struct Target {
    fb: Framebuffer,
    /// "h264 <rect> <flags> <bytes>" or "put <rect>", in call order.
    log: Vec<String>,
}

impl DrawTarget for Target {
    fn resize(&mut self, w: u16, h: u16) {
        self.fb.resize(w, h);
    }
    fn put_rgba(&mut self, rect: Rect, rgba: &[u8]) {
        self.log.push(format!("put {rect:?}"));
        self.fb.put_rgba(rect, rgba);
    }
    fn fill_rgba(&mut self, rect: Rect, rgba: [u8; 4]) {
        self.fb.fill_rgba(rect, rgba);
    }
    fn copy_rect(&mut self, x: u16, y: u16, dst: Rect) {
        self.fb.copy_rect(x, y, dst);
    }
    fn draw_h264(&mut self, msg: &H264Rect<'_>) -> bool {
        assert_eq!(msg.access_units().count(), 3);
        self.log.push(format!(
            "h264 {:?} {} {}",
            msg.rect,
            msg.flags.bits(),
            msg.data.len()
        ));
        true
    }
}

fn h264(flags: u32, data: &[u8]) -> Vec<u8> {
    let mut p = (data.len() as u32).to_be_bytes().to_vec();
    p.extend_from_slice(&flags.to_be_bytes());
    p.extend_from_slice(data);
    p
}

/// Runs the client against `server`, delivering one byte at a time, until nothing moves.
fn drive(client: &mut Client, server: &mut ScriptedServer, target: &mut Target) -> Vec<Event> {
    let mut events = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut inbuf: Vec<u8> = Vec::new();
    for _ in 0..1_000_000 {
        pending.extend(server.transmit());
        let mut moved = false;
        if let Some(out) = client.poll_transmit() {
            server.receive(&out);
            moved = true;
        }
        if !pending.is_empty() {
            inbuf.push(pending.remove(0));
            moved = true;
        }
        let used = client
            .handle_input(&inbuf, target)
            .unwrap_or_else(|e: Error| panic!("client failed: {e}"));
        inbuf.drain(..used);
        events.extend(std::iter::from_fn(|| client.poll_event()));
        if !moved && used == 0 {
            return events;
        }
    }
    panic!("did not settle");
}

#[test]
fn h264_is_offered_only_on_request() {
    assert!(!Config::default().encodings.contains(&Encoding::OpenH264));
    let mut offer = Decoders::target_decoded().to_vec();
    offer.extend(Decoders::supported_pixel_encodings());
    let encodings = Config::encodings_with_pseudo(&offer);
    assert_eq!(encodings[0], Encoding::OpenH264);
}

#[test]
fn rectangles_reach_the_target_in_wire_order() {
    let offer = vec![Encoding::OpenH264, Encoding::Raw];
    let config = Config {
        encodings: offer.clone(),
        ..Config::default()
    };
    let (w, h) = (32, 16);
    let mut steps = vec![
        Step::Send(b"RFB 003.008\n".to_vec()),
        Step::Expect(b"RFB 003.008\n".to_vec()),
        Step::Send(vec![1, 1]),
        Step::Expect(vec![1]),
        Step::Send(vec![0, 0, 0, 0]),
        Step::Expect(vec![1]),
        Step::Send(script::server_init(w, h, &PixelFormat::RGBX8888, "h264")),
    ];
    steps.extend(script::client_setup(w, h, &offer));
    let mut update = script::fbu(3);
    update.extend(script::rect(0, 0, 16, 16, 50));
    update.extend(h264(0, STREAM));
    update.extend(script::rect(16, 0, 1, 1, 0));
    update.extend([1, 2, 3, 0]);
    update.extend(script::rect(16, 0, 16, 16, 50));
    update.extend(h264(H264Flags::RESET_CONTEXT, STREAM));
    steps.push(Step::Send(update));
    let mut server = ScriptedServer::new(steps);
    let mut client = Client::new(config, Duration::ZERO, Box::new(TestRng::default()));
    let mut target = Target::default();
    let events = drive(&mut client, &mut server, &mut target);
    assert!(server.finished(), "script not finished");
    let n = STREAM.len();
    assert_eq!(
        target.log,
        [
            format!("h264 {:?} 0 {n}", Rect::new(0, 0, 16, 16)),
            format!("put {:?}", Rect::new(16, 0, 1, 1)),
            format!("h264 {:?} 1 {n}", Rect::new(16, 0, 16, 16)),
        ]
    );
    let damage = events.iter().find_map(|e| match e {
        Event::FramebufferUpdated { damage } => Some(damage.clone()),
        _ => None,
    });
    assert_eq!(
        damage,
        Some(vec![
            Rect::new(0, 0, 16, 16),
            Rect::new(16, 0, 1, 1),
            Rect::new(16, 0, 16, 16)
        ])
    );
}
