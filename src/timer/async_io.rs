//! [`Timer`] for async-io, the reactor under smol and async-executor.

use core::time::Duration;
use std::time::Instant;

use super::Timer;

/// A [`Timer`] on [`async_io::Timer`] and [`std::time::Instant`]: for smol,
/// async-executor and anything else on the async-io reactor.
#[derive(Clone, Copy, Debug)]
pub struct AsyncIoTimer {
    origin: Instant,
}

impl AsyncIoTimer {
    /// A timer whose clock starts now.
    #[must_use]
    pub fn new() -> Self {
        AsyncIoTimer {
            origin: Instant::now(),
        }
    }
}

impl Default for AsyncIoTimer {
    fn default() -> Self {
        Self::new()
    }
}

/// The sleep of an [`AsyncIoTimer`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct AsyncIoSleep(async_io::Timer);

impl core::future::Future for AsyncIoSleep {
    type Output = ();

    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        core::pin::Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

impl Timer for AsyncIoTimer {
    type Sleep = AsyncIoSleep;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> AsyncIoSleep {
        AsyncIoSleep(async_io::Timer::after(duration))
    }

    /// Re-arms the timer in place (`async_io::Timer::set_after`).
    fn reset(&self, sleep: &mut AsyncIoSleep, duration: Duration) {
        sleep.0.set_after(duration);
    }
}
