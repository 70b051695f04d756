//! The loop of lone callbacks: each a stage of its own, run one after
//! another from the top down, under one `catch_unwind` per batch.

use core::task::{Context, Poll};

use crate::report::counts::{Counts, End, Kind};
use crate::report::event::{Watch, watched};
use crate::report::message::{Kept, Texts};
use crate::run::progress::Progress;
use crate::run::watch;
use crate::storage::cell::{Cell, Dropping, Parts, State};
use crate::storage::cleanup::{Cleanup, Failure, Polled};
use crate::storage::inline::Storage;
use crate::storage::isolate::{self, Panic, panicked};
use crate::timer::Clock;
use crate::timer::budget::Deadlines;

/// Where [`run_alone`] stopped.
pub(crate) enum Alone {
    /// Every callback has finished.
    Done,
    /// The callback on top is pending.
    Pending,
    /// The callback on top is a member of a stage of several.
    Stage,
}

/// Runs the callbacks that are stages of their own, from the top down,
/// until one is pending, one belongs to a larger stage, or none is left.
/// `STAGED` is whether the stack ever opened a stage: without, no cell
/// joins another, and nothing checks. `owned` is whether some cell may
/// hold a callback with a destructor ([`Cells::holds_callbacks`]):
/// without, no finished cell is checked for one.
///
/// With `std`, the whole batch runs under one `catch_unwind`, not one per
/// callback: a panic can only come from the callback being polled (the one
/// below `progress.top`), which is then recorded as panicked, and the batch
/// goes on under a new one. `watch` is the observer to tell, if any.
///
/// The run's state comes in its parts, each borrowed on its own, as the
/// batch holds them.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_alone<const STAGED: bool, R: Clock, C: ?Sized + Cleanup, S: Storage>(
    progress: &mut Progress<R>,
    cells: &mut [Cell<'_, R, C, S>],
    finished: &mut Counts,
    texts: &mut Texts<'_>,
    timer: &R,
    cx: &mut Context<'_>,
    owned: bool,
    watch: Watch<'_>,
) -> Alone {
    debug_assert!(STAGED || cells.iter().all(|cell| !cell.is_joined()));
    loop {
        let mut dropping = None;
        let batch = isolate::catch(|| {
            // Where the batch starts. The loop keeps its place and its
            // counts in locals, written back only when it stops; after a
            // panic they are read back from the cells (see `after_panic`).
            let start = (progress.top, *finished);
            let batch = Batch {
                progress: &mut *progress,
                finished: &mut *finished,
                texts: &mut *texts,
                timer,
                cx: &mut *cx,
                dropping: &mut dropping,
                watch,
            };
            // A loop that logs each start and one that does not, so that
            // neither tests the log level per callback (where the level is
            // known when building, with no `log` or with `defmt`, one is
            // linked); each in two kinds, that let go of owned callbacks
            // and that need not (a stack that cannot own one links one).
            // The loop that logs also tells the observer, if there is one.
            match (crate::fmt::debug_enabled() || watched(watch), owned) {
                (true, true) => batch.run::<STAGED, true, true, C, S>(cells, start),
                (true, false) => batch.run::<STAGED, true, false, C, S>(cells, start),
                (false, true) => batch.run::<STAGED, false, true, C, S>(cells, start),
                (false, false) => batch.run::<STAGED, false, false, C, S>(cells, start),
            }
        });
        match batch {
            Ok(stopped) => {
                // Empty again once a batch stops: nothing to drop. (Its
                // type has drop glue only with `alloc`.)
                #[allow(clippy::forget_non_drop)]
                core::mem::forget(dropping);
                return stopped;
            }
            Err(panic) => {
                // Where the batch began: a batch that does not stop writes
                // nothing back.
                let start = (progress.top, *finished);
                after_panic(cells, start, dropping, progress, finished, panic);
                if watched(watch) {
                    let at = progress.top;
                    let sight = progress.sight(watch);
                    watch::ended(sight, &cells[at], texts, false, finished.recorded, None);
                }
            }
        }
    }
}

/// What a batch of [`run_alone`] works with besides the cells.
struct Batch<'b, 't, 'x, R: Clock> {
    progress: &'b mut Progress<R>,
    finished: &'b mut Counts,
    texts: &'b mut Texts<'t>,
    timer: &'b R,
    cx: &'b mut Context<'x>,
    dropping: &'b mut Dropping<R::Timeout>,
    watch: Watch<'b>,
}

