//! Type erasure for cleanup futures: one stack holds futures of many types.

use core::fmt::Display;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

#[cfg(feature = "alloc")]
use alloc::boxed::Box;

use crate::CleanupOutput;
use crate::inline::{InlineSlot, NoInline, Storage};

/// A cleanup future with its output erased, as the stack stores it.
///
/// Implemented for every [`Future`] whose output is a [`CleanupOutput`]. It
/// appears in the stack's type only as `dyn Cleanup + Send` (the default, see
/// [`Teardown`](crate::Teardown)) or `dyn Cleanup` (see
/// [`LocalTeardown`](crate::LocalTeardown)). Sealed: it cannot be implemented
/// outside this crate.
pub trait Cleanup: sealed::Sealed {
    /// Polls the future; on an error, hands it to `on_error` before returning
    /// `Ready`.
    #[doc(hidden)]
    fn poll_cleanup(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        on_error: &mut dyn FnMut(&dyn Display),
    ) -> Poll<()>;
}

impl<F> Cleanup for F
where
    F: Future,
    F::Output: CleanupOutput,
{
    fn poll_cleanup(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        on_error: &mut dyn FnMut(&dyn Display),
    ) -> Poll<()> {
        let output = futures_lite::ready!(self.poll(cx));
        if let Err(error) = output.into_result() {
            on_error(&error);
        }
        Poll::Ready(())
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

    /// Erases a pointer to a future stored inline (the pointer is only
    /// converted, never read).
    #[doc(hidden)]
    fn erase_raw(future: *mut F) -> *mut Self;

    /// Boxes and erases an owned future.
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    fn erase_boxed(future: F) -> Pin<Box<Self>>;
}

impl<'a, F> Accepts<'a, F> for dyn Cleanup + 'a
where
    F: Future + 'a,
    F::Output: CleanupOutput,
{
    fn erase_pinned(future: Pin<&'a mut F>) -> Pin<&'a mut Self> {
        future
    }

    fn erase_raw(future: *mut F) -> *mut Self {
        future
    }

    #[cfg(feature = "alloc")]
    fn erase_boxed(future: F) -> Pin<Box<Self>> {
        Box::pin(future)
    }
}

impl<'a, F> Accepts<'a, F> for dyn Cleanup + Send + 'a
where
    F: Future + Send + 'a,
    F::Output: CleanupOutput,
{
    fn erase_pinned(future: Pin<&'a mut F>) -> Pin<&'a mut Self> {
        future
    }

    fn erase_raw(future: *mut F) -> *mut Self {
        future
    }

    #[cfg(feature = "alloc")]
    fn erase_boxed(future: F) -> Pin<Box<Self>> {
        Box::pin(future)
    }
}

/// Where a registered callback lives.
pub(crate) enum Slot<'a, C: ?Sized, S: Storage = NoInline> {
    /// Pinned by the caller; the stack only borrows it.
    Borrowed(Pin<&'a mut C>),
    /// Owned by the stack.
    #[cfg(feature = "alloc")]
    Boxed(Pin<Box<C>>),
    /// Owned by the stack, in place: never moved once polled (see
    /// `crate::inline`).
    Inline(S::Future<C>),
    /// Finished (a member of a stage whose siblings still run): its future
    /// is already dropped.
    Finished,
}

impl<'a, C: ?Sized + Cleanup + 'a, S: Storage> Slot<'a, C, S> {
    /// The future, unless it has finished.
    pub(crate) fn as_mut(&mut self) -> Option<Pin<&mut C>> {
        match self {
            Slot::Borrowed(future) => Some(future.as_mut()),
            #[cfg(feature = "alloc")]
            Slot::Boxed(future) => Some(future.as_mut()),
            Slot::Inline(future) => future.as_pin_mut(),
            Slot::Finished => None,
        }
    }
}

impl<C: ?Sized, S: Storage> Slot<'_, C, S> {
    /// Drops an inline future where it lies, so that the slot may then be
    /// moved; other slots are left as they are.
    pub(crate) fn clear_inline(&mut self) {
        if let Slot::Inline(future) = self {
            future.clear();
        }
    }

    /// Whether it holds an inline future that must not be moved.
    pub(crate) fn is_inline(&self) -> bool {
        matches!(self, Slot::Inline(_))
    }
}

mod sealed {
    pub trait Sealed {}
    impl<F: core::future::Future> Sealed for F where F::Output: crate::CleanupOutput {}
}
