//! The live line: a run that has waited on the same stage for longer than an
//! interval says so, naming what it waits on, and again each interval.
//!
//! Only with a timer: without one there is no time to tell, and this
//! compiles to nothing (every field is a `()`).

use core::time::Duration;

use crate::fmt::Span;
use crate::storage::cell::Cell;
use crate::storage::inline::Storage;
use crate::storage::names::NameList;
use crate::timer::Clock;

/// How long a run waits on one stage before it says so, unless the run
/// asks otherwise ([`Run::notice_every`](crate::Run::notice_every)).
pub(crate) const DEFAULT_NOTICE: Duration = Duration::from_secs(5);

/// When the run next says what it waits on.
pub(crate) struct Notice<R: Clock> {
    /// The interval; none (or zero): never.
    pub(crate) every: R::Timeout,
    /// When the stage waited on began.
    since: R::Timeout,
    /// When the next line is due.
    due: R::Timeout,
}

impl<R: Clock> Notice<R> {
    pub(crate) const fn new() -> Self {
        Notice {
            every: R::NO_SPAN,
            since: R::NO_SPAN,
            due: R::NO_SPAN,
        }
    }

    /// A stage begins at `now`: the first line is due one interval on.
    pub(crate) fn restart(&mut self, now: Option<Duration>) {
        self.since = R::span(now);
        let every = R::budget_of(self.every).filter(|every| !every.is_zero());
        self.due = R::span(now.zip(every).map(|(now, every)| now.saturating_add(every)));
    }

    /// Says what the run waits on if a line is due at `now`, and returns the
    /// earlier of `earliest` (the members' next cutoff) and when the next
    /// line is due: the run sleeps until then. `deadline` is the run's.
    #[inline]
    pub(crate) fn check<C: ?Sized, S: Storage>(
        &mut self,
        members: &[Cell<'_, R, C, S>],
        now: Option<Duration>,
        earliest: Option<Duration>,
        deadline: Option<Duration>,
    ) -> Option<Duration> {
        let (Some(now), Some(due)) = (now, R::budget_of(self.due)) else {
            return earliest;
        };
        let next = if now >= due {
            self.say(members, now, earliest, deadline)
        } else {
            due
        };
        Some(earliest.map_or(next, |e| e.min(next)))
    }

    /// Logs what the run waits on, and sets when the next line is due: once
    /// per interval, however late this poll came.
    #[cold]
    #[inline(never)]
    fn say<C: ?Sized, S: Storage>(
        &mut self,
        members: &[Cell<'_, R, C, S>],
        now: Duration,
        earliest: Option<Duration>,
        deadline: Option<Duration>,
    ) -> Duration {
        let waited = Span(now.saturating_sub(R::budget_of(self.since).unwrap_or(now)));
        let names = NameList(members);
        match (deadline, earliest) {
            (Some(deadline), _) => warn!(
                "teardown: still waiting on {} after {:?}, {:?} of the grace left",
                names,
                waited,
                Span(deadline.saturating_sub(now))
            ),
            (None, Some(cutoff)) => warn!(
                "teardown: still waiting on {} after {:?}, {:?} before its timeout",
                names,
                waited,
                Span(cutoff.saturating_sub(now))
            ),
            (None, None) => warn!(
                "teardown: still waiting on {} after {:?}, with no deadline",
                names, waited
            ),
        }
        let every = R::budget_of(self.every).unwrap_or(Duration::MAX);
        let mut next = R::budget_of(self.due).unwrap_or(now);
        while next <= now {
            next = next.saturating_add(every);
        }
        self.due = R::span(Some(next));
        next
    }
}
