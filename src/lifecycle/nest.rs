//! Nesting: a whole stack registered on another as one callback.

use core::fmt;
use core::time::Duration;

use crate::fmt::Span;
use crate::report::counts::{Counts, Kind};
use crate::report::message::Texts;
use crate::report::view::Source;
use crate::storage::cleanup::Cleanup;
use crate::storage::records::TakenRecords;
use crate::timer::Clock;
use crate::{NoTimer, Outcome, Record, Report, Teardown, Timer};

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
    /// let Outcome::Failed(message) = report.get(1).unwrap().outcome() else { panic!() };
    /// assert_eq!(message, "\"webhooks\" failed; 1 of 2 completed");
    /// ```
    pub async fn into_cleanup(mut self) -> Result<(), NestedFailure<'a, N, R>> {
        debug!("running a nested stack of {} callback(s)", self.len());
        self.run().await;
        nested(self)
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
    /// let Outcome::Failed(message) = report.get(0).unwrap().outcome() else { panic!() };
    /// assert_eq!(message, "\"webhooks\" timed out, \"cache\" skipped; 0 of 2 completed");
    /// # }
    /// ```
    pub async fn into_cleanup_within(
        mut self,
        budget: Duration,
    ) -> Result<(), NestedFailure<'a, N, R>> {
        debug!(
            "running a nested stack of {} callback(s) within {:?}",
            self.len(),
            Span(budget)
        );
        self.run().within(budget).await;
        nested(self)
    }
}

/// The nested step's outcome: the records of its run, when some callback did
/// not complete.
fn nested<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a>(
    mut stack: Teardown<'a, N, R, C>,
) -> Result<(), NestedFailure<'a, N, R>> {
    if stack.report().is_clean() {
        return Ok(());
    }
    Err(NestedFailure {
        records: TakenRecords::take(&mut stack.cells),
        texts: core::mem::replace(&mut stack.cells.texts, Texts::none()),
        elapsed: R::budget_of(stack.cells.elapsed),
    })
}

/// A nested stack (see [`Teardown::into_cleanup`]) in which some callback
/// did not complete.
///
/// `Display` names each one with how it ended, then counts
/// (`"db" failed, "cache" timed out; 3 of 5 completed`): that is the
/// message the parent's report keeps (whole with `alloc`, else as much as
/// the parent's text buffer holds) and its log line shows in full. It holds
/// the records of the nested run, moved out of the nested stack's cells
/// (nothing of its callbacks, so it is `Send` and `Sync`):
/// [`report`](Self::report) reads them.
pub struct NestedFailure<'a, const N: usize, R: Clock = NoTimer> {
    records: TakenRecords<N, R>,
    texts: Texts<'a>,
    elapsed: Option<Duration>,
}

impl<const N: usize, R: Clock> NestedFailure<'_, N, R> {
    /// The nested run's report.
    #[must_use]
    pub fn report(&self) -> Report<'_> {
        Report::new(self, self.records.counts())
    }
}

impl<const N: usize, R: Clock> Source for NestedFailure<'_, N, R> {
    fn top(&self) -> usize {
        self.records.len()
    }

    fn elapsed(&self) -> Option<Duration> {
        self.elapsed
    }

    fn counts(&self) -> Counts {
        self.records.counts()
    }

    fn next_record(&self, cursor: usize, seq: u32) -> Option<(Record<'_>, usize)> {
        self.records.next_record(cursor, seq, &self.texts)
    }

    fn count(&self, kind: Kind) -> usize {
        self.records.count(kind)
    }
}

impl<const N: usize, R: Clock> fmt::Debug for NestedFailure<'_, N, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NestedFailure")
            .field("report", &self.report())
            .finish()
    }
}

impl<const N: usize, R: Clock> fmt::Display for NestedFailure<'_, N, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.report();
        for (i, record) in report.failures().enumerate() {
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
        write!(f, "; {} of {} completed", report.completed(), report.len())
    }
}

impl<const N: usize, R: Clock> core::error::Error for NestedFailure<'_, N, R> {}
