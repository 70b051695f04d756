//! Telling the stack's observer what a run does (with the `observer`
//! feature). Each hook is out of line and called only where an observer is
//! set ([`watched`](crate::report::event::watched)); without the feature
//! the hooks are empty and never called.

use core::time::Duration;

use crate::report::event::Watch;
use crate::report::message::Texts;
use crate::storage::cell::Cell;
#[cfg(feature = "observer")]
use crate::storage::cell::State;
use crate::storage::inline::Storage;
use crate::timer::Clock;

/// A run began with `pending` callbacks to run, within `within`.
#[cold]
#[inline(never)]
pub(crate) fn run_started(watch: Watch<'_>, pending: usize, within: Option<Duration>) {
    #[cfg(feature = "observer")]
    if let Some(observer) = watch {
        observer.event(crate::Event::RunStarted { pending, within });
    }
    #[cfg(not(feature = "observer"))]
    let _ = (watch, pending, within);
}

/// `cell` was polled for the first time.
#[cold]
#[inline(never)]
pub(crate) fn started<R: Clock, C: ?Sized, S: Storage>(
    watch: Watch<'_>,
    cell: &Cell<'_, R, C, S>,
    concurrent: bool,
) {
    #[cfg(feature = "observer")]
    if let Some(observer) = watch {
        observer.event(crate::Event::Started {
            name: &cell.name,
            concurrent,
        });
    }
    #[cfg(not(feature = "observer"))]
    let _ = (watch, cell, concurrent);
}

/// What the hooks need to know of the run: whom to tell, when the run
/// began, how many callbacks it has to run, and its deadline.
#[cfg_attr(not(feature = "observer"), allow(dead_code))]
pub(crate) struct Sight<'w, R: Clock> {
    pub(crate) watch: Watch<'w>,
    pub(crate) began: R::Timeout,
    pub(crate) pending: usize,
    pub(crate) deadline: Option<Duration>,
}

impl<R: Clock> Clone for Sight<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Clock> Copy for Sight<'_, R> {}

/// `cell` just ended (its record is in), the `done`th of the run, at `now`.
#[cold]
#[inline(never)]
pub(crate) fn ended<R: Clock, C: ?Sized, S: Storage>(
    sight: Sight<'_, R>,
    cell: &Cell<'_, R, C, S>,
    texts: &Texts<'_>,
    concurrent: bool,
    done: u32,
    now: Option<Duration>,
) {
    #[cfg(feature = "observer")]
    if let (Some(observer), State::Done(record)) = (sight.watch, &cell.state) {
        let marks = crate::storage::records::Marks::of(cell, concurrent);
        let record = record.record(&cell.name, texts, R::budget_of(sight.began), marks);
        let left = sight
            .deadline
            .zip(now)
            .map(|(deadline, now)| deadline.saturating_sub(now));
        observer.event(crate::Event::Ended {
            record,
            done: done as usize,
            pending: sight.pending,
            left,
        });
    }
    #[cfg(not(feature = "observer"))]
    let _ = (sight, cell, texts, concurrent, done, now);
}
