//! A run given up part-way (dropped or forgotten) leaves no trace of its own
//! intent: a resumed callback answers to its own timeout and to the deadline
//! of the run polling it now, and the room of the callbacks that finished
//! comes back to the stack.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use core::future::pending;
use core::time::Duration;

use common::poll_once;
use teardown_stack::{Outcome, Teardown, Timer, VirtualClock};

const SEC: Duration = Duration::from_secs(1);

/// Whether the run is forgotten, for each way of giving it up; Miri reports
/// a forgotten run's memory as leaked, so there it is only dropped.
const GIVE_UP: &[bool] = if cfg!(miri) { &[false] } else { &[false, true] };

/// A stack holding "flush", which sleeps 20 s on the clock and has no
/// timeout of its own, started by a run `within(10 s)` that was then given
/// up (`forget` or drop) at t = 0.
fn flush_started_under_ten_seconds(
    clock: &VirtualClock,
    forget: bool,
) -> Teardown<'static, 2, VirtualClock> {
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    let sleep = clock.sleep(20 * SEC);
    teardown.push("flush", sleep).unwrap();
    let mut run = teardown.run().within(10 * SEC);
    assert!(poll_once(&mut run).is_pending());
    if forget {
        core::mem::forget(run);
    } else {
        drop(run);
    }
    teardown
}

#[test]
fn a_resumed_callback_without_a_deadline_runs_to_its_end() {
    for &forget in GIVE_UP {
        let clock = VirtualClock::new();
        let mut teardown = flush_started_under_ten_seconds(&clock, forget);

        let report = clock.block_on(teardown.run());

        assert_eq!(report.get(0).unwrap().outcome(), Outcome::Completed);
        assert_eq!(clock.now(), 20 * SEC, "forget: {forget}");
    }
}

#[test]
fn a_resumed_callback_answers_to_a_looser_deadline() {
    for &forget in GIVE_UP {
        let clock = VirtualClock::new();
        let mut teardown = flush_started_under_ten_seconds(&clock, forget);

        let report = clock.block_on(teardown.run().within(60 * SEC));

        assert_eq!(report.get(0).unwrap().outcome(), Outcome::Completed);
        assert_eq!(clock.now(), 20 * SEC, "forget: {forget}");
    }
}

#[test]
fn a_resumed_callback_answers_to_a_tighter_deadline() {
    for &forget in GIVE_UP {
        let clock = VirtualClock::new();
        let mut teardown = flush_started_under_ten_seconds(&clock, forget);

        let report = clock.block_on(teardown.run().within(5 * SEC));

        assert_eq!(
            report.get(0).unwrap().outcome(),
            Outcome::TimedOut { budget: 5 * SEC }
        );
        assert_eq!(clock.now(), 5 * SEC, "forget: {forget}");
    }
}

#[test]
fn a_resumed_callback_keeps_its_own_timeout_from_its_first_poll() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    teardown
        .push("flush", pending::<()>())
        .unwrap()
        .timeout(8 * SEC);
    assert!(poll_once(&mut teardown.run().within(3 * SEC)).is_pending());
    clock.advance(2 * SEC);

    // Neither the abandoned run's 3 s nor a fresh 8 s: 8 s from t = 0.
    let report = clock.block_on(teardown.run());

    assert_eq!(
        report.get(0).unwrap().outcome(),
        Outcome::TimedOut { budget: 8 * SEC }
    );
    assert_eq!(clock.now(), 8 * SEC);
}

/// A stage of three on a full stack: "quick" finishes in the first poll,
/// "slow" does not; the run is then forgotten.
#[test]
#[cfg_attr(miri, ignore = "forgets a run on purpose: Miri reports the leak")]
fn a_forgotten_run_gives_back_the_room_of_finished_members() {
    let mut teardown = Teardown::<3>::new();
    teardown.push("bottom", async {}).unwrap();
    let mut stage = teardown.stage();
    stage.push("quick", async {}).unwrap();
    stage.push("slow", pending::<()>()).unwrap();
    assert!(teardown.is_full());

    let mut run = teardown.run();
    assert!(poll_once(&mut run).is_pending());
    core::mem::forget(run);

    assert_eq!(teardown.len(), 2, "slow and bottom are pending");
    assert!(!teardown.is_full(), "fewer than N pending: there is room");
    teardown
        .push("late", async {})
        .expect("a registration succeeds when fewer than N are pending");
    assert!(teardown.is_full());
    let names: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
    assert_eq!(names, ["late", "slow", "bottom"]);
}

#[test]
fn a_forgotten_run_before_its_first_poll_changes_nothing() {
    let mut teardown = Teardown::<2>::new();
    teardown.push("a", async {}).unwrap();
    core::mem::forget(teardown.run());
    assert_eq!(teardown.len(), 1);
    teardown.push("b", async {}).unwrap();
    assert!(teardown.push("c", async {}).is_err());
}

/// A run given up in the middle of a stage leaves the records of the members
/// that finished, and `report()` lists them in the order they finished, not
/// in the order they were registered.
#[test]
fn a_stage_given_up_part_way_reports_its_finished_members_in_finish_order() {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Pending `n` times (waking itself), then ready.
    fn yield_times(mut n: u32) -> impl std::future::Future<Output = ()> + Send {
        std::future::poll_fn(move |cx| {
            if n == 0 {
                return Poll::Ready(());
            }
            n -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
    }

    let mut teardown = Teardown::<4>::new();
    let mut stage = teardown.stage();
    stage.push("first-registered", async {}).unwrap();
    stage.push("second-registered", yield_times(1)).unwrap();
    stage.push("never", std::future::pending::<()>()).unwrap();
    {
        let mut run = pin!(teardown.run());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(run.as_mut().poll(&mut cx).is_pending());
        assert!(run.as_mut().poll(&mut cx).is_pending());
    }
    let report = teardown.report();
    let names: Vec<String> = report.iter().map(|r| r.name().to_string()).collect();
    // The first registered finished on the first poll, the second on the
    // second: in the cells, the second lies above the first.
    assert_eq!(names, ["first-registered", "second-registered"]);
    assert_eq!(report.len(), 2);
    assert_eq!(teardown.names().next().unwrap().to_string(), "never");
}
