//! The loops that run a stack's cells: the loop of lone callbacks, the
//! driver of stages (and of every callback on a stack with a timer), and
//! where a run is between polls.
//!
//! It works on a slice of cells, never on a stack: the future that drives
//! it ([`Run`](crate::Run)) is the stack layer's.

pub(crate) mod alone;
pub(crate) mod escalate;
pub(crate) mod limits;
pub(crate) mod notice;
pub(crate) mod progress;
pub(crate) mod stage;
pub(crate) mod wake;
pub(crate) mod watch;
