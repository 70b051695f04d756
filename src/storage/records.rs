//! Reading a run's records: from a stack's cells, or taken out of them
//! (the records of a nested stack, which outlive its callbacks).

use core::time::Duration;

use crate::report::counts::{Counts, End, Kind};
use crate::report::message::Texts;
use crate::report::name::Name;
use crate::report::unfinished::{Pending, Unfinished};
use crate::report::view::{Outcome, Record, Source};
use crate::storage::cell::{Cell, Done, MARKS_SHIFT, State};
use crate::storage::cells::Cells;
use crate::storage::inline::Storage;
use crate::timer::Clock;

/// A report reads the records from the cells, top first.
impl<const N: usize, R: Clock, C: ?Sized, S: Storage, D> Source for Cells<'_, N, R, C, S, D> {
    fn top(&self) -> usize {
        self.cells.len()
    }

    fn elapsed(&self) -> Option<Duration> {
        R::budget_of(self.elapsed)
    }

    fn counts(&self) -> Counts {
        Counts::of(self.cells.iter().filter_map(|cell| match &cell.state {
            State::Done(done) => Some(&done.end),
            _ => None,
        }))
    }

    fn count(&self, kind: Kind) -> usize {
        self.cells
            .iter()
            .filter(|cell| matches!(&cell.state, State::Done(done) if done.end.kind() == kind))
            .count()
    }

    fn next_record(&self, cursor: usize, seq: u32) -> Option<(Record<'_>, usize)> {
        fn done<'c, R: Clock, C: ?Sized, S: Storage>(
            cell: &'c Cell<'_, R, C, S>,
        ) -> Option<&'c Done<R>> {
            match &cell.state {
                State::Done(done) => Some(done),
                _ => None,
            }
        }
        // Records lie top first in the order they finished, so the one
        // numbered `seq` is usually the next one down; but a stage given up
        // part-way leaves its finished members where they were.
        let below = self.cells[..cursor.min(self.cells.len())]
            .iter()
            .rposition(|cell| done(cell).is_some());
        let at = match below {
            Some(at) if done(&self.cells[at]).is_some_and(|d| d.seq == seq) => at,
            _ => self
                .cells
                .iter()
                .position(|cell| done(cell).is_some_and(|d| d.seq == seq))?,
        };
        let cell = &self.cells[at];
        // A stage's members lie together, all but the lowest joining the
        // one below.
        let concurrent = cell.is_joined() || self.cells.get(at + 1).is_some_and(Cell::is_joined);
        let began = R::budget_of(self.began);
        let marks = Marks::of(cell, concurrent);
        let record = done(cell)?.record(&cell.name, &self.texts, began, marks);
        Some((record, at))
    }
}

/// What an interrupted run had not finished: the cells still pending, top
/// first.
impl<const N: usize, R: Clock, C: ?Sized, S: Storage, D> Pending for Cells<'_, N, R, C, S, D> {
    fn top(&self) -> usize {
        self.cells.len()
    }

    fn unfinished(&self, cursor: usize) -> Option<(Unfinished<'_>, usize)> {
        let at = self.cells[..cursor.min(self.cells.len())]
            .iter()
            .rposition(Cell::is_pending)?;
        let cell = &self.cells[at];
        let concurrent = cell.is_joined() || self.cells.get(at + 1).is_some_and(Cell::is_joined);
        let started = cell
            .started_at()
            .zip(R::budget_of(self.began))
            .map(|(started, began)| started.saturating_sub(began));
        let unfinished = Unfinished {
            name: &cell.name,
            started,
            running: None,
            begun: cell.is_started(),
            concurrent,
        };
        Some((unfinished, at))
    }
}

/// The records of a run, taken out of the cells of a stack that holds no
/// callback any more: they no longer hold anything of the callbacks' type.
pub(crate) struct TakenRecords<const N: usize, R: Clock> {
    /// Each with whether it ran in a stage of several, and its marks.
    records: heapless::Vec<(Name, Done<R>, Marks), N>,
    /// When the run began, which their start times count from.
    began: Option<Duration>,
}

