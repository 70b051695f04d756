//! Where a run is between polls: the cell it has reached, its deadline, and
//! the stage it is running.

use core::mem::ManuallyDrop;

use crate::report::event::Watch;
use crate::run::notice::Notice;
use crate::run::wake::StageWakers;
use crate::run::watch::Sight;
use crate::storage::cell::Cell;
use crate::storage::inline::Storage;
use crate::timer::Clock;

/// Where a run is.
pub(crate) struct Progress<R: Clock> {
    /// The cells from here up are done with in this run.
    pub(crate) top: usize,
    /// When the run began, with a timer (nothing without: the timing fields
    /// are the timer's types, so a run without one does not carry them).
    pub(crate) at: R::Timeout,
    /// The run's deadline, from `within`.
    pub(crate) deadline: R::Timeout,
    /// The stage running now, once started by this run. Dropped by hand
    /// (see the `Drop` impl), so that a run that never opened one drops it
    /// with one inline test.
    pub(crate) stage: ManuallyDrop<Option<Current>>,
    /// A sleep until the earliest deadline of the running members, and the
    /// deadline it is armed for (`None` once it has fired); re-armed in
    /// place when that deadline changes.
    pub(crate) sleep: Option<(R::Timeout, R::Sleep)>,
    /// When the run next says what it waits on (with a timer).
    pub(crate) notice: Notice<R>,
    /// The time kept for the critical callbacks not started yet, on a run
    /// with a deadline (see `crate::run::limits::Limits`).
    pub(crate) reserve: R::Timeout,
    /// How long before its cut a callback's soft deadline comes, if set.
    pub(crate) margin: R::Timeout,
    /// How many callbacks the run has to run, counted when it begins for
    /// an observer (with the `observer` feature).
    #[cfg(feature = "observer")]
    pub(crate) pending: usize,
}

impl<R: Clock> Progress<R> {
    pub(crate) const fn new() -> Self {
        Progress {
            top: 0,
            at: R::NO_SPAN,
            deadline: R::NO_SPAN,
            stage: ManuallyDrop::new(None),
            sleep: None,
            notice: Notice::new(),
            reserve: R::NO_SPAN,
            margin: R::NO_SPAN,
            #[cfg(feature = "observer")]
            pending: 0,
        }
    }

    /// Moves `top` down to just above the highest pending cell; `false`
    /// when none is left.
    pub(crate) fn next_pending<C: ?Sized, S: Storage>(
        &mut self,
        cells: &[Cell<'_, R, C, S>],
    ) -> bool {
        while self.top > 0 && !cells[self.top - 1].is_pending() {
            self.top -= 1;
        }
        self.top > 0
    }

    /// What an observer's hooks need to know of the run.
    #[inline(always)]
    pub(crate) fn sight<'w>(&self, watch: Watch<'w>) -> Sight<'w, R> {
        Sight {
            watch,
            began: self.at,
            #[cfg(feature = "observer")]
            pending: self.pending,
            #[cfg(not(feature = "observer"))]
            pending: 0,
            deadline: R::budget_of(self.deadline),
        }
    }

    /// Lets go of a stage given up part-way (its wakers, with `alloc`).
    #[cold]
    #[inline(never)]
    fn drop_stage(&mut self) {
        *self.stage = None;
    }

    /// Notes the start of a run over `cells` cells, bounded by `within`.
    pub(crate) fn begin(&mut self, timer: &R, within: R::Timeout, cells: usize) {
        self.top = cells;
        let at = timer.now();
        self.at = R::span(at);
        self.deadline = R::span(
            at.zip(R::budget_of(within))
                .map(|(at, within)| at.saturating_add(within)),
        );
    }
}

impl<R: Clock> Drop for Progress<R> {
    #[inline]
    fn drop(&mut self) {
        if self.stage.is_some() {
            self.drop_stage();
        }
    }
}

/// The stage being run: cells `base..end` of the stack.
pub(crate) struct Current {
    pub(crate) base: usize,
    pub(crate) end: usize,
    /// Members not finished yet.
    pub(crate) running: usize,
    /// The number the first member to finish gets.
    pub(crate) first: u32,
    /// Per-member wakers, for stages whose members wake separately.
    pub(crate) wakers: Option<StageWakers>,
}
