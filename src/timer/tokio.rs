//! [`Timer`] for tokio.

use core::pin::Pin;
use core::time::Duration;

use alloc::boxed::Box;

use super::Timer;

/// A [`Timer`] on tokio's time driver (`tokio::time`): needs a tokio runtime
/// with time enabled, and follows tokio's paused clock in tests.
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
}
