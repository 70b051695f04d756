//! An interruptible shutdown: a second request to stop during a hung
//! cleanup ends the wait and names what had not finished, in run order.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::time::Duration;

use common::{DropGuard, Journal};
use teardown_stack::{Shutdown, Teardown, Timer, VirtualClock};

/// The service's stack: store, a stage of clients, a hung sandbox pool
/// (owning a guard that records its drop), then the server.
fn service(clock: &VirtualClock, journal: &Journal) -> Teardown<'static, 8, VirtualClock> {
    let mut teardown = Teardown::with_timer(clock.clone());
    let j = journal.clone();
    teardown
        .push("store", async move { j.record("store") })
        .unwrap();
    let mut clients = teardown.stage();
    for name in ["client-0", "client-1"] {
        let j = journal.clone();
        clients.push(name, async move { j.record(name) }).unwrap();
    }
    let guard = DropGuard("sandboxes", journal.clone());
    teardown
        .push("sandboxes", async move {
            let _owned = guard;
            std::future::pending::<()>().await;
        })
        .unwrap();
    let j = journal.clone();
    teardown
        .push("server", async move { j.record("server") })
        .unwrap();
    teardown
}

#[test]
fn a_second_signal_during_a_hung_cleanup_returns_the_unfinished_in_run_order() {
    let clock = VirtualClock::new();
    let journal = Journal::new();
    let mut teardown = service(&clock, &journal);
    // The second signal comes 3 s into a 25 s grace period.
    let second_signal = clock.sleep(Duration::from_secs(3));
    let shutdown = clock.block_on(teardown.shutdown_within(Duration::from_secs(25), second_signal));

    let Shutdown::Interrupted { unfinished, .. } = &shutdown else {
        panic!("{shutdown}");
    };
    assert_eq!(unfinished, &["sandboxes", "client-1", "client-0", "store"]);
    assert_eq!(
        shutdown.to_string(),
        "teardown interrupted; not finished: sandboxes, client-1, client-0, store"
    );
    assert!(!shutdown.is_clean());
    assert_eq!(clock.now(), Duration::from_secs(3));
    // Still registered, owning what they own, until the stack is dropped.
    assert_eq!(journal.events(), ["server"]);
    assert_eq!(teardown.len(), 4);
    drop(teardown);
    assert_eq!(journal.events(), ["server", "dropped sandboxes"]);
}

#[test]
fn without_a_second_signal_the_grace_period_ends_the_run_and_reports() {
    let clock = VirtualClock::new();
    let journal = Journal::new();
    let mut teardown = service(&clock, &journal);
    let never = std::future::pending::<()>();
    let shutdown = clock.block_on(teardown.shutdown_within(Duration::from_secs(25), never));

    let Shutdown::Finished(report) = &shutdown else {
        panic!("{shutdown}");
    };
    assert_eq!(report.timed_out(), 1);
    assert_eq!(report.skipped(), 3);
    assert_eq!(shutdown.report(), Some(*report));
    assert_eq!(clock.now(), Duration::from_secs(25));
}

#[test]
fn an_interrupted_shutdown_can_be_resumed_where_it_stopped() {
    let clock = VirtualClock::new();
    let journal = Journal::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    let j = journal.clone();
    teardown
        .push("store", async move { j.record("store") })
        .unwrap();
    let slow = clock.clone();
    let j = journal.clone();
    teardown
        .push("drain", async move {
            slow.sleep(Duration::from_secs(10)).await;
            j.record("drain");
        })
        .unwrap();
    let interrupted = clock.block_on(teardown.shutdown(clock.sleep(Duration::from_secs(1))));
    assert!(matches!(interrupted, Shutdown::Interrupted { .. }));

    let finished = clock.block_on(teardown.shutdown(std::future::pending::<()>()));
    assert!(finished.is_clean(), "{finished}");
    assert_eq!(journal.events(), ["drain", "store"]);
    assert_eq!(clock.now(), Duration::from_secs(10));
}

#[test]
fn a_run_and_an_interrupt_ready_together_count_as_finished() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    let shutdown = clock.block_on(teardown.shutdown(async {}));
    assert!(shutdown.is_clean(), "{shutdown}");
}