impl<const N: usize, R: Clock> TakenRecords<N, R> {
    pub(crate) fn count(&self, kind: Kind) -> usize {
        self.records
            .iter()
            .filter(|(_, done, _)| done.end.kind() == kind)
            .count()
    }

    pub(crate) fn counts(&self) -> Counts {
        Counts::of(self.records.iter().map(|(_, done, _)| &done.end))
    }

    /// Takes the records out of `cells`, which keep the rest.
    pub(crate) fn take<C: ?Sized, S: Storage, D>(cells: &mut Cells<'_, N, R, C, S, D>) -> Self {
        let mut records = heapless::Vec::new();
        let began = R::budget_of(cells.began);
        for at in 0..cells.cells.len() {
            let concurrent =
                cells.cells[at].is_joined() || cells.cells.get(at + 1).is_some_and(Cell::is_joined);
            let cell = &mut cells.cells[at];
            if !matches!(cell.state, State::Done(_)) {
                continue;
            }
            let State::Done(done) = core::mem::replace(&mut cell.state, State::Vacant) else {
                unreachable!("checked above");
            };
            let name = core::mem::replace(&mut cell.name, Name::unnamed(0));
            let cell = &cells.cells[at];
            // As many records as cells: there is room.
            let marks = Marks::of(cell, concurrent);
            let _ = records.push((name, done, marks));
        }
        cells.compact();
        TakenRecords { records, began }
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// The record numbered `seq`, looked for first just below `cursor`, as
    /// a stack's cells give it.
    pub(crate) fn next_record<'r>(
        &'r self,
        cursor: usize,
        seq: u32,
        texts: &'r Texts<'_>,
    ) -> Option<(Record<'r>, usize)> {
        let at = match cursor.checked_sub(1) {
            Some(at) if self.records.get(at).is_some_and(|(_, d, _)| d.seq == seq) => at,
            _ => self.records.iter().position(|(_, d, _)| d.seq == seq)?,
        };
        let (name, done, marks) = &self.records[at];
        Some((done.record(name, texts, self.began, *marks), at))
    }
}

impl<R: Clock> Done<R> {
    /// What the report shows of it, in a run begun at `began`, with the
    /// `marks` of its cell.
    pub(crate) fn record<'r>(
        &'r self,
        name: &'r Name,
        texts: &'r Texts<'_>,
        began: Option<Duration>,
        marks: Marks,
    ) -> Record<'r> {
        let outcome = match &self.end {
            End::Completed => Outcome::Completed,
            End::Failed(kept) => Outcome::Failed(texts.get(kept)),
            End::Panicked(kept) => Outcome::Panicked(texts.get(kept)),
            End::TimedOut(budget) => Outcome::TimedOut {
                budget: R::budget_of(*budget).unwrap_or_default(),
            },
            End::Skipped => Outcome::Skipped,
        };
        // One resumed from a run given up earlier began before this run:
        // it counts from this run's start.
        let started = R::budget_of(self.started)
            .zip(began)
            .map(|(started, began)| started.saturating_sub(began));
        Record::new(
            name,
            outcome,
            R::budget_of(self.elapsed),
            started,
            marks.concurrent,
            marks.marks,
        )
    }
}

/// What a record says of its cell besides how it ended: whether it ran in
/// a stage of several, and the cell's marks (critical, after its soft
/// deadline, dropped by escalation).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Marks {
    pub(crate) concurrent: bool,
    pub(crate) marks: u8,
}

impl Marks {
    pub(crate) fn of<R: Clock, C: ?Sized, S: Storage>(
        cell: &Cell<'_, R, C, S>,
        concurrent: bool,
    ) -> Self {
        Marks {
            concurrent,
            marks: cell.meta.flags() >> MARKS_SHIFT,
        }
    }
}
