//! The stack's storage: one array of cells, each a registered callback or,
//! once it has finished, its record.
//!
//! A callback and its record never need a cell each: a cell holds the
//! callback until it finishes, then what the report says of it, in place.
//! So `N` cells hold a stack of `N` callbacks and the report of its run,
//! and a record costs no RAM beyond its cell.
//!
//! This module owns every move of a cell. A cell that holds a live inline
//! future (`crate::inline`) is never moved: finishing drops the future where
//! it lies before the cell changes, and removing finished cells
//! (`compact`) moves only the cells above the highest live inline future.

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::time::Duration;

use sync_wrapper::SyncWrapper;

use crate::callback::{Cleanup, Slot};
use crate::concurrent::Driver;
use crate::counts::{Counts, Kind};
use crate::inline::Storage;
use crate::isolate::Panic;
use crate::message::{Kept, Texts};
use crate::timer::Clock;
use crate::{Name, Outcome, Record};

/// The cell is a member of the same stage as the cell below it.
pub(crate) const JOINED: u8 = 1;
/// Its callback has been polled (in this run or one given up).
pub(crate) const STARTED: u8 = 2;
/// Its callback is stored inline (must not move while pending).
pub(crate) const INLINE: u8 = 4;
/// Its callback is boxed.
pub(crate) const BOXED: u8 = 8;
/// Letting go of its callback runs a destructor: a boxed callback's (its
/// box, at least), or an inline future's that has drop glue. One without
/// is let go by overwriting it with its record.
pub(crate) const DROPS: u8 = 16;

/// One callback, or its record.
///
/// Dropping a cell drops nothing it holds: [`Cells`] lets go of what its
/// cells own ([`Cell::release`]) only when one of them may own something
/// ([`Cells::may_own`]), so that a stack of borrowed callbacks and clean
/// records is removed, or dropped, without a pass over its cells.
pub(crate) struct Cell<'a, R: Clock, C: ?Sized, S: Storage>(ManuallyDrop<Parts<'a, R, C, S>>);

/// What a cell holds.
pub(crate) struct Parts<'a, R: Clock, C: ?Sized, S: Storage> {
    pub(crate) name: Name,
    /// Its own time budget, if one was set (with a timer): beside the
    /// state, so that registering sets it without looking at the state.
    pub(crate) timeout: R::Timeout,
    pub(crate) state: State<'a, R, C, S>,
    /// [`JOINED`], [`STARTED`], [`INLINE`], [`BOXED`], [`DROPS`].
    pub(crate) flags: u8,
}

pub(crate) enum State<'a, R: Clock, C: ?Sized, S: Storage> {
    /// Registered, not finished.
    Pending {
        /// Reached only through `&mut`: the callbacks need not be `Sync`,
        /// and the stack, whose records a report reads, still is.
        slot: SyncWrapper<Slot<'a, C, S>>,
        /// When it was first polled (valid once [`STARTED`]): its own
        /// timeout counts from there.
        at: R::Stamp,
    },
    /// Finished in the last run: its record.
    Done(Done<R>),
    /// Finished in a run given up part-way, then forgotten by a later run
    /// before it could be removed (a live inline future lies above it).
    Vacant,
}

/// How a finished callback ended, as its cell keeps it.
pub(crate) struct Done<R: Clock> {
    pub(crate) end: End<R::Timeout>,
    /// Finish order within the run: orders a stage's records.
    pub(crate) seq: u32,
    /// How long it ran (with a timer).
    pub(crate) elapsed: R::Timeout,
}

/// An owned callback being dropped by the loop of lone callbacks: its
/// cell's index, and how it had ended unless its record is in the cell
/// already (see [`Cell::finish_boxed`]).
pub(crate) type Dropping<B> = Option<(usize, Option<End<B>>)>;

/// `B` is a budget as the clock keeps it: nothing without a timer, where no
/// callback times out.
pub(crate) enum End<B = ()> {
    Completed,
    Failed(Kept),
    /// Only with `std`, which catches panics.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    Panicked(Kept),
    /// With a timer: the budget it had.
    TimedOut(B),
    Skipped,
}

