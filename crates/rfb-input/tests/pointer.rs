//! The mouse machine: throttling, flush-before-button, timer flush, buttons, resync, blur.

mod common;

use common::{drain, ms, p};
use rfb_input::{Disposition, Ignored, MOVE_INTERVAL, Pointer, Transform, buttons};

#[test]
fn moves_are_throttled_and_the_timer_sends_the_latest() {
    let mut ptr = Pointer::new(800, 600);
    assert_eq!(ptr.move_to(1.0, 1.0, ms(0)), Disposition::Queued);
    assert_eq!(ptr.move_to(2.0, 2.0, ms(5)), Disposition::Deferred);
    assert_eq!(ptr.move_to(3.0, 3.0, ms(10)), Disposition::Deferred);
    assert_eq!(drain(&mut ptr), [p(1, 1, 0)]);
    assert_eq!(ptr.poll_timeout(), Some(MOVE_INTERVAL));
    ptr.handle_timeout(ms(16));
    assert_eq!(drain(&mut ptr), []);
    ptr.handle_timeout(ms(17));
    assert_eq!(
        drain(&mut ptr),
        [p(3, 3, 0)],
        "only the latest pending move"
    );
    assert_eq!(ptr.poll_timeout(), None);
    // The next move within 17 ms of the timer's send is held again.
    assert_eq!(ptr.move_to(4.0, 4.0, ms(20)), Disposition::Deferred);
    assert_eq!(ptr.poll_timeout(), Some(ms(34)));
    // A move well after the interval goes out at once.
    ptr.handle_timeout(ms(34));
    assert_eq!(ptr.move_to(5.0, 5.0, ms(100)), Disposition::Queued);
    assert_eq!(drain(&mut ptr), [p(4, 4, 0), p(5, 5, 0)]);
}

#[test]
fn at_most_one_move_per_interval_over_a_fast_stream() {
    let mut ptr = Pointer::new(800, 600);
    let mut sent_at = Vec::new();
    for t in 0..200u64 {
        // A 1000 Hz mouse, with the driver's timer firing on time.
        if ptr.poll_timeout().is_some_and(|d| d <= ms(t)) {
            ptr.handle_timeout(ms(t));
        }
        ptr.move_to(t as f64, 0.0, ms(t));
        if !drain(&mut ptr).is_empty() {
            sent_at.push(t);
        }
    }
    assert!(sent_at.windows(2).all(|w| w[1] - w[0] >= 17), "{sent_at:?}");
    assert_eq!(sent_at.len(), 12, "{sent_at:?}");
}

#[test]
fn pending_move_is_flushed_before_a_button() {
    let mut ptr = Pointer::new(800, 600);
    ptr.move_to(10.0, 10.0, ms(0));
    ptr.move_to(20.0, 20.0, ms(5));
    assert_eq!(ptr.button_down(0, 25.0, 25.0, ms(6)), Disposition::Queued);
    assert_eq!(drain(&mut ptr), [p(10, 10, 0), p(20, 20, 0), p(25, 25, 1)]);
    assert_eq!(ptr.poll_timeout(), None, "nothing left pending");
    // Dragging: moves carry the held mask.
    ptr.move_to(30.0, 30.0, ms(7));
    ptr.handle_timeout(ms(40));
    assert_eq!(ptr.button_up(0, 30.0, 30.0, ms(41)), Disposition::Queued);
    assert_eq!(drain(&mut ptr), [p(30, 30, 1), p(30, 30, 0)]);
}

#[test]
fn pending_move_at_the_button_position_is_not_sent_twice() {
    let mut ptr = Pointer::new(800, 600);
    ptr.move_to(10.0, 10.0, ms(0));
    ptr.move_to(20.0, 20.0, ms(5));
    ptr.button_down(2, 20.0, 20.0, ms(6));
    assert_eq!(drain(&mut ptr), [p(10, 10, 0), p(20, 20, 4)]);
}

