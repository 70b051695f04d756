//! What bounds each callback of a timed run: the run's deadline, less the
//! reserve kept for the critical callbacks still to start, its own
//! timeout, and the soft deadline a margin before the cut.

use core::time::Duration;

use crate::fmt::Span;
use crate::storage::cell::{Cell, SOFTENED};
use crate::storage::inline::Storage;
use crate::timer::Clock;
use crate::timer::budget::Deadlines;

/// A timed run's bounds, as they stand while a stage runs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Limits {
    /// The run's deadline (`within`), on the timer's clock.
    pub(crate) deadline: Option<Duration>,
    /// The time kept for the critical callbacks not started yet: the sum
    /// of their own timeouts.
    pub(crate) reserve: Duration,
    /// How long before its hard deadline a callback's soft one comes.
    pub(crate) margin: Option<Duration>,
}

impl Limits {
    /// The run's deadline for a callback: the whole of it for a critical
    /// one, less the reserve for any other.
    pub(crate) fn run_deadline(&self, critical: bool) -> Option<Duration> {
        let deadline = self.deadline?;
        Some(if critical {
            deadline
        } else {
            deadline.saturating_sub(self.reserve)
        })
    }

    /// The deadlines of a started callback: the sooner of its own
    /// timeout's end and its run deadline, and the soft one a margin
    /// before.
    pub(crate) fn of<R: Clock, C: ?Sized, S: Storage>(
        &self,
        cell: &Cell<'_, R, C, S>,
    ) -> Deadlines {
        let run = self.run_deadline(cell.is_critical());
        let hard = match (cell.deadline(), run) {
            (Some(own), Some(run)) => Some(own.min(run)),
            (own, run) => own.or(run),
        };
        let soft = match (hard, self.margin) {
            (Some(hard), Some(margin)) => Some(hard.saturating_sub(margin)),
            _ => None,
        };
        Deadlines { hard, soft }
    }
}

/// The time the critical callbacks among `cells` that have not started
/// yet keep in reserve: the sum of their own timeouts.
pub(crate) fn reserve_of<R: Clock, C: ?Sized, S: Storage>(cells: &[Cell<'_, R, C, S>]) -> Duration {
    cells
        .iter()
        .filter(|cell| cell.is_pending() && !cell.is_started() && cell.is_critical())
        .filter_map(Cell::timeout)
        .fold(Duration::ZERO, Duration::saturating_add)
}

/// Marks a callback whose soft deadline has passed at `now`, once, and
/// says so at debug level; `hard` is the cut it now has ahead.
pub(crate) fn soft_passed<R: Clock, C: ?Sized, S: Storage>(
    cell: &mut Cell<'_, R, C, S>,
    now: Duration,
    hard: Option<Duration>,
) {
    if cell.meta.flags() & SOFTENED != 0 {
        return;
    }
    cell.meta.mark(SOFTENED);
    let left = hard.map_or(Duration::ZERO, |hard| hard.saturating_sub(now));
    debug!(
        "teardown callback {:?} reached its soft deadline, {:?} before its cut",
        cell.name,
        Span(left)
    );
}
