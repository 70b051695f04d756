//! A stack's cells, and every move of one: registering, removing finished
//! cells, ordering a stage's records, and dropping them all. A cell with a
//! live inline future (`crate::storage::inline`) never moves: removing
//! finished cells moves only those above the highest live inline future,
//! ordering a stage's records moves only that stage's cells (all finished),
//! and dropping the stack drops each future where it lies, even when
//! another's destructor panics (`drop_slow`).

use crate::report::counts::Counts;
use crate::report::event::{Watch, unwatched};
use crate::report::message::Texts;
use crate::storage::cell::{Cell, DROPS, JOINED, State};
use crate::storage::cleanup::Cleanup;
use crate::storage::inline::Storage;
use crate::storage::names::NameList;
use crate::timer::Clock;

/// [`Cells::status`]: a run began since the records were last forgotten,
/// so some cells may hold records.
const RECORDED: u8 = 1;
/// [`Cells::status`]: some cell may own something to drop, an owned name or
/// a kept text. Until then (and [`CALLBACKS`]), removing cells and dropping
/// the stack take no pass over them. Set at registration, and by a run that
/// recorded anything but completions (or was given up: see
/// [`Cells::may_own`]); cleared when the last cell goes.
const OWNS: u8 = 2;
/// [`Cells::status`]: every cell holds a record, the last run completed and
/// nothing was registered since. Dropping the stack then has no callback
/// to name.
const SETTLED: u8 = 4;
/// [`Cells::status`]: some cell may hold an owned callback with a
/// destructor to run ([`DROPS`]). Set at registration; cleared when a run
/// completes (every callback was let go as it finished) or the last cell
/// goes.
const CALLBACKS: u8 = 8;

