//! What a run counts as it goes: how many callbacks it recorded, and how
//! each ended.

use super::message::Kept;

/// How many callbacks a run recorded, and how many of them completed or
/// failed: what a report answers at once; the other counts it reads from
/// the records. A completion, the common case, changes `recorded` only.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Counts {
    pub(crate) recorded: u32,
    pub(crate) failed: u32,
    /// Neither completed nor failed: panicked, timed out or skipped.
    pub(crate) troubled: u32,
}

impl Counts {
    pub(crate) const fn new() -> Self {
        Counts {
            recorded: 0,
            failed: 0,
            troubled: 0,
        }
    }

    pub(crate) fn completed(&self) -> u32 {
        self.recorded - self.failed - self.troubled
    }

    pub(crate) fn add<B>(&mut self, end: &End<B>) {
        self.add_kind(end.kind());
    }

    pub(crate) fn add_kind(&mut self, kind: Kind) {
        self.recorded += 1;
        match kind {
            Kind::Completed => {}
            Kind::Failed => self.failed += 1,
            _ => self.troubled += 1,
        }
    }

    /// The counts of `ends`.
    pub(crate) fn of<'e, B: 'e>(ends: impl Iterator<Item = &'e End<B>>) -> Self {
        let mut counts = Counts::new();
        for end in ends {
            counts.add(end);
        }
        counts
    }
}

/// How a record ended, without what it says: what a report counts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Completed,
    Failed,
    Panicked,
    TimedOut,
    Skipped,
}

impl<B> End<B> {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            End::Completed => Kind::Completed,
            End::Failed(_) => Kind::Failed,
            End::Panicked(_) => Kind::Panicked,
            End::TimedOut(_) => Kind::TimedOut,
            End::Skipped => Kind::Skipped,
        }
    }
}

/// How a finished callback ended, as its cell keeps it.
///
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
