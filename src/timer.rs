//! The runtime parameter: a timer that gives the stack deadlines.

use core::future::Future;
use core::time::Duration;

#[cfg(feature = "async-io")]
mod async_io;
#[cfg(feature = "embassy-time")]
mod embassy;
#[cfg(feature = "tokio")]
mod tokio;
#[cfg(feature = "test-util")]
mod virtual_clock;

#[cfg(feature = "async-io")]
pub use async_io::AsyncIoTimer;
#[cfg(feature = "embassy-time")]
pub use embassy::EmbassyTimer;
#[cfg(feature = "tokio")]
pub use tokio::TokioTimer;
#[cfg(feature = "test-util")]
pub use virtual_clock::{VirtualClock, VirtualSleep};

/// A monotonic clock and a way to sleep on it: what a stack needs for
/// timeouts, deadlines and timings.
///
/// Implementations ship behind features: [`AsyncIoTimer`] (`async-io`, for
/// smol and async-executor), [`TokioTimer`] (`tokio`), [`EmbassyTimer`]
/// (`embassy-time`), and the deterministic [`VirtualClock`] (`test-util`) for
/// tests.
/// Implement it for any other runtime in a few lines.
pub trait Timer {
    /// A future that completes once the duration given to
    /// [`sleep`](Self::sleep) has passed.
    ///
    /// `Unpin`, so the stack's run stays `Unpin` and needs no unsafe code:
    /// box a runtime's `!Unpin` sleep (as [`TokioTimer`] does).
    type Sleep: Future<Output = ()> + Unpin;

    /// Time elapsed since a fixed, arbitrary origin; never decreases.
    fn now(&self) -> Duration;

    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Self::Sleep;
}

/// The default runtime parameter: no timer.
///
/// A stack with `NoTimer` has no timeout API at all (calling
/// [`Registered::timeout`](crate::Registered::timeout) or
/// [`Run::within`](crate::Run::within) on it does not compile), and its
/// report carries no timings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTimer;

pub(crate) use clock::Clock;

mod clock {
    use super::{Duration, NoTimer, Timer};
    use core::future::Future;

    /// What the run needs of its runtime parameter: a [`Timer`], or nothing.
    ///
    /// Not nameable outside the crate; every [`Timer`] and [`NoTimer`]
    /// implement it.
    pub trait Clock {
        /// The sleep future, if there is a timer.
        type Sleep: Future<Output = ()> + Unpin;
        /// The current time, if there is a timer.
        fn now(&self) -> Option<Duration>;
        /// A sleep, if there is a timer.
        fn sleep(&self, duration: Duration) -> Option<Self::Sleep>;
    }

    impl<T: Timer> Clock for T {
        type Sleep = T::Sleep;

        fn now(&self) -> Option<Duration> {
            Some(Timer::now(self))
        }

        fn sleep(&self, duration: Duration) -> Option<T::Sleep> {
            Some(Timer::sleep(self, duration))
        }
    }

    impl Clock for NoTimer {
        type Sleep = core::future::Pending<()>;

        fn now(&self) -> Option<Duration> {
            None
        }

        fn sleep(&self, _: Duration) -> Option<Self::Sleep> {
            None
        }
    }
}
