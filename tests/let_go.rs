//! What the stack does with a callback it cancels (timed out) or never
//! starts (skipped), by registration kind, as `Registered::timeout` says: an
//! owned future is dropped at once; a `push_pinned` future loses only the
//! stack's borrow and lives until the caller's binding goes.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::future::pending;
use std::pin::pin;
use std::time::Duration;

use common::{DropToken, Drops, Journal};
use teardown_stack::{InlineTeardown, Outcome, Teardown, VirtualClock};

const SEC: Duration = Duration::from_secs(1);

/// Holds `token` and never completes.
async fn hang(token: DropToken) {
    let _token = token;
    pending::<()>().await;
}

#[test]
fn owned_futures_are_dropped_when_they_time_out() {
    let clock = VirtualClock::new();
    let drops = Drops::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    teardown
        .push("boxed", hang(drops.token()))
        .unwrap()
        .timeout(SEC);
    let token = drops.token();
    teardown
        .push_fn("closure", move || hang(token))
        .unwrap()
        .timeout(SEC);
    let report = clock.block_on(teardown.run());
    assert_eq!(report.timed_out(), 2);
    assert_eq!(drops.count(), 2, "dropped by the run");
}

#[test]
fn an_inline_future_is_dropped_in_its_slot_when_it_times_out() {
    let clock = VirtualClock::new();
    let drops = Drops::new();
    let mut teardown = pin!(InlineTeardown::<1, 64, _>::with_timer(clock.clone()));
    teardown
        .as_mut()
        .push_inline("inline", hang(drops.token()))
        .unwrap()
        .timeout(SEC);
    let report = clock.block_on(teardown.as_mut().run());
    assert_eq!(report.timed_out(), 1);
    assert_eq!(drops.count(), 1, "dropped by the run");
}

#[test]
fn a_pinned_future_outlives_its_timeout_until_the_callers_binding_goes() {
    let clock = VirtualClock::new();
    let drops = Drops::new();
    {
        let hung = pin!(hang(drops.token()));
        let mut teardown = Teardown::<1, _>::with_timer(clock.clone());
        teardown.push_pinned("pinned", hung).unwrap().timeout(SEC);
        let report = clock.block_on(teardown.run());
        assert_eq!(report.timed_out(), 1);
        drop(teardown);
        assert_eq!(drops.count(), 0, "the stack only drops its borrow");
    } // The caller's binding goes here.
    assert_eq!(drops.count(), 1);
}

#[test]
fn skipped_callbacks_are_let_go_unpolled_the_same_way() {
    let clock = VirtualClock::new();
    let drops = Drops::new();
    let journal = Journal::new();
    {
        let pinned = pin!(hang(drops.token()));
        let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
        teardown.push_pinned("pinned", pinned).unwrap();
        teardown.push("boxed", hang(drops.token())).unwrap();
        let (token, j) = (drops.token(), journal.clone());
        teardown
            .push_fn("closure", move || {
                j.record("called");
                hang(token)
            })
            .unwrap();
        teardown.push("hung", pending::<()>()).unwrap();
        let report = clock.block_on(teardown.run().within(SEC));
        let outcomes: Vec<_> = report.iter().map(|r| r.outcome()).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::TimedOut { budget: SEC },
                Outcome::Skipped,
                Outcome::Skipped,
                Outcome::Skipped
            ]
        );
        assert!(journal.events().is_empty(), "a skipped closure was called");
        assert_eq!(drops.count(), 2, "the owned ones are dropped by the run");
    }
    assert_eq!(drops.count(), 3, "the pinned one when its binding goes");
}
