//! A whole stack registered on another runs as one step, and fails there,
//! by name, when any of its own callbacks did not complete.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::time::Duration;

use common::{Journal, logs};
use futures_lite::future::block_on;
use teardown_stack::{NestedFailure, Outcome, Teardown, VirtualClock};

fn record(journal: &Journal, name: &'static str) -> impl Future<Output = ()> + Send + 'static {
    let journal = journal.clone();
    async move { journal.record(name) }
}

#[test]
fn a_nested_stack_runs_as_one_step_in_the_parents_order() {
    let journal = Journal::new();
    let mut app = Teardown::<4>::new();
    app.push("cache", record(&journal, "cache")).unwrap();
    app.push("webhooks", record(&journal, "webhooks")).unwrap();

    let mut framework = Teardown::<4>::new();
    framework.push("store", record(&journal, "store")).unwrap();
    framework.push("app", app.into_cleanup()).unwrap();
    framework
        .push("server", record(&journal, "server"))
        .unwrap();

    let report = block_on(framework.run());
    assert_eq!(journal.events(), ["server", "webhooks", "cache", "store"]);
    let names: Vec<String> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["server", "app", "store"]);
    assert!(report.is_clean());
}

#[test]
fn a_nested_failure_appears_in_the_parents_report_by_name() {
    logs::start();
    let clock = VirtualClock::new();
    let mut app = Teardown::<8, _>::with_timer(clock.clone());
    app.push("mailer", async {}).unwrap();
    app.push("cache", async { Err::<(), _>("connection reset") })
        .unwrap();
    app.push("metrics", async {
        panic!("exporter bug");
        #[allow(unreachable_code)]
        ()
    })
    .unwrap();
    app.push("webhooks", std::future::pending::<()>())
        .unwrap()
        .timeout(Duration::from_secs(2));

    let mut framework = Teardown::<4, _>::with_timer(clock.clone());
    framework.push("store", async {}).unwrap();
    framework.push("app", app.into_cleanup()).unwrap();

    let report = clock.block_on(framework.run());
    assert_eq!(report.failed(), 1);
    assert_eq!(report.completed(), 1);
    let app = &report.get(0).unwrap();
    assert_eq!(app.name(), "app");
    let Outcome::Failed(message) = app.outcome() else {
        panic!("{app}");
    };
    // The whole text: the report keeps it all with `alloc`.
    assert_eq!(
        message,
        "\"webhooks\" timed out, \"metrics\" panicked, \"cache\" failed; 1 of 4 completed"
    );
    assert!(!message.is_truncated());
    if logs::ON {
        // Each of the nested failures was logged as it happened, and the
        // parent's line has the whole message.
        let warnings = logs::at(log::Level::Warn);
        let logged = |needles: &[&str]| {
            warnings
                .iter()
                .any(|line| needles.iter().all(|n| line.contains(n)))
        };
        assert!(logged(&["\"webhooks\"", "timed out"]), "{warnings:?}");
        assert!(logged(&["\"cache\"", "connection reset"]), "{warnings:?}");
        let whole =
            "\"webhooks\" timed out, \"metrics\" panicked, \"cache\" failed; 1 of 4 completed";
        assert!(logged(&["\"app\"", whole]), "{warnings:?}");
        // In that order: the nested ones as they happened, then the step.
        let at = |needle: &str| warnings.iter().position(|l| l.contains(needle));
        assert!(at("\"webhooks\"") < at("\"cache\""));
        assert!(at("connection reset") < at("\"app\""));
    }
}

#[test]
fn a_nested_run_within_its_own_budget_reports_the_skipped_by_name() {
    let clock = VirtualClock::new();
    let mut app = Teardown::<4, _>::with_timer(clock.clone());
    app.push("mailer", async {}).unwrap();
    app.push("hung", std::future::pending::<()>()).unwrap();

    let mut framework = Teardown::<4, _>::with_timer(clock.clone());
    framework.push("store", async {}).unwrap();
    framework
        .push("app", app.into_cleanup_within(Duration::from_secs(3)))
        .unwrap();
    let report = clock.block_on(framework.run());

    let Outcome::Failed(message) = report.get(0).unwrap().outcome() else {
        panic!("{report}");
    };
    assert_eq!(
        message,
        "\"hung\" timed out, \"mailer\" skipped; 0 of 2 completed"
    );
    // The parent went on with the next step.
    assert_eq!(report.get(1).unwrap().name(), "store");
    assert!(report.get(1).unwrap().outcome().is_completed());
    assert_eq!(clock.now(), Duration::from_secs(3));
}

#[test]
fn a_nested_failure_names_each_kind_and_keeps_the_report() {
    let mut app = Teardown::<4>::new();
    app.push("ok", async {}).unwrap();
    app.push("db", async { Err::<(), _>("gone") }).unwrap();
    let result: Result<(), NestedFailure<4>> = block_on(app.into_cleanup());
    let failure = result.unwrap_err();
    assert_eq!(failure.to_string(), "\"db\" failed; 1 of 2 completed");
    assert_eq!(failure.report().len(), 2);
}
