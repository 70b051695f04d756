//! Putting a finished stage's records in the order they finished.

use crate::storage::cell::{Cell, JOINED, State};
use crate::storage::cells::swap;
use crate::storage::inline::Storage;
use crate::timer::Clock;

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
    let numbered = |cell: &Cell<'_, R, C, S>| match &cell.state {
        State::Done(done) => done.seq >= first && ((done.seq - first) as usize) < end - base,
        _ => true,
    };
    if !cells[base..end].iter().all(numbered) {
        order_by_seq(cells, base, end);
        mark_stage(&mut cells[base..end]);
        return;
    }
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
    mark_stage(&mut cells[base..end]);
}

/// [`order_stage`] of a stage whose records are not numbered one after
/// another from its first: some were recorded before it ran, while others
/// were (an escalation drops a stage's members with the cells below in one
/// sweep, and its critical members finish later). Puts the smallest number
/// on top, by selection: only after an escalation.
#[cold]
#[inline(never)]
fn order_by_seq<R: Clock, C: ?Sized, S: Storage>(
    cells: &mut [Cell<'_, R, C, S>],
    base: usize,
    end: usize,
) {
    let seq = |cell: &Cell<'_, R, C, S>| match &cell.state {
        State::Done(done) => Some(done.seq),
        _ => None,
    };
    for slot in (base..end).rev() {
        let smallest = (base..=slot)
            .filter_map(|i| seq(&cells[i]).map(|seq| (seq, i)))
            .min();
        let Some((_, at)) = smallest else {
            // Only emptied cells are left, at the bottom.
            return;
        };
        if at != slot {
            swap(cells, at, slot);
        }
    }
}

/// The cells moved, and their flags with them: the stage's shape stays
/// where it was (the first member joins nothing below).
fn mark_stage<R: Clock, C: ?Sized, S: Storage>(cells: &mut [Cell<'_, R, C, S>]) {
    for (i, cell) in cells.iter_mut().enumerate() {
        if i == 0 {
            *cell.meta.flags_mut() &= !JOINED;
        } else {
            cell.meta.mark(JOINED);
        }
    }
}
