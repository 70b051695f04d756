//! With a timer, the report says how long each callback and the whole run
//! took; without one, it says nothing.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

use std::time::Duration;

use futures_lite::future::block_on;
use teardown_stack::{Teardown, Timer, VirtualClock};

const MS: Duration = Duration::from_millis(1);

#[test]
fn each_record_and_the_run_are_timed() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    for (name, ms) in [("store", 30), ("clients", 20), ("server", 50)] {
        let c = clock.clone();
        teardown
            .push(name, async move { c.sleep(ms * MS).await })
            .unwrap();
    }
    clock.advance(1000 * MS); // the clock's origin does not matter

    let report = clock.block_on(teardown.run());

    let timings: Vec<_> = report.iter().map(|r| r.elapsed()).collect();
    assert_eq!(timings, [Some(50 * MS), Some(20 * MS), Some(30 * MS)]);
    assert_eq!(report.elapsed(), Some(100 * MS));
    assert_eq!(
        report.to_string(),
        "teardown: 3 callbacks, all completed, in 100ms"
    );
}

#[test]
fn failures_show_their_timing_in_display() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    let c = clock.clone();
    teardown
        .push("db", async move {
            c.sleep(7 * MS).await;
            Err::<(), _>("reset")
        })
        .unwrap();
    let report = clock.block_on(teardown.run());
    assert_eq!(
        report.to_string(),
        "teardown: 1 callback: 0 completed, 1 failed, in 7ms\n  \"db\" failed: reset (7ms)"
    );
}

#[test]
fn without_a_timer_there_are_no_timings() {
    let mut teardown = Teardown::<2>::new();
    teardown.push("a", async {}).unwrap();
    let report = block_on(teardown.run());
    assert_eq!(report.elapsed(), None);
    assert_eq!(report.get(0).unwrap().elapsed(), None);
}
