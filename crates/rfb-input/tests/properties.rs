//! Deterministic pseudo-random event storms through both machines, checking invariants:
//! outputs stay inside the framebuffer, wheel bits are whole press/release pairs, Control is
//! never left down after a call, each call queues bounded output, and every press is
//! released once the fingers are up or after blur / cancel.

mod common;

use core::time::Duration;

use rfb_input::{DeltaMode, Gestures, Output, Pointer, Transform, buttons};

/// xorshift64*: enough for reproducible variety, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Mostly ordinary coordinates, sometimes hostile ones.
    fn coord(&mut self) -> f64 {
        match self.below(20) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -1e300,
            3 => 1e300,
            4 => -(self.below(500) as f64),
            _ => self.below(1500) as f64 + self.below(100) as f64 / 100.0,
        }
    }
    fn delta(&mut self) -> f64 {
        match self.below(12) {
            0 => f64::NAN,
            1 => f64::NEG_INFINITY,
            2 => f64::MAX,
            3 => -(self.below(300) as f64) / 7.0,
            _ => self.below(300) as f64 / 7.0,
        }
    }
}

/// Checks a call's outputs against the framebuffer and tracks the held mask and Control.
#[derive(Default)]
struct Checker {
    held: u16,
    ctrl: bool,
    /// How much happened, so a storm that never exercises anything fails.
    presses: u32,
    wheel_steps: u32,
    ctrl_presses: u32,
}

impl Checker {
    fn check(&mut self, out: &[Output], (w, h): (u16, u16)) {
        // Per call: an overdue timer's gesture (up to 41 outputs) plus the event's own (up to 42).
        assert!(
            out.len() <= 128,
            "unbounded output for one call: {}",
            out.len()
        );
        let mut i = 0;
        while i < out.len() {
            match out[i] {
                Output::Key(k) => {
                    assert_eq!(k.keysym, 0xffe3);
                    assert_ne!(
                        k.down, self.ctrl,
                        "Control pressed twice or released while up"
                    );
                    self.ctrl = k.down;
                    self.ctrl_presses += u32::from(k.down);
                }
                Output::Pointer(ev) => {
                    assert!(ev.x < w.max(1) && ev.y < h.max(1), "{ev:?} outside {w}×{h}");
                    if ev.mask & buttons::WHEEL != 0 {
                        assert_eq!(
                            ev.mask & !buttons::WHEEL,
                            self.held,
                            "wheel keeps held buttons"
                        );
                        assert_eq!((ev.mask & buttons::WHEEL).count_ones(), 1);
                        let Some(Output::Pointer(next)) = out.get(i + 1) else {
                            panic!("wheel press without its release: {out:?}");
                        };
                        assert_eq!((next.x, next.y, next.mask), (ev.x, ev.y, self.held));
                        i += 1;
                        self.wheel_steps += 1;
                    } else {
                        assert_eq!(ev.mask & !buttons::HOLDABLE, 0);
                        self.presses += (ev.mask & !self.held).count_ones();
                        self.held = ev.mask;
                    }
                }
            }
            i += 1;
        }
        assert!(!self.ctrl, "Control left down after a call");
    }
}

fn drain_p(p: &mut Pointer) -> Vec<Output> {
    std::iter::from_fn(|| p.poll_output()).collect()
}

fn drain_g(g: &mut Gestures) -> Vec<Output> {
    std::iter::from_fn(|| g.poll_output()).collect()
}

fn size(rng: &mut Rng) -> (u16, u16) {
    match rng.below(6) {
        0 => (0, 0),
        1 => (1, 1),
        2 => (u16::MAX, u16::MAX),
        _ => (rng.below(2000) as u16 + 1, rng.below(2000) as u16 + 1),
    }
}

fn time(rng: &mut Rng, now: &mut u64) -> Duration {
    match rng.below(30) {
        0 => *now = now.saturating_sub(rng.below(100)), // clocks can step back
        1 => *now += 2000,
        _ => *now += rng.below(40),
    }
    Duration::from_millis(*now)
}

