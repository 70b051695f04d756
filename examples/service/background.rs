//! Background work on the executor: a summarizer that writes a summary of
//! the requests served to the store. It is the application's own work, so
//! it brings its own teardown stack, hooked into the service's as one step.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_executor::Executor;
use futures_lite::future;
use teardown_stack::Teardown;

use crate::BoxError;
use crate::clock::Clock;
use crate::store::Store;

/// The application's teardown: one cleanup per background task.
pub type AppTeardown = Teardown<'static, 4, Clock>;

/// Starts the summarizer (every `period`, it appends a summary line) and
/// returns the stack that drains it: each task finishes its work and is
/// waited for, within `timeout`.
pub fn start(
    ex: &Executor<'static>,
    store: Arc<Store>,
    served: Arc<AtomicU64>,
    period: Duration,
    timeout: Duration,
) -> AppTeardown {
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let summarizer = ex.spawn(async move {
        loop {
            let tick = async {
                smol::Timer::after(period).await;
                false
            };
            // `stop` is never sent on, only dropped: then the final summary.
            let stopping = future::or(tick, async { stopped.recv().await.is_err() }).await;
            let served = served.load(Ordering::Relaxed);
            let kind = if stopping { "final" } else { "periodic" };
            store
                .append(&format!("summary {kind} served={served}"))
                .await?;
            if stopping {
                return Ok::<(), BoxError>(());
            }
        }
    });
    let mut teardown = AppTeardown::with_timer(Clock::new());
    let drain = async move {
        drop(stop);
        summarizer.await?;
        log::info!("background tasks drained: summarizer finished");
        Ok::<(), BoxError>(())
    };
    let registered = teardown.push("summarizer", drain);
    registered.expect("room for it").timeout(timeout);
    teardown
}
