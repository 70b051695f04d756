//! What a cleanup sees of its time: the [`Budget`] a `push_with` callback
//! receives when it starts, and its soft deadline as a future.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use crate::timer::{Clock, NoTimer};

/// The deadlines a run gives a callback when it starts, on the timer's
/// clock: past `hard` it is let go; at `soft` its budget's
/// [`soft`](Budget::soft) future fires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Deadlines {
    pub(crate) hard: Option<Duration>,
    pub(crate) soft: Option<Duration>,
}

/// A callback's time, as the run gave it when the callback started: what
/// a closure registered with `push_with` (and its inline and pinned
/// forms) receives.
///
/// The *hard* deadline is the sooner of the callback's own timeout
/// (counted from its start) and the run's deadline (less, for a callback
/// that is not [critical](crate::Registered::critical), the time kept in
/// reserve for the critical ones still to run): past it the run lets the
/// callback go, as any timed-out callback. The *soft* deadline comes a
/// margin before it ([`Run::soft_margin`](crate::Run::soft_margin)): the
/// time to write a smaller checkpoint, or to send a last message, rather
/// than lose everything to the cut.
///
/// On a stack without a timer, or when nothing bounds the callback, the
/// budget is unbounded: [`left`](Self::left) is `None` and
/// [`soft`](Self::soft) never fires.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use core::time::Duration;
/// use teardown_stack::{Teardown, Timer, VirtualClock};
///
/// let clock = VirtualClock::new();
/// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
/// let c = clock.clone();
/// teardown
///     .push_with("flush", move |budget| async move {
///         assert_eq!(budget.left(), Some(Duration::from_secs(10)));
///         // Write everything, unless the soft deadline comes first.
///         let full = c.sleep(Duration::from_secs(60));
///         futures_lite::future::or(full, budget.soft()).await;
///         assert_eq!(budget.left(), Some(Duration::from_secs(2)));
///     })
///     .unwrap()
///     .timeout(Duration::from_secs(10));
/// let run = teardown.run().soft_margin(Duration::from_secs(2));
/// let report = clock.block_on(run);
/// assert!(report.is_clean());
/// assert!(report.get(0).unwrap().after_soft());
/// # }
/// ```
#[derive(Clone)]
pub struct Budget<R: Clock = NoTimer> {
    timer: R,
    deadlines: Deadlines,
}

impl<R: Clock> Budget<R> {
    pub(crate) fn new(timer: R, deadlines: Deadlines) -> Self {
        Budget { timer, deadlines }
    }

    /// A budget that nothing bounds, read on `timer`: what a callback
    /// gets on a stack without a timer, and what to give a closure handed
    /// back by a full stack to call it yourself.
    #[must_use]
    pub fn unbounded(timer: R) -> Self {
        Budget::new(timer, Deadlines::default())
    }

    /// The time left until the hard deadline, now; `None` when unbounded.
    /// Zero once it has passed.
    #[must_use]
    pub fn left(&self) -> Option<Duration> {
        until(&self.timer, self.deadlines.hard)
    }

    /// The time left until the soft deadline, now; `None` when there is
    /// none. Zero once it has passed.
    #[must_use]
    pub fn soft_left(&self) -> Option<Duration> {
        until(&self.timer, self.deadlines.soft)
    }

    /// The hard deadline on the timer's clock (what [`Timer::now`]
    /// returns), if there is one.
    ///
    /// [`Timer::now`]: crate::Timer::now
    #[must_use]
    pub fn deadline(&self) -> Option<Duration> {
        self.deadlines.hard
    }

    /// The soft deadline on the timer's clock, if there is one.
    #[must_use]
    pub fn soft_deadline(&self) -> Option<Duration> {
        self.deadlines.soft
    }

    /// Whether nothing bounds the callback: no hard deadline.
    #[must_use]
    pub fn is_unbounded(&self) -> bool {
        self.deadlines.hard.is_none()
    }

    /// A future that completes at the soft deadline (at once if it has
    /// passed), and never without one. Race it against the work: on the
    /// soft signal, finish with less.
    pub fn soft(&self) -> Soft<R> {
        let sleep = match (self.deadlines.soft, self.timer.now()) {
            (Some(soft), Some(now)) if soft > now => self.timer.sleep(soft - now),
            (Some(_), Some(_)) => {
                return Soft {
                    sleep: None,
                    due: true,
                };
            }
            _ => None,
        };
        Soft { sleep, due: false }
    }
}

/// The time from now until `deadline`, on `timer`.
fn until<R: Clock>(timer: &R, deadline: Option<Duration>) -> Option<Duration> {
    let deadline = deadline?;
    Some(deadline.saturating_sub(timer.now()?))
}

impl<R: Clock> fmt::Debug for Budget<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("deadline", &self.deadlines.hard)
            .field("soft_deadline", &self.deadlines.soft)
            .finish_non_exhaustive()
    }
}

/// The future of [`Budget::soft`]: completes at the soft deadline.
#[must_use = "futures do nothing unless polled"]
pub struct Soft<R: Clock = NoTimer> {
    sleep: Option<R::Sleep>,
    /// The deadline had passed when it was made.
    due: bool,
}

impl<R: Clock> Future for Soft<R> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.due {
            return Poll::Ready(());
        }
        match &mut self.sleep {
            Some(sleep) => Pin::new(sleep).poll(cx),
            None => Poll::Pending,
        }
    }
}

impl<R: Clock> fmt::Debug for Soft<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Soft")
            .field("fires", &(self.due || self.sleep.is_some()))
            .finish()
    }
}
