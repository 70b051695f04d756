//! The runtime parameter: a timer that gives the stack deadlines.

use core::future::Future;
use core::time::Duration;

#[cfg(feature = "async-io")]
mod async_io;
pub(crate) mod budget;
#[cfg(feature = "embassy-time")]
mod embassy;
#[cfg(feature = "tokio")]
mod tokio;
#[cfg(feature = "test-util")]
mod virtual_clock;

#[cfg(feature = "async-io")]
pub use async_io::AsyncIoTimer;
pub use budget::{Budget, Soft};
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
/// Implement it for any other runtime in a few lines. Code generic over a
/// stack's timer bounds it with [`Clock`] rather than `Timer`, so that it
/// also takes the default, [`NoTimer`].
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

    /// Re-arms `sleep` (pending or completed) to complete after `duration`
    /// instead: the run calls it when the earliest deadline it waits for
    /// changes, rather than making a new sleep.
    ///
    /// The default replaces it with a new [`sleep`](Self::sleep). Override
    /// it when the runtime re-arms a sleep in place, as tokio's
    /// `Sleep::reset` does: [`TokioTimer`] then allocates once per run, not
    /// once per deadline.
    fn reset(&self, sleep: &mut Self::Sleep, duration: Duration) {
        *sleep = self.sleep(duration);
    }
}

/// The default runtime parameter: no timer.
///
/// A stack with `NoTimer` has no timeout API at all (calling
/// [`Registered::timeout`](crate::Registered::timeout) or
/// [`Run::within`](crate::Run::within) on it does not compile), and its
/// report carries no timings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTimer;

pub use clock::Clock;

mod clock {
    use super::{Duration, NoTimer, Timer};
    use core::fmt::Debug;
    use core::future::Future;

