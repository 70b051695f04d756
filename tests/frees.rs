//! What a stack owns is freed: kept failure texts, owned names and owned
//! callbacks, whether the stack is dropped after a run, after a run given
//! up (even one forgotten), or without running, and when a registration
//! forgets the last run's records. A stack of borrowed callbacks with
//! clean records drops without a pass over its cells, so each of these
//! paths must still find what its cells own.
//!
//! No logger is installed in this test binary: log lines are never
//! formatted, and allocate nothing.

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use core::pin::pin;

use common::{poll_noop, poll_once, yield_times};
use counting_alloc::blocks_left_by;
use teardown_stack::Teardown;

async fn fails() -> Result<(), String> {
    Err("disk full".to_string())
}

#[test]
fn the_texts_of_a_completed_run_are_freed_with_the_stack() {
    let ((), left) = blocks_left_by(|| {
        let mut first = pin!(fails());
        let mut second = pin!(async {});
        let mut third = pin!(fails());
        let mut teardown = Teardown::<4>::new();
        teardown.push_pinned("a", first.as_mut()).unwrap();
        teardown.push_pinned("b", second.as_mut()).unwrap();
        teardown.push_pinned("c", third.as_mut()).unwrap();
        let (report, _) = poll_noop(teardown.run(), 1);
        assert_eq!(report.failed(), 2);
        assert_eq!(
            report.get(0).unwrap().outcome().message().unwrap(),
            "disk full"
        );
    });
    assert_eq!(left, 0);
}

#[test]
fn the_texts_of_a_forgotten_run_are_freed_with_the_stack() {
    let ((), left) = blocks_left_by(|| {
        let mut failing = pin!(fails());
        let mut slow = pin!(yield_times(3));
        let mut teardown = Teardown::<4>::new();
        teardown.push_pinned("slow", slow.as_mut()).unwrap();
        teardown.push_pinned("failing", failing.as_mut()).unwrap();
        let mut run = teardown.run();
        // "failing" fails (its text kept), then "slow" is pending.
        assert!(poll_once(&mut run).is_pending());
        // Nothing tells the stack that this run ended.
        core::mem::forget(run);
    });
    assert_eq!(left, 0);
}

#[test]
fn a_registration_frees_the_texts_of_a_run_given_up() {
    let mut failing = pin!(fails());
    let mut slow = pin!(yield_times(3));
    let mut late = pin!(async {});
    let mut teardown = Teardown::<4>::new();
    teardown.push_pinned("slow", slow.as_mut()).unwrap();
    teardown.push_pinned("failing", failing.as_mut()).unwrap();
    let ((), kept) = blocks_left_by(|| {
        let mut run = teardown.run();
        assert!(poll_once(&mut run).is_pending());
    });
    assert_eq!(kept, 1, "the text of \"failing\"");
    let ((), left) = blocks_left_by(|| {
        teardown.push_pinned("late", late.as_mut()).unwrap();
    });
    assert_eq!(left, -1, "the text is freed with the record");
}

#[test]
fn a_registration_frees_the_texts_of_a_completed_run() {
    let mut failing = pin!(fails());
    let mut late = pin!(async {});
    let mut teardown = Teardown::<4>::new();
    teardown.push_pinned("failing", failing.as_mut()).unwrap();
    let ((), kept) = blocks_left_by(|| {
        assert_eq!(poll_noop(teardown.run(), 1).0.failed(), 1);
    });
    assert_eq!(kept, 1, "the text of \"failing\"");
    let ((), left) = blocks_left_by(|| {
        teardown.push_pinned("late", late.as_mut()).unwrap();
    });
    assert_eq!(left, -1, "the text is freed with the record");
}

#[test]
fn owned_names_are_freed_with_the_stack_run_or_not() {
    for run in [false, true] {
        let ((), left) = blocks_left_by(|| {
            let mut first = pin!(async {});
            let mut second = pin!(async {});
            let mut teardown = Teardown::<4>::new();
            teardown
                .push_pinned(format!("db-{run}"), first.as_mut())
                .unwrap();
            teardown.push_pinned("cache", second.as_mut()).unwrap();
            if run {
                assert!(poll_noop(teardown.run(), 1).0.is_clean());
            }
        });
        assert_eq!(left, 0, "run: {run}");
    }
}

#[test]
fn owned_callbacks_are_freed_with_a_stack_that_never_ran() {
    let ((), left) = blocks_left_by(|| {
        let mut teardown = Teardown::<4>::new();
        teardown.push("db", async {}).unwrap();
        teardown.push_fn("cache", || async {}).unwrap();
    });
    assert_eq!(left, 0);
}
