//! A build that fails at step k releases exactly steps k-1..1, in reverse,
//! and hands back the build's error with the report.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use common::Journal;
use futures_lite::future::block_on;
use teardown_stack::{Outcome, Released, Teardown, VirtualClock};

const STEPS: [&str; 6] = [
    "temp-files",
    "store",
    "clients",
    "sandboxes",
    "server",
    "background",
];

/// Brings up `STEPS` in order, each registering its release; step `fail_at`
/// (1-based) fails instead, before registering anything.
async fn build_service(
    t: &mut Teardown<'static, 8>,
    journal: &Journal,
    fail_at: Option<usize>,
) -> Result<&'static str, String> {
    for (index, name) in STEPS.into_iter().enumerate() {
        let step = index + 1;
        if fail_at == Some(step) {
            return Err(format!("step {step} ({name}) failed"));
        }
        journal.record(format!("up {name}"));
        let journal = journal.clone();
        t.push(name, async move { journal.record(format!("down {name}")) })
            .unwrap();
    }
    Ok("service")
}

#[test]
fn a_failure_at_every_step_releases_exactly_the_steps_before_it_in_reverse() {
    for k in 1..=STEPS.len() {
        let journal = Journal::new();
        let j = journal.clone();
        let mut teardown = Teardown::<8>::new();
        let built = block_on(teardown.build(async |t| build_service(t, &j, Some(k)).await));
        let Err(Released { error, report }) = built else {
            panic!("step {k} was to fail");
        };
        assert_eq!(error, format!("step {k} ({}) failed", STEPS[k - 1]));

        let built_before: Vec<&str> = STEPS[..k - 1].to_vec();
        let released: Vec<&str> = built_before.iter().rev().copied().collect();
        let names: Vec<String> = report.iter().map(|r| r.name().to_string()).collect();
        assert_eq!(names, released, "step {k}");
        assert!(report.is_clean(), "step {k}: {report}");
        let expected: Vec<String> = built_before
            .iter()
            .map(|n| format!("up {n}"))
            .chain(released.iter().map(|n| format!("down {n}")))
            .collect();
        assert_eq!(journal.events(), expected, "step {k}");
    }
}

#[test]
fn a_build_that_succeeds_hands_back_the_value_and_leaves_the_stack_unrun() {
    let journal = Journal::new();
    let j = journal.clone();
    let mut teardown = Teardown::<8>::new();
    let built = block_on(teardown.build(async |t| build_service(t, &j, None).await));
    let service = built.unwrap();
    assert_eq!(service, "service");
    assert_eq!(teardown.len(), STEPS.len());
    assert!(journal.events().iter().all(|e| e.starts_with("up ")));

    let report = block_on(teardown.run());
    let names: Vec<String> = report.iter().map(|r| r.name().to_string()).collect();
    let mut reversed = STEPS.to_vec();
    reversed.reverse();
    assert_eq!(names, reversed);
}

#[test]
fn a_release_that_fails_during_the_rollback_is_reported_and_the_rest_still_run() {
    let mut teardown = Teardown::<8>::new();
    let built = block_on(teardown.build(async |t| {
        t.push("store", async {}).unwrap();
        t.push("clients", async { Err::<(), _>("connection reset") })
            .unwrap();
        Err::<(), _>("sandboxes: no such image")
    }));
    let released = built.unwrap_err();
    assert_eq!(released.error, "sandboxes: no such image");
    assert_eq!(released.report.failed(), 1);
    assert_eq!(released.report.completed(), 1);
    assert_eq!(
        released.to_string(),
        "sandboxes: no such image; then teardown: 2 callbacks: 1 completed, 1 failed\n  \"clients\" failed: connection reset"
    );
}

#[test]
fn a_panicking_build_releases_what_it_built_then_the_panic_resumes() {
    let journal = Journal::new();
    let j = journal.clone();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let mut teardown = Teardown::<8>::new();
        block_on(teardown.build(async |t| {
            build_service(t, &j, Some(3)).await.ok();
            panic!("bug in the clients' constructor");
            #[allow(unreachable_code)]
            Ok::<_, ()>(())
        }))
        .is_ok()
    }));
    let payload = caught.expect_err("the panic goes on after the rollback");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"bug in the clients' constructor")
    );
    assert_eq!(
        journal.events(),
        ["up temp-files", "up store", "down store", "down temp-files"]
    );
}

#[test]
fn build_within_bounds_the_rollback() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    let built = clock.block_on(teardown.build_within(Duration::from_secs(5), async |t| {
        t.push("store", async {}).unwrap();
        t.push("daemon", std::future::pending::<()>()).unwrap();
        Err::<(), _>("server: address in use")
    }));
    let Released { error, report } = built.unwrap_err();
    assert_eq!(error, "server: address in use");
    assert!(matches!(
        report.get(0).unwrap().outcome(),
        Outcome::TimedOut { budget } if budget == Duration::from_secs(5)
    ));
    assert_eq!(report.get(1).unwrap().name(), "store");
    assert!(matches!(report.get(1).unwrap().outcome(), Outcome::Skipped));
    assert_eq!(clock.now(), Duration::from_secs(5));
}
