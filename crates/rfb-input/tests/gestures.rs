//! Touch gestures, end to end: touches in, pointer events and Control presses out.

mod common;

use common::{ctrl, drain_g, ms, p};
use rfb_input::gesture::{GestureKind, LONG_PRESS_TIMEOUT, TWO_TOUCH_DECISION};
use rfb_input::{Disposition, Gestures, Ignored, Transform, buttons};

const L: u16 = buttons::LEFT;
const M: u16 = buttons::MIDDLE;
const R: u16 = buttons::RIGHT;
const UP: u16 = buttons::WHEEL_UP;
const DOWN: u16 = buttons::WHEEL_DOWN;
const WL: u16 = buttons::WHEEL_LEFT;
const WR: u16 = buttons::WHEEL_RIGHT;

fn g() -> Gestures {
    Gestures::new(1000, 800)
}

fn tap(g: &mut Gestures, x: f64, y: f64, t: u64) {
    g.touch_start(9, x, y, ms(t));
    g.touch_end(9, x, y, ms(t + 80));
}

/// Two fingers landing at (100,100) and (200,100) at t and t+5.
fn two_down(g: &mut Gestures, t: u64) {
    assert_eq!(g.touch_start(1, 100.0, 100.0, ms(t)), Disposition::Deferred);
    assert_eq!(
        g.touch_start(2, 200.0, 100.0, ms(t + 5)),
        Disposition::Deferred
    );
}

#[test]
fn one_finger_tap_is_a_left_click_where_the_finger_lifted() {
    let mut g = g();
    assert_eq!(g.touch_start(1, 100.0, 100.0, ms(0)), Disposition::Deferred);
    assert_eq!(
        g.touch_move(1, 110.0, 120.0, ms(50)),
        Disposition::Deferred,
        "under 50 px"
    );
    assert_eq!(g.touch_end(1, 112.0, 121.0, ms(100)), Disposition::Queued);
    assert_eq!(drain_g(&mut g), [p(112, 121, L), p(112, 121, 0)]);
    assert_eq!(g.poll_timeout(), None, "the long-press timer is gone");
}

#[test]
fn double_tap_snaps_to_the_first_tap() {
    let mut g = g();
    tap(&mut g, 100.0, 100.0, 0);
    tap(&mut g, 130.0, 120.0, 300); // 36 px away, 300 ms later: same pixel
    tap(&mut g, 300.0, 300.0, 600); // far away: its own position
    tap(&mut g, 310.0, 300.0, 2000); // too late for snapping
    assert_eq!(
        drain_g(&mut g),
        [
            p(100, 100, L),
            p(100, 100, 0),
            p(100, 100, L),
            p(100, 100, 0),
            p(300, 300, L),
            p(300, 300, 0),
            p(310, 300, L),
            p(310, 300, 0),
        ]
    );
}

#[test]
fn two_and_three_finger_taps_click_right_and_middle_at_the_centre() {
    let mut g = g();
    two_down(&mut g, 0);
    g.touch_end(1, 100.0, 100.0, ms(100));
    assert_eq!(drain_g(&mut g), [], "one finger still down");
    assert_eq!(g.touch_end(2, 200.0, 100.0, ms(120)), Disposition::Queued);
    assert_eq!(drain_g(&mut g), [p(150, 100, R), p(150, 100, 0)]);

    g.touch_start(1, 100.0, 100.0, ms(1000));
    g.touch_start(2, 130.0, 100.0, ms(1100));
    g.touch_start(3, 160.0, 130.0, ms(1200));
    g.touch_end(2, 130.0, 100.0, ms(1300));
    g.touch_end(1, 100.0, 100.0, ms(1310));
    g.touch_end(3, 160.0, 130.0, ms(1320));
    assert_eq!(drain_g(&mut g), [p(130, 110, M), p(130, 110, 0)]);
}

#[test]
fn a_slow_tap_is_no_tap() {
    let mut g = g();
    two_down(&mut g, 0);
    g.touch_end(1, 100.0, 100.0, ms(900));
    g.touch_end(2, 200.0, 100.0, ms(1001));
    assert_eq!(drain_g(&mut g), []);
}

