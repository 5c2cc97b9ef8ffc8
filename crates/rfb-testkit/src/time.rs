//! The one place this crate reads the clock.
//!
//! The workspace `clippy.toml` bans `Instant::now` because the core crates must take time from
//! their driver. The testkit *is* a driver (it waits for real processes), so it reads the clock,
//! but only here, so the exception stays visible and small.

use std::time::{Duration, Instant};

/// A point in time after which a bounded wait gives up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Instant);

impl Deadline {
    /// A deadline `timeout` from now.
    #[allow(
        clippy::disallowed_methods,
        reason = "the testkit drives real processes and needs wall-clock timeouts"
    )]
    pub(crate) fn after(timeout: Duration) -> Self {
        Self(Instant::now() + timeout)
    }

    /// Time left before the deadline, zero once it has passed.
    #[allow(
        clippy::disallowed_methods,
        reason = "the testkit drives real processes and needs wall-clock timeouts"
    )]
    pub(crate) fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// Whether the deadline has passed.
    pub(crate) fn expired(self) -> bool {
        self.remaining().is_zero()
    }
}
