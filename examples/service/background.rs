//! Background work on the executor: a summarizer that writes a summary of
//! the requests served to the store. Draining lets it finish and waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_executor::{Executor, Task};
use futures_lite::future;
use smol::channel::Sender;

use crate::BoxError;
use crate::store::Store;

/// The background tasks and the signal that asks them to finish.
pub struct Background {
    stop: Sender<()>,
    tasks: Vec<Task<Result<(), BoxError>>>,
}

impl Background {
    /// Starts the summarizer: every `period`, it appends a summary line.
    pub fn start(
        ex: &Executor<'static>,
        store: Arc<Store>,
        served: Arc<AtomicU64>,
        period: Duration,
    ) -> Background {
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let summarizer = ex.spawn(async move {
            loop {
                let stopping = future::or(
                    async {
                        smol::Timer::after(period).await;
                        false
                    },
                    async {
                        let _ = stopped.recv().await;
                        true
                    },
                )
                .await;
                let served = served.load(Ordering::Relaxed);
                let kind = if stopping { "final" } else { "periodic" };
                store
                    .append(&format!("summary {kind} served={served}"))
                    .await?;
                if stopping {
                    return Ok(());
                }
            }
        });
        Background {
            stop,
            tasks: vec![summarizer],
        }
    }

    /// Asks every task to finish its work and waits for all of them.
    pub async fn drain(self) -> Result<(), BoxError> {
        drop(self.stop);
        let count = self.tasks.len();
        let mut first_error = None;
        for task in self.tasks {
            if let Err(error) = task.await {
                first_error.get_or_insert(error);
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => {
                log::info!("background tasks drained: {count} finished");
                Ok(())
            }
        }
    }
}