/// The cells of a stack, and every change of their places.
///
/// `repr(C)`, the buffer last: see [`Teardown`](crate::Teardown)'s fields.
#[repr(C)]
pub(crate) struct Cells<'a, const N: usize, R: Clock, C: ?Sized, S: Storage, D> {
    /// Removes finished cells from between pending ones. Only a stage of
    /// several callbacks, given up part-way, leaves such holes: the stack
    /// gets this when it opens a stage, and a program that never does links
    /// none of it.
    /// With `true`, it also empties the records left between them.
    pub(crate) holes: Option<fn(&mut Self, bool)>,
    /// What runs a stage of several callbacks, once `stage()` was called:
    /// the run layer's driver (`crate::run::stage::Driver`), which the
    /// stack installs, so that a program that never opens a stage links
    /// none of it. A type parameter here, so that storage never names the
    /// layer above it, and the header stays one block (the pointer beside
    /// `holes` costs no padding).
    pub(crate) stages: Option<D>,
    /// How many cells were ever removed: with those held, how many
    /// callbacks were ever registered, which numbers unnamed ones. Counted
    /// where cells go, so that a registration does not count.
    pub(crate) removed: u32,
    /// Where failure texts are kept (without `alloc`).
    pub(crate) texts: Texts<'a>,
    /// [`RECORDED`], [`OWNS`], [`SETTLED`], [`CALLBACKS`]: one byte, so
    /// that creating a stack stays a few stores (a larger header to zero
    /// becomes a call to `memclr` on a Cortex-M).
    pub(crate) status: u8,
    /// How long the last run took (with a timer).
    pub(crate) elapsed: R::Timeout,
    /// When the last run began (with a timer): where its records' start
    /// times count from.
    pub(crate) began: R::Timeout,
    /// Who a run tells what it does (with the `observer` feature).
    pub(crate) observer: Watch<'a>,
    pub(crate) cells: heapless::Vec<Cell<'a, R, C, S>, N>,
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage, D>
    Cells<'a, N, R, C, S, D>
{
    pub(crate) const fn new() -> Self {
        Cells {
            holes: None,
            stages: None,
            texts: Texts::none(),
            status: 0,
            elapsed: R::NO_SPAN,
            began: R::NO_SPAN,
            observer: unwatched(),
            removed: 0,
            cells: heapless::Vec::new(),
        }
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized, S: Storage, D> Cells<'a, N, R, C, S, D> {
    /// Pushes a cell; the caller made room.
    pub(crate) fn push(&mut self, cell: Cell<'a, R, C, S>) -> &mut Cell<'a, R, C, S> {
        if cell.name.is_owned() {
            self.status |= OWNS;
        }
        if cell.meta.flags() & DROPS != 0 {
            self.status |= CALLBACKS;
        }
        if self.cells.push(cell).is_err() {
            unreachable!("room was made before");
        }
        self.cells.last_mut().expect("just pushed")
    }

    /// The lowest cell that may move: every cell above the highest live
    /// inline future.
    fn movable_from(&self) -> usize {
        self.cells
            .iter()
            .rposition(Cell::is_inline)
            .map_or(0, |inline| inline + 1)
    }

    /// Whether a registration has room, once the finished cells that may
    /// go are removed.
    pub(crate) fn is_full(&self) -> bool {
        self.cells.is_full()
            && self.cells[self.movable_from()..]
                .iter()
                .all(Cell::is_pending)
    }

    /// Makes room for one more cell, removing finished cells (records of a
    /// run the caller no longer reads) if that is what it takes. The first
    /// registration after a run ends the run's report.
    ///
    /// The common case (room, no records) is a test inline; the rest is
    /// not generic over the callback and is kept out of line, so that each
    /// registration site calls it rather than carrying a copy.
    #[inline]
    pub(crate) fn make_room(&mut self) -> bool {
        if self.status & RECORDED != 0 || self.cells.is_full() {
            return self.make_room_slow();
        }
        true
    }

    /// How many callbacks were registered on the stack before the next.
    pub(crate) fn registered(&self) -> u32 {
        // A stack holds fewer than 2^32 cells that count: the sum wraps
        // as a count of registrations would.
        self.removed.wrapping_add(self.cells.len() as u32)
    }

    #[cold]
    fn make_room_slow(&mut self) -> bool {
        if self.status & RECORDED != 0 {
            // Compacts as it forgets.
            self.forget_records();
        } else {
            self.compact();
        }
        !self.cells.is_full()
    }

    /// Removes the finished cells that may move (above every live inline
    /// future): those on top, and any holes a stage left.
    pub(crate) fn compact(&mut self) {
        self.compact_and(false);
    }

    /// [`compact`](Self::compact); with `forget`, also empties the records
    /// left between pending cells.
    fn compact_and(&mut self, forget: bool) {
        let held = self.cells.len();
        while self.cells.last().is_some_and(|cell| !cell.is_pending()) {
            self.pop();
        }
        if let Some(remove_holes) = self.holes {
            remove_holes(self, forget);
        }
        // Every cell is removed here (or dropped with the stack).
        self.removed = self.removed.wrapping_add((held - self.cells.len()) as u32);
        if self.cells.is_empty() {
            self.status &= !(OWNS | CALLBACKS);
        }
    }

    /// Removes the finished cells that may move from between pending ones,
    /// keeping each stage's cells together; with `forget`, empties the
    /// records that must stay (below a live inline future).
    pub(crate) fn remove_holes(&mut self, forget: bool) {
        let from = self.movable_from();
        let mut kept = from;
        // Whether the last cell kept (below the one looked at) belongs to
        // the stage of the cell looked at.
        let mut below_in_stage = from > 0;
        for i in from..self.cells.len() {
            let joined = self.cells[i].is_joined();
            // The stage of cell `i` continues from the cell under it.
            let same_stage = joined && below_in_stage;
            if self.cells[i].is_pending() {
                let cell = &mut self.cells[i];
                if !same_stage {
                    *cell.meta.flags_mut() &= !JOINED;
                }
                swap(&mut self.cells, kept, i);
                kept += 1;
                below_in_stage = true;
            } else if !joined {
                // A removed cell that starts a stage: what is kept of the
                // stage above it joins nothing kept below.
                below_in_stage = false;
            }
        }
        // Everything from `kept` up is finished and holds no future.
        while self.cells.len() > kept {
            self.pop();
        }
        if forget {
            self.empty_records();
        }
    }

    /// Whether some cell may own something to drop: [`OWNS`],
    /// [`CALLBACKS`], or a run began and did not complete (it may have kept
    /// texts and not said so: it may even have been forgotten).
    fn may_own(&self) -> bool {
        self.status & (OWNS | CALLBACKS) != 0 || self.status & (RECORDED | SETTLED) == RECORDED
    }

    /// Whether some cell may hold a callback with a destructor to run
    /// ([`CALLBACKS`]). Without, a run lets every callback go by
    /// overwriting it with its record, and checks no cell for one.
    pub(crate) fn holds_callbacks(&self) -> bool {
        (S::INLINE || cfg!(feature = "alloc")) && self.status & CALLBACKS != 0
    }

    /// Notes that a run begins: cells will hold records.
    pub(crate) fn begin_run(&mut self) {
        self.status |= RECORDED;
    }

    /// Removes the top cell, dropping what it holds.
    fn pop(&mut self) {
        if let Some(cell) = self.cells.pop() {
            if self.may_own() {
                cell.release();
            }
        }
    }

    /// Records that a run completed: every cell holds a record, and no
    /// callback is left to drop; any record but a completed one may keep a
    /// text.
    pub(crate) fn ran(&mut self, counts: Counts) {
        self.status |= SETTLED;
        self.status &= !CALLBACKS;
        if counts.completed() != counts.recorded {
            self.status |= OWNS;
        }
    }

    /// Forgets the records of the last run, for a new run: removes the
    /// cells that may move, and empties the others.
    pub(crate) fn forget_records(&mut self) {
        if self.status & RECORDED == 0 {
            return;
        }
        if self.may_own() {
            // A run given up part-way, see `may_own`; or `OWNS` already.
            self.status |= OWNS;
        }
        self.status &= !(RECORDED | SETTLED);
        self.texts.clear();
        // Without a stage every finished cell was on top, and is gone.
        self.compact_and(true);
    }

    /// Empties the records left (which no report will show again).
    fn empty_records(&mut self) {
        for cell in self.cells.iter_mut() {
            if let State::Done(_) = cell.state {
                cell.state = State::Vacant;
            }
        }
    }
}

/// Swaps two cells through two disjoint borrows,
/// which compiles to a plain exchange where `<[T]>::swap`, which must allow
/// for `i == j`, brings in `memmove`.
pub(crate) fn swap<T>(cells: &mut [T], i: usize, j: usize) {
    if i == j {
        return;
    }
    let (low, high) = (i.min(j), i.max(j));
    let (below, above) = cells.split_at_mut(high);
    core::mem::swap(&mut below[low], &mut above[0]);
}

/// A stack dropped with callbacks never run says so, then drops them last
/// registered first, the order `run` would have used; an inline one where
/// it lies.
impl<const N: usize, R: Clock, C: ?Sized, S: Storage, D> Drop for Cells<'_, N, R, C, S, D> {
    #[inline]
    fn drop(&mut self) {
        // The common end of a stack: a run completed, and nothing is owned.
        if self.status & SETTLED != 0 && !self.may_own() {
            return;
        }
        self.drop_slow();
    }
}

impl<const N: usize, R: Clock, C: ?Sized, S: Storage, D> Cells<'_, N, R, C, S, D> {
    #[cold]
    #[inline(never)]
    fn drop_slow(&mut self) {
        let pending = if self.status & SETTLED != 0 {
            0
        } else {
            self.cells.iter().filter(|cell| cell.is_pending()).count()
        };
        if pending > 0 {
            warn!(
                "teardown stack dropped with {} callback(s) never finished: {}",
                pending,
                NameList(&self.cells)
            );
        }
        if !self.may_own() {
            debug_assert!(self.cells.iter().all(|cell| !cell.owns()));
            return;
        }
        // Should a destructor panic, the guard drops the cells below it
        // while the panic unwinds, then the panic goes on.
        let rest = DropRest(self);
        rest.0.drop_cells();
    }

    /// Drops every cell, top first (last registered first); an inline
    /// future where it lies, before its cell is popped.
    ///
    /// A panic in a destructor leaves the cell it came from fully let go:
    /// an inline future counts as dropped once its destructor has begun
    /// (`InlineFuture::clear` takes its poll function first), and a popped
    /// cell is out of the vector before anything it holds is dropped. So
    /// calling this again, from [`DropRest`] while that panic unwinds, drops
    /// each remaining callback exactly once and never one twice.
    fn drop_cells(&mut self) {
        while let Some(cell) = self.cells.last_mut() {
            if let Some(slot) = cell.slot_mut() {
                slot.drop_inline();
            }
            self.pop();
        }
    }
}

/// Finishes dropping a stack's cells if a destructor panicked part-way.
///
/// Without it, the unwind would leave `drop_slow` with the cells below the
/// one that panicked still in the vector, whose elements are
/// `ManuallyDrop`: their callbacks would never be dropped, and an inline
/// future's memory would be freed with the stack while it may still be
/// linked into someone else's list (an intrusive waiter queue): `Pin`'s
/// drop guarantee, and soundness, lost. With it, every other callback is
/// dropped, in order, before the first panic goes on; a second panic while
/// that one unwinds aborts the process, as it does in std's collections.
struct DropRest<'g, 'a, const N: usize, R: Clock, C: ?Sized, S: Storage, D>(
    &'g mut Cells<'a, N, R, C, S, D>,
);

impl<const N: usize, R: Clock, C: ?Sized, S: Storage, D> Drop for DropRest<'_, '_, N, R, C, S, D> {
    fn drop(&mut self) {
        // Nothing left after a drop that did not panic.
        self.0.drop_cells();
    }
}
