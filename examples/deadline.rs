//! A shutdown with a grace period: one cleanup hangs and is cut off by its
//! timeout, eight independent client closes run as one stage, and the whole
//! teardown fits the grace period an orchestrator allows.
//!
//! ```text
//! cargo run --example deadline --features async-io
//! ```

#[path = "support/print_logger.rs"]
mod print_logger;

use std::time::{Duration, Instant};

use teardown_stack::{AsyncIoTimer, Teardown, Timer};

/// What the orchestrator allows between SIGTERM and SIGKILL (scaled down).
const GRACE: Duration = Duration::from_secs(2);

fn main() {
    print_logger::init(log::LevelFilter::Warn);

    let timer = AsyncIoTimer::new();
    let mut teardown = Teardown::<16, _>::with_timer(timer);

    // Built first, released last.
    teardown
        .push("store", close("store", Duration::from_millis(30)))
        .unwrap();

    // Eight independent HTTP clients: one layer, closed concurrently.
    let mut clients = teardown.stage();
    for name in [
        "llm-0", "llm-1", "llm-2", "llm-3", "llm-4", "llm-5", "llm-6", "llm-7",
    ] {
        clients
            .push(name, close(name, Duration::from_millis(50)))
            .unwrap()
            .timeout(Duration::from_millis(500));
    }

    // A sandbox pool whose daemon never answers: bounded by its timeout.
    teardown
        .push("sandboxes", async {
            std::future::pending::<()>().await;
            Ok::<(), std::io::Error>(())
        })
        .unwrap()
        .timeout(Duration::from_millis(300));

    teardown
        .push("server", close("server", Duration::from_millis(20)))
        .unwrap();

    println!("shutting down, grace period {GRACE:?}");
    let started = Instant::now();
    let report = smol::block_on(teardown.run().within(GRACE));
    println!("{report}");
    println!("wall time {:?}", started.elapsed());
    for record in report {
        println!("  {record}");
    }
}

/// Closing a component: takes `time` on the async-io timer.
async fn close(name: &'static str, time: Duration) -> std::io::Result<()> {
    AsyncIoTimer::new().sleep(time).await;
    let _ = name;
    Ok(())
}