impl<R: Clock> Batch<'_, '_, '_, R> {
    /// The loop of [`run_alone`], from `start` (`top`, counts): `VERBOSE`
    /// logs each callback's start; without `OWNED`, no callback has a
    /// destructor, and each is let go by writing its record over it.
    #[inline(always)]
    fn run<
        const STAGED: bool,
        const VERBOSE: bool,
        const OWNED: bool,
        C: ?Sized + Cleanup,
        S: Storage,
    >(
        self,
        cells: &mut [Cell<'_, R, C, S>],
        (top, counts): (usize, Counts),
    ) -> Alone {
        let Counts {
            mut recorded,
            mut failed,
            mut troubled,
        } = counts;
        // Whether the cell above the one looked at joins it: read once
        // here, then known from the cell looked at before.
        let mut joined_from_above = STAGED && cells.get(top).is_some_and(|c| c.is_joined());
        // The cells not done with yet: the one looked at is the last.
        // (`top` never exceeds the cells, which a run cannot remove: the
        // `min` only spares the code a panic path.)
        let len = cells.len();
        let mut below = &mut cells[..top.min(len)];
        // Where each poll puts what it kept of an error: one for all.
        let mut kept = Failure::new(self.texts);
        let (top, stopped) = loop {
            let top = below.len();
            let Some((cell, rest)) = core::mem::take(&mut below).split_last_mut() else {
                break (0, Alone::Done);
            };
            // Without stages, a new run begins with the finished cells on
            // top removed, and finishes the rest top down: all below `top`
            // are pending.
            debug_assert!(STAGED || cell.is_pending());
            if STAGED && !cell.is_pending() {
                // Finished in a run given up part-way.
                joined_from_above = cell.is_joined();
                below = rest;
                continue;
            }
            if STAGED && (joined_from_above || cell.is_joined()) {
                break (top, Alone::Stage);
            }
            if VERBOSE && !cell.is_started() {
                debug!("running teardown callback {:?}", cell.name);
                if watched(self.watch) {
                    watch::started(self.watch, cell, false);
                }
            }
            let Poll::Ready(failure) = poll_uncaught(cell, &mut kept, self.cx) else {
                // Started, so that a later poll does not say so again
                // (without a timer its start time is nothing to keep).
                cell.start(self.timer.stamp());
                break (top, Alone::Pending);
            };
            let at = rest.len();
            let kind = match failure {
                None if !OWNED => {
                    debug_assert!(!cell.is_owned());
                    cell.keep(End::Completed, recorded)
                }
                None => cell.finish_untimed(End::Completed, recorded, at, self.dropping),
                Some(kept) => record_failure(cell, kept, recorded, at, self.dropping),
            };
            recorded += 1;
            if VERBOSE && watched(self.watch) {
                let sight = self.progress.sight(self.watch);
                watch::ended(sight, cell, kept.texts(), false, recorded, None);
            }
            if kind != Kind::Completed {
                (failed, troubled) = tally(kind, failed, troubled);
            }
            below = rest;
        };
        // Each failure's text was taken as it was recorded: nothing is left
        // to drop. (Its type has drop glue only with `alloc`.)
        debug_assert!(kept.take().is_none());
        #[allow(clippy::forget_non_drop)]
        core::mem::forget(kept);
        self.progress.top = top;
        *self.finished = Counts {
            recorded,
            failed,
            troubled,
        };
        stopped
    }
}