#[test]
fn drag_holds_left_from_where_the_finger_landed() {
    let mut g = g();
    g.touch_start(1, 100.0, 100.0, ms(0));
    assert_eq!(g.touch_move(1, 130.0, 100.0, ms(10)), Disposition::Deferred);
    assert_eq!(g.touch_move(1, 160.0, 100.0, ms(20)), Disposition::Queued);
    assert_eq!(g.recogniser().active(), Some(GestureKind::Drag));
    assert_eq!(
        g.touch_move(1, 170.0, 100.0, ms(25)),
        Disposition::Deferred,
        "throttled"
    );
    g.handle_timeout(ms(37));
    g.touch_move(1, 180.0, 110.0, ms(60));
    g.touch_end(1, 185.0, 110.0, ms(70));
    assert_eq!(
        drain_g(&mut g),
        [
            p(100, 100, L),
            p(160, 100, L),
            p(170, 100, L),
            p(180, 110, L),
            p(185, 110, 0)
        ]
    );
    assert_eq!(g.mask(), 0);
    assert_eq!(g.poll_timeout(), None);
}

#[test]
fn long_press_holds_right_and_can_drag() {
    let mut g = g();
    g.touch_start(1, 100.0, 100.0, ms(0));
    g.touch_move(1, 120.0, 100.0, ms(500)); // still within the threshold
    assert_eq!(g.poll_timeout(), Some(LONG_PRESS_TIMEOUT));
    g.handle_timeout(ms(999));
    assert_eq!(drain_g(&mut g), []);
    g.handle_timeout(ms(1000));
    assert_eq!(drain_g(&mut g), [p(120, 100, R)]);
    assert_eq!(g.recogniser().active(), Some(GestureKind::LongPress));
    g.touch_move(1, 300.0, 300.0, ms(1100));
    g.touch_end(1, 310.0, 300.0, ms(1105));
    assert_eq!(drain_g(&mut g), [p(300, 300, R), p(310, 300, 0)]);
}

#[test]
fn a_late_handle_timeout_still_long_presses_before_the_end() {
    let mut g = g();
    g.touch_start(1, 100.0, 100.0, ms(0));
    g.touch_end(1, 100.0, 100.0, ms(1500)); // the driver's timer never fired
    assert_eq!(drain_g(&mut g), [p(100, 100, R), p(100, 100, 0)]);
}

#[test]
fn two_finger_scroll_vertical_follows_the_fingers() {
    let mut g = g();
    two_down(&mut g, 0);
    assert_eq!(
        g.touch_move(1, 100.0, 160.0, ms(20)),
        Disposition::Deferred,
        "waits for finger 2"
    );
    assert_eq!(g.touch_move(2, 200.0, 160.0, ms(21)), Disposition::Queued);
    assert_eq!(g.recogniser().active(), Some(GestureKind::TwoDrag));
    // Fingers down = content down = wheel up, at the centre of where the fingers landed.
    assert_eq!(
        drain_g(&mut g),
        [p(150, 100, 0), p(150, 100, UP), p(150, 100, 0)]
    );
    g.touch_move(1, 100.0, 210.0, ms(40)); // mean 85: no new step
    assert_eq!(drain_g(&mut g), []);
    g.touch_move(2, 200.0, 210.0, ms(41)); // mean 110: one more
    g.touch_move(1, 100.0, 0.0, ms(60));
    g.touch_move(2, 200.0, 0.0, ms(61)); // mean -100: from 100 used, down ×4
    assert_eq!(
        drain_g(&mut g),
        [
            p(150, 100, UP),
            p(150, 100, 0),
            p(150, 100, DOWN),
            p(150, 100, 0),
            p(150, 100, DOWN),
            p(150, 100, 0),
            p(150, 100, DOWN),
            p(150, 100, 0),
            p(150, 100, DOWN),
            p(150, 100, 0),
        ]
    );
    assert_eq!(g.touch_end(1, 100.0, 0.0, ms(70)), Disposition::Deferred);
    assert_eq!(g.recogniser().active(), None);
    g.touch_move(2, 200.0, 500.0, ms(80)); // the remaining finger does nothing
    assert_eq!(g.touch_end(2, 200.0, 500.0, ms(90)), Disposition::Deferred);
    assert_eq!(drain_g(&mut g), []);
}

