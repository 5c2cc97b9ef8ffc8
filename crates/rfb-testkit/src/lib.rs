//! Internal test harness for the RFB workspace.
//!
//! Integration tests compare the pixels our VNC client decodes with what a real X server holds.
//! This crate supplies both sides of that comparison:
//!
//! * [`harness`]: the `rfb-core` client against a scripted in-memory server with a virtual
//!   clock, for deterministic protocol tests;
//! * [`image::Image`], an RGBA8 buffer with comparison helpers and PNG input and output;
//! * readers and writers for the dump formats the X tools speak: [`xwd`] (X Window Dump, what
//!   `xwd` writes and `xwud` shows) and [`ppm`] (binary P6);
//! * [`pattern`]: deterministic test images with many distinct colours;
//! * [`net`]: free loopback ports and bounded waits for a listener;
//! * [`peer`]: "is this tool installed?" checks that skip visibly outside CI and fail in CI;
//! * [`scripted`]: a Python RFB server for security types no Debian server offers;
//! * [`tempdir`]: per-test temporary directories, removed when the test passes and kept (for
//!   a look at the logs) when it fails;
//! * [`xvnc`]: one TigerVNC `Xvnc` per test on loopback, with X helpers (root colour, showing an
//!   image or an xterm, dumping the root window) and cleanup of every process it started.
//!
//! Typical use in an integration test:
//!
//! ```no_run
//! use rfb_testkit::xvnc::{Xvnc, XvncOptions};
//!
//! let Some(x) = Xvnc::start_or_skip(XvncOptions::new(320, 240)) else { return };
//! x.set_root_solid("#336699");
//! let root = x.xwd_root();
//! assert_eq!(root.pixel(0, 0), [0x33, 0x66, 0x99, 255]);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod decode;
pub mod harness;
pub mod image;
pub mod net;
pub mod pattern;
pub mod peer;
pub mod ppm;
pub mod qemu;
pub mod replay;
pub mod scripted;
pub mod tempdir;
mod time;
pub mod x11vnc;
pub mod xvnc;
pub mod xwd;

pub use image::Image;

/// Returns from the enclosing function unless every named tool is on `PATH`.
///
/// Each missing tool is reported by [`peer::require`]: outside CI a visible `SKIPPED:` line on
/// stderr, inside CI (`CI=true`) a panic naming the package to install.
///
/// ```no_run
/// #[test]
/// fn shows_an_image() {
///     rfb_testkit::skip_unless_tools!("xwd", "xwud");
///     // ... the rest of the test runs only when both tools exist
/// }
/// ```
#[macro_export]
macro_rules! skip_unless_tools {
    ($($tool:expr),+ $(,)?) => {
        if !$crate::peer::require_all(&[$($tool),+]) {
            return;
        }
    };
}