    /// The bound on a stack's timer parameter: every [`Timer`], and
    /// [`NoTimer`].
    ///
    /// Name it to write code generic over the timer, such as a helper that
    /// registers a component's cleanups on whatever stack it is given. It is
    /// sealed: implement [`Timer`] for your runtime's clock instead, and the
    /// type is a `Clock` too. Its items are what a run asks of the parameter;
    /// code outside the crate has no need to call them. Its associated types
    /// are what each registered callback keeps of its timing: zero-sized for
    /// [`NoTimer`], so a stack pays for timeouts and start times only when
    /// it has a clock to measure them.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::time::Duration;
    /// use teardown_stack::{Clock, Teardown, Timer};
    ///
    /// /// Brings the store up and registers its release on any stack.
    /// fn register<const N: usize, R: Clock>(teardown: &mut Teardown<'static, N, R>) {
    ///     teardown.push("store", async { /* store.close().await */ }).unwrap();
    /// }
    ///
    /// // A stack without a timer (the default, `NoTimer`)...
    /// let mut plain = Teardown::<4>::new();
    /// register(&mut plain);
    ///
    /// // ...and one on a runtime's timer (here one of the caller's own).
    /// #[derive(Clone, Copy)]
    /// struct Ticks;
    /// impl Timer for Ticks {
    ///     type Sleep = core::future::Ready<()>;
    ///     fn now(&self) -> Duration {
    ///         Duration::ZERO
    ///     }
    ///     fn sleep(&self, _: Duration) -> Self::Sleep {
    ///         core::future::ready(())
    ///     }
    /// }
    /// let mut timed = Teardown::<4, _>::with_timer(Ticks);
    /// register(&mut timed);
    ///
    /// assert!(futures_lite::future::block_on(plain.run()).is_clean());
    /// assert!(futures_lite::future::block_on(timed.run()).is_clean());
    /// ```
    ///
    /// With the `test-util` feature the same helper takes a stack on a
    /// [`VirtualClock`](crate::VirtualClock):
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use teardown_stack::{Clock, Teardown, VirtualClock};
    ///
    /// fn register<const N: usize, R: Clock>(teardown: &mut Teardown<'static, N, R>) {
    ///     teardown.push("store", async {}).unwrap();
    /// }
    ///
    /// let clock = VirtualClock::new();
    /// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    /// register(&mut teardown);
    /// assert!(clock.block_on(teardown.run()).is_clean());
    /// # }
    /// ```
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a timer parameter of a teardown stack",
        note = "implement `teardown_stack::Timer` for a runtime's clock; `NoTimer` is the stack without one",
        note = "code generic over the timer bounds it with `teardown_stack::Clock`, which `NoTimer` and every `Timer` implement"
    )]
    pub trait Clock: sealed::Sealed {
        /// Whether there is a timer.
        const TIMED: bool;
        /// The sleep future, if there is a timer.
        type Sleep: Future<Output = ()> + Unpin;
        /// A cell's own time budget: `Option<Duration>` with a timer,
        /// nothing without.
        type Timeout: Copy + Default + Debug + PartialEq + Send + Sync + Unpin;
        /// When a callback was first polled: the time with a timer, nothing
        /// without (whether it started is kept beside it).
        type Stamp: Copy + Debug + Default + Send + Sync + Unpin;
        /// What a cell keeps of its registration: its own timeout (with a
        /// timer) and its flags byte, the byte in the timeout's padding, so
        /// that a timed cell pays nothing for it.
        type Meta: Copy + Debug + Send + Sync + Unpin;
        /// A cell's meta with no timeout and `flags`.
        fn meta_with(flags: u8) -> Self::Meta;
        /// The own timeout a cell keeps, if one was set.
        fn meta_timeout(meta: &Self::Meta) -> Option<Duration>;
        /// Sets the own timeout a cell keeps (with a timer).
        fn set_meta_timeout(meta: &mut Self::Meta, timeout: Duration);
        /// A cell's flags.
        fn meta_flags(meta: &Self::Meta) -> u8;
        /// A cell's flags, to change.
        fn meta_flags_mut(meta: &mut Self::Meta) -> &mut u8;
        /// The current time, if there is a timer.
        fn now(&self) -> Option<Duration>;
        /// A sleep, if there is a timer.
        fn sleep(&self, duration: Duration) -> Option<Self::Sleep>;
        /// The current time, as a cell keeps it.
        fn stamp(&self) -> Self::Stamp;
        /// The time of a stamp, if there is a timer.
        fn time_of(stamp: Self::Stamp) -> Option<Duration>;
        /// The budget of a timeout, if one was set.
        fn budget_of(timeout: Self::Timeout) -> Option<Duration>;
        /// A span of time as a cell keeps it: nothing without a timer.
        fn span(span: Option<Duration>) -> Self::Timeout;
        /// No span (no timeout, no time taken).
        const NO_SPAN: Self::Timeout;
        /// Re-arms a sleep this clock made.
        fn reset(&self, sleep: &mut Self::Sleep, duration: Duration);
    }

    /// A cell's own timeout and flags, with a timer: a `Duration`'s two
    /// fields, no timeout being nanoseconds out of range, and the flags in
    /// what would be padding.
    #[doc(hidden)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct TimedMeta {
        secs: u64,
        /// [`NO_TIMEOUT`] when none was set.
        nanos: u32,
        flags: u8,
    }

    /// [`TimedMeta::nanos`] without a timeout: no `Duration` has it.
    const NO_TIMEOUT: u32 = u32::MAX;

    impl<T: Timer> Clock for T {
        const TIMED: bool = true;
        const NO_SPAN: Option<Duration> = None;
        type Sleep = T::Sleep;
        type Timeout = Option<Duration>;
        type Stamp = Duration;
        type Meta = TimedMeta;

        fn meta_with(flags: u8) -> TimedMeta {
            TimedMeta {
                secs: 0,
                nanos: NO_TIMEOUT,
                flags,
            }
        }

        fn meta_timeout(meta: &TimedMeta) -> Option<Duration> {
            (meta.nanos != NO_TIMEOUT).then(|| Duration::new(meta.secs, meta.nanos))
        }

        fn set_meta_timeout(meta: &mut TimedMeta, timeout: Duration) {
            meta.secs = timeout.as_secs();
            meta.nanos = timeout.subsec_nanos();
        }

        fn meta_flags(meta: &TimedMeta) -> u8 {
            meta.flags
        }

        fn meta_flags_mut(meta: &mut TimedMeta) -> &mut u8 {
            &mut meta.flags
        }

        fn now(&self) -> Option<Duration> {
            Some(Timer::now(self))
        }

        fn sleep(&self, duration: Duration) -> Option<T::Sleep> {
            Some(Timer::sleep(self, duration))
        }

        fn stamp(&self) -> Duration {
            Timer::now(self)
        }

        fn time_of(stamp: Duration) -> Option<Duration> {
            Some(stamp)
        }

        fn budget_of(timeout: Option<Duration>) -> Option<Duration> {
            timeout
        }

        fn span(span: Option<Duration>) -> Option<Duration> {
            span
        }

        fn reset(&self, sleep: &mut T::Sleep, duration: Duration) {
            Timer::reset(self, sleep, duration);
        }
    }

    impl Clock for NoTimer {
        const TIMED: bool = false;
        const NO_SPAN: () = ();
        type Sleep = core::future::Pending<()>;
        type Timeout = ();
        type Stamp = ();
        type Meta = u8;

        fn meta_with(flags: u8) -> u8 {
            flags
        }

        fn meta_timeout(_: &u8) -> Option<Duration> {
            None
        }

        fn set_meta_timeout(_: &mut u8, _: Duration) {}

        fn meta_flags(flags: &u8) -> u8 {
            *flags
        }

        fn meta_flags_mut(flags: &mut u8) -> &mut u8 {
            flags
        }

        fn now(&self) -> Option<Duration> {
            None
        }

        fn sleep(&self, _: Duration) -> Option<Self::Sleep> {
            None
        }

        fn stamp(&self) {}

        fn time_of((): ()) -> Option<Duration> {
            None
        }

        fn budget_of((): ()) -> Option<Duration> {
            None
        }

        fn span(_: Option<Duration>) {}

        fn reset(&self, _: &mut Self::Sleep, _: Duration) {}
    }

    mod sealed {
        use super::{NoTimer, Timer};

        /// Keeps [`Clock`](super::Clock) to the types above.
        pub trait Sealed {}

        impl<T: Timer> Sealed for T {}

        impl Sealed for NoTimer {}
    }
}