#[test]
fn two_finger_scroll_horizontal() {
    let mut g = g();
    two_down(&mut g, 0);
    g.touch_move(1, 220.0, 100.0, ms(20));
    g.touch_move(2, 320.0, 100.0, ms(21));
    assert_eq!(g.recogniser().active(), Some(GestureKind::TwoDrag));
    assert_eq!(
        drain_g(&mut g),
        [
            p(150, 100, 0),
            p(150, 100, WL),
            p(150, 100, 0),
            p(150, 100, WL),
            p(150, 100, 0)
        ]
    );
    g.touch_move(1, 100.0, 100.0, ms(40));
    g.touch_move(2, 140.0, 100.0, ms(41)); // mean -30: from 100 used, right ×2
    assert_eq!(
        drain_g(&mut g),
        [
            p(150, 100, WR),
            p(150, 100, 0),
            p(150, 100, WR),
            p(150, 100, 0)
        ]
    );
}

#[test]
fn scroll_or_pinch_is_decided_by_the_timer_when_one_finger_lags() {
    let mut g = g();
    two_down(&mut g, 0);
    g.touch_move(1, 100.0, 160.0, ms(20));
    assert_eq!(g.poll_timeout(), Some(ms(20) + TWO_TOUCH_DECISION));
    g.handle_timeout(ms(70));
    assert_eq!(g.recogniser().active(), Some(GestureKind::TwoDrag));
    assert_eq!(drain_g(&mut g), [p(150, 100, 0)], "mean 30 px: no step yet");
    g.touch_move(2, 200.0, 170.0, ms(80)); // mean 65
    assert_eq!(drain_g(&mut g), [p(150, 100, UP), p(150, 100, 0)]);
}

#[test]
fn pinch_out_and_in_brackets_wheel_steps_with_control() {
    let mut g = g();
    two_down(&mut g, 0);
    g.touch_move(1, 40.0, 100.0, ms(20));
    g.touch_move(2, 260.0, 100.0, ms(21)); // distance 100 → 220
    assert_eq!(g.recogniser().active(), Some(GestureKind::Pinch));
    assert_eq!(
        drain_g(&mut g),
        [
            p(150, 100, 0),
            ctrl(true),
            p(150, 100, UP),
            p(150, 100, 0),
            ctrl(false)
        ]
    );
    g.touch_move(2, 250.0, 100.0, ms(30)); // 210: 35 since the last step, nothing
    assert_eq!(drain_g(&mut g), []);
    g.touch_move(1, 120.0, 100.0, ms(40));
    g.touch_move(2, 150.0, 100.0, ms(41)); // 30: -145 since the last step
    assert_eq!(
        drain_g(&mut g),
        [ctrl(true), p(150, 100, DOWN), p(150, 100, 0), ctrl(false)]
    );
    g.touch_end(2, 150.0, 100.0, ms(50));
    g.touch_end(1, 120.0, 100.0, ms(51));
    assert_eq!(drain_g(&mut g), []);
    assert_eq!(g.mask(), 0);
}

#[test]
fn a_third_finger_joining_a_running_scroll_is_ignored() {
    let mut g = g();
    two_down(&mut g, 0);
    g.touch_move(1, 100.0, 160.0, ms(20));
    g.touch_move(2, 200.0, 160.0, ms(21));
    drain_g(&mut g);
    assert_eq!(
        g.touch_start(3, 150.0, 150.0, ms(100)),
        Disposition::Ignored(Ignored::GestureBusy)
    );
    assert_eq!(
        g.touch_move(3, 150.0, 400.0, ms(110)),
        Disposition::Ignored(Ignored::UnknownTouch(3))
    );
    g.touch_move(1, 100.0, 210.0, ms(120));
    g.touch_move(2, 200.0, 210.0, ms(121));
    assert_eq!(
        drain_g(&mut g),
        [p(150, 100, UP), p(150, 100, 0)],
        "the scroll goes on"
    );
    assert_eq!(
        g.touch_end(3, 150.0, 400.0, ms(130)),
        Disposition::Ignored(Ignored::UnknownTouch(3))
    );
}