impl<'a, R: Clock, C: ?Sized, S: Storage> Deref for Cell<'a, R, C, S> {
    type Target = Parts<'a, R, C, S>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<R: Clock, C: ?Sized, S: Storage> DerefMut for Cell<'_, R, C, S> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<'a, R: Clock, C: ?Sized, S: Storage> Cell<'a, R, C, S> {
    pub(crate) fn new(name: Name, slot: Slot<'a, C, S>, mut flags: u8, at: R::Stamp) -> Self {
        if slot.is_inline() {
            flags |= INLINE;
        }
        if slot.is_boxed() {
            flags |= BOXED;
        }
        if slot.drops() {
            flags |= DROPS;
        }
        Cell(ManuallyDrop::new(Parts {
            name,
            timeout: R::Timeout::default(),
            state: State::Pending {
                slot: SyncWrapper::new(slot),
                at,
            },
            flags,
        }))
    }

    /// Drops what the cell holds: its name, its callback or its record.
    pub(crate) fn release(self) {
        drop(ManuallyDrop::into_inner(self.0));
    }

    /// Whether it holds something that dropping it would let go of: an
    /// owned name or callback, or a kept text.
    pub(crate) fn owns(&self) -> bool {
        self.name.is_owned()
            || (self.is_pending() && self.flags & DROPS != 0)
            || matches!(
                &self.state,
                State::Done(Done {
                    end: End::Failed(_) | End::Panicked(_),
                    ..
                })
            )
    }

    /// Its name, and its own time budget to set at registration.
    pub(crate) fn registered(&mut self) -> (&Name, &mut R::Timeout) {
        let Parts { name, timeout, .. } = &mut *self.0;
        (name, timeout)
    }

    pub(crate) fn is_pending(&self) -> bool {
        matches!(self.state, State::Pending { .. })
    }

    pub(crate) fn is_joined(&self) -> bool {
        self.flags & JOINED != 0
    }

    pub(crate) fn is_started(&self) -> bool {
        self.flags & STARTED != 0
    }

    /// Whether it holds a live inline future, which must not move.
    pub(crate) fn is_inline(&self) -> bool {
        self.flags & INLINE != 0 && self.is_pending()
    }

    /// Whether it holds a boxed callback.
    pub(crate) fn is_boxed(&self) -> bool {
        self.flags & BOXED != 0 && self.is_pending()
    }

    /// Whether its callback is owned by the stack (inline or boxed) and has
    /// a destructor to run ([`DROPS`]), on a stack that can own one at all.
    pub(crate) fn is_owned(&self) -> bool {
        (S::INLINE || cfg!(feature = "alloc")) && self.flags & DROPS != 0
    }

    /// Its callback, while pending.
    pub(crate) fn slot_mut(&mut self) -> Option<&mut Slot<'a, C, S>> {
        match &mut self.state {
            State::Pending { slot, .. } => Some(slot.get_mut()),
            _ => None,
        }
    }

    /// The time past which it is cancelled: its first poll plus its own
    /// timeout, when it has started and has one.
    pub(crate) fn deadline(&self) -> Option<Duration> {
        let State::Pending { at, .. } = &self.state else {
            return None;
        };
        let timeout = &self.timeout;
        if !self.is_started() {
            return None;
        }
        Some(R::time_of(*at)?.saturating_add(R::budget_of(*timeout)?))
    }

    /// When it was first polled, with a timer.
    pub(crate) fn started_at(&self) -> Option<Duration> {
        match &self.state {
            State::Pending { at, .. } if self.is_started() => R::time_of(*at),
            _ => None,
        }
    }

    /// Marks it started at `at`.
    pub(crate) fn start(&mut self, now: R::Stamp) {
        self.flags |= STARTED;
        if let State::Pending { at, .. } = &mut self.state {
            *at = now;
        }
    }

    /// [`finish`](Self::finish) on a stack without a timer, in the loop of
    /// lone callbacks: keeps its record, numbered `seq`, in its place,
    /// inline where the callback is borrowed. Returns how it ended.
    ///
    /// An owned callback is dropped here with no `catch_unwind` of its own:
    /// the loop's catches a panic of its destructor, and finds in
    /// `dropping` which cell it was (`at`) and how it had ended.
    #[inline(always)]
    pub(crate) fn finish_untimed(
        &mut self,
        end: End<R::Timeout>,
        seq: u32,
        at: usize,
        dropping: &mut Dropping<R::Timeout>,
    ) -> Kind {
        if self.is_owned() {
            #[cfg(feature = "alloc")]
            if self.flags & BOXED != 0 {
                return self.finish_boxed(end, seq, at, dropping);
            }
            return self.finish_inline(end, seq, at, dropping);
        }
        self.keep(end, seq)
    }

