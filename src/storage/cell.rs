//! One cell of a stack: a registered callback or, once it has finished, its
//! record, in place.
//!
//! A callback and its record never need a cell each: a cell holds the
//! callback until it finishes, then what the report says of it. So `N`
//! cells hold a stack of `N` callbacks and the report of its run, and a
//! record costs no RAM beyond its cell.
//!
//! This module owns every change of a cell's contents; `cells` owns every
//! move of a cell. A cell that holds a live inline future
//! (`crate::storage::inline`) is let go in place: finishing drops the
//! future where it lies before the record is written over it.

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::time::Duration;

use sync_wrapper::SyncWrapper;

use crate::report::counts::{Counts, End, Kind};
use crate::report::name::Name;
use crate::storage::inline::Storage;
use crate::storage::isolate::panicked;
use crate::storage::slot::Slot;
use crate::timer::Clock;

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
    /// Its own time budget, if one was set (with a timer), and its flags:
    /// [`JOINED`], [`STARTED`], [`INLINE`], [`BOXED`], [`DROPS`], and the
    /// marks [`CRITICAL`], [`SOFTENED`], [`ESCALATED`]. Beside the state,
    /// so that registering sets them without looking at the state.
    pub(crate) meta: Meta<R>,
    pub(crate) state: State<'a, R, C, S>,
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
    /// When it was first polled (with a timer, if it was).
    pub(crate) started: R::Timeout,
}

/// Registered critical: a run with a deadline keeps its time in reserve,
/// and escalation keeps it.
pub(crate) const CRITICAL: u8 = 32;
/// Its soft deadline passed before it finished.
pub(crate) const SOFTENED: u8 = 64;
/// Dropped by escalation: cut if it was running, else skipped.
pub(crate) const ESCALATED: u8 = 128;
/// The marks a record shows, as [`Record`](crate::Record) numbers them
/// (the three bits above, shifted down).
pub(crate) const MARKS_SHIFT: u32 = 5;

/// What registration sets of a cell, and what a run marks on it: its own
/// timeout (with a timer) and its flags, in one value the clock lays out
/// (the flags in the timeout's padding), so that a registration hands back
/// one borrow for both.
pub(crate) struct Meta<R: Clock>(R::Meta);

impl<R: Clock> Meta<R> {
    /// Its own timeout, if one was set.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        R::meta_timeout(&self.0)
    }

    /// Sets its own timeout (with a timer).
    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        R::set_meta_timeout(&mut self.0, timeout);
    }

    /// Its flags.
    #[inline(always)]
    pub(crate) fn flags(&self) -> u8 {
        R::meta_flags(&self.0)
    }

    /// Its flags, to change.
    #[inline(always)]
    pub(crate) fn flags_mut(&mut self) -> &mut u8 {
        R::meta_flags_mut(&mut self.0)
    }

    /// Adds `mark` to its flags.
    pub(crate) fn mark(&mut self, mark: u8) {
        *self.flags_mut() |= mark;
    }
}

impl<R: Clock> core::fmt::Debug for Meta<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Meta")
            .field("timeout", &self.timeout())
            .field("flags", &self.flags())
            .finish()
    }
}

/// An owned callback being dropped by the loop of lone callbacks: its
/// cell's index, and how it had ended unless its record is in the cell
/// already (see [`Cell::finish_boxed`]).
pub(crate) type Dropping<B> = Option<(usize, Option<End<B>>)>;

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
            meta: Meta(R::meta_with(flags)),
            state: State::Pending {
                slot: SyncWrapper::new(slot),
                at,
            },
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
            || (self.is_pending() && self.meta.flags() & DROPS != 0)
            || matches!(
                &self.state,
                State::Done(Done {
                    end: End::Failed(_) | End::Panicked(_),
                    ..
                })
            )
    }

    /// Its name, and what registration may set: its own time budget and
    /// whether it is critical.
    pub(crate) fn registered(&mut self) -> (&Name, &mut Meta<R>) {
        let Parts { name, meta, .. } = &mut *self.0;
        (name, meta)
    }

    /// Whether it was registered critical ([`CRITICAL`]).
    pub(crate) fn is_critical(&self) -> bool {
        self.meta.flags() & CRITICAL != 0
    }

    /// Its own time budget, if one was set (with a timer).
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.meta.timeout()
    }

    pub(crate) fn is_pending(&self) -> bool {
        matches!(self.state, State::Pending { .. })
    }

    pub(crate) fn is_joined(&self) -> bool {
        self.meta.flags() & JOINED != 0
    }

    pub(crate) fn is_started(&self) -> bool {
        self.meta.flags() & STARTED != 0
    }

    /// Whether it holds a live inline future, which must not move.
    pub(crate) fn is_inline(&self) -> bool {
        self.meta.flags() & INLINE != 0 && self.is_pending()
    }

    /// Whether it holds a boxed callback.
    pub(crate) fn is_boxed(&self) -> bool {
        self.meta.flags() & BOXED != 0 && self.is_pending()
    }

    /// Whether its callback is owned by the stack (inline or boxed) and has
    /// a destructor to run ([`DROPS`]), on a stack that can own one at all.
    pub(crate) fn is_owned(&self) -> bool {
        (S::INLINE || cfg!(feature = "alloc")) && self.meta.flags() & DROPS != 0
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
        if !self.is_started() {
            return None;
        }
        Some(R::time_of(*at)?.saturating_add(self.meta.timeout()?))
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
        self.meta.mark(STARTED);
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
            if self.meta.flags() & BOXED != 0 {
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
            started: R::span(None),
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
            started: R::span(None),
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
        let started = R::time_of(*at).filter(|_| self.meta.flags() & STARTED != 0);
        let elapsed = started
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
            started: R::span(started),
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
