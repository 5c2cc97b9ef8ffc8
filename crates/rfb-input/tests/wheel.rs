//! Wheel accumulation: pixel, line and page modes, both axes, reversal, trackpads, caps.

mod common;

use common::{drain, ms, p};
use rfb_input::wheel::{LINE_PX, MAX_STEPS_PER_EVENT, PAGE_PX, STEP_PX};
use rfb_input::{DeltaMode, Disposition, Ignored, MAX_QUEUED, Output, Pointer, buttons};

const UP: u16 = buttons::WHEEL_UP;
const DOWN: u16 = buttons::WHEEL_DOWN;
const LEFT: u16 = buttons::WHEEL_LEFT;
const RIGHT: u16 = buttons::WHEEL_RIGHT;

/// Wheel clicks as (bit, count), checking each is a press at `mask|bit` then a release.
fn clicks(out: &[Output], held: u16) -> Vec<u16> {
    assert_eq!(out.len() % 2, 0, "{out:?}");
    out.chunks(2)
        .map(|pair| match pair {
            [Output::Pointer(a), Output::Pointer(b)] => {
                assert_eq!(b.mask, held, "{out:?}");
                assert_eq!((a.x, a.y), (b.x, b.y));
                a.mask & !held
            }
            _ => panic!("{out:?}"),
        })
        .collect()
}

fn wheel(ptr: &mut Pointer, dx: f64, dy: f64, mode: DeltaMode, t: u64) -> Vec<u16> {
    ptr.wheel(dx, dy, mode, 10.0, 10.0, ms(t));
    clicks(&drain(ptr), ptr.mask())
}

#[test]
fn constants() {
    assert_eq!((STEP_PX, LINE_PX, PAGE_PX), (50.0, 19.0, 400.0));
    assert_eq!(DeltaMode::from_dom(0), DeltaMode::Pixel);
    assert_eq!(DeltaMode::from_dom(1), DeltaMode::Line);
    assert_eq!(DeltaMode::from_dom(2), DeltaMode::Page);
    assert_eq!(DeltaMode::from_dom(9), DeltaMode::Unknown(9));
}

#[test]
fn pixel_mode_steps_every_50_px_and_keeps_the_remainder() {
    let mut ptr = Pointer::new(800, 600);
    assert_eq!(
        wheel(&mut ptr, 0.0, 120.0, DeltaMode::Pixel, 0),
        [DOWN, DOWN]
    );
    assert_eq!(
        ptr.wheel(0.0, 20.0, DeltaMode::Pixel, 10.0, 10.0, ms(1)),
        Disposition::Deferred
    );
    assert_eq!(
        wheel(&mut ptr, 0.0, 10.0, DeltaMode::Pixel, 2),
        [DOWN],
        "20+20+10 = 50"
    );
    assert_eq!(wheel(&mut ptr, 0.0, -100.0, DeltaMode::Pixel, 3), [UP, UP]);
}

#[test]
fn line_and_page_modes() {
    let mut ptr = Pointer::new(800, 600);
    assert_eq!(
        wheel(&mut ptr, 0.0, 3.0, DeltaMode::Line, 0),
        [DOWN],
        "57 px"
    );
    assert_eq!(
        wheel(&mut ptr, 0.0, 3.0, DeltaMode::Line, 1),
        [DOWN],
        "7 + 57 = 64 px"
    );
    assert_eq!(wheel(&mut ptr, 0.0, -1.0, DeltaMode::Page, 2), [UP; 8]);
    assert_eq!(wheel(&mut ptr, 0.5, 0.0, DeltaMode::Page, 3), [RIGHT; 4]);
}

#[test]
fn horizontal_both_ways_and_combined_with_vertical() {
    let mut ptr = Pointer::new(800, 600);
    assert_eq!(
        wheel(&mut ptr, 100.0, 0.0, DeltaMode::Pixel, 0),
        [RIGHT, RIGHT]
    );
    assert_eq!(wheel(&mut ptr, -50.0, 0.0, DeltaMode::Pixel, 1), [LEFT]);
    // Vertical steps go first, then horizontal.
    assert_eq!(
        wheel(&mut ptr, 60.0, -60.0, DeltaMode::Pixel, 2),
        [UP, RIGHT]
    );
}

