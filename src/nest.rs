//! Nesting: a whole stack registered on another as one callback.

use core::fmt;
use core::time::Duration;

use crate::callback::Cleanup;
use crate::fmt::Span;
use crate::timer::Clock;
use crate::{Outcome, Report, Teardown, Timer};

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// Turns the whole stack into one cleanup, to register on another stack:
    /// the way an application's teardown joins its framework's.
    ///
    /// When the parent reaches it, the nested stack runs in its own order,
    /// with its own timeouts, isolation and log lines (each failure logged as
    /// it happens). It completes in the parent's report when every one of
    /// its callbacks completed, and fails otherwise, with a
    /// [`NestedFailure`] whose message names each callback that failed,
    /// panicked, timed out or was skipped. A timeout the parent gives it
    /// bounds the whole nested run; if the parent cuts it off, the nested
    /// stack is dropped with its unfinished callbacks, and a warning names
    /// them.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::{Outcome, Teardown};
    ///
    /// let mut app = Teardown::<4>::new();
    /// app.push("cache", async {}).unwrap();
    /// app.push("webhooks", async { Err::<(), _>("timeout") }).unwrap();
    ///
    /// let mut framework = Teardown::<8>::new();
    /// framework.push("store", async {}).unwrap();
    /// framework.push("app", app.into_cleanup()).unwrap();
    /// framework.push("server", async {}).unwrap();
    ///
    /// let report = futures_lite::future::block_on(framework.run());
    /// let order: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    /// assert_eq!(order, ["server", "app", "store"]);
    /// let Outcome::Failed(message) = report.records()[1].outcome() else { panic!() };
    /// assert_eq!(message, "\"webhooks\" failed; 1 of 2 completed");
    /// ```
    pub async fn into_cleanup(mut self) -> Result<(), NestedFailure<N>> {
        debug!("running a nested stack of {} callback(s)", self.len());
        nested(self.run().await)
    }
}

impl<'a, const N: usize, R: Timer, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// [`into_cleanup`](Self::into_cleanup), with the nested run bounded by
    /// `budget` (see [`Run::within`](crate::Run::within)).
    ///
    /// Unlike a timeout the parent gives the nested step, which drops the
    /// whole nested run when it fires, the nested run then keeps its own
    /// deadline: a hung callback is cut off and the rest are skipped, each
    /// reported by name in the [`NestedFailure`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use core::time::Duration;
    /// use teardown_stack::{Outcome, Teardown, VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let mut app = Teardown::<4, _>::with_timer(clock.clone());
    /// app.push("cache", async {}).unwrap();
    /// app.push("webhooks", core::future::pending::<()>()).unwrap();
    ///
    /// let mut framework = Teardown::<4, _>::with_timer(clock.clone());
    /// framework.push("app", app.into_cleanup_within(Duration::from_secs(2))).unwrap();
    /// let report = clock.block_on(framework.run());
    /// let Outcome::Failed(message) = report.records()[0].outcome() else { panic!() };
    /// assert_eq!(message, "\"webhooks\" timed out, \"cache\" skipped; 0 of 2 completed");
    /// # }
    /// ```
    pub async fn into_cleanup_within(mut self, budget: Duration) -> Result<(), NestedFailure<N>> {
        debug!(
            "running a nested stack of {} callback(s) within {:?}",
            self.len(),
            Span(budget)
        );
        nested(self.run().within(budget).await)
    }
}

/// The nested step's outcome, from its run's report.
fn nested<const N: usize>(report: &Report<N>) -> Result<(), NestedFailure<N>> {
    if report.is_clean() {
        Ok(())
    } else {
        Err(NestedFailure {
            report: report.clone(),
        })
    }
}

/// A nested stack (see [`Teardown::into_cleanup`]) in which some callback
/// did not complete.
///
/// `Display` names each one with how it ended, then counts
/// (`"db" failed, "cache" timed out; 3 of 5 completed`): that is the
/// message the parent's report keeps (whole with `alloc`, else cut to
/// [`MESSAGE_CAPACITY`](crate::MESSAGE_CAPACITY) bytes) and its log line
/// shows in full. The nested run's whole report is
/// [`report`](Self::report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NestedFailure<const N: usize> {
    report: Report<N>,
}

impl<const N: usize> NestedFailure<N> {
    /// The nested run's report.
    #[must_use]
    pub fn report(&self) -> &Report<N> {
        &self.report
    }
}

impl<const N: usize> fmt::Display for NestedFailure<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, record) in self.report.failures().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let how = match record.outcome() {
                Outcome::Failed(_) => "failed",
                Outcome::Panicked(_) => "panicked",
                Outcome::TimedOut { .. } => "timed out",
                Outcome::Skipped => "skipped",
                // A failure is never completed; `Outcome` may grow.
                _ => "did not complete",
            };
            write!(f, "{:?} {how}", record.name())?;
        }
        write!(
            f,
            "; {} of {} completed",
            self.report.completed(),
            self.report.len()
        )
    }
}

impl<const N: usize> core::error::Error for NestedFailure<N> {}
