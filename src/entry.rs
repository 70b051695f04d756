//! One registered callback and where it is in its life.

use core::time::Duration;

use crate::Name;
use crate::callback::Slot;
use crate::inline::{NoInline, Storage};

/// One registered callback.
pub(crate) struct Entry<'a, C: ?Sized, S: Storage = NoInline> {
    pub(crate) name: Name,
    pub(crate) slot: Slot<'a, C, S>,
    /// Callbacks with the same number, registered one after another, form a
    /// stage and run concurrently.
    pub(crate) stage: u32,
    /// Its own time budget, if one was set.
    pub(crate) timeout: Option<Duration>,
    /// Set when it is first polled (by this run or an interrupted one).
    pub(crate) started: Option<Started>,
}

/// When a callback started and how long it may take; times only with a timer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Started {
    pub(crate) at: Option<Duration>,
    pub(crate) budget: Option<Duration>,
}

impl Started {
    /// The time past which the callback is cancelled.
    pub(crate) fn deadline(&self) -> Option<Duration> {
        Some(self.at?.saturating_add(self.budget?))
    }
}

impl<C: ?Sized, S: Storage> Entry<'_, C, S> {
    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.slot, Slot::Finished)
    }
}
