//! Where a registered callback lives: borrowed, boxed, or in its cell's
//! inline slot; and how each kind is polled and let go.

#[cfg(feature = "alloc")]
use alloc::boxed::Box;
use core::pin::Pin;
use core::task::Context;

use crate::report::name::Name;
use crate::storage::cleanup::{Cleanup, Failure, Polled};
use crate::storage::inline::{InlineSlot, NoInline, Storage};
use crate::storage::isolate::{self, Panic};

/// Where a registered callback lives.
pub(crate) enum Slot<'a, C: ?Sized, S: Storage = NoInline> {
    /// Owned by the stack, in place: never moved once polled (see
    /// `crate::storage::inline`). First, so that on a stack with inline slots, where
    /// most callbacks are inline, telling it from the others is one test.
    Inline(S::Future<C>),
    /// Pinned by the caller; the stack only borrows it.
    Borrowed(Pin<&'a mut C>),
    /// Owned by the stack.
    #[cfg(feature = "alloc")]
    Boxed(Pin<Box<C>>),
}

impl<'a, C: ?Sized + Cleanup + 'a, S: Storage> Slot<'a, C, S> {
    /// Polls the future (see [`Cleanup::poll_cleanup`]).
    ///
    /// # Panics
    ///
    /// If it is an inline future already dropped.
    #[inline(always)]
    pub(crate) fn poll_cleanup(
        &mut self,
        cx: &mut Context<'_>,
        name: &Name,
        failure: &mut Failure<'_, '_>,
    ) -> Polled {
        match self {
            Slot::Borrowed(future) => future.as_mut().poll_cleanup(cx, name, failure),
            #[cfg(feature = "alloc")]
            Slot::Boxed(future) => future.as_mut().poll_cleanup(cx, name, failure),
            Slot::Inline(future) => future.poll_cleanup(cx, name, failure),
        }
    }
}

impl<C: ?Sized, S: Storage> Slot<'_, C, S> {
    /// Drops an inline future where it lies, so that the slot may then be
    /// moved; other slots are left as they are.
    pub(crate) fn drop_inline(&mut self) {
        if let Slot::Inline(future) = self {
            future.clear();
        }
    }

    /// [`drop_inline`](Self::drop_inline), with a panic of its destructor
    /// caught (with `std`).
    pub(crate) fn clear_inline(&mut self) -> Result<(), Panic> {
        match self {
            Slot::Inline(future) => isolate::catch(|| future.clear()),
            _ => Ok(()),
        }
    }

    /// Lets the callback go once its inline future, if any, was dropped:
    /// drops an owned one, with a panic of its destructor caught (with
    /// `std`); a borrowed one is its owner's to drop.
    pub(crate) fn release(self) -> Result<(), Panic> {
        match self {
            #[cfg(feature = "alloc")]
            owned @ Slot::Boxed(_) => isolate::catch(move || drop(owned)),
            _ => Ok(()),
        }
    }

    /// Whether it holds an inline future that must not be moved.
    pub(crate) fn is_inline(&self) -> bool {
        matches!(self, Slot::Inline(future) if future.is_live())
    }

    /// Whether letting it go runs a destructor: a boxed one's, or an inline
    /// future's with drop glue.
    pub(crate) fn drops(&self) -> bool {
        match self {
            Slot::Borrowed(_) => false,
            #[cfg(feature = "alloc")]
            Slot::Boxed(_) => true,
            Slot::Inline(future) => future.drops(),
        }
    }

    /// Whether the stack owns it on the heap.
    pub(crate) fn is_boxed(&self) -> bool {
        #[cfg(feature = "alloc")]
        return matches!(self, Slot::Boxed(_));
        #[cfg(not(feature = "alloc"))]
        return false;
    }
}
