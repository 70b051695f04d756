//! Where an interruptible shutdown's interrupts come from: one future (one
//! interrupt), or a stream (one per item, so that a second interrupt can
//! follow the escalation the first one made).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_lite::Stream;

/// A source of interrupts, polled by an interruptible shutdown
/// ([`Teardown::shutdown`](crate::Teardown::shutdown),
/// [`Run::or_interrupt`](crate::Run::or_interrupt)).
///
/// Made by [`IntoInterrupts`]: from a future (one interrupt) or from
/// [`each`] item of a stream.
pub trait Interrupts {
    /// `Ready(true)` for each interrupt; `Ready(false)` once no more will
    /// come (it is not polled again then).
    fn poll_interrupt(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool>;
}

/// What an interruptible shutdown takes as its interrupts.
///
/// - A future is one interrupt (the next shutdown signal, say): with
///   critical callbacks pending it escalates the run, and nothing
///   interrupts it after that; without, it gives the run up.
/// - [`each`]`(stream)` makes each item an interrupt: the first escalates
///   (when a critical callback is pending), the next gives the run up.
pub trait IntoInterrupts {
    /// The source it becomes.
    type Interrupts: Interrupts;

    /// Makes the source.
    fn into_interrupts(self) -> Self::Interrupts;
}

pin_project_lite::pin_project! {
    /// One interrupt: a future's completion (see [`IntoInterrupts`]).
    #[derive(Debug)]
    pub struct Once<F> {
        #[pin]
        future: F,
        done: bool,
    }
}

impl<F: Future> Interrupts for Once<F> {
    fn poll_interrupt(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(false);
        }
        futures_lite::ready!(this.future.poll(cx));
        *this.done = true;
        Poll::Ready(true)
    }
}

impl<F: Future> IntoInterrupts for F {
    type Interrupts = Once<F>;

    fn into_interrupts(self) -> Once<F> {
        Once {
            future: self,
            done: false,
        }
    }
}

pin_project_lite::pin_project! {
    /// Each item of a stream is an interrupt: see [`each`].
    #[derive(Debug)]
    pub struct Each<S> {
        #[pin]
        stream: S,
        ended: bool,
    }
}

/// Makes each item of `stream` an interrupt (a stream of shutdown signals,
/// such as async-signal's `Signals`): the first escalates the run, the
/// next gives it up.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use teardown_stack::{Shutdown, Teardown, VirtualClock, each};
///
/// let clock = VirtualClock::new();
/// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
/// teardown.push("store", async {}).unwrap().critical();
/// teardown.push("sandboxes", core::future::pending::<()>()).unwrap();
/// // Two signals already caught: the first drops "sandboxes"; the store
/// // completes before the second is read.
/// let signals = futures_lite::stream::iter([(), ()]);
/// let shutdown = clock.block_on(teardown.shutdown(each(signals)));
/// let Shutdown::Finished(report) = shutdown else { unreachable!() };
/// assert!(report.get(0).unwrap().is_escalated());
/// assert!(report.get(1).unwrap().outcome().is_completed());
/// # }
/// ```
pub fn each<S: Stream>(stream: S) -> Each<S> {
    Each {
        stream,
        ended: false,
    }
}

impl<S: Stream> Interrupts for Each<S> {
    fn poll_interrupt(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(false);
        }
        let item = futures_lite::ready!(this.stream.poll_next(cx));
        *this.ended = item.is_none();
        Poll::Ready(item.is_some())
    }
}

impl<S: Stream> IntoInterrupts for Each<S> {
    type Interrupts = Self;

    fn into_interrupts(self) -> Self {
        self
    }
}
