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
