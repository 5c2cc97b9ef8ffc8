//! Pointer input for RFB clients, sans-IO: DOM mouse, wheel and touch events in,
//! [PointerEvent](https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#pointerevent)s
//! (and, for pinch-zoom, Control key presses) out.
//!
//! - [`buttons`]: DOM `button` / `buttons` → RFB mask bits, and whether a mask needs the
//!   ExtendedMouseButtons pseudo-encoding (-316).
//! - [`Pointer`]: mouse moves throttled to one per [`MOVE_INTERVAL`] (the pending move is
//!   sent before any button or wheel event, or by the timer), buttons, a `buttons` resync,
//!   wheel accumulation ([`wheel`]).
//! - [`Gestures`]: touches → tap, two/three-finger tap, drag, long press, two-finger scroll,
//!   pinch ([`gesture::Recogniser`]) → the same pointer outputs.
//!
//! Nothing here reads a clock: every call takes `now`, a [`core::time::Duration`] since an epoch the
//! driver chooses, and the machines ask for a wake-up with `poll_timeout`. Bad input (NaN or
//! huge values, unknown buttons or touches, too many fingers) is ignored with a reason
//! ([`Ignored`]) or clamped; each event does bounded work and queues bounded output.
//!
//! ```
//! use core::time::Duration;
//! use rfb_input::{Output, Pointer, PointerEvent};
//!
//! let ms = Duration::from_millis;
//! let mut pointer = Pointer::new(800, 600);
//! pointer.move_to(10.0, 10.0, ms(0));
//! pointer.move_to(20.0, 20.0, ms(5)); // within 17 ms: held back…
//! pointer.button_down(0, 30.0, 30.0, ms(8)); // …and sent before the press
//! pointer.button_up(0, 30.0, 30.0, ms(90));
//! pointer.wheel(0.0, 120.0, rfb_input::DeltaMode::Pixel, 30.0, 30.0, ms(100)); // 2 steps down
//! let mut sent = Vec::new();
//! while let Some(Output::Pointer(PointerEvent { x, y, mask })) = pointer.poll_output() {
//!     sent.push((x, y, mask)); // the driver sends these as PointerEvents
//! }
//! assert_eq!(
//!     sent,
//!     [
//!         (10, 10, 0), (20, 20, 0), (30, 30, 1), (30, 30, 0),
//!         (30, 30, 16), (30, 30, 0), (30, 30, 16), (30, 30, 0),
//!     ]
//! );
//! assert_eq!(pointer.poll_timeout(), None); // nothing pending
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod buttons;
mod coords;
pub mod gesture;
mod output;
mod pointer;
pub mod wheel;

pub use coords::Transform;
pub use gesture::Gestures;
pub use output::{Disposition, Ignored, KeyAction, Output, PointerEvent};
pub use pointer::{MAX_QUEUED, MOVE_INTERVAL, Pointer};
pub use wheel::DeltaMode;