    /// [`finish_untimed`](Self::finish_untimed) of a boxed callback: its
    /// record goes in first, which takes the box out of the cell;
    /// `dropping` then says only which cell it is, the record saying how
    /// it ended.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn finish_boxed(
        &mut self,
        end: End<R::Timeout>,
        seq: u32,
        at: usize,
        dropping: &mut Dropping<R::Timeout>,
    ) -> Kind {
        // `dropping` is empty between callbacks: nothing to drop there.
        core::mem::forget(dropping.replace((at, None)));
        let kind = end.kind();
        let done = State::Done(Done {
            end,
            seq,
            elapsed: R::span(None),
        });
        // Straight to the box's destructor, not the state's drop glue: the
        // cell holds a box (`BOXED`), and anything else is only forgotten.
        match core::mem::replace(&mut self.state, done) {
            State::Pending { slot, .. } => match slot.into_inner() {
                Slot::Boxed(future) => drop(future),
                other => core::mem::forget(other),
            },
            other => core::mem::forget(other),
        }
        core::mem::forget(dropping.take());
        kind
    }

    /// [`finish_untimed`](Self::finish_untimed) of an inline future with a
    /// destructor: dropped where it lies before its record may overwrite
    /// it, while `dropping` keeps how it ended.
    #[cold]
    #[inline(never)]
    fn finish_inline(
        &mut self,
        end: End<R::Timeout>,
        seq: u32,
        at: usize,
        dropping: &mut Dropping<R::Timeout>,
    ) -> Kind {
        *dropping = Some((at, Some(end)));
        if let State::Pending { slot, .. } = &mut self.state {
            slot.get_mut().drop_inline();
        }
        let Some((_, Some(end))) = dropping.take() else {
            unreachable!("put there just now");
        };
        self.keep(end, seq)
    }

    /// How a cell whose record is in ended, taking the record out (the
    /// cell is then vacant); `None` for a cell without one.
    pub(crate) fn take_end(&mut self) -> Option<End<R::Timeout>> {
        match core::mem::replace(&mut self.state, State::Vacant) {
            State::Done(done) => Some(done.end),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// Puts the record in place of a callback that holds nothing to drop
    /// (a borrow, or one `let_go` emptied): skipping the drop glue keeps
    /// the common path short.
    #[inline(always)]
    pub(crate) fn keep(&mut self, end: End<R::Timeout>, seq: u32) -> Kind {
        let kind = end.kind();
        let done = State::Done(Done {
            end,
            seq,
            elapsed: R::span(None),
        });
        core::mem::forget(core::mem::replace(&mut self.state, done));
        kind
    }

    /// Ends a pending callback: drops its future (a panic in its destructor
    /// is caught with `std`, and makes a completed callback count as
    /// panicked) and keeps its record in its place.
    #[inline]
    pub(crate) fn finish(
        &mut self,
        end: End<R::Timeout>,
        counts: &mut Counts,
        now: Option<Duration>,
    ) {
        let State::Pending { at, .. } = &self.state else {
            return;
        };
        let elapsed = R::time_of(*at)
            .filter(|_| self.flags & STARTED != 0)
            .zip(now)
            .map(|(started, now)| now.saturating_sub(started));
        // A borrowed callback is its owner's to drop: nothing to let go (and
        // a stack that can hold no owned callback never checks).
        let end = if !self.is_owned() {
            end
        } else {
            self.let_go(end)
        };
        counts.add(&end);
        let done = State::Done(Done {
            end,
            seq: counts.recorded - 1,
            elapsed: R::span(elapsed),
        });
        let old = core::mem::replace(&mut self.state, done);
        if !self.is_owned() {
            // A borrow: dropping it would do nothing, and skipping the drop
            // glue keeps the common path short.
            core::mem::forget(old);
        }
    }

    /// Drops an owned callback: an inline future where it lies, before the
    /// cell changes; a boxed one once it is out. A panic in its destructor
    /// is caught with `std`, and makes a completed callback count as
    /// panicked.
    #[cold]
    #[inline(never)]
    fn let_go(&mut self, end: End<R::Timeout>) -> End<R::Timeout> {
        let State::Pending { slot, .. } = &mut self.state else {
            return end;
        };
        let dropped = slot.get_mut().clear_inline();
        let old = core::mem::replace(&mut self.state, State::Vacant);
        let dropped = dropped.and(match old {
            State::Pending { slot, .. } => slot.into_inner().release(),
            _ => Ok(()),
        });
        match dropped {
            Ok(()) => end,
            Err(panic) => {
                error!(
                    "teardown callback {:?} panicked while dropped: {}",
                    self.name, panic
                );
                match end {
                    End::Completed => panicked(panic),
                    other => other,
                }
            }
        }
    }
}

/// A caught panic's record.
pub(crate) fn panicked<B>(panic: Panic) -> End<B> {
    #[cfg(feature = "std")]
    return End::Panicked(panic);
    #[cfg(not(feature = "std"))]
    match panic {}
}

impl<R: Clock> Done<R> {
    /// What the report shows of it.
    pub(crate) fn record<'r>(&'r self, name: &'r Name, texts: &'r Texts<'_>) -> Record<'r> {
        let outcome = match &self.end {
            End::Completed => Outcome::Completed,
            End::Failed(kept) => Outcome::Failed(texts.get(kept)),
            End::Panicked(kept) => Outcome::Panicked(texts.get(kept)),
            End::TimedOut(budget) => Outcome::TimedOut {
                budget: R::budget_of(*budget).unwrap_or_default(),
            },
            End::Skipped => Outcome::Skipped,
        };
        Record::new(name, outcome, R::budget_of(self.elapsed))
    }
}

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
pub(crate) struct Cells<'a, const N: usize, R: Clock, C: ?Sized, S: Storage> {
    /// Removes finished cells from between pending ones. Only a stage of
    /// several callbacks, given up part-way, leaves such holes: the stack
    /// gets this when it opens a stage, and a program that never does links
    /// none of it.
    /// With `true`, it also empties the records left between them.
    pub(crate) holes: Option<fn(&mut Self, bool)>,
    /// What runs a stage of several callbacks, once `stage()` was called.
    pub(crate) stages: Option<Driver<'a, R, C, S>>,
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
    pub(crate) cells: heapless::Vec<Cell<'a, R, C, S>, N>,
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Cells<'a, N, R, C, S> {
    pub(crate) const fn new() -> Self {
        Cells {
            holes: None,
            stages: None,
            texts: Texts::none(),
            status: 0,
            elapsed: R::NO_SPAN,
            removed: 0,
            cells: heapless::Vec::new(),
        }
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized, S: Storage> Cells<'a, N, R, C, S> {
    /// Pushes a cell; the caller made room.
    pub(crate) fn push(&mut self, cell: Cell<'a, R, C, S>) -> &mut Cell<'a, R, C, S> {
        if cell.name.is_owned() {
            self.status |= OWNS;
        }
        if cell.flags & DROPS != 0 {
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
                    cell.flags &= !JOINED;
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
fn swap<T>(cells: &mut [T], i: usize, j: usize) {
    if i == j {
        return;
    }
    let (low, high) = (i.min(j), i.max(j));
    let (below, above) = cells.split_at_mut(high);
    core::mem::swap(&mut below[low], &mut above[0]);
}

/// Puts the records of a finished stage, `cells[base..end]`, in the order
/// they finished, top first; emptied cells go to the bottom. `first` is the
/// number of the first to finish. Nothing in the stage holds a future any
/// more, so every cell in it may move.
pub(crate) fn order_stage<R: Clock, C: ?Sized, S: Storage>(
    cells: &mut [Cell<'_, R, C, S>],
    base: usize,
    end: usize,
    first: u32,
) {
    let place = |cell: &Cell<'_, R, C, S>| match &cell.state {
        // The first to finish goes on top.
        State::Done(done) => Some(end - 1 - (done.seq - first) as usize),
        _ => None,
    };
    for i in base..end {
        // Each swap puts one record where it belongs.
        while let Some(to) = place(&cells[i]) {
            if to == i {
                break;
            }
            swap(cells, i, to);
        }
    }
    // The cells moved, and their flags with them: the stage's shape stays
    // where it was (the first member joins nothing below).
    for (i, cell) in cells[base..end].iter_mut().enumerate() {
        if i == 0 {
            cell.flags &= !JOINED;
        } else {
            cell.flags |= JOINED;
        }
    }
}

/// A stack dropped with callbacks never run says so, then drops them last
/// registered first, the order `run` would have used; an inline one where
/// it lies.
impl<const N: usize, R: Clock, C: ?Sized, S: Storage> Drop for Cells<'_, N, R, C, S> {
    #[inline]
    fn drop(&mut self) {
        // The common end of a stack: a run completed, and nothing is owned.
        if self.status & SETTLED != 0 && !self.may_own() {
            return;
        }
        self.drop_slow();
    }
}

impl<const N: usize, R: Clock, C: ?Sized, S: Storage> Cells<'_, N, R, C, S> {
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
                crate::stack::NameList(&self.cells)
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
struct DropRest<'g, 'a, const N: usize, R: Clock, C: ?Sized, S: Storage>(
    &'g mut Cells<'a, N, R, C, S>,
);

impl<const N: usize, R: Clock, C: ?Sized, S: Storage> Drop for DropRest<'_, '_, N, R, C, S> {
    fn drop(&mut self) {
        // Nothing left after a drop that did not panic.
        self.0.drop_cells();
    }
}
