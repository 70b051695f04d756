//! The borrowed path allocates nothing: register, run and read the report
//! with a counting allocator watching. CI also runs this file with
//! `--no-default-features`.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::fmt::Write as _;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;

use teardown_stack::Teardown;

/// Counts the allocations made on the current thread while counting is on.
struct Counting;

thread_local! {
    // `const` initialisers with no destructor: touching them never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every method forwards to `System` with the caller's own arguments,
// so `System` upholds the `GlobalAlloc` contract; counting only touches
// thread-locals that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as is; `ptr` came from `System` through us.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; `ptr` came from `System` through us.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its output with the allocations it made.
fn allocations_in<T>(f: impl FnOnce() -> T) -> (T, usize) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, ALLOCATIONS.with(Cell::get))
}

/// Pending `times` times, waking itself; no allocation.
async fn yield_times(times: usize) {
    let mut left = times;
    std::future::poll_fn(move |cx| {
        if left == 0 {
            return Poll::Ready(());
        }
        left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Writes into a fixed buffer on the stack.
struct Buffer {
    bytes: [u8; 512],
    len: usize,
}

impl core::fmt::Write for Buffer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[test]
fn the_counter_counts() {
    let (_, counted) = allocations_in(|| drop(std::hint::black_box(Box::new(7_u64))));
    assert_eq!(counted, 1);
}

#[test]
fn register_run_and_report_allocate_nothing() {
    let ((summary, names, completed, failed, polls), counted) = allocations_in(|| {
        let store = pin!(async { yield_times(3).await });
        let radio = pin!(async { Err::<(), _>("radio did not ack") });
        let display = pin!(async {});
        let mut teardown = Teardown::<4>::new();
        teardown.push_pinned("store", store).unwrap();
        teardown.push_pinned("radio", radio).unwrap();
        teardown.push_pinned(None, display).unwrap();

        let mut run = pin!(teardown.run());
        let mut cx = Context::from_waker(Waker::noop());
        let mut polls = 0;
        let report = loop {
            polls += 1;
            if let Poll::Ready(report) = run.as_mut().poll(&mut cx) {
                break report;
            }
        };

        let mut summary = Buffer {
            bytes: [0; 512],
            len: 0,
        };
        write!(summary, "{report}").unwrap();
        let mut names = Buffer {
            bytes: [0; 512],
            len: 0,
        };
        for record in report {
            write!(names, "{} ", record.name()).unwrap();
        }
        (summary, names, report.completed(), report.failed(), polls)
    });

    assert_eq!(counted, 0, "allocations on the borrowed path");
    assert_eq!((completed, failed), (2, 1));
    assert!(polls > 1);
    assert_eq!(
        core::str::from_utf8(&names.bytes[..names.len]).unwrap(),
        "#2 radio store "
    );
    assert_eq!(
        core::str::from_utf8(&summary.bytes[..summary.len]).unwrap(),
        "teardown: 3 callbacks: 2 completed, 1 failed\n  \"radio\" failed: radio did not ack"
    );
}