/// Records the callback that panicked in a batch of [`run_alone`] begun at
/// `start` (`top`, counts), and what the batch finished before it.
///
/// A panic while an owned callback was dropped (`dropping`) came from that
/// callback's destructor: it had ended as `dropping` says, and a completion
/// counts as a panic. Any other came from the highest pending cell below
/// `top` (every cell the batch went past has finished), while polled. The
/// cells above it that finished in this run are numbered from the counts
/// the batch began with.
#[cold]
#[inline(never)]
fn after_panic<R: Clock, C: ?Sized, S: Storage>(
    cells: &mut [Cell<'_, R, C, S>],
    (top, counts): (usize, Counts),
    dropping: Dropping<R::Timeout>,
    progress: &mut Progress<R>,
    finished: &mut Counts,
    panic: Panic,
) {
    let (at, end) = match dropping {
        Some((at, end)) => {
            let Some(end) = end.or_else(|| cells[at].take_end()) else {
                unreachable!("a boxed callback's record goes in before it is dropped");
            };
            error!(
                "teardown callback {:?} panicked while dropped: {}",
                cells[at].name, panic
            );
            let end = match end {
                End::Completed => panicked(panic),
                other => other,
            };
            (at, end)
        }
        None => {
            let Some(at) = cells[..top].iter().rposition(|cell| cell.is_pending()) else {
                unreachable!("the callback that panicked is still pending");
            };
            (at, caught(&cells[at], panic))
        }
    };
    let mut batch = Counts::of(
        cells[at + 1..top]
            .iter()
            .filter_map(|cell| match &cell.state {
                State::Done(done) if done.seq >= counts.recorded => Some(&done.end),
                _ => None,
            }),
    );
    batch.recorded += counts.recorded;
    batch.failed += counts.failed;
    batch.troubled += counts.troubled;
    let cell = &mut cells[at];
    if cell.is_pending() {
        // Panicked while polled: let go of it as any finished callback.
        cell.finish(end, &mut batch, None);
    } else {
        // Dropped already (a boxed callback is out of its cell).
        batch.add_kind(cell.keep(end, batch.recorded));
    }
    *finished = batch;
    progress.top = at;
}

/// Records a lone callback's failure, numbered `seq`: out of the loop's
/// way. Returns how it ended.
#[cold]
#[inline(never)]
fn record_failure<R: Clock, C: ?Sized, S: Storage>(
    cell: &mut Cell<'_, R, C, S>,
    kept: Kept,
    seq: u32,
    at: usize,
    dropping: &mut Dropping<R::Timeout>,
) -> Kind {
    cell.finish_untimed(End::Failed(kept), seq, at, dropping)
}

/// Counts a callback that did not complete: out of the loop's way.
#[cold]
fn tally(kind: Kind, failed: u32, troubled: u32) -> (u32, u32) {
    match kind {
        Kind::Failed => (failed + 1, troubled),
        _ => (failed, troubled + 1),
    }
}

/// Polls one pending callback once; once ready, what was kept of its error
/// if it failed. A panic goes through (the caller catches it).
#[inline(always)]
fn poll_uncaught<R: Clock, C: ?Sized + Cleanup, S: Storage>(
    cell: &mut Cell<'_, R, C, S>,
    failure: &mut Failure<'_, '_>,
    cx: &mut Context<'_>,
) -> Poll<Option<Kept>> {
    let Parts { name, state, .. } = &mut **cell;
    let State::Pending { slot, .. } = state else {
        unreachable!("only pending callbacks are polled");
    };
    match slot.get_mut().poll_cleanup(cx, name, failure) {
        Polled::Completed => Poll::Ready(None),
        Polled::Failed => Poll::Ready(failure.take()),
        Polled::Pending => Poll::Pending,
    }
}

/// Polls one pending callback once, turning an error or a panic into how
/// it ended.
///
/// `deadlines` are those the run gives it, with a timer: what a callback
/// registered with `push_with` reads on its first poll.
pub(crate) fn poll_cell<R: Clock, C: ?Sized + Cleanup, S: Storage>(
    cell: &mut Cell<'_, R, C, S>,
    texts: &mut Texts<'_>,
    cx: &mut Context<'_>,
    deadlines: Option<&Deadlines>,
) -> Poll<End<R::Timeout>> {
    let polled = isolate::catch(|| {
        let mut failure = match deadlines {
            Some(deadlines) => Failure::with_deadlines(texts, deadlines),
            None => Failure::new(texts),
        };
        poll_uncaught(&mut *cell, &mut failure, cx)
    });
    match polled {
        Ok(polled) => polled.map(|failure| match failure {
            None => End::Completed,
            Some(kept) => End::Failed(kept),
        }),
        Err(panic) => Poll::Ready(caught(cell, panic)),
    }
}

/// How a callback that panicked while polled ended; logged.
fn caught<R: Clock, C: ?Sized, S: Storage>(
    cell: &Cell<'_, R, C, S>,
    panic: Panic,
) -> End<R::Timeout> {
    error!("teardown callback {:?} panicked: {}", cell.name, panic);
    panicked(panic)
}
