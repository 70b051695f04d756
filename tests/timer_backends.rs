//! One smoke test per real timer: a hung callback is cut by its timeout and
//! the next one runs. Order and outcomes only; no durations are asserted.

#![cfg(all(feature = "async-io", feature = "tokio", feature = "embassy-time"))]
// Real timers make system calls that Miri does not run.
#![cfg(not(miri))]

mod common;

use std::future::pending;
use std::time::Duration;

use common::Journal;
use teardown_stack::{AsyncIoTimer, EmbassyTimer, Outcome, Report, Teardown, Timer, TokioTimer};

const SHORT: Duration = Duration::from_millis(20);

/// A stack whose top callback hangs (cut at `SHORT`) and whose bottom one
/// sleeps briefly on the same timer, then records itself.
fn scenario<R: Timer + Clone + Send + 'static>(
    timer: R,
    journal: &Journal,
) -> Teardown<'static, 4, R>
where
    R::Sleep: Send,
{
    let mut teardown = Teardown::<4, R>::with_timer(timer.clone());
    let j = journal.clone();
    teardown
        .push("after", async move {
            timer.sleep(Duration::from_millis(1)).await;
            j.record("after");
        })
        .unwrap();
    teardown
        .push("hung", pending::<()>())
        .unwrap()
        .timeout(SHORT);
    teardown
}

fn check(report: Report<'_>, journal: &Journal) {
    assert_eq!(journal.events(), ["after"]);
    let outcomes: Vec<_> = report.iter().map(|r| r.outcome()).collect();
    assert_eq!(
        outcomes,
        [Outcome::TimedOut { budget: SHORT }, Outcome::Completed]
    );
    assert!(report.elapsed().is_some());
    assert!(report.iter().all(|r| r.elapsed().is_some()));
}

#[test]
fn async_io_timer_under_smol() {
    let journal = Journal::new();
    let mut teardown = scenario(AsyncIoTimer::new(), &journal);
    let report = smol::block_on(teardown.run().within(Duration::from_secs(60)));
    check(report, &journal);
}

#[test]
fn tokio_timer_under_a_tokio_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let journal = Journal::new();
    let teardown = runtime.block_on(async {
        let mut teardown = scenario(TokioTimer::new(), &journal);
        tokio::spawn(async move {
            teardown.run().await;
            teardown
        })
        .await
        .unwrap()
    });
    check(teardown.report(), &journal);
}

#[test]
fn embassy_timer_with_the_std_driver() {
    let journal = Journal::new();
    let mut teardown = scenario(EmbassyTimer, &journal);
    let report = futures_lite::future::block_on(teardown.run());
    check(report, &journal);
}

#[test]
fn embassy_timer_takes_any_duration() {
    // Far beyond embassy's range: clamped, not an overflow panic.
    let mut sleep = EmbassyTimer.sleep(Duration::MAX);
    assert!(common::poll_once(&mut sleep).is_pending());
    // Below one tick: rounded up, so never early.
    let mut sleep = EmbassyTimer.sleep(Duration::from_nanos(1));
    let () = futures_lite::future::block_on(&mut sleep);
}
