//! `TokioTimer` re-arms one sleep in place (`Sleep::reset`) instead of
//! boxing a new one for each deadline: a run that waits for many deadlines
//! allocates no more than one that waits for a single deadline.
#![cfg(feature = "tokio")]
// tokio's time driver makes system calls that Miri does not run.
#![cfg(not(miri))]

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use std::future::{Future, pending};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use counting_alloc::allocations_in;
use teardown_stack::{Teardown, Timer, TokioTimer};

const SEC: Duration = Duration::from_secs(1);

/// Drives `F` and counts the allocations made while it is polled, not
/// those of the runtime between polls.
struct Counted<F> {
    inner: F,
    allocations: usize,
}

impl<F: Future + Unpin> Future for Counted<F> {
    type Output = (F::Output, usize);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let (poll, allocations) = allocations_in(|| Pin::new(&mut this.inner).poll(cx));
        this.allocations += allocations;
        poll.map(|output| (output, this.allocations))
    }
}

/// The allocations of a run of `hung` callbacks that each time out one
/// after another: each has a deadline of its own for the run to sleep to.
fn allocations_of_a_run(hung: usize) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut teardown = Teardown::<16, _>::with_timer(TokioTimer::new());
        for _ in 0..hung {
            teardown.push(None, pending::<()>()).unwrap().timeout(SEC);
        }
        let counted = Counted {
            inner: teardown.run(),
            allocations: 0,
        };
        let (report, allocations) = counted.await;
        assert_eq!(report.timed_out(), hung);
        allocations
    })
}

#[test]
fn a_run_boxes_one_sleep_however_many_deadlines_it_waits_for() {
    let one = allocations_of_a_run(1);
    let eight = allocations_of_a_run(8);
    assert_eq!(one, 1, "the one sleep, boxed");
    assert_eq!(eight, one, "a deadline after the first allocated");
}

#[test]
fn reset_allocates_nothing_and_takes_any_duration() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let timer = TokioTimer::new();
        let mut sleep = timer.sleep(SEC);
        let ((), allocations) = allocations_in(|| {
            for seconds in 0..100 {
                timer.reset(&mut sleep, seconds * SEC);
            }
        });
        assert_eq!(allocations, 0);

        // Past what an `Instant` holds: far in the future, not a panic.
        timer.reset(&mut sleep, Duration::MAX);
        let start = tokio::time::Instant::now();
        timer.reset(&mut sleep, SEC);
        sleep.as_mut().await;
        assert_eq!(start.elapsed(), SEC, "re-armed for the new duration");
    });
}
