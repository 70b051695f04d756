//! A report converts to a process exit code: 0 only when clean.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

use std::process::ExitCode;
use std::time::Duration;

use futures_lite::future::block_on;
use teardown_stack::{Teardown, VirtualClock};

#[test]
fn a_clean_report_exits_0() {
    let mut teardown = Teardown::<2>::new();
    teardown.push("store", async {}).unwrap();
    assert_eq!(ExitCode::from(block_on(teardown.run())), ExitCode::SUCCESS);
}

#[test]
fn an_empty_report_exits_0() {
    let mut teardown = Teardown::<2>::new();
    assert_eq!(ExitCode::from(block_on(teardown.run())), ExitCode::SUCCESS);
}

#[test]
fn a_failure_or_a_panic_exits_1() {
    let mut teardown = Teardown::<2>::new();
    teardown
        .push("store", async { Err::<(), _>("fsync") })
        .unwrap();
    assert_eq!(ExitCode::from(block_on(teardown.run())), ExitCode::FAILURE);

    teardown
        .push("store", async {
            panic!("bug");
            #[allow(unreachable_code)]
            ()
        })
        .unwrap();
    let report = block_on(teardown.run());
    assert_eq!(report.panicked(), 1);
    assert_eq!(ExitCode::from(report), ExitCode::FAILURE);
}

#[test]
fn a_timeout_or_a_skip_exits_1() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    teardown.push("hung", std::future::pending::<()>()).unwrap();
    let report = clock.block_on(teardown.run().within(Duration::from_secs(1)));
    assert_eq!((report.timed_out(), report.skipped()), (1, 1));
    assert_eq!(ExitCode::from(report), ExitCode::FAILURE);
}