#[test]
fn a_late_timer_still_sends_before_later_events() {
    let mut ptr = Pointer::new(800, 600);
    ptr.move_to(10.0, 10.0, ms(0));
    ptr.move_to(20.0, 20.0, ms(5));
    // The driver never called handle_timeout; the next event runs the overdue timer first
    // and, because the flush counts from when it was due (17 ms), is itself sent at once.
    assert_eq!(ptr.move_to(30.0, 30.0, ms(40)), Disposition::Queued);
    assert_eq!(drain(&mut ptr), [p(10, 10, 0), p(20, 20, 0), p(30, 30, 0)]);
}

#[test]
fn repeated_and_mismatched_buttons_are_ignored() {
    let mut ptr = Pointer::new(800, 600);
    assert_eq!(
        ptr.button_up(0, 1.0, 1.0, ms(0)),
        Disposition::Ignored(Ignored::NotPressed)
    );
    assert_eq!(ptr.button_down(0, 1.0, 1.0, ms(1)), Disposition::Queued);
    assert_eq!(
        ptr.button_down(0, 1.0, 1.0, ms(2)),
        Disposition::Ignored(Ignored::AlreadyPressed)
    );
    assert_eq!(
        ptr.button_down(7, 1.0, 1.0, ms(3)),
        Disposition::Ignored(Ignored::UnknownButton(7))
    );
    assert_eq!(
        ptr.button_down(-3, 1.0, 1.0, ms(3)),
        Disposition::Ignored(Ignored::UnknownButton(-3))
    );
    assert_eq!(
        ptr.button_down(1, f64::NAN, 1.0, ms(4)),
        Disposition::Ignored(Ignored::NonFinite)
    );
    assert_eq!(
        ptr.move_to(1.0, 1.0, ms(50)),
        Disposition::Ignored(Ignored::Unchanged)
    );
    assert_eq!(drain(&mut ptr), [p(1, 1, 1)]);
    assert_eq!(ptr.mask(), buttons::LEFT);
}

#[test]
fn several_buttons_and_back_forward() {
    let mut ptr = Pointer::new(800, 600);
    ptr.button_down(0, 5.0, 5.0, ms(0));
    ptr.button_down(3, 5.0, 5.0, ms(1));
    ptr.button_down(4, 5.0, 5.0, ms(2));
    ptr.button_up(0, 5.0, 5.0, ms(3));
    ptr.button_down(1, 5.0, 5.0, ms(4));
    let out = drain(&mut ptr);
    assert_eq!(
        out,
        [
            p(5, 5, 1),
            p(5, 5, 0x81),
            p(5, 5, 0x181),
            p(5, 5, 0x180),
            p(5, 5, 0x182)
        ]
    );
    let rfb_input::Output::Pointer(ev) = out[2] else {
        unreachable!()
    };
    assert!(ev.needs_extended());
}

#[test]
fn buttons_bitfield_resyncs_a_lost_release() {
    let mut ptr = Pointer::new(800, 600);
    ptr.button_down(0, 5.0, 5.0, ms(0));
    ptr.button_down(2, 5.0, 5.0, ms(1));
    drain(&mut ptr);
    // The left release happened outside the window: `buttons` now says only right (2).
    assert_eq!(ptr.sync_buttons(2, 9.0, 9.0, ms(50)), Disposition::Queued);
    assert_eq!(drain(&mut ptr), [p(9, 9, buttons::RIGHT)]);
    assert_eq!(
        ptr.sync_buttons(2, 9.0, 9.0, ms(60)),
        Disposition::Ignored(Ignored::Unchanged)
    );
    // A press that was missed is picked up too.
    assert_eq!(
        ptr.sync_buttons(2 | 16, 9.0, 9.0, ms(70)),
        Disposition::Queued
    );
    assert_eq!(
        drain(&mut ptr),
        [p(9, 9, buttons::RIGHT | buttons::FORWARD)]
    );
}

