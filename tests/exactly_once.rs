//! Each callback runs exactly once, and not before `run`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::yield_times;
use futures_lite::future::block_on;
use teardown_stack::Teardown;

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[test]
fn every_callback_runs_exactly_once() {
    let counts: Vec<_> = (0..6).map(|_| counter()).collect();
    let mut teardown = Teardown::<6>::new();
    for count in &counts {
        let count = Arc::clone(count);
        teardown
            .push(None, async move {
                yield_times(1).await;
                count.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }

    let report = block_on(teardown.run());
    assert_eq!(report.len(), 6);
    assert!(teardown.is_empty());
    block_on(teardown.run());

    for count in &counts {
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn nothing_runs_before_run() {
    let polled = counter();
    let called = counter();
    let mut teardown = Teardown::<2>::new();
    let p = Arc::clone(&polled);
    teardown
        .push("future", async move {
            p.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    let c = Arc::clone(&called);
    teardown
        .push_fn("closure", move || {
            c.fetch_add(1, Ordering::SeqCst);
            async {}
        })
        .unwrap();

    assert_eq!(polled.load(Ordering::SeqCst), 0);
    assert_eq!(called.load(Ordering::SeqCst), 0);

    block_on(teardown.run());

    assert_eq!(polled.load(Ordering::SeqCst), 1);
    assert_eq!(called.load(Ordering::SeqCst), 1);
}

#[test]
fn a_finished_callback_is_dropped_at_once() {
    // The future owns a guard; it must be released when the callback ends,
    // before the next (lower) callback starts.
    let alive = counter();
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    alive.store(1, Ordering::SeqCst);
    let guard = Guard(Arc::clone(&alive));
    let seen_by_lower = counter();

    let mut teardown = Teardown::<2>::new();
    let (a, s) = (Arc::clone(&alive), Arc::clone(&seen_by_lower));
    teardown
        .push("lower", async move {
            s.store(a.load(Ordering::SeqCst) + 10, Ordering::SeqCst);
        })
        .unwrap();
    teardown
        .push("upper", async move {
            let _guard = guard;
        })
        .unwrap();

    block_on(teardown.run());
    assert_eq!(
        seen_by_lower.load(Ordering::SeqCst),
        10,
        "upper's guard was still alive"
    );
}

#[test]
fn callbacks_registered_after_a_run_are_dropped_at_once_too() {
    // A run of borrowed callbacks only, then one of boxed ones, then a
    // mix: whatever the last run held, each owned callback is released
    // when it ends, before the next starts, and exactly once.
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = counter();
    let mut borrowed = std::pin::pin!(async {});
    let mut teardown = Teardown::<4>::new();
    teardown.push_pinned("borrowed", borrowed.as_mut()).unwrap();
    assert!(block_on(teardown.run()).is_clean());

    for round in 0..2 {
        // Each lower callback sees how many upper guards were dropped.
        let seen = counter();
        let (d, s) = (Arc::clone(&dropped), Arc::clone(&seen));
        teardown
            .push("lower", async move {
                s.store(d.load(Ordering::SeqCst) + 100, Ordering::SeqCst);
            })
            .unwrap();
        let guard = Guard(Arc::clone(&dropped));
        teardown
            .push("upper", async move {
                let _held = &guard;
            })
            .unwrap();
        assert!(block_on(teardown.run()).is_clean());
        assert_eq!(
            seen.load(Ordering::SeqCst),
            100 + round + 1,
            "round {round}: the upper callback was still held when the lower one ran"
        );
        assert_eq!(dropped.load(Ordering::SeqCst), round + 1);
    }
}
