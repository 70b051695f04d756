//! Owned callbacks without a heap: a future stored in a fixed-size buffer
//! inside its stack entry.
//!
//! This is the only module of the crate with `unsafe` code. It relies on
//! these invariants, which the rest of the crate keeps:
//!
//! 1. An [`InlineFuture`] holding a future exists only in a stack with
//!    `SLOT > 0` (checked at compile time in [`InlineFuture::new`]), and such
//!    a stack exists only as the field of an
//!    [`InlineTeardown`](crate::InlineTeardown), which is `!Unpin`; the crate
//!    polls, registers on and runs that stack only through
//!    `Pin<&mut InlineTeardown>` ([`InlineTeardown::stack`]). So the stack,
//!    and every entry in it, stays at one address from the first poll of a
//!    callback until the `InlineTeardown` is dropped, even when a run is
//!    leaked (`mem::forget`) part-way.
//! 2. Inside the stack, an entry whose slot holds an inline future is never
//!    moved: the stack's `Drop` and a run's `finish` drop the future in place
//!    ([`InlineFuture::clear`]) before they move the entry, and a run dropped
//!    part-way does not compact a stage that still holds one. Registering
//!    appends to the `heapless::Vec` of entries and never moves the others.
//!
//! A future is moved only when it is written into its buffer, before it was
//! ever polled, and is dropped exactly once: by [`InlineFuture::clear`],
//! called when it finishes, times out or is skipped, or by `Drop`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

use core::marker::PhantomData;
use core::mem::{MaybeUninit, align_of, size_of};
use core::pin::Pin;

use crate::callback::{Accepts, Cleanup};
use crate::{InlineTeardown, Teardown};

/// The alignment of an inline slot, in bytes: a future registered with
/// [`InlineTeardown::push_inline`] may need at most this alignment.
///
/// Eight bytes is the alignment of `u64`, `f64` and `Duration` on every
/// target the crate builds for, and what a stack entry needs anyway, so an
/// inline slot adds no padding. A future that holds a `u128` on x86-64 or
/// aarch64, or an over-aligned type, needs more: box it
/// ([`InlineTeardown::push`]) or pin it yourself
/// ([`InlineTeardown::push_pinned`]).
pub const INLINE_ALIGN: usize = 8;

/// `SLOT` bytes aligned to [`INLINE_ALIGN`].
#[repr(C, align(8))]
struct Buffer<const SLOT: usize>([MaybeUninit<u8>; SLOT]);

const _: () = assert!(align_of::<Buffer<0>>() == INLINE_ALIGN);

/// A type-erased future of at most `SLOT` bytes, stored in place.
pub(crate) struct InlineFuture<C: ?Sized, const SLOT: usize> {
    /// Turns the buffer's address into a pointer to the erased future;
    /// `None` once the future was dropped.
    erase: Option<fn(*mut u8) -> *mut C>,
    buffer: Buffer<SLOT>,
    /// Owns a `C`: `Send` exactly when `C` is (`dyn Cleanup + Send` or
    /// `dyn Cleanup`), like the boxed and borrowed slots.
    owns: PhantomData<C>,
}

/// The entry holding an inline future may move only before the future is
/// polled; the crate keeps that (see the module docs), not `Unpin`. Being
/// `Unpin` keeps a stack without inline futures (`SLOT == 0`) `Unpin`, as it
/// was before inline slots existed.
impl<C: ?Sized, const SLOT: usize> Unpin for InlineFuture<C, SLOT> {}

/// Erases a future of type `F` stored at `ptr`.
fn erase<'a, C, F>(ptr: *mut u8) -> *mut C
where
    C: ?Sized + Accepts<'a, F>,
{
    C::erase_raw(ptr.cast::<F>())
}

impl<C: ?Sized + Cleanup, const SLOT: usize> InlineFuture<C, SLOT> {
    /// Whether a future of type `F` fits a slot: at most `SLOT` bytes,
    /// aligned to at most [`INLINE_ALIGN`].
    pub(crate) const fn fits<F>() -> bool {
        size_of::<F>() <= SLOT && align_of::<F>() <= INLINE_ALIGN
    }