#[test]
fn blur_flushes_and_releases_everything() {
    let mut ptr = Pointer::new(800, 600);
    ptr.button_down(0, 5.0, 5.0, ms(0));
    ptr.button_down(4, 5.0, 5.0, ms(1));
    ptr.move_to(6.0, 6.0, ms(2));
    ptr.move_to(7.0, 7.0, ms(3));
    assert_eq!(ptr.blur(ms(4)), Disposition::Queued);
    assert_eq!(
        drain(&mut ptr),
        [
            p(5, 5, 1),
            p(5, 5, 0x101),
            p(6, 6, 0x101),
            p(7, 7, 0x101),
            p(7, 7, 0)
        ]
    );
    assert_eq!(ptr.mask(), 0);
    assert_eq!(ptr.blur(ms(5)), Disposition::Deferred, "nothing to release");
}

#[test]
fn coordinates_are_clamped_to_the_framebuffer_and_follow_resizes() {
    let mut ptr = Pointer::new(800, 600);
    ptr.move_to(1e12, -1e12, ms(0));
    ptr.move_to(-0.5, 599.9, ms(100));
    ptr.set_size(100, 50);
    ptr.button_down(0, 700.0, 500.0, ms(200));
    ptr.set_size(0, 0);
    ptr.button_up(0, 700.0, 500.0, ms(300));
    assert_eq!(
        drain(&mut ptr),
        [p(799, 0, 0), p(0, 599, 0), p(99, 49, 1), p(0, 0, 0)]
    );
    // Infinite positions are not clamped but refused: they carry no position.
    assert_eq!(
        ptr.move_to(f64::INFINITY, 1.0, ms(400)),
        Disposition::Ignored(Ignored::NonFinite)
    );
}

#[test]
fn pending_move_is_clamped_when_the_framebuffer_shrinks() {
    let mut ptr = Pointer::new(800, 600);
    ptr.move_to(1.0, 1.0, ms(0));
    ptr.move_to(700.0, 500.0, ms(1));
    ptr.set_size(100, 100);
    ptr.handle_timeout(ms(17));
    assert_eq!(drain(&mut ptr), [p(1, 1, 0), p(99, 99, 0)]);
}

#[test]
fn transform_scales_and_offsets() {
    let mut ptr = Pointer::new(800, 600);
    let t = Transform {
        scale: 2.0,
        offset_x: 100.0,
        offset_y: 50.0,
    };
    assert_eq!(ptr.set_transform(t), Ok(()));
    let bad = Transform { scale: 0.0, ..t };
    assert_eq!(ptr.set_transform(bad), Err(Ignored::InvalidTransform));
    let nan = Transform {
        offset_x: f64::NAN,
        ..t
    };
    assert_eq!(ptr.set_transform(nan), Err(Ignored::InvalidTransform));
    ptr.button_down(0, 10.25, 20.75, ms(0));
    assert_eq!(drain(&mut ptr), [p(120, 91, 1)]);
}

#[test]
fn time_going_backwards_counts_as_no_time() {
    let mut ptr = Pointer::new(800, 600);
    ptr.move_to(1.0, 1.0, ms(1000));
    assert_eq!(ptr.move_to(2.0, 2.0, ms(10)), Disposition::Deferred);
    assert_eq!(ptr.poll_timeout(), Some(ms(1017)));
    ptr.handle_timeout(ms(0));
    assert_eq!(drain(&mut ptr), [p(1, 1, 0)]);
    ptr.handle_timeout(ms(1017));
    assert_eq!(drain(&mut ptr), [p(2, 2, 0)]);
}

#[test]
fn extreme_timestamps_do_not_overflow() {
    let mut ptr = Pointer::new(800, 600);
    let max = core::time::Duration::MAX;
    ptr.move_to(1.0, 1.0, max - ms(5));
    assert_eq!(ptr.move_to(2.0, 2.0, max - ms(4)), Disposition::Deferred);
    // The deadline saturates at the end of time rather than overflowing.
    assert_eq!(ptr.poll_timeout(), Some(max));
    ptr.handle_timeout(max);
    assert_eq!(drain(&mut ptr), [p(1, 1, 0), p(2, 2, 0)]);
}
