//! One registered callback and where it is in its life.

use core::time::Duration;

use crate::Name;
use crate::callback::Slot;
use crate::inline::{NoInline, Storage};
use crate::timer::Clock;

/// One registered callback. What it keeps of its timing comes from the
/// stack's clock `R`, and takes no room on a stack without a timer.
pub(crate) struct Entry<'a, R: Clock, C: ?Sized, S: Storage = NoInline> {
    pub(crate) name: Name,
    pub(crate) slot: Slot<'a, C, S>,
    /// Callbacks with the same number, registered one after another, form a
    /// stage and run concurrently.
    pub(crate) stage: u32,
    /// Its own time budget, if one was set.
    pub(crate) timeout: R::Timeout,
    /// Set when it is first polled (by this run or one given up), with the
    /// time then: its own timeout counts from there.
    pub(crate) started: Option<R::Stamp>,
}

impl<R: Clock, C: ?Sized, S: Storage> Entry<'_, R, C, S> {
    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.slot, Slot::Finished)
    }

    /// The time past which it is cancelled: its first poll plus its own
    /// timeout, when it has started and has one.
    pub(crate) fn deadline(&self) -> Option<Duration> {
        let at = R::time_of(self.started?)?;
        Some(at.saturating_add(R::budget_of(self.timeout)?))
    }
}