#[test]
fn reversal_drops_the_remainder() {
    let mut ptr = Pointer::new(800, 600);
    assert_eq!(wheel(&mut ptr, 0.0, 40.0, DeltaMode::Pixel, 0), []);
    assert_eq!(
        wheel(&mut ptr, 0.0, -40.0, DeltaMode::Pixel, 1),
        [],
        "not 0 net: reset, then -40"
    );
    assert_eq!(wheel(&mut ptr, 0.0, -10.0, DeltaMode::Pixel, 2), [UP]);
    // Axes are independent: a horizontal reversal does not touch the vertical remainder.
    assert_eq!(wheel(&mut ptr, 0.0, 45.0, DeltaMode::Pixel, 3), []);
    assert_eq!(wheel(&mut ptr, 30.0, 0.0, DeltaMode::Pixel, 4), []);
    assert_eq!(wheel(&mut ptr, -30.0, 5.0, DeltaMode::Pixel, 5), [DOWN]);
}

#[test]
fn fractional_trackpad_deltas_accumulate() {
    let mut ptr = Pointer::new(800, 600);
    let mut steps_at = Vec::new();
    for i in 0..30 {
        if !wheel(&mut ptr, 0.0, 4.2, DeltaMode::Pixel, i).is_empty() {
            steps_at.push(i);
        }
    }
    // 4.2 × 12 = 50.4 and 4.2 × 24 = 100.8 (± float error around the boundary is avoided).
    assert_eq!(steps_at, [11, 23]);
}

#[test]
fn huge_deltas_are_capped_per_event() {
    let mut ptr = Pointer::new(800, 600);
    let cap = MAX_STEPS_PER_EVENT as usize;
    assert_eq!(wheel(&mut ptr, 0.0, 1e6, DeltaMode::Pixel, 0).len(), cap);
    assert_eq!(
        wheel(&mut ptr, -1e300, 1e300, DeltaMode::Page, 1).len(),
        2 * cap
    );
    assert_eq!(
        wheel(&mut ptr, 0.0, f64::MAX, DeltaMode::Line, 2).len(),
        cap,
        "MAX × 19 overflows: clamped, not refused"
    );
}

#[test]
fn non_finite_deltas_and_unknown_modes_are_ignored() {
    let mut ptr = Pointer::new(800, 600);
    let nf = Disposition::Ignored(Ignored::NonFinite);
    assert_eq!(
        ptr.wheel(f64::NAN, 50.0, DeltaMode::Pixel, 1.0, 1.0, ms(0)),
        nf
    );
    assert_eq!(
        ptr.wheel(0.0, f64::INFINITY, DeltaMode::Pixel, 1.0, 1.0, ms(0)),
        nf
    );
    assert_eq!(
        ptr.wheel(0.0, 50.0, DeltaMode::Pixel, f64::NAN, 1.0, ms(0)),
        nf
    );
    assert_eq!(
        ptr.wheel(0.0, 50.0, DeltaMode::Unknown(3), 1.0, 1.0, ms(0)),
        Disposition::Ignored(Ignored::UnknownDeltaMode(3))
    );
    assert_eq!(drain(&mut ptr), []);
}

#[test]
fn wheel_flushes_the_pending_move_and_keeps_held_buttons() {
    let mut ptr = Pointer::new(800, 600);
    ptr.button_down(0, 1.0, 1.0, ms(0));
    ptr.move_to(5.0, 5.0, ms(1));
    ptr.move_to(6.0, 6.0, ms(2));
    ptr.wheel(0.0, 50.0, DeltaMode::Pixel, 7.0, 7.0, ms(3));
    assert_eq!(
        drain(&mut ptr),
        [
            p(1, 1, 1),
            p(5, 5, 1),
            p(6, 6, 1),
            p(7, 7, 1 | DOWN),
            p(7, 7, 1)
        ]
    );
}

#[test]
fn an_undrained_queue_stops_growing_through_the_wheel() {
    let mut ptr = Pointer::new(800, 600);
    for t in 0..1000 {
        ptr.wheel(0.0, 1e6, DeltaMode::Pixel, 1.0, 1.0, ms(t));
    }
    let out = drain(&mut ptr);
    assert!(out.len() <= MAX_QUEUED, "{}", out.len());
    assert!(out.len() >= MAX_QUEUED - 2);
    clicks(&out, 0); // still whole press/release pairs
}
