//! A callback that returns `Err` is logged and recorded; the rest still run.

mod common;

use std::error::Error;
use std::io;

use common::{Journal, logs};
use futures_lite::future::block_on;
use teardown_stack::{Outcome, Teardown};

#[test]
fn a_failure_does_not_stop_the_others() {
    logs::start();
    let journal = Journal::new();
    let mut teardown = Teardown::<4>::new();
    let j = journal.clone();
    teardown
        .push("store", async move { j.record("store") })
        .unwrap();
    let j = journal.clone();
    teardown
        .push("db", async move {
            j.record("db");
            Err::<(), _>(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset",
            ))
        })
        .unwrap();
    let j = journal.clone();
    teardown
        .push("server", async move { j.record("server") })
        .unwrap();

    let report = block_on(teardown.run());

    assert_eq!(journal.events(), ["server", "db", "store"]);
    assert_eq!(report.completed(), 2);
    assert_eq!(report.failed(), 1);
    match report.get(1).unwrap().outcome() {
        Outcome::Failed(message) => assert_eq!(message, "connection reset"),
        other => panic!("expected a failure, got {other:?}"),
    }
    logs::assert_at(
        log::Level::Warn,
        &["teardown callback \"db\" failed: connection reset"],
    );
}

#[test]
fn every_failure_is_recorded_even_when_all_fail() {
    logs::start();
    let mut teardown = Teardown::<3>::new();
    teardown
        .push("a", async { Err::<(), _>("a broke") })
        .unwrap();
    teardown
        .push("b", async { Err::<(), _>("b broke") })
        .unwrap();
    teardown
        .push(None, async { Err::<(), _>("c broke") })
        .unwrap();

    let report = block_on(teardown.run());

    assert_eq!(report.failed(), 3);
    let messages: Vec<_> = report.failures().map(|r| r.to_string()).collect();
    assert_eq!(
        messages,
        [
            "#2 failed: c broke",
            "\"b\" failed: b broke",
            "\"a\" failed: a broke"
        ]
    );
    assert_eq!(
        logs::at(log::Level::Warn).len(),
        if logs::ON { 3 } else { 0 }
    );
}

#[test]
fn boxed_dyn_error_needs_no_adapter() {
    let mut teardown = Teardown::<2>::new();
    teardown
        .push("boxed", async {
            let error: Box<dyn Error + Send + Sync> = "disk full".into();
            Err::<(), _>(error)
        })
        .unwrap();
    teardown
        .push_fn("plain", || async {
            Err::<(), Box<dyn Error + Send + Sync>>("quota".into())
        })
        .unwrap();

    let report = block_on(teardown.run());

    let texts: Vec<_> = report
        .iter()
        .map(|r| r.outcome().message().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(texts, ["quota", "disk full"]);
}

#[test]
fn each_start_is_logged_once_at_debug_however_many_polls_it_takes() {
    logs::start();
    let mut teardown = Teardown::<4>::new();
    teardown.push("db", async {}).unwrap();
    teardown.push("server", common::yield_times(3)).unwrap();
    teardown
        .push("cache", async { Err::<(), _>("flush refused") })
        .unwrap();
    let (report, polls) = common::poll_noop(teardown.run(), 10);
    assert_eq!(polls, 4, "\"server\" is pending three times");
    assert_eq!(report.failed(), 1);
    let starts: Vec<String> = logs::at(log::Level::Debug)
        .into_iter()
        .filter(|line| line.starts_with("running"))
        .collect();
    let expected: &[&str] = if logs::ON {
        &[
            "running teardown callback \"cache\"",
            "running teardown callback \"server\"",
            "running teardown callback \"db\"",
        ]
    } else {
        &[]
    };
    assert_eq!(starts, expected);
}

#[test]
fn a_completed_run_logs_its_report_at_debug() {
    logs::start();
    let mut teardown = Teardown::<4>::new();
    teardown.push("db", async {}).unwrap();
    teardown
        .push("cache", async { Err::<(), _>("flush refused") })
        .unwrap();
    let report = block_on(teardown.run());
    let summaries: Vec<String> = logs::at(log::Level::Debug)
        .into_iter()
        .filter(|line| line.starts_with("teardown:"))
        .collect();
    let expected = if logs::ON {
        vec![report.to_string()]
    } else {
        Vec::new()
    };
    assert_eq!(summaries, expected);
    if logs::ON {
        assert!(summaries[0].starts_with("teardown: 2 callbacks: 1 completed"));
    }
}
