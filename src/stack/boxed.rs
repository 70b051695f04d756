//! Stacks built in place on the heap, for capacities too large to pass
//! through the caller's stack.
//!
//! `Box::new(Teardown::<100_000>::new())` builds the stack (megabytes of
//! cells) as a value first, and a debug build keeps that value on the
//! caller's stack before moving it: it overflows a thread's stack long
//! before the heap runs short. The constructors here allocate first and
//! then write the stack's few header fields in place; its cells are never
//! written at all.
//!
//! This is the crate's second module with `unsafe` code, and its argument is
//! local:
//!
//! 1. The allocation is zeroed (`alloc_zeroed`), and every field of the
//!    stack but the cells' vector is then written with its initial value,
//!    through raw pointers to the fields (no reference to uninitialised
//!    memory is made).
//! 2. The cells' vector is left as zeroed bytes. A `heapless::Vec` is a
//!    length (`usize`) and a buffer of `MaybeUninit` elements (plus a
//!    `PhantomData`): with every byte zero its length is 0, and a buffer of
//!    `MaybeUninit` is valid whatever its bytes, so the bytes make an empty
//!    vector, which is what `heapless::Vec::new()` makes.
//!    `tests/large_stack.rs` checks that the result is empty and works,
//!    under Miri too.
//!
//! So every field is initialised when `assume_init` is called.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

use alloc::alloc::Layout;
use alloc::boxed::Box;
use core::mem::MaybeUninit;
use core::pin::Pin;

use crate::report::event::unwatched;
use crate::report::message::Texts;
use crate::stack::inline::InlineTeardown;
use crate::stack::teardown::Teardown;
use crate::storage::cells::Cells;
use crate::storage::cleanup::Cleanup;
use crate::storage::inline::Storage;
use crate::timer::{Clock, NoTimer};

impl<'a, const N: usize, C: ?Sized + Cleanup + 'a> Teardown<'a, N, NoTimer, C> {
    /// [`new`](Self::new), built in place on the heap: for a capacity so
    /// large that the stack should never pass through the caller's stack
    /// (tens of thousands of callbacks).
    ///
    /// Allocates once, zeroed memory; the cells are never written until
    /// callbacks are registered. With `alloc`.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::Teardown;
    ///
    /// let mut teardown = Teardown::<100_000>::boxed();
    /// for _ in 0..100_000 {
    ///     teardown.push(None, async {}).unwrap();
    /// }
    /// let report = futures_lite::future::block_on(teardown.run());
    /// assert_eq!(report.completed(), 100_000);
    /// ```
    #[must_use]
    pub fn boxed() -> Box<Self> {
        Self::boxed_with_timer(NoTimer)
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// [`with_timer`](Self::with_timer), built in place on the heap; see
    /// [`boxed`](Teardown::boxed).
    #[must_use]
    pub fn boxed_with_timer(timer: R) -> Box<Self> {
        let mut stack = zeroed::<Self>();
        // SAFETY: the pointer is to the allocation just made, which is
        // zeroed, aligned and large enough for a stack.
        unsafe { init(stack.as_mut_ptr(), timer) };
        // SAFETY: `init` wrote every field but the cells' vector, whose
        // zeroed bytes make an empty vector (module docs).
        unsafe { stack.assume_init() }
    }
}

impl<'a, const N: usize, const SLOT: usize, C: ?Sized + Cleanup + 'a>
    InlineTeardown<'a, N, SLOT, NoTimer, C>
{
    /// [`new`](Self::new), built in place on the heap and pinned there; see
    /// [`Teardown::boxed`].
    #[must_use]
    pub fn boxed() -> Pin<Box<Self>> {
        Self::boxed_with_timer(NoTimer)
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock, C: ?Sized + Cleanup + 'a>
    InlineTeardown<'a, N, SLOT, R, C>
{
    /// [`with_timer`](Self::with_timer), built in place on the heap and
    /// pinned there; see [`Teardown::boxed`].
    #[must_use]
    pub fn boxed_with_timer(timer: R) -> Pin<Box<Self>> {
        let mut inline = zeroed::<Self>();
        let this = inline.as_mut_ptr();
        // SAFETY: `this` points to the allocation just made, zeroed, aligned
        // and large enough; `&raw mut` makes a pointer to its stack field
        // without a reference to uninitialised memory.
        unsafe { init(&raw mut (*this).stack, timer) };
        // SAFETY: the stack is initialised (as in `Teardown::boxed`), and
        // the other field is the zero-sized `PhantomPinned`.
        let inline = unsafe { inline.assume_init() };
        Box::into_pin(inline)
    }
}

/// A zeroed heap allocation for a `T` (what `Box::new_zeroed` makes, which
/// is newer than the crate's minimum Rust).
fn zeroed<T>() -> Box<MaybeUninit<T>> {
    let layout = Layout::new::<T>();
    // A stack always has its length: never zero-sized.
    assert!(layout.size() > 0, "a stack is never zero-sized");
    // SAFETY: the layout's size is not zero.
    let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) }.cast::<MaybeUninit<T>>();
    if ptr.is_null() {
        alloc::alloc::handle_alloc_error(layout);
    }
    // SAFETY: `ptr` was allocated by the global allocator with the layout of
    // `T` (that of `MaybeUninit<T>`), as `Box` requires, and is owned by
    // nothing else; a `MaybeUninit` is valid whatever its bytes.
    unsafe { Box::from_raw(ptr) }
}

/// Names every field `init` must write, so that a field added to
/// `Teardown` or `Cells` fails to compile here until `init` writes it too:
/// the patterns are exhaustive. Never called.
#[allow(dead_code)]
fn init_writes_every_field<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage>(
    stack: &Teardown<'a, N, R, C, S>,
) {
    let Teardown { timer: _, cells } = stack;
    // `cells` (the vector) is the one field left as zeroed bytes.
    let Cells {
        holes: _,
        stages: _,
        removed: _,
        texts: _,
        status: _,
        elapsed: _,
        began: _,
        observer: _,
        cells: _,
    } = cells;
}

/// Writes the initial value of every field of the stack at `stack` but the
/// cells' vector, which stays as it is.
///
/// # Safety
///
/// `stack` must be valid for writes and aligned, and the cells' vector must
/// be zeroed bytes.
unsafe fn init<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage>(
    stack: *mut Teardown<'a, N, R, C, S>,
    timer: R,
) {
    // SAFETY: the caller's promise: `stack` is valid for writes and aligned,
    // so are pointers to its fields, made with `&raw mut` (no reference to
    // the uninitialised stack is made). Each write is of a field's initial
    // value, as `Teardown::empty` and `Cells::new` make them.
    unsafe {
        (&raw mut (*stack).timer).write(timer);
        let cells = &raw mut (*stack).cells;
        (&raw mut (*cells).holes).write(None);
        (&raw mut (*cells).stages).write(None);
        (&raw mut (*cells).texts).write(Texts::none());
        (&raw mut (*cells).status).write(0);
        (&raw mut (*cells).elapsed).write(R::NO_SPAN);
        (&raw mut (*cells).began).write(R::NO_SPAN);
        (&raw mut (*cells).observer).write(unwatched());
        (&raw mut (*cells).removed).write(0);
    }
}
