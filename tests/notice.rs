//! The live line: a run waiting on the same callback or stage for longer
//! than an interval names it at warn level, with how long it has waited and
//! the budget left, and again each interval. Time is virtual.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::future::pending;
use std::time::Duration;

use common::logs;
use teardown_stack::{Shutdown, Teardown, Timer, VirtualClock};

const SEC: Duration = Duration::from_secs(1);

/// The still-waiting lines captured since `logs::start`.
fn still_waiting() -> Vec<String> {
    logs::at(log::Level::Warn)
        .into_iter()
        .filter(|line| line.starts_with("teardown: still waiting"))
        .collect()
}

fn assert_lines(expected: &[&str]) {
    let lines = still_waiting();
    if logs::ON {
        assert_eq!(lines, expected);
    } else {
        assert!(lines.is_empty(), "{lines:?}");
    }
}

#[test]
fn a_run_names_what_it_waits_on_every_five_seconds_with_the_grace_left() {
    logs::start();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    teardown.push("sandboxes", pending::<()>()).unwrap();

    let report = clock.block_on(teardown.run().within(12 * SEC));

    assert_eq!((report.timed_out(), report.skipped()), (1, 1));
    assert_lines(&[
        "teardown: still waiting on \"sandboxes\" after 5s, 7s of the grace left",
        "teardown: still waiting on \"sandboxes\" after 10s, 2s of the grace left",
    ]);
}

#[test]
fn a_stage_is_named_by_the_members_still_running() {
    logs::start();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    let mut stage = teardown.stage();
    for (name, secs) in [("a", 3), ("b", 5)] {
        let c = clock.clone();
        stage
            .push(name, async move { c.sleep(secs * SEC).await })
            .unwrap();
    }

    let run = teardown.run().notice_every(Some(2 * SEC));
    let report = clock.block_on(run);

    assert!(report.is_clean());
    assert_eq!(clock.now(), 5 * SEC);
    assert_lines(&[
        "teardown: still waiting on \"b\", \"a\" after 2s, with no deadline",
        "teardown: still waiting on \"b\" after 4s, with no deadline",
    ]);
}

#[test]
fn with_only_its_own_timeout_the_line_gives_the_time_to_its_cut() {
    logs::start();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown
        .push("flush", pending::<()>())
        .unwrap()
        .timeout(8 * SEC);

    let report = clock.block_on(teardown.run());

    assert_eq!(report.timed_out(), 1);
    assert_lines(&["teardown: still waiting on \"flush\" after 5s, 3s before its timeout"]);
}

#[test]
fn each_new_stage_starts_the_interval_again() {
    logs::start();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    for name in ["first", "second"] {
        let c = clock.clone();
        teardown
            .push(name, async move { c.sleep(4 * SEC).await })
            .unwrap();
    }

    let report = clock.block_on(teardown.run());

    // 8 s in all, but never 5 s on one callback.
    assert_eq!(clock.now(), 8 * SEC);
    assert!(report.is_clean());
    assert_lines(&[]);
}

#[test]
fn none_turns_the_line_off() {
    logs::start();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown.push("sandboxes", pending::<()>()).unwrap();

    let run = teardown.run().within(30 * SEC).notice_every(None);
    let report = clock.block_on(run);

    assert_eq!(report.timed_out(), 1);
    assert_lines(&[]);
}

#[test]
fn a_late_poll_says_it_once_and_keeps_the_interval() {
    logs::start();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown.push("sandboxes", pending::<()>()).unwrap();
    let mut run = teardown.run().within(20 * SEC);
    // First poll at 0 s, the next only at 11 s: one line then, the next at
    // 15 s, as if no poll had been late.
    assert!(common::poll_once(&mut run).is_pending());
    clock.advance(11 * SEC);
    assert!(common::poll_once(&mut run).is_pending());
    let report = clock.block_on(run);

    assert_eq!(report.timed_out(), 1);
    assert_lines(&[
        "teardown: still waiting on \"sandboxes\" after 11s, 9s of the grace left",
        "teardown: still waiting on \"sandboxes\" after 15s, 5s of the grace left",
    ]);
}

#[test]
fn a_shutdown_says_it_too() {
    logs::start();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown.push("sandboxes", pending::<()>()).unwrap();
    let c = clock.clone();
    let second_signal = async move { c.sleep(7 * SEC).await };

    let shutdown = clock.block_on(teardown.shutdown_within(25 * SEC, second_signal));

    assert!(matches!(shutdown, Shutdown::Interrupted { .. }));
    assert_lines(&["teardown: still waiting on \"sandboxes\" after 5s, 20s of the grace left"]);
}
