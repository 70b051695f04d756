//! Eight independent 50 ms cleanups: one stage versus one by one, on the
//! real async-io timer. Wall-clock medians over a few runs.
//!
//! ```text
//! cargo bench --bench stage_latency --features async-io
//! ```

use std::time::{Duration, Instant};

use teardown_stack::{AsyncIoTimer, Teardown, Timer};

const CLEANUPS: usize = 8;
const EACH: Duration = Duration::from_millis(50);
const RUNS: usize = 5;

/// A cleanup that takes `EACH` from when it starts (an async-io timer's
/// deadline is fixed when the timer is made, so it is made inside).
async fn cleanup() {
    AsyncIoTimer::new().sleep(EACH).await;
}

fn one_by_one() -> Duration {
    let mut teardown = Teardown::<CLEANUPS>::new();
    for _ in 0..CLEANUPS {
        teardown.push(None, cleanup()).unwrap();
    }
    let started = Instant::now();
    let report = smol::block_on(teardown.run());
    assert_eq!(report.completed(), CLEANUPS);
    started.elapsed()
}

fn one_stage() -> Duration {
    let mut teardown = Teardown::<CLEANUPS>::new();
    let mut stage = teardown.stage();
    for _ in 0..CLEANUPS {
        stage.push(None, cleanup()).unwrap();
    }
    let started = Instant::now();
    let report = smol::block_on(teardown.run());
    assert_eq!(report.completed(), CLEANUPS);
    started.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // `cargo test --benches` runs benches with `--test`: one quick pass.
    let runs = if std::env::args().any(|a| a == "--test") {
        1
    } else {
        RUNS
    };
    let sequential = median((0..runs).map(|_| one_by_one()).collect());
    let staged = median((0..runs).map(|_| one_stage()).collect());
    println!("eight {EACH:?} cleanups, median of {runs} runs:");
    println!("  one by one: {sequential:>10.1?}");
    println!("  one stage:  {staged:>10.1?}");
}
