//! Events for any sink: what a run tells an [`Observer`] as it goes (with the
//! `observer` feature).

#[cfg(feature = "observer")]
use core::time::Duration;

#[cfg(feature = "observer")]
use crate::report::name::Name;
#[cfg(feature = "observer")]
use crate::report::view::{Record, Report};

/// The observer a stack tells, if any; without the feature, nothing at
/// all (a zero-sized marker), so that no run tests for one.
#[cfg(feature = "observer")]
pub(crate) type Watch<'o> = Option<&'o dyn Observer>;
/// The observer a stack tells: none without the `observer` feature.
#[cfg(not(feature = "observer"))]
pub(crate) type Watch<'o> = core::marker::PhantomData<&'o ()>;

/// No observer.
#[inline(always)]
pub(crate) const fn unwatched<'o>() -> Watch<'o> {
    #[cfg(feature = "observer")]
    return None;
    #[cfg(not(feature = "observer"))]
    core::marker::PhantomData
}

/// Whether there is an observer to tell.
#[inline(always)]
pub(crate) fn watched(watch: Watch<'_>) -> bool {
    #[cfg(feature = "observer")]
    return watch.is_some();
    #[cfg(not(feature = "observer"))]
    {
        let _ = watch;
        false
    }
}

/// What a run tells its [`Observer`], as it happens (with the `observer`
/// feature).
///
/// Each borrows from the stack for the call only: copy out what you keep
/// (a name's text, a record's outcome and times).
#[cfg(feature = "observer")]
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Event<'e> {
    /// A run began (its first poll).
    RunStarted {
        /// The callbacks it has to run.
        pending: usize,
        /// Its budget, from [`Run::within`](crate::Run::within), with a
        /// timer.
        within: Option<Duration>,
    },
    /// A callback was polled for the first time.
    Started {
        /// Its name.
        name: &'e Name,
        /// Whether it runs in a stage of several, with the others.
        concurrent: bool,
    },
    /// A callback ended: completed, failed, panicked, timed out or skipped.
    Ended {
        /// Its record, as the report will show it.
        record: Record<'e>,
        /// How many of the run's callbacks have ended, this one included.
        done: usize,
        /// How many the run has to run, as in [`Event::RunStarted`].
        pending: usize,
        /// The time left before the run's deadline, with a timer and a
        /// deadline.
        left: Option<Duration>,
    },
    /// The run completed.
    RunEnded {
        /// Its report.
        report: Report<'e>,
    },
}

/// Receives a run's [`Event`]s: register one with `Teardown::observe`.
///
/// Called on the run's own task, in the middle of the run: it must return
/// quickly and must not block (count, store a summary, feed a watchdog,
/// send a datagram). It allocates nothing of the crate's, so it works
/// without an allocator.
///
/// `Sync`, since a stack may cross threads with the observer it holds.
///
/// # Examples
///
/// ```
/// use core::sync::atomic::{AtomicUsize, Ordering};
/// use teardown_stack::{Event, Observer, Teardown};
///
/// struct Ended(AtomicUsize);
///
/// impl Observer for Ended {
///     fn event(&self, event: Event<'_>) {
///         if let Event::Ended { .. } = event {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
///
/// static ENDED: Ended = Ended(AtomicUsize::new(0));
/// let mut teardown = Teardown::<4>::new();
/// teardown.observe(&ENDED);
/// teardown.push_fn("store", || async {}).unwrap();
/// teardown.push_fn("server", || async {}).unwrap();
/// futures_lite::future::block_on(teardown.run());
/// assert_eq!(ENDED.0.load(Ordering::Relaxed), 2);
/// ```
#[cfg(feature = "observer")]
pub trait Observer: Sync {
    /// One event of a run.
    fn event(&self, event: Event<'_>);
}

/// Both observers, in order: one stack told to two sinks (say systemd and
/// `tracing`); nest pairs for more.
#[cfg(feature = "observer")]
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn event(&self, event: Event<'_>) {
        self.0.event(event);
        self.1.event(event);
    }
}

/// An observer behind a reference tells what it is given, so that a pair
/// can hold statics: `(&SYSTEMD, &TRACING)`.
#[cfg(feature = "observer")]
impl<O: Observer + ?Sized> Observer for &O {
    fn event(&self, event: Event<'_>) {
        (**self).event(event);
    }
}
