//! What a registration hands back: a way to set the callback's timeout.

use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;

use crate::storage::cell::{CRITICAL, Meta};
use crate::timer::Clock;
use crate::{Name, Timer};

/// A callback just registered: its name, and (on a stack with a
/// [`Timer`]) a way to give it a time budget.
///
/// Returned by every registration method; drop it if there is nothing to set.
pub struct Registered<'t, R: Clock> {
    name: &'t Name,
    meta: &'t mut Meta<R>,
    timer: PhantomData<fn() -> R>,
}

impl<'t, R: Clock> Registered<'t, R> {
    pub(crate) fn new(name: &'t Name, meta: &'t mut Meta<R>) -> Self {
        Registered {
            name,
            meta,
            timer: PhantomData,
        }
    }

    /// The name the callback was registered under (or its default name).
    #[must_use]
    pub fn name(&self) -> &Name {
        self.name
    }

    /// Marks the callback critical: a step that must still happen however
    /// short the time (a WAL flush, the store's fsync, a telemetry flush).
    ///
    /// - On a run with a deadline ([`Run::within`](crate::Run::within)),
    ///   its own [`timeout`](Self::timeout) is kept in reserve until it
    ///   starts: a callback that is not critical gets the run's time left
    ///   less that reserve, so one that would eat into it is cut off, or
    ///   skipped before it starts, and the critical one still has its time.
    ///   (A critical callback without a timeout reserves nothing.)
    /// - An interrupted shutdown ([`Teardown::shutdown_within`]) escalates
    ///   on the first interrupt: the callbacks that are not critical are
    ///   dropped (each reported as dropped by escalation) and only the
    ///   critical ones still run, each within its budget; the next
    ///   interrupt gives up as today.
    ///
    /// Its record says so ([`Record::is_critical`](crate::Record::is_critical)).
    ///
    /// [`Teardown::shutdown_within`]: crate::Teardown::shutdown_within
    pub fn critical(self) -> Self {
        self.meta.mark(CRITICAL);
        self
    }
}

impl<R: Timer> Registered<'_, R> {
    /// Gives the callback at most `budget` once it starts. Past that the
    /// stack stops polling it and lets it go, a warning names it, the report
    /// records it as [timed out](crate::Outcome::TimedOut), and the run goes
    /// on. Letting it go depends on how it was registered:
    ///
    /// - with [`push`](crate::Teardown::push),
    ///   [`push_fn`](crate::Teardown::push_fn) or
    ///   [`push_inline`](crate::InlineTeardown::push_inline), the stack owns
    ///   the future and drops it there and then (an inline one in its slot),
    ///   so its destructors run before the next callback starts;
    /// - with [`push_pinned`](crate::Teardown::push_pinned), the stack only
    ///   drops its borrow: the future, and whatever it holds, lives until the
    ///   caller's pinned binding goes out of scope, and its destructors run
    ///   then.
    ///
    /// A callback that never starts because the run's deadline has passed
    /// ([skipped](crate::Outcome::Skipped)) is let go the same way, unpolled
    /// (a `push_fn` closure uncalled).
    ///
    /// An overall deadline ([`Run::within`](crate::Run::within)) may cut the
    /// budget shorter: a callback gets the smaller of its own budget and the
    /// time the run has left.
    ///
    /// Only on a stack with a timer: on a [`NoTimer`](crate::NoTimer) stack
    /// this does not compile.
    ///
    /// ```compile_fail
    /// let mut teardown = teardown_stack::Teardown::<1>::new();
    /// teardown.push("db", async {}).unwrap().timeout(core::time::Duration::from_secs(1));
    /// ```
    pub fn timeout(self, budget: Duration) -> Self {
        self.meta.set_timeout(budget);
        self
    }
}

impl<R: Clock> fmt::Debug for Registered<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("name", &self.name)
            .field("timeout", &self.meta.timeout())
            .field("critical", &(self.meta.flags() & CRITICAL != 0))
            .finish()
    }
}
