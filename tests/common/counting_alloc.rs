//! A global allocator that counts the allocations made on the current
//! thread, for the zero-allocation tests. Each test binary that includes
//! this module (by `#[path]`) installs it as its global allocator.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations made on the current thread while counting is on.
struct Counting;

thread_local! {
    // `const` initialisers with no destructor: touching them never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    // Blocks allocated less blocks freed (a `realloc` changes neither).
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn note_allocation() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

fn note_block(change: isize) {
    if COUNTING.with(Cell::get) {
        LIVE.with(|n| n.set(n.get() + change));
    }
}

// SAFETY: every method forwards to `System` with the caller's own arguments,
// so `System` upholds the `GlobalAlloc` contract; counting only touches
// thread-locals that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        note_block(1);
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        note_block(1);
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as is; `ptr` came from `System` through us.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_block(-1);
        // SAFETY: forwarded as is; `ptr` came from `System` through us.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` with counting on, from zero; returns its output.
fn counting<T>(f: impl FnOnce() -> T) -> T {
    ALLOCATIONS.with(|n| n.set(0));
    LIVE.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    out
}

/// Runs `f` and returns its output with the allocations it made on this
/// thread.
#[allow(dead_code)]
pub fn allocations_in<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let out = counting(f);
    (out, ALLOCATIONS.with(Cell::get))
}

/// Runs `f` and returns its output with the number of blocks it left
/// allocated on this thread: blocks allocated less blocks freed.
#[allow(dead_code)]
pub fn blocks_left_by<T>(f: impl FnOnce() -> T) -> (T, isize) {
    let out = counting(f);
    (out, LIVE.with(Cell::get))
}