#[test]
fn a_finger_after_the_multi_touch_window_abandons_the_sequence() {
    let mut g = g();
    two_down(&mut g, 0);
    assert_eq!(
        g.touch_start(3, 150.0, 150.0, ms(400)),
        Disposition::Ignored(Ignored::LateTouch)
    );
    g.touch_move(1, 100.0, 300.0, ms(410));
    g.touch_move(2, 200.0, 300.0, ms(411));
    g.touch_end(1, 100.0, 300.0, ms(420));
    g.touch_end(2, 200.0, 300.0, ms(421));
    g.handle_timeout(ms(5000));
    assert_eq!(drain_g(&mut g), []);
    // Once every finger is up, the next sequence works again.
    tap(&mut g, 10.0, 10.0, 6000);
    assert_eq!(drain_g(&mut g), [p(10, 10, L), p(10, 10, 0)]);
}

#[test]
fn a_late_second_finger_during_a_drag_is_ignored() {
    let mut g = g();
    g.touch_start(1, 100.0, 100.0, ms(0));
    g.touch_move(1, 200.0, 100.0, ms(10));
    assert_eq!(
        g.touch_start(2, 300.0, 300.0, ms(20)),
        Disposition::Ignored(Ignored::GestureBusy)
    );
    g.touch_end(1, 210.0, 100.0, ms(30));
    assert_eq!(
        drain_g(&mut g),
        [p(100, 100, L), p(200, 100, L), p(210, 100, 0)]
    );
}

#[test]
fn cancel_releases_and_never_clicks() {
    let mut g = g();
    // A cancelled tap does nothing.
    g.touch_start(1, 100.0, 100.0, ms(0));
    assert_eq!(g.touch_cancel(1, ms(50)), Disposition::Deferred);
    assert_eq!(drain_g(&mut g), []);
    // A cancelled drag releases the button where the finger last was.
    g.touch_start(1, 100.0, 100.0, ms(100));
    g.touch_move(1, 200.0, 100.0, ms(110));
    assert_eq!(g.touch_cancel(1, ms(120)), Disposition::Queued);
    assert_eq!(
        drain_g(&mut g),
        [p(100, 100, L), p(200, 100, L), p(200, 100, 0)]
    );
    // A two-finger tap where one finger is cancelled does nothing.
    two_down(&mut g, 200);
    g.touch_cancel(2, ms(250));
    g.touch_end(1, 100.0, 100.0, ms(260));
    assert_eq!(drain_g(&mut g), []);
}

#[test]
fn cancel_all_releases_a_long_press() {
    let mut g = g();
    g.touch_start(1, 100.0, 100.0, ms(0));
    g.handle_timeout(ms(1000));
    g.touch_move(1, 300.0, 300.0, ms(1001));
    assert_eq!(g.cancel_all(ms(1002)), Disposition::Queued);
    assert_eq!(
        drain_g(&mut g),
        [p(100, 100, R), p(300, 300, R), p(300, 300, 0)]
    );
    assert_eq!(g.recogniser().fingers_down(), 0);
    assert_eq!(
        g.touch_end(1, 0.0, 0.0, ms(1003)),
        Disposition::Ignored(Ignored::UnknownTouch(1))
    );
    assert_eq!(g.cancel_all(ms(1004)), Disposition::Deferred);
}

#[test]
fn bad_touches_are_ignored_with_a_reason() {
    let mut g = g();
    assert_eq!(
        g.touch_move(5, 1.0, 1.0, ms(0)),
        Disposition::Ignored(Ignored::UnknownTouch(5))
    );
    assert_eq!(
        g.touch_end(5, 1.0, 1.0, ms(0)),
        Disposition::Ignored(Ignored::UnknownTouch(5))
    );
    assert_eq!(
        g.touch_cancel(5, ms(0)),
        Disposition::Ignored(Ignored::UnknownTouch(5))
    );
    assert_eq!(
        g.touch_start(1, f64::NAN, 1.0, ms(0)),
        Disposition::Ignored(Ignored::NonFinite)
    );
    assert_eq!(g.touch_start(1, 10.0, 10.0, ms(0)), Disposition::Deferred);
    assert_eq!(
        g.touch_start(1, 10.0, 10.0, ms(1)),
        Disposition::Ignored(Ignored::DuplicateTouch(1))
    );
    assert_eq!(
        g.touch_move(1, 10.0, f64::INFINITY, ms(2)),
        Disposition::Ignored(Ignored::NonFinite)
    );
    assert_eq!(
        g.touch_move(1, 10.0, 10.0, ms(3)),
        Disposition::Ignored(Ignored::Unchanged)
    );
    // A non-finite end position keeps the last good one.
    assert_eq!(
        g.touch_end(1, f64::NAN, f64::NAN, ms(4)),
        Disposition::Queued
    );
    assert_eq!(drain_g(&mut g), [p(10, 10, L), p(10, 10, 0)]);
}

