//! What a run did: one record per callback, in run order.

use core::fmt;
use core::time::Duration;

use crate::report::counts::{Counts, Kind};
use crate::{Message, Name};

/// How one callback ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Outcome<'r> {
    /// Its future completed with `()` or `Ok(())`.
    Completed,
    /// Its future completed with `Err`; the error's text.
    Failed(Message<'r>),
    /// It panicked (caught with the `std` feature); the panic's text.
    Panicked(Message<'r>),
    /// It ran past its budget (its own timeout, or the time the run had left)
    /// and was cancelled: the stack stopped polling it and let it go. A
    /// future the stack owned was dropped then; one registered with
    /// `push_pinned` lives until the caller's binding goes (see
    /// [`Registered::timeout`](crate::Registered::timeout)).
    TimedOut {
        /// The budget it had.
        budget: Duration,
    },
    /// The run's deadline passed before it started: it was never polled, and
    /// the stack let it go. An owned callback was dropped then (a `push_fn`
    /// closure uncalled); one registered with `push_pinned` lives until the
    /// caller's binding goes.
    Skipped,
}

impl<'r> Outcome<'r> {
    /// Whether the callback completed without error.
    #[must_use]
    pub fn is_completed(&self) -> bool {
        matches!(self, Outcome::Completed)
    }

    /// The error's or the panic's text, if the callback did not complete.
    #[must_use]
    pub fn message(&self) -> Option<Message<'r>> {
        match self {
            Outcome::Failed(message) | Outcome::Panicked(message) => Some(*message),
            Outcome::Completed | Outcome::TimedOut { .. } | Outcome::Skipped => None,
        }
    }
}

/// One callback that ran (or was skipped): its name, how it ended, and with
/// a timer how long it took.
///
/// Borrowed from the stack that ran it, like its [`Report`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'r> {
    name: &'r Name,
    outcome: Outcome<'r>,
    elapsed: Option<Duration>,
    started: Option<Duration>,
    concurrent: bool,
    /// [`CRITICAL`], [`SOFTENED`], [`ESCALATED`].
    marks: u8,
}

/// Registered critical.
pub(crate) const CRITICAL: u8 = 1;
/// Its soft deadline passed before it finished.
pub(crate) const SOFTENED: u8 = 2;
/// Dropped by escalation.
pub(crate) const ESCALATED: u8 = 4;

impl<'r> Record<'r> {
    pub(crate) fn new(
        name: &'r Name,
        outcome: Outcome<'r>,
        elapsed: Option<Duration>,
        started: Option<Duration>,
        concurrent: bool,
        marks: u8,
    ) -> Self {
        Record {
            name,
            outcome,
            elapsed,
            started,
            concurrent,
            marks,
        }
    }

    /// Whether it was registered [critical](crate::Registered::critical).
    #[must_use]
    pub fn is_critical(&self) -> bool {
        self.marks & CRITICAL != 0
    }

    /// Whether it finished after its soft deadline (see
    /// [`Run::soft_margin`](crate::Run::soft_margin)) and before its hard
    /// one: it saw the warning and finished in time, cooperatively. One cut
    /// at its hard deadline is [timed out](Outcome::TimedOut) instead.
    #[must_use]
    pub fn after_soft(&self) -> bool {
        self.marks & SOFTENED != 0 && !matches!(self.outcome, Outcome::TimedOut { .. })
    }

    /// Whether an escalation dropped it (see
    /// [`Registered::critical`](crate::Registered::critical)): it was cut
    /// off while it ran (reported [timed out](Outcome::TimedOut), with the
    /// time it had run as its budget) or [skipped](Outcome::Skipped) before
    /// it started.
    #[must_use]
    pub fn is_escalated(&self) -> bool {
        self.marks & ESCALATED != 0
    }

    /// When it started, from the start of the run: its first poll. `None`
    /// on a stack without a timer, and for a skipped callback. One resumed
    /// from a run given up earlier counts from this run's start (`0`).
    #[must_use]
    pub fn started(&self) -> Option<Duration> {
        self.started
    }

    /// Whether it ran in a stage of several, concurrently with the others.
    #[must_use]
    pub fn is_concurrent(&self) -> bool {
        self.concurrent
    }

    /// How long it ran, from its first poll to its end; `None` on a stack
    /// without a timer, and for a skipped callback.
    #[must_use]
    pub fn elapsed(&self) -> Option<Duration> {
        self.elapsed
    }

    /// The callback's name.
    #[must_use]
    pub fn name(&self) -> &'r Name {
        self.name
    }

    /// How it ended.
    #[must_use]
    pub fn outcome(&self) -> Outcome<'r> {
        self.outcome
    }
}

