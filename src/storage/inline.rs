//! Owned callbacks without a heap: a future stored in a fixed-size buffer
//! inside its stack cell.
//!
//! One of the two modules of the crate with `unsafe` code (the other,
//! `boxed`, only builds a stack in place). It relies on these invariants,
//! which the rest of the crate keeps:
//!
//! 1. An [`InlineFuture`] exists only in a stack whose [`Storage`] is
//!    [`InlineSlots`] (a [`Teardown`](crate::Teardown) has [`NoInline`], whose slot type is
//!    uninhabited), and such a stack can only be made as the field of an
//!    [`InlineTeardown`](crate::InlineTeardown); the crate registers on and
//!    runs that stack only through `Pin<&mut InlineTeardown>`
//!    (`InlineTeardown::stack`, in `crate::stack::inline`). So the stack, and every cell in it, stays
//!    at one address from the first poll of a callback until the
//!    `InlineTeardown` is dropped, even when a run is leaked (`mem::forget`)
//!    part-way.
//! 2. Inside the stack, a cell whose slot holds a live inline future is
//!    never moved. Every move of a cell is in `crate::storage::cells`, which keeps
//!    this: finishing a callback (`Cell::finish`, `Cell::finish_untimed`)
//!    and dropping the stack drop the future in place
//!    ([`InlineSlot::clear`]) before the cell changes;
//!    removing finished cells (`Cells::compact`, `Cells::remove_holes`)
//!    moves only the cells above the highest live inline future; ordering a
//!    finished stage's records (`order_stage`) moves only cells of that
//!    stage, all finished. Registering appends to the `heapless::Vec` of
//!    cells and never moves the others.
//! 3. A suspended future may hold borrows into itself, `&mut` ones too, while
//!    the crate works on its cell. An [`InlineFuture`] is `!Unpin`, and so
//!    are the cell, the stack and the `InlineTeardown` around it, so the
//!    `&mut` references the crate takes to them are not assumed unique (no
//!    `noalias`); its buffer is an `UnsafeCell`, so the shared references the
//!    crate takes (to count or name the cells, or to read records) do not
//!    assume its bytes frozen. The buffer is reached through raw pointers
//!    only, never through a reference to its bytes.
//! 4. Every inline future is dropped before its memory is given up, even
//!    when another callback's destructor panics: `Cells::drop_slow` (in
//!    `crate::storage::cells`) finishes dropping the remaining cells from a drop
//!    guard while such a panic unwinds, and a run lets go of each callback
//!    under `catch_unwind` (with `std`) or leaves it to that guard
//!    (without). A future linked into an intrusive list (a waiter queue)
//!    is so unlinked by its own destructor before its slot can be reused or
//!    freed, as `Pin`'s drop guarantee requires.
//!
//! A future is moved only when it is written into its buffer, before it was
//! ever polled, and is dropped exactly once: by [`InlineSlot::clear`],
//! called when it finishes, times out or is skipped, or by `Drop`. A future
//! whose type has no drop glue has nothing to drop: the crate may then
//! overwrite its cell without calling `clear` (the cell's `DROPS` flag is
//! unset for it, from [`InlineSlot::drops`]).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

use core::cell::UnsafeCell;
use core::convert::Infallible;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::{MaybeUninit, align_of, size_of};
use core::pin::Pin;
use core::task::Context;

use crate::Name;
use crate::storage::cleanup::{Accepts, Cleanup, Failure, Polled};

/// The alignment of an inline slot, in bytes: a future registered with
/// [`InlineTeardown::push_inline`](crate::InlineTeardown::push_inline) may need at most this alignment.
///
/// Eight bytes is the alignment of `u64`, `f64` and `Duration` on every
/// target the crate builds for, and what a stack entry needs anyway, so an
/// inline slot adds no padding. A future that holds a `u128` on x86-64 or
/// aarch64, or an over-aligned type, needs more: box it
/// ([`InlineTeardown::push`](crate::InlineTeardown::push)) or pin it yourself
/// ([`InlineTeardown::push_pinned`](crate::InlineTeardown::push_pinned)).
pub const INLINE_ALIGN: usize = 8;

/// How a stack may store owned callbacks in its entries: [`NoInline`] (a
/// [`Teardown`](crate::Teardown)) or [`InlineSlots`] (an
/// [`InlineTeardown`](crate::InlineTeardown)). Sealed.
///
/// A type parameter rather than a slot size, so that only a stack with inline
/// slots is `!Unpin`: a [`Teardown`](crate::Teardown) stays `Unpin`, as it always was.
pub trait Storage: sealed::Sealed {
    /// What an inline slot holds.
    #[doc(hidden)]
    type Future<C: ?Sized>: InlineSlot<C>;

    /// Whether a slot can hold a future (`false` for [`NoInline`]).
    #[doc(hidden)]
    const INLINE: bool;
}

