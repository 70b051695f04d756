//! A callback over its budget is cancelled, logged and reported; the next one
//! runs. Time is virtual: nothing here sleeps.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::future::pending;
use std::time::Duration;

use common::{DropGuard, Journal, logs};
use teardown_stack::{Outcome, Teardown, Timer, VirtualClock};

const SEC: Duration = Duration::from_secs(1);

#[test]
fn a_hung_callback_is_bounded_by_its_timeout() {
    logs::start();
    let clock = VirtualClock::new();
    let journal = Journal::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    let j = journal.clone();
    teardown
        .push("store", async move { j.record("store") })
        .unwrap();
    let guard = DropGuard("db", journal.clone());
    teardown
        .push("db", async move {
            let _guard = guard;
            pending::<()>().await;
        })
        .unwrap()
        .timeout(5 * SEC);

    let report = clock.block_on(teardown.run());

    assert_eq!(clock.now(), 5 * SEC);
    assert_eq!(
        journal.events(),
        ["dropped db", "store"],
        "cancelled (dropped) before the next ran"
    );
    assert_eq!(report.get(0).unwrap().name(), "db");
    assert_eq!(
        report.get(0).unwrap().outcome(),
        Outcome::TimedOut { budget: 5 * SEC }
    );
    assert!(report.get(1).unwrap().outcome().is_completed());
    assert_eq!(report.timed_out(), 1);
    logs::assert_at(
        log::Level::Warn,
        &["teardown callback \"db\" timed out after 5s; cancelled"],
    );
}

#[test]
fn a_callback_within_its_timeout_completes() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    let c = clock.clone();
    teardown
        .push("flush", async move { c.sleep(2 * SEC).await })
        .unwrap()
        .timeout(5 * SEC);

    let report = clock.block_on(teardown.run());

    assert!(report.is_clean());
    assert_eq!(report.get(0).unwrap().elapsed(), Some(2 * SEC));
    assert_eq!(clock.now(), 2 * SEC);
}

#[test]
fn a_timeout_set_on_a_stage_member_is_its_own() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    let mut stage = teardown.stage();
    stage.push("quick", pending::<()>()).unwrap().timeout(SEC);
    stage
        .push("slow", pending::<()>())
        .unwrap()
        .timeout(3 * SEC);

    let report = clock.block_on(teardown.run());

    let seen: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome(), r.elapsed()))
        .collect();
    assert_eq!(
        seen,
        [
            ("quick".into(), Outcome::TimedOut { budget: SEC }, Some(SEC)),
            (
                "slow".into(),
                Outcome::TimedOut { budget: 3 * SEC },
                Some(3 * SEC)
            ),
        ]
    );
}

#[test]
fn registration_reports_the_name() {
    let mut teardown = Teardown::<2, _>::with_timer(VirtualClock::new());
    teardown.push("a", async {}).unwrap();
    let registered = teardown.push(None, async {}).unwrap().timeout(SEC);
    assert_eq!(registered.name().to_string(), "#1");
}
