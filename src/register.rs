//! How a callback joins a stack: the one place that decides whether there is
//! room, names the callback and builds its cell. Every public registration
//! method (on `Teardown`, `InlineTeardown` and `Stage`) forwards here with
//! one of the slot builders below, which say how the callback is stored.

use core::future::{Future, IntoFuture};
use core::pin::Pin;

use crate::callback::{Accepts, Cleanup, Slot};
use crate::cell::{Cell, JOINED};
#[cfg(feature = "alloc")]
use crate::deferred::Deferred;
use crate::inline::{InlineFuture, InlineSlots, Storage};
use crate::name::{IntoName, Name};
use crate::timer::Clock;
use crate::{CleanupOutput, Full, InlineError, Registered, Teardown};

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Teardown<'a, N, R, C, S> {
    /// Registers `callback`, stored by `store`, as a member of the stage of
    /// the callback below it when `joined` (else as a stage of its own);
    /// hands it back untouched, with `store` never called, when there is no
    /// room.
    #[inline]
    pub(crate) fn register<T>(
        &mut self,
        joined: bool,
        name: impl IntoName,
        callback: T,
        store: impl FnOnce(T) -> Slot<'a, C, S>,
    ) -> Result<Registered<'_, R>, Full<T>> {
        if !self.cells.make_room() {
            return Err(Full::new(callback, N));
        }
        let name = name.into_name(self.cells.registered());
        Ok(self.insert(joined, name, store(callback)))
    }

    /// Pushes the cell, once there is room: not generic over the callback,
    /// so one copy serves every registration.
    fn insert(&mut self, joined: bool, name: Name, slot: Slot<'a, C, S>) -> Registered<'_, R> {
        let flags = if joined { JOINED } else { 0 };
        let cell = self
            .cells
            .push(Cell::new(name, slot, flags, R::Stamp::default()));
        let (name, timeout) = cell.registered();
        Registered::new(name, timeout)
    }
}

/// A future the caller pinned: the stack borrows it.
pub(crate) fn pinned<'a, F, C, S>(future: Pin<&'a mut F>) -> Slot<'a, C, S>
where
    F: Future,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, F>,
    S: Storage,
{
    Slot::Borrowed(C::erase_pinned(future))
}

/// A future the stack boxes and owns.
#[cfg(feature = "alloc")]
pub(crate) fn boxed<'a, F, C, S>(future: F) -> Slot<'a, C, S>
where
    F: IntoFuture,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, F::IntoFuture>,
    S: Storage,
{
    Slot::Boxed(C::erase_boxed(future.into_future()))
}

/// A closure the stack boxes, called when its turn comes.
#[cfg(feature = "alloc")]
pub(crate) fn deferred<'a, G, F, C, S>(callback: G) -> Slot<'a, C, S>
where
    G: FnOnce() -> F,
    F: Future,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, Deferred<G, F>>,
    S: Storage,
{
    Slot::Boxed(C::erase_boxed(Deferred::new(callback)))
}

/// A future stored in the cell's inline slot; one that does not fit fails
/// to compile.
pub(crate) fn inline<'a, F, C, const SLOT: usize>(future: F) -> Slot<'a, C, InlineSlots<SLOT>>
where
    F: IntoFuture,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, F::IntoFuture>,
{
    Slot::Inline(InlineFuture::new_checked(future.into_future()))
}

/// Checks that `future` fits an inline slot, before any room is made for it.
pub(crate) fn check_fits<'a, F, C, const SLOT: usize>(future: F) -> Result<F, InlineError<F>>
where
    F: IntoFuture,
    C: ?Sized + Accepts<'a, F::IntoFuture>,
{
    if InlineFuture::<C, SLOT>::fits::<F::IntoFuture>() {
        Ok(future)
    } else {
        Err(InlineError::does_not_fit::<F::IntoFuture>(future, SLOT))
    }
}

/// A future already checked with [`check_fits`], stored inline.
pub(crate) fn fitting<'a, F, C, const SLOT: usize>(future: F) -> Slot<'a, C, InlineSlots<SLOT>>
where
    F: IntoFuture,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, F::IntoFuture>,
{
    match InlineFuture::new(future.into_future()) {
        Ok(stored) => Slot::Inline(stored),
        Err(_) => unreachable!("checked that it fits"),
    }
}
