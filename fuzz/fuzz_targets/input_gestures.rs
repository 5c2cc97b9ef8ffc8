//! rfb-input's Pointer and Gestures driven by arbitrary event sequences (moves, buttons,
//! `buttons` resyncs, wheel in every mode, touches with any ids, cancels, resizes,
//! transforms, timers, time going backwards, NaN/inf/huge values). Never a panic; every
//! output is inside the framebuffer; wheel steps are whole press/release pairs keeping the
//! held buttons; Control is never left down after a call; one call queues bounded output;
//! no button outlives blur/cancel_all, nor (for touch) the last finger.
#![no_main]

use core::time::Duration;

use libfuzzer_sys::fuzz_target;
use rfb_input::{DeltaMode, Gestures, Output, Pointer, Transform, buttons};

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn f64(&mut self) -> f64 {
        match self.u8() {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => f64::MAX,
            4 => -f64::MAX,
            5 => f64::MIN_POSITIVE,
            6 => f64::from_bits(u64::from_le_bytes(core::array::from_fn(|_| self.u8()))),
            b => f64::from(self.u16()) * if b & 1 == 1 { -0.37 } else { 1.0 } + f64::from(b) / 8.0,
        }
    }
}

#[derive(Default)]
struct Checker {
    held: u16,
    ctrl: bool,
}

impl Checker {
    fn check(&mut self, out: &[Output], (w, h): (u16, u16)) {
        // Per call: an overdue timer's gesture (up to 41 outputs) plus the event's own (up to 42).
        assert!(out.len() <= 128, "unbounded output: {}", out.len());
        let mut i = 0;
        while i < out.len() {
            match out[i] {
                Output::Key(k) => {
                    assert_ne!(
                        k.down, self.ctrl,
                        "Control pressed twice or released while up"
                    );
                    self.ctrl = k.down;
                }
                Output::Pointer(ev) => {
                    assert!(ev.x < w.max(1) && ev.y < h.max(1), "{ev:?} outside {w}x{h}");
                    if ev.mask & buttons::WHEEL != 0 {
                        assert_eq!(ev.mask & !buttons::WHEEL, self.held);
                        let Some(Output::Pointer(next)) = out.get(i + 1) else {
                            panic!("wheel press without release");
                        };
                        assert_eq!((next.x, next.y, next.mask), (ev.x, ev.y, self.held));
                        i += 1;
                    } else {
                        assert_eq!(ev.mask & !buttons::HOLDABLE, 0);
                        self.held = ev.mask;
                    }
                }
            }
            i += 1;
        }
        assert!(!self.ctrl, "Control left down");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let mut size = (b.u16(), b.u16());
    let mut ptr = Pointer::new(size.0, size.1);
    let mut g = Gestures::new(size.0, size.1);
    let (mut cp, mut cg) = (Checker::default(), Checker::default());
    let mut now = 0u64;
    let mut steps = 0;
    while !b.0.is_empty() && steps < 4096 {
        steps += 1;
        let op = b.u8();
        // Time: mostly forward by a few ms, sometimes backwards or far ahead.
        now = match op >> 5 {
            0 => now.saturating_sub(u64::from(b.u8())),
            7 => now.saturating_add(u64::from(b.u16()) * 1000),
            _ => now.saturating_add(u64::from(op >> 5) * 4),
        };
        let t = Duration::from_millis(now);
        match op & 0x1f {
            0 | 1 => {
                let _ = ptr.move_to(b.f64(), b.f64(), t);
            }
            2 => {
                let _ = ptr.button_down(b.u8() as i8 as i16, b.f64(), b.f64(), t);
            }
            3 => {
                let _ = ptr.button_up(b.u8() as i8 as i16, b.f64(), b.f64(), t);
            }
            4 => {
                let _ = ptr.sync_buttons(b.u16(), b.f64(), b.f64(), t);
            }
            5 => {
                let mode = DeltaMode::from_dom(u32::from(b.u8() % 5));
                let _ = ptr.wheel(b.f64(), b.f64(), mode, b.f64(), b.f64(), t);
            }
            6 => {
                let _ = ptr.blur(t);
            }
            7 | 8 => {
                if let Some(d) = ptr.poll_timeout() {
                    ptr.handle_timeout(d);
                }
                if let Some(d) = g.poll_timeout() {
                    g.handle_timeout(d);
                }
            }
            9 => {
                size = (b.u16(), b.u16());
                ptr.set_size(size.0, size.1);
                g.set_size(size.0, size.1);
            }
            10 => {
                let tr = Transform {
                    scale: b.f64(),
                    offset_x: b.f64(),
                    offset_y: b.f64(),
                };
                let _ = ptr.set_transform(tr);
                let _ = g.set_transform(tr);
            }
            11..=14 => {
                let _ = g.touch_start(i32::from(b.u8() % 8) - 1, b.f64(), b.f64(), t);
            }
            15..=24 => {
                let _ = g.touch_move(i32::from(b.u8() % 8) - 1, b.f64(), b.f64(), t);
            }
            25..=28 => {
                let _ = g.touch_end(i32::from(b.u8() % 8) - 1, b.f64(), b.f64(), t);
            }
            29 | 30 => {
                let _ = g.touch_cancel(i32::from(b.u8() % 8) - 1, t);
            }
            _ => {
                let _ = g.cancel_all(t);
            }
        }
        cp.check(
            &std::iter::from_fn(|| ptr.poll_output()).collect::<Vec<_>>(),
            size,
        );
        cg.check(
            &std::iter::from_fn(|| g.poll_output()).collect::<Vec<_>>(),
            size,
        );
        assert_eq!(cp.held, ptr.mask());
        assert_eq!(cg.held, g.mask());
        if g.recogniser().fingers_down() == 0 {
            assert_eq!(cg.held, 0, "a touch press outlived every finger");
        }
    }
    let end = Duration::from_millis(now);
    ptr.blur(end);
    g.cancel_all(end);
    cp.check(
        &std::iter::from_fn(|| ptr.poll_output()).collect::<Vec<_>>(),
        size,
    );
    cg.check(
        &std::iter::from_fn(|| g.poll_output()).collect::<Vec<_>>(),
        size,
    );
    assert_eq!(
        (cp.held, cg.held),
        (0, 0),
        "a button stayed down after blur/cancel_all"
    );
});
