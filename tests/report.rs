//! The report lists every callback that ran, in order, with its outcome, and
//! prints usefully.

use futures_lite::future::block_on;
use teardown_stack::{Outcome, Teardown};

fn blow_up() {
    std::panic::panic_any("boom")
}

#[test]
fn records_names_and_outcomes_in_run_order() {
    let mut teardown = Teardown::<4>::new();
    teardown.push("store", async {}).unwrap();
    teardown
        .push("clients", async { Err::<(), _>("reset") })
        .unwrap();
    teardown.push(None, async { blow_up() }).unwrap();
    teardown
        .push("server", async { Ok::<(), &str>(()) })
        .unwrap();

    let report = block_on(teardown.run());

    let seen: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome()))
        .collect();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0], ("server".into(), Outcome::Completed));
    assert_eq!(seen[1].0, "#2");
    assert!(matches!(&seen[1].1, Outcome::Panicked(m) if m == "boom"));
    assert_eq!(seen[2].0, "clients");
    assert!(matches!(&seen[2].1, Outcome::Failed(m) if m == "reset"));
    assert_eq!(seen[3], ("store".into(), Outcome::Completed));

    assert_eq!(report.len(), 4);
    assert!(!report.is_empty());
    assert_eq!(
        (report.completed(), report.failed(), report.panicked()),
        (2, 1, 1)
    );
    assert!(!report.is_clean());
    let failures: Vec<_> = report.failures().map(|r| r.name().to_string()).collect();
    assert_eq!(failures, ["#2", "clients"]);
    assert_eq!(report.into_iter().count(), 4);
}

#[test]
fn display_summarises_then_lists_failures() {
    let mut teardown = Teardown::<4>::new();
    teardown.push("store", async {}).unwrap();
    teardown
        .push("clients", async { Err::<(), _>("reset") })
        .unwrap();
    teardown.push("sandboxes", async { blow_up() }).unwrap();

    let report = block_on(teardown.run());

    assert_eq!(
        report.to_string(),
        "teardown: 3 callbacks: 1 completed, 1 failed, 1 panicked\n  \"sandboxes\" panicked: boom\n  \"clients\" failed: reset"
    );
}

#[test]
fn display_of_clean_and_empty_reports() {
    let mut teardown = Teardown::<2>::new();
    teardown.push("only", async {}).unwrap();
    let report = block_on(teardown.run());
    assert!(report.is_clean());
    assert_eq!(report.to_string(), "teardown: 1 callback, all completed");

    let empty = block_on(teardown.run());
    assert!(empty.is_clean());
    assert!(empty.is_empty());
    assert_eq!(empty.to_string(), "teardown: no callbacks");
}

#[test]
fn with_alloc_the_report_keeps_the_whole_text() {
    // Far past any fixed per-record buffer.
    let long = "é".repeat(1_000);
    let mut teardown = Teardown::<1>::new();
    let error = long.clone();
    teardown
        .push("long", async { Err::<(), _>(error) })
        .unwrap();

    let report = block_on(teardown.run());

    let message = report.get(0).unwrap().outcome().message().unwrap();
    assert_eq!(message.as_str(), long);
    assert!(!message.is_truncated());
}

/// The stack keeps the last run's records for `report()` until the next
/// registration, which ends that report.
#[test]
fn the_report_lasts_until_the_next_registration() {
    let mut teardown = Teardown::<2>::new();
    teardown.push("store", async {}).unwrap();
    teardown
        .push("clients", async { Err::<(), _>("reset") })
        .unwrap();
    let ran = block_on(teardown.run());
    assert_eq!((ran.len(), ran.failed()), (2, 1));

    // Read again later, the same report.
    let again = teardown.report();
    assert_eq!(again.len(), 2);
    assert_eq!(again.failed(), 1);
    let names: Vec<String> = again.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["clients", "store"]);

    teardown.push("next", async {}).unwrap();
    assert!(teardown.report().is_empty());
    assert_eq!(teardown.len(), 1);
}
