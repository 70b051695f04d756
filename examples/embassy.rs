//! The embedded ecosystem's own runtime: embassy-executor (on its std
//! platform, so it runs on the host) drives a teardown whose timer is
//! `EmbassyTimer`, the same one firmware uses. One cleanup hangs and is cut
//! off by its timeout, one fails, the run has a deadline; the example checks
//! the report and exits non-zero if it is not what it should be.
//!
//! ```text
//! cargo run --example embassy --features embassy-time
//! ```

#[path = "support/print_logger.rs"]
mod print_logger;

use std::process;
use std::time::Duration;

use embassy_executor::Spawner;
use teardown_stack::{EmbassyTimer, Outcome, Teardown, Timer};

/// The whole teardown must fit in this.
const DEADLINE: Duration = Duration::from_millis(500);
/// The hung cleanup's own budget.
const SENSOR_TIMEOUT: Duration = Duration::from_millis(100);

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    // The crate logs the failure and the timeout through `log`.
    print_logger::init(log::LevelFilter::Warn);

    let mut teardown = Teardown::<8, _>::with_timer(EmbassyTimer);

    // Parts come up in this order; each registers its release.
    teardown
        .push("storage", release(Duration::from_millis(20)))
        .unwrap();
    teardown
        .push("radio", async {
            EmbassyTimer.sleep(Duration::from_millis(5)).await;
            Err::<(), _>("radio did not ack")
        })
        .unwrap();
    teardown
        .push("sensor", async {
            // A bus that never answers: only the timeout ends this.
            core::future::pending::<()>().await;
        })
        .unwrap()
        .timeout(SENSOR_TIMEOUT);
    teardown
        .push("display", release(Duration::from_millis(10)))
        .unwrap();

    let report = teardown.run().within(DEADLINE).await;
    println!("{report}");
    println!("in run order:");
    for record in report {
        println!("  {record}");
    }

    let expected = ["display", "sensor", "radio", "storage"];
    let order_ok = report.len() == expected.len()
        && report
            .iter()
            .zip(expected)
            .all(|(record, name)| record.name() == name);
    let outcomes_ok =
        report
            .iter()
            .all(|record| match (record.name().as_str(), record.outcome()) {
                (Some("display" | "storage"), Outcome::Completed) => true,
                (Some("sensor"), Outcome::TimedOut { budget }) => budget == SENSOR_TIMEOUT,
                (Some("radio"), Outcome::Failed(message)) => message == "radio did not ack",
                _ => false,
            });
    let counts_ok = report.completed() == 2 && report.timed_out() == 1 && report.failed() == 1;
    // Every cleanup is timed on embassy's clock, and the run kept to its deadline.
    let timed_ok = report.iter().all(|record| record.elapsed().is_some())
        && report.elapsed().is_some_and(|elapsed| elapsed < DEADLINE);

    let checks = [
        ("ran in LIFO order", order_ok),
        ("outcomes", outcomes_ok),
        ("counts", counts_ok),
        ("timed, within the deadline", timed_ok),
    ];
    let mut passed = true;
    for (what, ok) in checks {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        passed &= ok;
    }
    process::exit(if passed { 0 } else { 1 });
}

/// Releasing a part: takes `time` on embassy's clock.
async fn release(time: Duration) -> Result<(), &'static str> {
    EmbassyTimer.sleep(time).await;
    Ok(())
}