    /// Stores `future`, or hands it back if it does not fit.
    ///
    /// Fails to compile on a stack without inline slots (`SLOT == 0`).
    pub(crate) fn new<'a, F>(future: F) -> Result<Self, F>
    where
        C: Accepts<'a, F>,
    {
        const {
            assert!(
                SLOT > 0,
                "inline callbacks go on an `InlineTeardown` (a stack with `SLOT > 0` bytes per slot)"
            );
        }
        if !Self::fits::<F>() {
            return Err(future);
        }
        let mut buffer = Buffer([MaybeUninit::uninit(); SLOT]);
        // SAFETY: the pointer is to the start of `buffer`, which is valid for
        // writes of `SLOT` bytes and aligned to `INLINE_ALIGN`; `fits` checked
        // above that `F` is no larger and no more aligned than that. The
        // buffer is uninitialised, so nothing is overwritten without being
        // dropped. Moving the buffer into `Self` below copies the future's
        // bytes (provenance included, as `MaybeUninit<u8>`), which is fine:
        // it was never polled, so nothing points into it.
        unsafe { buffer.0.as_mut_ptr().cast::<F>().write(future) };
        Ok(InlineFuture {
            erase: Some(erase::<C, F>),
            buffer,
            owns: PhantomData,
        })
    }

    /// Stores `future`; fails to compile if it does not fit.
    pub(crate) fn new_checked<'a, F>(future: F) -> Self
    where
        C: Accepts<'a, F>,
    {
        const {
            assert!(
                SLOT > 0,
                "inline callbacks go on an `InlineTeardown` (a stack with `SLOT > 0` bytes per slot)"
            );
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

impl<C: ?Sized, const SLOT: usize> InlineFuture<C, SLOT> {
    /// The future, pinned where it lies; `None` once it was dropped.
    pub(crate) fn as_pin_mut(&mut self) -> Option<Pin<&mut C>> {
        if SLOT == 0 {
            // Never made (see `new`): lets the compiler drop this code from
            // stacks without inline slots.
            return None;
        }
        let erase = self.erase?;
        let future = erase(self.buffer.0.as_mut_ptr().cast::<u8>());
        // SAFETY: `erase` is `Some`, so the buffer holds a live future of the
        // type `erase` was made for (written by `new`, not dropped since:
        // `clear` takes `erase` before dropping it). The pointer comes from
        // `&mut self.buffer`, so the mutable borrow is unique for the
        // lifetime of `&mut self`. Pinning: the future is never moved again
        // until it is dropped in place, by the invariants in the module
        // docs: the stack holding it is a field of a pinned `InlineTeardown`,
        // and the crate never moves an entry that holds an inline future.
        Some(unsafe { Pin::new_unchecked(&mut *future) })
    }

    /// Drops the future in place, once; later calls do nothing.
    ///
    /// If its destructor panics, the future counts as dropped all the same.
    pub(crate) fn clear(&mut self) {
        if SLOT == 0 {
            // Never made (see `new`), so there is nothing to drop.
            return;
        }
        let Some(erase) = self.erase.take() else {
            return;
        };
        let future = erase(self.buffer.0.as_mut_ptr().cast::<u8>());
        // SAFETY: `erase` was `Some`, so the buffer holds a live future of the
        // type `erase` was made for, valid and aligned (see `as_pin_mut`).
        // `erase` is `None` from here on, so it is dropped only this once,
        // even if its destructor unwinds, and never used again. It is
        // dropped where it lies, so a pinned future is not moved first.
        unsafe { core::ptr::drop_in_place(future) };
    }
}

impl<C: ?Sized, const SLOT: usize> Drop for InlineFuture<C, SLOT> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<'a, const N: usize, const SLOT: usize, R, C> InlineTeardown<'a, N, SLOT, R, C>
where
    C: ?Sized + Cleanup + 'a,
{
    /// The stack inside, for registering and running.
    pub(crate) fn stack(self: Pin<&mut Self>) -> &mut Teardown<'a, N, R, C, SLOT> {
        // SAFETY: the `InlineTeardown` is pinned and `!Unpin` (it holds a
        // `PhantomPinned`), so it stays where it is until dropped. The stack
        // inside is handed only to crate code (registration, `Stage`, `Run`),
        // which never moves the stack out nor moves an entry that holds an
        // inline future (module docs, invariant 2); the reference never
        // reaches the user.
        unsafe { &mut self.get_unchecked_mut().stack }
    }
}