/// What a [`run`](crate::Teardown::run) did: every callback that ran (or was
/// skipped), in the order it finished, with its outcome; with a timer, how
/// long each took and the whole run.
///
/// A view of the stack that ran: each record lives in the cell its callback
/// left, so a report costs no memory of its own and building it allocates
/// nothing. It is `Copy`; read it before the stack is used again (the
/// borrow checker says so). `Display` writes a one-line summary and then
/// one line per callback that did not complete, so `println!("{report}")`
/// tells an operator what went wrong. The alternate form, `{report:#}`,
/// writes the timeline: every callback in run order, with a timer each
/// with its start from the run's and its time, stage members marked, so
/// that the step that ate the grace period stands out:
///
/// ```text
/// teardown: 4 callbacks: 3 completed, 1 timed out, in 4.5s
///   +0ns "server" completed (500ms)
///   +500ms "b" timed out after 2s (2s), in a stage
///   +500ms "a" completed (3s), in a stage
///   +3.5s "store" completed (1s)
/// ```
///
/// # Examples
///
/// ```
/// use teardown_stack::{Outcome, Teardown};
///
/// let mut teardown = Teardown::<4>::new();
/// teardown.push("store", async {}).unwrap();
/// teardown.push("clients", async { Err::<(), _>("connection reset") }).unwrap();
///
/// let report = futures_lite::future::block_on(teardown.run());
/// assert!(!report.is_clean());
/// let first = report.get(0).unwrap();
/// assert_eq!(first.name(), "clients");
/// assert!(matches!(first.outcome(), Outcome::Failed(m) if m == "connection reset"));
/// assert_eq!(
///     report.to_string(),
///     "teardown: 2 callbacks: 1 completed, 1 failed\n  \"clients\" failed: connection reset",
/// );
/// ```
#[derive(Clone, Copy)]
pub struct Report<'r> {
    source: &'r (dyn Source + Sync),
    /// How many records, and how many completed or failed: counted as they
    /// were made.
    counts: Counts,
}

/// Where a report's records are: a stack's cells.
pub(crate) trait Source {
    /// The record numbered `seq` in finish order, looked for first just
    /// below `cursor` (a cell index, counting down, where it usually is),
    /// and the cursor to go on from.
    fn next_record(&self, cursor: usize, seq: u32) -> Option<(Record<'_>, usize)>;
    /// Where to start: one past the top cell.
    fn top(&self) -> usize;
    /// How long the run took, with a timer.
    fn elapsed(&self) -> Option<Duration>;
    /// How many records, and how many completed.
    fn counts(&self) -> Counts;
    /// How many records ended `kind`'s way, without making them.
    fn count(&self, kind: Kind) -> usize;
}

impl<'r> Report<'r> {
    pub(crate) fn new(source: &'r (dyn Source + Sync), counts: Counts) -> Self {
        Report { source, counts }
    }

    /// What the records are read from.
    pub(crate) fn source(&self) -> &'r (dyn Source + Sync) {
        self.source
    }

    /// How many records, and how many completed.
    fn counts(&self) -> Counts {
        self.counts
    }

    /// How long the whole run took, from its first poll; `None` on a stack
    /// without a timer.
    #[must_use]
    pub fn elapsed(&self) -> Option<Duration> {
        self.source.elapsed()
    }

    /// The `index`-th record, in the order they finished.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<Record<'r>> {
        self.records().nth(index)
    }

    /// How many callbacks are recorded (ran or skipped).
    #[must_use]
    pub fn len(&self) -> usize {
        self.counts().recorded as usize
    }

    /// Whether nothing is recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.counts().recorded == 0
    }

    /// How many completed without error.
    #[must_use]
    pub fn completed(&self) -> usize {
        self.counts().completed() as usize
    }

    /// How many returned an error.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.counts().failed as usize
    }

    /// How many panicked.
    #[must_use]
    pub fn panicked(&self) -> usize {
        self.source.count(Kind::Panicked)
    }

    /// How many ran past their budget and were cancelled.
    #[must_use]
    pub fn timed_out(&self) -> usize {
        self.source.count(Kind::TimedOut)
    }

    /// How many were skipped because the run's deadline had passed.
    #[must_use]
    pub fn skipped(&self) -> usize {
        self.source.count(Kind::Skipped)
    }

    /// Whether every recorded callback completed without error.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        let counts = self.counts();
        counts.completed() == counts.recorded
    }

    /// The callbacks that did not complete, in report order.
    pub fn failures(&self) -> impl Iterator<Item = Record<'r>> + 'r {
        self.records()
            .filter(|record| !record.outcome.is_completed())
    }

    /// The counts of every outcome but completion, with the words both
    /// renderings (`Display`, `defmt::Format`) use for them.
    pub(crate) fn unclean_counts(&self) -> [(usize, &'static str); 4] {
        [
            (self.failed(), "failed"),
            (self.panicked(), "panicked"),
            (self.timed_out(), "timed out"),
            (self.skipped(), "skipped"),
        ]
    }
}

/// Two reports are equal when they list the same records in the same order
/// and took the same time.
impl PartialEq for Report<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.counts() == other.counts()
            && self.elapsed() == other.elapsed()
            && self.records().eq(other.records())
    }
}

impl Eq for Report<'_> {}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("records", &self.records())
            .field("elapsed", &self.elapsed())
            .finish()
    }
}