/// The storage of a [`Teardown`](crate::Teardown): no inline slots, so owned callbacks are
/// boxed.
#[derive(Debug)]
pub enum NoInline {}

/// The storage of an [`InlineTeardown`](crate::InlineTeardown): each entry
/// has an inline slot of `SLOT` bytes aligned to [`INLINE_ALIGN`].
#[derive(Debug)]
pub enum InlineSlots<const SLOT: usize> {}

impl Storage for NoInline {
    type Future<C: ?Sized> = Infallible;
    const INLINE: bool = false;
}

impl<const SLOT: usize> Storage for InlineSlots<SLOT> {
    type Future<C: ?Sized> = InlineFuture<C, SLOT>;
    const INLINE: bool = true;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoInline {}
    impl<const SLOT: usize> Sealed for super::InlineSlots<SLOT> {}
}

/// An inline slot's contents, as the rest of the crate uses them.
pub trait InlineSlot<C: ?Sized> {
    /// Polls the future where it lies (see [`Cleanup::poll_cleanup`]).
    ///
    /// # Panics
    ///
    /// If the future was dropped: only a pending callback is polled.
    fn poll_cleanup(
        &mut self,
        cx: &mut Context<'_>,
        name: &Name,
        failure: &mut Failure<'_, '_>,
    ) -> Polled;

    /// Drops the future in place, once; later calls do nothing.
    fn clear(&mut self);

    /// Whether the future is still there (not dropped yet).
    fn is_live(&self) -> bool;

    /// Whether dropping the future runs any code (its type has drop glue).
    fn drops(&self) -> bool;
}

/// A stack without inline slots never has one to poll or drop.
impl<C: ?Sized> InlineSlot<C> for Infallible {
    fn poll_cleanup(&mut self, _: &mut Context<'_>, _: &Name, _: &mut Failure<'_, '_>) -> Polled {
        match *self {}
    }

    fn clear(&mut self) {
        match *self {}
    }

    fn is_live(&self) -> bool {
        match *self {}
    }

    fn drops(&self) -> bool {
        match *self {}
    }
}

/// `SLOT` bytes aligned to [`INLINE_ALIGN`], in an `UnsafeCell`: the crate
/// reads entries through shared references (to count or name them) while a
/// future in one may hold a `&mut` into itself; the cell tells the compiler
/// that bytes behind a shared reference may still change (module docs,
/// invariant 3).
#[repr(C, align(8))]
struct Buffer<const SLOT: usize>(UnsafeCell<[MaybeUninit<u8>; SLOT]>);

const _: () = assert!(align_of::<Buffer<0>>() == INLINE_ALIGN);