#[test]
fn a_fourth_finger_and_thousands_more_abandon_the_sequence() {
    let mut g = g();
    for id in 0..3 {
        assert_eq!(g.touch_start(id, 10.0, 10.0, ms(0)), Disposition::Deferred);
    }
    assert_eq!(
        g.touch_start(3, 10.0, 10.0, ms(1)),
        Disposition::Ignored(Ignored::TooManyTouches)
    );
    for id in 4..5000 {
        assert_eq!(
            g.touch_start(id, 10.0, 10.0, ms(2)),
            Disposition::Ignored(Ignored::GestureBusy)
        );
    }
    for id in 0..5000 {
        g.touch_end(id, 10.0, 10.0, ms(3));
    }
    assert_eq!(drain_g(&mut g), [], "no three-finger tap");
    assert_eq!(g.recogniser().fingers_down(), 0);
}

#[test]
fn outputs_use_the_transform_and_the_framebuffer_size() {
    let mut g = Gestures::new(100, 100);
    g.set_transform(Transform {
        scale: 0.5,
        offset_x: 10.0,
        offset_y: 0.0,
    })
    .unwrap();
    tap(&mut g, 100.0, 100.0, 0);
    tap(&mut g, 1000.0, -50.0, 2000);
    assert_eq!(
        drain_g(&mut g),
        [p(60, 50, L), p(60, 50, 0), p(99, 0, L), p(99, 0, 0)]
    );
}

#[test]
fn huge_pinch_is_capped_per_event() {
    let mut g = g();
    two_down(&mut g, 0);
    g.touch_move(1, -1e300, 100.0, ms(20));
    g.touch_move(2, 1e300, 100.0, ms(21));
    let out = drain_g(&mut g);
    assert_eq!(
        out.len(),
        1 + 2 + 2 * 10,
        "move, Control down/up, 10 capped steps"
    );
    assert_eq!(out[1], ctrl(true));
    assert_eq!(out[out.len() - 1], ctrl(false));
}

#[test]
fn the_recogniser_alone_reports_phases_and_magnitudes() {
    use rfb_input::gesture::{GestureEvent, Phase, Recogniser};
    let ev = |kind, phase, x, y, mx, my| GestureEvent {
        kind,
        phase,
        x,
        y,
        magnitude_x: mx,
        magnitude_y: my,
    };
    let drain = |r: &mut Recogniser| std::iter::from_fn(|| r.poll_gesture()).collect::<Vec<_>>();
    let mut r = Recogniser::new();
    r.touch_start(1, 10.0, 10.0, ms(0));
    r.touch_move(1, 70.0, 10.0, ms(10));
    r.touch_end(1, 80.0, 10.0, ms(20));
    let d = GestureKind::Drag;
    assert_eq!(
        drain(&mut r),
        [
            ev(d, Phase::Start, 10.0, 10.0, 0.0, 0.0),
            ev(d, Phase::Move, 70.0, 10.0, 0.0, 0.0),
            ev(d, Phase::End, 80.0, 10.0, 0.0, 0.0),
        ]
    );
    r.touch_start(1, 0.0, 0.0, ms(100));
    r.touch_start(2, 100.0, 0.0, ms(101));
    r.touch_move(1, 0.0, 60.0, ms(110));
    r.touch_move(2, 100.0, 80.0, ms(111));
    let s = GestureKind::TwoDrag;
    assert_eq!(
        drain(&mut r),
        [
            ev(s, Phase::Start, 50.0, 0.0, 0.0, 0.0),
            ev(s, Phase::Move, 50.0, 0.0, 0.0, 70.0)
        ]
    );
    r.cancel_all(ms(120));
    assert_eq!(drain(&mut r), [ev(s, Phase::End, 50.0, 0.0, 0.0, 70.0)]);
    assert_eq!(
        (r.active(), r.fingers_down(), r.poll_timeout()),
        (None, 0, None)
    );
}
