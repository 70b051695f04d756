//! A closure registered as a callback: called only when its turn comes.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// The future of a closure registered with
    /// [`Teardown::push_fn`](crate::Teardown::push_fn): it calls the closure
    /// on its first poll, then drives the future the closure returned.
    #[project = DeferredProj]
    #[project_replace = DeferredReplace]
    pub enum Deferred<G, F> {
        /// Not yet called.
        Waiting { callback: G },
        /// Called; driving its future.
        Running { #[pin] future: F },
        /// Between the two, only while the closure runs.
        Calling,
    }
}

impl<G, F> Deferred<G, F> {
    pub(crate) const fn new(callback: G) -> Self {
        Deferred::Waiting { callback }
    }
}

impl<G, F> Future for Deferred<G, F>
where
    G: FnOnce() -> F,
    F: Future,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if let DeferredProj::Running { future } = self.as_mut().project() {
            return future.poll(cx);
        }
        let DeferredReplace::Waiting { callback } =
            self.as_mut().project_replace(Deferred::Calling)
        else {
            // Only reachable after the closure itself panicked.
            panic!("teardown callback polled after its closure panicked");
        };
        let future = callback();
        self.as_mut().project_replace(Deferred::Running { future });
        match self.project() {
            DeferredProj::Running { future } => future.poll(cx),
            _ => unreachable!("just set to Running"),
        }
    }
}
