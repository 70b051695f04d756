//! What an interrupted run had not finished: the callbacks still pending
//! when it stopped, read from the stack's cells as the records are, and
//! the [`Interruption`] that shows them with the report of what finished.

use core::fmt;
use core::time::Duration;

use crate::report::name::Name;
use crate::report::view::Report;

/// Where an interruption's unfinished callbacks are: a stack's cells.
///
/// A trait of its own, not part of the report's source, so that a program
/// that never interrupts a run links none of it.
pub(crate) trait Pending {
    /// Where to start: one past the top cell.
    fn top(&self) -> usize;
    /// The callback still pending just below `cursor` (run order, top
    /// first), and the cursor to go on from; `running` left `None`.
    fn unfinished(&self, cursor: usize) -> Option<(Unfinished<'_>, usize)>;
}

/// What an interrupted run did (see
/// [`Shutdown::Interrupted`](crate::Shutdown::Interrupted)): the report of
/// what finished before the interrupt, its time that until the interrupt
/// (with a timer), and what had not finished.
///
/// `Display` writes the report's summary with the names not finished, and
/// what went wrong; the alternate form `{:#}` the timeline: every callback
/// that finished, in run order, with its start and time, then every one
/// that did not, with its start and how long it had run.
#[derive(Clone, Copy)]
pub struct Interruption<'r> {
    report: Report<'r>,
    pending: &'r (dyn Pending + Sync),
}

impl<'r> Interruption<'r> {
    pub(crate) fn new(report: Report<'r>, pending: &'r (dyn Pending + Sync)) -> Self {
        Interruption { report, pending }
    }

    /// The report of what finished before the interrupt; its
    /// [`elapsed`](Report::elapsed) is the run's time until the interrupt.
    #[must_use]
    pub fn report(&self) -> Report<'r> {
        self.report
    }

    /// What had not finished, in the order the run would have run them
    /// (the interrupted one first), each with when it started and how long
    /// it had run, with a timer.
    pub fn unfinished(&self) -> impl Iterator<Item = Unfinished<'r>> + 'r {
        let pending = self.pending;
        let interrupted_at = self.report.elapsed();
        let mut cursor = pending.top();
        core::iter::from_fn(move || {
            let (mut unfinished, next) = pending.unfinished(cursor)?;
            cursor = next;
            // Not `Option::zip`: at opt-level "s" or "z" rustc shares
            // generic instances between crates, and an instance made here
            // is the one the run's own `zip`s then link, compiled out of
            // their context (12 B more in the size probe).
            unfinished.running = match (unfinished.started, interrupted_at) {
                (Some(started), Some(at)) => Some(at.saturating_sub(started)),
                _ => None,
            };
            Some(unfinished)
        })
    }
}

/// Equal when the reports are, and so is what had not finished.
impl PartialEq for Interruption<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.report == other.report && self.unfinished().eq(other.unfinished())
    }
}

impl Eq for Interruption<'_> {}

impl fmt::Debug for Interruption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct List<'i, 'r>(&'i Interruption<'r>);
        impl fmt::Debug for List<'_, '_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.unfinished()).finish()
            }
        }
        f.debug_struct("Interruption")
            .field("report", &self.report)
            .field("unfinished", &List(self))
            .finish()
    }
}

impl fmt::Display for Interruption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.report.is_empty() {
            f.write_str("teardown: none finished")?;
            if let Some(elapsed) = self.report.elapsed() {
                write!(f, ", in {elapsed:?}")?;
            }
        } else {
            self.report.summary(f)?;
        }
        let count = self.unfinished().count();
        write!(f, "; interrupted, {count} not finished")?;
        for (i, unfinished) in self.unfinished().enumerate() {
            let sep = if i == 0 { ": " } else { ", " };
            write!(f, "{sep}{}", unfinished.name())?;
        }
        if !f.alternate() {
            return self.report.failure_lines(f);
        }
        self.report.timeline(f)?;
        for unfinished in self.unfinished() {
            f.write_str("\n  ")?;
            match unfinished.started() {
                Some(started) => write!(f, "+{started:?} ")?,
                None if !unfinished.has_started() => f.write_str("unstarted ")?,
                None => {}
            }
            write!(f, "{unfinished}")?;
            if unfinished.is_concurrent() {
                f.write_str(", in a stage")?;
            }
        }
        Ok(())
    }
}

/// A callback that an interrupted run had not finished (see
/// [`Interruption::unfinished`]): it is still
/// registered, and a later run resumes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unfinished<'r> {
    pub(crate) name: &'r Name,
    pub(crate) started: Option<Duration>,
    pub(crate) running: Option<Duration>,
    pub(crate) begun: bool,
    pub(crate) concurrent: bool,
}

impl<'r> Unfinished<'r> {
    /// Its name.
    #[must_use]
    pub fn name(&self) -> &'r Name {
        self.name
    }

    /// When it started, from the start of the run (with a timer); `None` if
    /// the run never started it.
    #[must_use]
    pub fn started(&self) -> Option<Duration> {
        self.started
    }

    /// How long it had been running when the run was interrupted (with a
    /// timer); `None` if it had not started.
    #[must_use]
    pub fn running(&self) -> Option<Duration> {
        self.running
    }

    /// Whether the run had started it (polled it at least once), with a
    /// timer or without.
    #[must_use]
    pub fn has_started(&self) -> bool {
        self.begun
    }

    /// Whether it was in a stage of several, run with the others.
    #[must_use]
    pub fn is_concurrent(&self) -> bool {
        self.concurrent
    }
}

/// `"sandboxes" unfinished, running for 2.5s`, or `"store" unfinished`.
impl fmt::Display for Unfinished<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} unfinished", self.name)?;
        match self.running {
            Some(running) => write!(f, ", running for {running:?}"),
            None => Ok(()),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Unfinished<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{:?} unfinished", self.name);
        if let Some(running) = self.running {
            defmt::write!(f, ", running for {}", crate::fmt::Span(running));
        }
    }
}
