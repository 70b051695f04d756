//! Type erasure for cleanup futures: one stack holds futures of many types.

use core::fmt::Display;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

#[cfg(feature = "alloc")]
use alloc::boxed::Box;

use crate::report::message::{Kept, Texts};
use crate::report::name::Name;
use crate::storage::output::CleanupOutput;
use crate::timer::budget::Deadlines;

/// A cleanup future with its output erased, as the stack stores it.
///
/// Implemented for every [`Future`] whose output is a [`CleanupOutput`]. It
/// appears in the stack's type only as `dyn Cleanup + Send` (the default, see
/// [`Teardown`](crate::Teardown)) or `dyn Cleanup` (see
/// [`LocalTeardown`](crate::LocalTeardown)). Sealed: it cannot be implemented
/// outside this crate.
pub trait Cleanup: sealed::Sealed {
    /// Polls the future, registered as `name`; on an error, hands it to
    /// `failure` and returns [`Polled::Failed`].
    #[doc(hidden)]
    fn poll_cleanup(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        name: &Name,
        failure: &mut Failure<'_, '_>,
    ) -> Polled;
}

/// How one poll of a cleanup went: a byte, so that the loop over callbacks
/// reads what `failure` kept only when something failed. Completion is
/// zero: the common case is one test.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Polled {
    Completed = 0,
    Pending = 1,
    /// Finished with an error, which the poll's `Failure` kept.
    Failed = 2,
}

impl<F> Cleanup for F
where
    F: Future,
    F::Output: CleanupOutput,
{
    fn poll_cleanup(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        name: &Name,
        failure: &mut Failure<'_, '_>,
    ) -> Polled {
        poll_future(self, cx, name, failure)
    }
}

/// Polls a cleanup future, handing an error to `failure`.
#[inline(always)]
pub(crate) fn poll_future<F>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
    name: &Name,
    failure: &mut Failure<'_, '_>,
) -> Polled
where
    F: Future + ?Sized,
    F::Output: CleanupOutput,
{
    let Poll::Ready(output) = future.poll(cx) else {
        return Polled::Pending;
    };
    match output.into_result() {
        Ok(()) => Polled::Completed,
        Err(error) => {
            failure.fail(name, &error);
            Polled::Failed
        }
    }
}

impl core::fmt::Debug for Failure<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Failure")
            .field("failed", &self.kept.is_some())
            .finish_non_exhaustive()
    }
}

/// Where a failing callback's error goes: logged with the callback's name,
/// and its text kept for the report. One serves a whole run of polls, each
/// taking what it kept ([`take`](Self::take)).
///
/// Its one method is generic and called only from the poll of a callback
/// whose output can be an error: a program whose callbacks all output `()`
/// links none of the text rendering.
#[doc(hidden)]
pub struct Failure<'f, 't> {
    texts: &'f mut Texts<'t>,
    kept: Option<Kept>,
    /// The deadlines the run gives the callback polled, with a timer: what
    /// a callback registered with `push_with` reads on its first poll.
    deadlines: Option<&'f Deadlines>,
}

impl<'f, 't> Failure<'f, 't> {
    pub(crate) fn new(texts: &'f mut Texts<'t>) -> Self {
        Failure {
            texts,
            kept: None,
            deadlines: None,
        }
    }

    /// [`new`](Self::new), for a poll that gives the callback `deadlines`.
    pub(crate) fn with_deadlines(texts: &'f mut Texts<'t>, deadlines: &'f Deadlines) -> Self {
        Failure {
            texts,
            kept: None,
            deadlines: Some(deadlines),
        }
    }

    /// The deadlines the run gives the callback polled, if it gives any.
    pub(crate) fn deadlines(&self) -> Deadlines {
        self.deadlines.copied().unwrap_or_default()
    }

    /// Where the texts are kept.
    pub(crate) fn texts(&self) -> &Texts<'t> {
        self.texts
    }

    /// What was kept of the error, if the callback just polled failed.
    pub(crate) fn take(&mut self) -> Option<Kept> {
        self.kept.take()
    }

    fn fail<E: Display>(&mut self, name: &Name, error: &E) {
        warn!(
            "teardown callback {:?} failed: {}",
            name,
            crate::fmt::Shown(error)
        );
        self.kept = Some(self.texts.keep(error));
    }
}

/// The stacks whose callbacks may be futures of type `F`.
///
/// `dyn Cleanup + Send` (a [`Teardown`](crate::Teardown)) accepts `Send`
/// futures only, so the stack and its run are `Send`; `dyn Cleanup` (a
/// [`LocalTeardown`](crate::LocalTeardown)) accepts any future. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{F}` cannot be registered on this teardown stack",
    label = "this callback is not `Send`",
    note = "a `Teardown` holds only `Send` callbacks; use a `LocalTeardown` for callbacks that are not `Send`"
)]
pub trait Accepts<'a, F>: Cleanup + 'a {
    /// Erases a pinned, borrowed future.
    #[doc(hidden)]
    fn erase_pinned(future: Pin<&'a mut F>) -> Pin<&'a mut Self>;

    /// Boxes and erases an owned future.
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    fn erase_boxed(future: F) -> Pin<Box<Self>>;
}

impl<'a, F> Accepts<'a, F> for dyn Cleanup + 'a
where
    F: Cleanup + 'a,
{
    fn erase_pinned(future: Pin<&'a mut F>) -> Pin<&'a mut Self> {
        future
    }

    #[cfg(feature = "alloc")]
    fn erase_boxed(future: F) -> Pin<Box<Self>> {
        Box::pin(future)
    }
}

impl<'a, F> Accepts<'a, F> for dyn Cleanup + Send + 'a
where
    F: Cleanup + Send + 'a,
{
    fn erase_pinned(future: Pin<&'a mut F>) -> Pin<&'a mut Self> {
        future
    }

    #[cfg(feature = "alloc")]
    fn erase_boxed(future: F) -> Pin<Box<Self>> {
        Box::pin(future)
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
    impl<F: core::future::Future> Sealed for F where F::Output: crate::CleanupOutput {}
}
