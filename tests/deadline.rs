//! An overall deadline: each budget is the smaller of the callback's own and
//! the time left; past the deadline the rest are skipped, by name.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::future::pending;
use std::time::Duration;

use common::{DropGuard, Journal, logs, poll_once};
use teardown_stack::{Outcome, Teardown, Timer, VirtualClock};

const SEC: Duration = Duration::from_secs(1);

#[test]
fn past_the_deadline_the_rest_are_skipped_and_reported() {
    logs::start();
    let clock = VirtualClock::new();
    let journal = Journal::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    for name in ["store", "clients"] {
        let guard = DropGuard(name, journal.clone());
        let j = journal.clone();
        teardown
            .push(name, async move {
                let _guard = guard;
                j.record(format!("ran {name}"));
            })
            .unwrap();
    }
    teardown.push("hung", pending::<()>()).unwrap();

    let report = clock.block_on(teardown.run().within(4 * SEC));

    assert_eq!(clock.now(), 4 * SEC);
    assert_eq!(
        journal.events(),
        ["dropped clients", "dropped store"],
        "skipped callbacks are dropped, never polled"
    );
    let seen: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome()))
        .collect();
    assert_eq!(
        seen,
        [
            ("hung".into(), Outcome::TimedOut { budget: 4 * SEC }),
            ("clients".into(), Outcome::Skipped),
            ("store".into(), Outcome::Skipped),
        ]
    );
    assert_eq!((report.timed_out(), report.skipped()), (1, 2));
    assert!(teardown.is_empty());
    logs::assert_at(
        log::Level::Warn,
        &[
            "teardown callback \"hung\" timed out after 4s; cancelled",
            "teardown deadline passed: callback \"clients\" skipped",
            "teardown deadline passed: callback \"store\" skipped",
        ],
    );
}

#[test]
fn each_budget_is_the_smaller_of_its_own_and_the_time_left() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    // Runs third, at t = 5 s: own 20 s, but 5 s left.
    teardown
        .push("long-own", pending::<()>())
        .unwrap()
        .timeout(20 * SEC);
    // Runs second, at t = 3 s: own 2 s, less than the 7 s left.
    teardown
        .push("short-own", pending::<()>())
        .unwrap()
        .timeout(2 * SEC);
    // Runs first and takes 3 s.
    let c = clock.clone();
    teardown
        .push("quick", async move { c.sleep(3 * SEC).await })
        .unwrap();

    let report = clock.block_on(teardown.run().within(10 * SEC));

    let outcomes: Vec<_> = report.iter().map(|r| r.outcome()).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Completed,
            Outcome::TimedOut { budget: 2 * SEC },
            Outcome::TimedOut { budget: 5 * SEC },
        ]
    );
    assert_eq!(clock.now(), 10 * SEC);
    assert_eq!(report.elapsed(), Some(10 * SEC));
}

#[test]
fn the_deadline_counts_from_the_first_poll() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    let c = clock.clone();
    teardown
        .push("two-seconds", async move { c.sleep(2 * SEC).await })
        .unwrap();
    let run = teardown.run().within(3 * SEC);
    clock.advance(100 * SEC); // time passes before anyone awaits the run
    let report = clock.block_on(run);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn no_deadline_means_no_skipping() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    let c = clock.clone();
    teardown
        .push("slow", async move { c.sleep(3600 * SEC).await })
        .unwrap();
    let mut run = teardown.run();
    assert!(poll_once(&mut run).is_pending());
    let report = clock.block_on(run);
    assert!(report.is_clean());
    assert_eq!(clock.now(), 3600 * SEC);
}

#[test]
fn the_longest_budgets_mean_no_limit_not_an_overflow() {
    let clock = VirtualClock::new();
    clock.advance(SEC);
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    let c = clock.clone();
    teardown
        .push("slow", async move { c.sleep(3600 * SEC).await })
        .unwrap()
        .timeout(Duration::MAX);
    let report = clock.block_on(teardown.run().within(Duration::MAX));
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.elapsed(), Some(3600 * SEC));
}

#[test]
fn a_callback_resumed_by_a_later_run_is_bounded_by_its_deadline() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    teardown.push("hung", pending::<()>()).unwrap();
    // A first run, without a deadline, starts it and is given up.
    assert!(poll_once(&mut teardown.run()).is_pending());

    let report = clock.block_on(teardown.run().within(3 * SEC));

    assert_eq!(
        report.get(0).unwrap().outcome(),
        Outcome::TimedOut { budget: 3 * SEC }
    );
    assert_eq!(clock.now(), 3 * SEC);
}
