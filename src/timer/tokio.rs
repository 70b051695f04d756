//! [`Timer`] for tokio.

use core::pin::Pin;
use core::time::Duration;

use alloc::boxed::Box;

use super::Timer;

/// A [`Timer`] on tokio's time driver (`tokio::time`): needs a tokio runtime
/// with time enabled, and follows tokio's paused clock in tests.
///
/// A run boxes one `tokio::time::Sleep` and re-arms it with
/// `Sleep::reset` whenever the deadline it waits for changes.
#[derive(Clone, Copy, Debug)]
pub struct TokioTimer {
    origin: tokio::time::Instant,
}

impl TokioTimer {
    /// A timer whose clock starts now. Call it inside a tokio runtime.
    #[must_use]
    pub fn new() -> Self {
        TokioTimer {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioTimer {
    fn default() -> Self {
        Self::new()
    }
}

impl Timer for TokioTimer {
    /// Boxed: `tokio::time::Sleep` is `!Unpin`.
    type Sleep = Pin<Box<tokio::time::Sleep>>;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Self::Sleep {
        Box::pin(tokio::time::sleep(duration))
    }

    /// Re-arms the boxed sleep in place: no allocation.
    fn reset(&self, sleep: &mut Self::Sleep, duration: Duration) {
        sleep.as_mut().reset(deadline_after(duration));
    }
}

/// `now + duration`, or, past what an `Instant` holds, as far ahead as
/// `tokio::time::sleep` itself goes (about 30 years).
fn deadline_after(duration: Duration) -> tokio::time::Instant {
    const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);
    let now = tokio::time::Instant::now();
    now.checked_add(duration).unwrap_or(now + FAR)
}
