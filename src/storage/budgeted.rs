//! A closure registered with `push_with`: called when its turn comes, with
//! the [`Budget`] the run gives it then.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::Context;

use crate::report::name::Name;
use crate::storage::cleanup::{Cleanup, Failure, Polled, poll_future, sealed};
use crate::storage::output::CleanupOutput;
use crate::timer::Clock;
use crate::timer::budget::Budget;

pin_project_lite::pin_project! {
    #[project = StepProj]
    #[project_replace = StepReplace]
    enum Step<G, F> {
        Waiting { callback: G },
        Running { #[pin] future: F },
        Calling,
    }
}

pin_project_lite::pin_project! {
    /// A cleanup that sees its time: a closure that receives the
    /// callback's [`Budget`] when its turn comes, and returns the cleanup
    /// future.
    ///
    /// [`Teardown::push_with`](crate::Teardown::push_with) and
    /// [`InlineTeardown::push_inline_with`](crate::InlineTeardown::push_inline_with)
    /// make one for the closure they are given. Make one yourself to pin it
    /// and register a borrow of it, allocating nothing, with
    /// [`push_pinned_with`](crate::Teardown::push_pinned_with):
    ///
    /// ```
    /// use core::pin::pin;
    /// use teardown_stack::{Teardown, WithBudget};
    ///
    /// let flush = pin!(WithBudget::new(|budget: teardown_stack::Budget| async move {
    ///     assert!(budget.is_unbounded()); // a stack without a timer
    /// }));
    /// let mut teardown = Teardown::<2>::new();
    /// teardown.push_pinned_with("log", flush).unwrap();
    /// assert!(futures_lite::future::block_on(teardown.run()).is_clean());
    /// ```
    ///
    /// It is not itself a future: only a stack can give it a budget.
    pub struct WithBudget<G, F, R = crate::NoTimer> {
        #[pin]
        step: Step<G, F>,
        timer: Option<R>,
    }
}

impl<G, F, R> WithBudget<G, F, R>
where
    R: Clock,
    G: FnOnce(Budget<R>) -> F,
    F: Future,
    F::Output: CleanupOutput,
{
    /// The closure, to be called with the budget of a stack on the
    /// default timer parameter ([`NoTimer`](crate::NoTimer)) or on one
    /// that makes no timer values of its own.
    pub fn new(callback: G) -> Self
    where
        R: Default,
    {
        Self::with_timer(callback, R::default())
    }

    /// The closure, to be called with a budget read on `timer` (a clone of
    /// the stack's).
    pub fn with_timer(callback: G, timer: R) -> Self {
        WithBudget {
            step: Step::Waiting { callback },
            timer: Some(timer),
        }
    }
}

impl<G, F, R> sealed::Sealed for WithBudget<G, F, R>
where
    R: Clock,
    G: FnOnce(Budget<R>) -> F,
    F: Future,
    F::Output: CleanupOutput,
{
}

impl<G, F, R> Cleanup for WithBudget<G, F, R>
where
    R: Clock,
    G: FnOnce(Budget<R>) -> F,
    F: Future,
    F::Output: CleanupOutput,
{
    fn poll_cleanup(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        name: &Name,
        failure: &mut Failure<'_, '_>,
    ) -> Polled {
        if let StepProj::Running { future } = self.as_mut().project().step.project() {
            return poll_future(future, cx, name, failure);
        }
        let this = self.as_mut().project();
        let StepReplace::Waiting { callback } = this.step.project_replace(Step::Calling) else {
            // Only reachable after the closure itself panicked.
            panic!("teardown callback polled after its closure panicked");
        };
        let Some(timer) = this.timer.take() else {
            unreachable!("the timer goes with the closure");
        };
        let future = callback(Budget::new(timer, failure.deadlines()));
        let mut step = self.project().step;
        step.as_mut().project_replace(Step::Running { future });
        match step.project() {
            StepProj::Running { future } => poll_future(future, cx, name, failure),
            _ => unreachable!("just set to Running"),
        }
    }
}

impl<G, F, R> fmt::Debug for WithBudget<G, F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            Step::Waiting { .. } => "waiting",
            Step::Running { .. } => "running",
            Step::Calling => "calling",
        };
        f.debug_struct("WithBudget").field("step", &step).finish()
    }
}