#[test]
fn pointer_storms_keep_the_invariants() {
    let (mut presses, mut wheel_steps) = (0, 0);
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut now = 0;
        let mut sz = size(&mut rng);
        let mut ptr = Pointer::new(sz.0, sz.1);
        let mut chk = Checker::default();
        for _ in 0..400 {
            let t = time(&mut rng, &mut now);
            match rng.below(14) {
                0..=4 => {
                    ptr.move_to(rng.coord(), rng.coord(), t);
                }
                5 | 6 => {
                    ptr.button_down(rng.below(8) as i16 - 1, rng.coord(), rng.coord(), t);
                }
                7 | 8 => {
                    ptr.button_up(rng.below(8) as i16 - 1, rng.coord(), rng.coord(), t);
                }
                9 => {
                    ptr.sync_buttons(rng.below(64) as u16, rng.coord(), rng.coord(), t);
                }
                10 => {
                    let mode = DeltaMode::from_dom(rng.below(4) as u32);
                    ptr.wheel(rng.delta(), rng.delta(), mode, rng.coord(), rng.coord(), t);
                }
                11 => {
                    sz = size(&mut rng);
                    ptr.set_size(sz.0, sz.1);
                }
                12 => {
                    let tr = Transform {
                        scale: rng.delta(),
                        offset_x: rng.delta(),
                        offset_y: 0.0,
                    };
                    let _ = ptr.set_transform(tr);
                }
                _ => {
                    if let Some(d) = ptr.poll_timeout() {
                        ptr.handle_timeout(d);
                    }
                }
            }
            chk.check(&drain_p(&mut ptr), sz);
            assert_eq!(chk.held, ptr.mask(), "seed {seed}");
        }
        ptr.blur(Duration::from_millis(now));
        chk.check(&drain_p(&mut ptr), sz);
        assert_eq!(chk.held, 0, "seed {seed}: a button stayed down after blur");
        assert_eq!(ptr.poll_timeout(), None);
        presses += chk.presses;
        wheel_steps += chk.wheel_steps;
    }
    assert!(
        presses > 1000 && wheel_steps > 1000,
        "{presses} presses, {wheel_steps} steps"
    );
}

#[test]
fn gesture_storms_keep_the_invariants() {
    let (mut presses, mut wheel_steps, mut zooms) = (0, 0, 0);
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0xbf58_476d_1ce4_e5b9) | 1);
        let mut now = 0;
        let mut sz = size(&mut rng);
        let mut g = Gestures::new(sz.0, sz.1);
        let mut chk = Checker::default();
        // Fingers kept near each other so that real gestures happen, not only noise.
        let mut pos = [(0.0f64, 0.0f64); 5];
        for _ in 0..400 {
            let t = time(&mut rng, &mut now);
            let id = rng.below(5) as i32;
            let i = id as usize;
            match rng.below(12) {
                0..=2 => {
                    pos[i] = (rng.below(800) as f64, rng.below(600) as f64);
                    if rng.below(15) == 0 {
                        pos[i].0 = rng.coord();
                    }
                    g.touch_start(id, pos[i].0, pos[i].1, t);
                }
                3..=6 => {
                    pos[i].0 += rng.below(121) as f64 - 60.0;
                    pos[i].1 += rng.below(121) as f64 - 60.0;
                    if rng.below(20) == 0 {
                        pos[i].1 = rng.coord();
                    }
                    g.touch_move(id, pos[i].0, pos[i].1, t);
                }
                7 | 8 => {
                    g.touch_end(id, pos[i].0, pos[i].1, t);
                }
                9 => {
                    g.touch_cancel(id, t);
                }
                10 => {
                    sz = size(&mut rng);
                    g.set_size(sz.0, sz.1);
                }
                _ => {
                    if let Some(d) = g.poll_timeout() {
                        g.handle_timeout(d);
                    }
                }
            }
            chk.check(&drain_g(&mut g), sz);
            assert_eq!(chk.held, g.mask(), "seed {seed}");
            if g.recogniser().fingers_down() == 0 {
                assert_eq!(chk.held, 0, "seed {seed}: a press outlived every finger");
            }
            assert!(g.recogniser().fingers_down() <= 3);
        }
        g.cancel_all(Duration::from_millis(now));
        chk.check(&drain_g(&mut g), sz);
        assert_eq!(
            chk.held, 0,
            "seed {seed}: a button stayed down after cancel_all"
        );
        presses += chk.presses;
        wheel_steps += chk.wheel_steps;
        zooms += chk.ctrl_presses;
    }
    eprintln!("{presses} presses, {wheel_steps} wheel steps, {zooms} zooms");
    assert!(
        presses > 300 && wheel_steps > 100 && zooms > 20,
        "{presses} {wheel_steps} {zooms}"
    );
}
