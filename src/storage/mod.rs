//! Where callbacks live: the type erasure of cleanup futures, their slots
//! (borrowed, boxed or inline), the cells that hold a callback and then its
//! record, and every move of a cell.
//!
//! All of the crate's `unsafe` code that depends on where a future lies is
//! here, in `inline` (the inline slots), with its safety argument; `cell`
//! and `cells` keep the invariants it relies on, and say where.

pub(crate) mod budgeted;
pub(crate) mod cell;
pub(crate) mod cells;
pub(crate) mod cleanup;
#[cfg(feature = "alloc")]
pub(crate) mod deferred;
// The inline slots: `unsafe` code, argued in the module.
#[allow(unsafe_code)]
pub(crate) mod inline;
pub(crate) mod isolate;
pub(crate) mod names;
pub(crate) mod order;
pub(crate) mod output;
pub(crate) mod records;
pub(crate) mod slot;

pub use budgeted::WithBudget;
pub use cleanup::{Accepts, Cleanup};
pub use inline::{INLINE_ALIGN, InlineSlots, NoInline, Storage};
pub use output::CleanupOutput;
