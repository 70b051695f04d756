//! A scope runs the stack however its body ends: `Ok`, `Err`, or a panic.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use common::Journal;
use futures_lite::future::block_on;
use teardown_stack::{Outcome, Released, Teardown, Timer, VirtualClock};

/// Registers `name` on `t`, recording its release in `journal`.
fn acquire(t: &mut Teardown<'static, 8>, journal: &Journal, name: &'static str) {
    let journal = journal.clone();
    t.push(name, async move { journal.record(name) }).unwrap();
}

#[test]
fn a_body_that_succeeds_gets_its_value_and_the_report() {
    let journal = Journal::new();
    let mut teardown = Teardown::<8>::new();
    let j = journal.clone();
    let ended = block_on(teardown.scope(async |t| {
        acquire(t, &j, "store");
        acquire(t, &j, "server");
        j.record("served");
        Ok::<_, ()>(42)
    }));
    let (value, report) = ended.unwrap();
    assert_eq!(value, 42);
    assert_eq!(journal.events(), ["served", "server", "store"]);
    assert!(report.is_clean());
    assert_eq!(report.completed(), 2);
    assert!(teardown.is_empty());
}

#[test]
fn an_early_error_runs_the_stack_and_returns_the_error_and_the_report() {
    let journal = Journal::new();
    let mut teardown = Teardown::<8>::new();
    let j = journal.clone();
    let ended = block_on(teardown.scope(async |t| {
        acquire(t, &j, "store");
        let failing = t.push("clients", async { Err::<(), _>("connection reset") });
        failing.unwrap();
        Err::<(), _>("upstream refused")?;
        acquire(t, &j, "never");
        Ok::<(), &str>(())
    }));
    let Err(Released { error, report }) = ended else {
        panic!("the body failed")
    };
    assert_eq!(error, "upstream refused");
    assert_eq!(journal.events(), ["store"]);
    let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["clients", "store"]);
    assert!(
        matches!(report.get(0).unwrap().outcome(), Outcome::Failed(m) if m == "connection reset")
    );
}

#[test]
fn a_panicking_body_runs_the_stack_then_the_panic_resumes() {
    let journal = Journal::new();
    let mut teardown = Teardown::<8>::new();
    let j = journal.clone();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        block_on(teardown.scope(async |t| {
            acquire(t, &j, "store");
            acquire(t, &j, "server");
            if j.events().is_empty() {
                panic!("handler bug");
            }
            Ok::<_, ()>(())
        }))
        .is_ok()
    }));
    let payload = caught.expect_err("the panic goes on after the teardown");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"handler bug"));
    assert_eq!(journal.events(), ["server", "store"]);
    assert!(teardown.is_empty());
}

#[test]
fn callbacks_registered_before_the_scope_run_too_and_last() {
    let journal = Journal::new();
    let mut teardown = Teardown::<8>::new();
    acquire(&mut teardown, &journal, "framework");
    let j = journal.clone();
    let ended = block_on(teardown.scope(async |t| {
        acquire(t, &j, "app");
        Ok::<_, ()>(())
    }));
    assert!(ended.is_ok());
    assert_eq!(journal.events(), ["app", "framework"]);
}

#[test]
fn scope_within_bounds_the_teardown_not_the_body() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    let sleeper = clock.clone();
    let ended = clock.block_on(teardown.scope_within(Duration::from_secs(5), async |t| {
        // The body may take longer than the grace period.
        sleeper.sleep(Duration::from_secs(60)).await;
        t.push("store", async {}).unwrap();
        t.push("hung", std::future::pending::<()>()).unwrap();
        Ok::<_, ()>("done")
    }));
    let (value, report) = ended.unwrap();
    assert_eq!(value, "done");
    assert!(matches!(
        report.get(0).unwrap().outcome(),
        Outcome::TimedOut { budget } if budget == Duration::from_secs(5)
    ));
    assert!(matches!(report.get(1).unwrap().outcome(), Outcome::Skipped));
    assert_eq!(clock.now(), Duration::from_secs(65));
}