/// Polls the future of the type it was made for, stored at the pointer.
type PollFn = unsafe fn(*mut u8, &mut Context<'_>, &Name, &mut Failure<'_, '_>) -> Polled;

/// Drops the future of the type it was made for, stored at the pointer.
type DropFn = unsafe fn(*mut u8);

/// A type-erased future of at most `SLOT` bytes, stored in place.
///
/// It keeps two functions made for the future's type, rather than a way to
/// make a `dyn` pointer to it: a poll is one indirect call, and a future
/// whose type has no drop glue has nothing to call when let go.
pub struct InlineFuture<C: ?Sized, const SLOT: usize> {
    /// `None` once the future was dropped.
    poll: Option<PollFn>,
    /// `None` for a type without drop glue.
    drop: Option<DropFn>,
    buffer: Buffer<SLOT>,
    /// Owns a `C`: `Send` exactly when `C` is (`dyn Cleanup + Send` or
    /// `dyn Cleanup`), like the boxed and borrowed slots.
    owns: PhantomData<C>,
    /// The future may point into itself (module docs, invariant 3).
    _pinned: PhantomPinned,
}

/// Polls a future of type `F` stored at `ptr`.
///
/// # Safety
///
/// `ptr` points to a live, aligned `F` that stays where it is until dropped
/// (pinned), and nothing else reaches it while this runs.
unsafe fn poll_as<F>(
    ptr: *mut u8,
    cx: &mut Context<'_>,
    name: &Name,
    failure: &mut Failure<'_, '_>,
) -> Polled
where
    F: Cleanup,
{
    // SAFETY: the caller's promise: a live `F`, reached by nothing else
    // while the borrow lives, and never moved until it is dropped.
    let future = unsafe { Pin::new_unchecked(&mut *ptr.cast::<F>()) };
    future.poll_cleanup(cx, name, failure)
}

/// Drops a future of type `F` stored at `ptr`.
///
/// # Safety
///
/// `ptr` points to a live, aligned `F`, never used again.
unsafe fn drop_as<F>(ptr: *mut u8) {
    // SAFETY: the caller's promise.
    unsafe { core::ptr::drop_in_place(ptr.cast::<F>()) };
}

impl<C: ?Sized + Cleanup, const SLOT: usize> InlineFuture<C, SLOT> {
    /// Whether a future of type `F` fits a slot: at most `SLOT` bytes,
    /// aligned to at most [`INLINE_ALIGN`].
    pub(crate) const fn fits<F>() -> bool {
        size_of::<F>() <= SLOT && align_of::<F>() <= INLINE_ALIGN
    }

    /// Stores `future`, or hands it back if it does not fit.
    pub(crate) fn new<'a, F>(future: F) -> Result<Self, F>
    where
        F: Cleanup,
        C: Accepts<'a, F>,
    {
        if !Self::fits::<F>() {
            return Err(future);
        }
        let buffer = Buffer(UnsafeCell::new([MaybeUninit::uninit(); SLOT]));
        // SAFETY: the pointer is to the start of `buffer`, which is valid for
        // writes of `SLOT` bytes and aligned to `INLINE_ALIGN`; `fits` checked
        // above that `F` is no larger and no more aligned than that. The
        // buffer is uninitialised, so nothing is overwritten without being
        // dropped. Moving the buffer into `Self` below copies the future's
        // bytes (provenance included, as `MaybeUninit<u8>`), which is fine:
        // it was never polled, so nothing points into it.
        unsafe { buffer.0.get().cast::<F>().write(future) };
        Ok(InlineFuture {
            poll: Some(poll_as::<F>),
            drop: if core::mem::needs_drop::<F>() {
                Some(drop_as::<F>)
            } else {
                None
            },
            buffer,
            owns: PhantomData,
            _pinned: PhantomPinned,
        })
    }

    /// Stores `future`; fails to compile if it does not fit.
    pub(crate) fn new_checked<'a, F>(future: F) -> Self
    where
        F: Cleanup,
        C: Accepts<'a, F>,
    {
        const {
            assert!(
                size_of::<F>() <= SLOT,
                "this future is larger than the stack's inline slot (`SLOT` bytes): \
                 raise `SLOT`, or use `try_push_inline`, `push` or `push_pinned`"
            );
            assert!(
                align_of::<F>() <= INLINE_ALIGN,
                "this future needs a stricter alignment than an inline slot's \
                 (`INLINE_ALIGN`, 8 bytes): use `push` or `push_pinned`"
            );
        }
        match Self::new(future) {
            Ok(stored) => stored,
            Err(_) => unreachable!("checked at compile time"),
        }
    }
}

impl<C: ?Sized, const SLOT: usize> InlineSlot<C> for InlineFuture<C, SLOT> {
    fn poll_cleanup(
        &mut self,
        cx: &mut Context<'_>,
        name: &Name,
        failure: &mut Failure<'_, '_>,
    ) -> Polled {
        let Some(poll) = self.poll else {
            unreachable!("a pending callback has its future");
        };
        // SAFETY: `poll` is `Some`, so the buffer holds a live future of the
        // type `poll` was made for (written by `new`, not dropped since:
        // `clear` takes `poll` before dropping it), at the buffer's start,
        // aligned. The pointer is derived from `&mut self`, so nothing else
        // reaches the future while it is polled. It is made with `&raw mut`,
        // so no reference to the bytes invalidates the future's borrows of
        // itself (nor does `&mut self`: `Self` is `!Unpin`; module docs,
        // invariant 3). Pinning: the future is never moved again until it is
        // dropped in place (invariants 1 and 2): the stack holding it is a
        // field of a pinned `InlineTeardown`, and the crate never moves an
        // entry that holds a live inline future.
        unsafe { poll((&raw mut self.buffer).cast::<u8>(), cx, name, failure) }
    }

    fn is_live(&self) -> bool {
        self.poll.is_some()
    }

    fn drops(&self) -> bool {
        self.drop.is_some()
    }

    /// If its destructor panics, the future counts as dropped all the same.
    fn clear(&mut self) {
        if self.poll.take().is_none() {
            return;
        }
        let Some(drop) = self.drop else {
            // No drop glue: nothing to run.
            return;
        };
        // SAFETY: `poll` was `Some`, so the buffer holds a live future of the
        // type `drop` was made for, valid and aligned (see `poll_cleanup`).
        // `poll` is `None` from here on, so it is dropped only this once,
        // even if its destructor unwinds, and never used again. It is
        // dropped where it lies, so a pinned future is not moved first.
        unsafe { drop((&raw mut self.buffer).cast::<u8>()) };
    }
}

impl<C: ?Sized, const SLOT: usize> core::fmt::Debug for InlineFuture<C, SLOT> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InlineFuture")
            .field("slot", &SLOT)
            .field("live", &self.poll.is_some())
            .finish_non_exhaustive()
    }
}

impl<C: ?Sized, const SLOT: usize> Drop for InlineFuture<C, SLOT> {
    fn drop(&mut self) {
        self.clear();
    }
}
