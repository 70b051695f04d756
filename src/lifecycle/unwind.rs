//! Catching a panic of a whole future, so that a teardown can run before the
//! panic goes on: used by scopes and by builds with rollback.

use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;

/// A caught panic's payload, to resume it with [`resume`]. Without `std` a
/// panic cannot be caught, so there is none.
#[cfg(feature = "std")]
pub(crate) type Payload = std::boxed::Box<dyn core::any::Any + Send>;
/// A caught panic's payload, to resume it with [`resume`]. Without `std` a
/// panic cannot be caught, so there is none.
#[cfg(not(feature = "std"))]
pub(crate) type Payload = core::convert::Infallible;

/// Awaits `future`; with `std`, a panic while polling it ends it too, and is
/// returned. Either way `future` has been dropped when this resolves.
pub(crate) async fn catch<F: Future>(future: F) -> Result<F::Output, Payload> {
    let mut future = pin!(future);
    poll_fn(|cx| match poll_caught(|| future.as_mut().poll(cx)) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Err(panic) => Poll::Ready(Err(panic)),
    })
    .await
}

#[cfg(feature = "std")]
fn poll_caught<T>(poll: impl FnOnce() -> T) -> Result<T, Payload> {
    // The future that panicked is never polled again, only dropped.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(poll))
}

#[cfg(not(feature = "std"))]
fn poll_caught<T>(poll: impl FnOnce() -> T) -> Result<T, Payload> {
    Ok(poll())
}

/// Resumes a caught panic.
#[cfg(feature = "std")]
pub(crate) fn resume(panic: Payload) -> ! {
    std::panic::resume_unwind(panic)
}

/// Resumes a caught panic: without `std` there never is one.
#[cfg(not(feature = "std"))]
pub(crate) fn resume(panic: Payload) -> ! {
    match panic {}
}
