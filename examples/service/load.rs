//! The demo's load: a few clients writing records over keep-alive
//! connections until the server goes away.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_executor::{Executor, Task};

use crate::BoxError;
use crate::http::Connection;

/// Running load: the payloads the server acknowledged so far.
pub struct Load {
    acked: Arc<Mutex<Vec<String>>>,
    workers: Vec<Task<()>>,
}

impl Load {
    /// Starts `workers` clients against `addr`.
    pub fn start(ex: &Arc<Executor<'static>>, addr: SocketAddr, workers: usize) -> Load {
        let acked = Arc::new(Mutex::new(Vec::new()));
        let workers = (0..workers)
            .map(|worker| {
                let acked = acked.clone();
                let driver = ex.clone();
                ex.spawn(async move {
                    let Ok(mut conn) = Connection::open(&driver, addr).await else {
                        return;
                    };
                    for seq in 0.. {
                        let payload = format!("demo-{worker}-{seq}");
                        // Stops at the first refusal: the server is shutting down.
                        if conn.post("/records", payload.clone()).await.is_err() {
                            break;
                        }
                        acked.lock().unwrap().push(payload);
                    }
                })
            })
            .collect();
        Load { acked, workers }
    }

    /// Waits for every client to stop; returns what was acknowledged.
    pub async fn finish(self) -> Vec<String> {
        for worker in self.workers {
            worker.await;
        }
        std::mem::take(&mut *self.acked.lock().unwrap())
    }
}

/// Checks that the store's file holds only whole records, and every
/// acknowledged payload among them; returns how many were found.
pub fn verify(store: &Path, acked: &[String]) -> Result<usize, BoxError> {
    let records = crate::store::read(store)?;
    let stored: HashSet<&str> = records
        .iter()
        .filter_map(|text| text.strip_prefix("record "))
        .filter_map(|rest| rest.split(' ').nth(1))
        .collect();
    let missing: Vec<&String> = acked
        .iter()
        .filter(|p| !stored.contains(p.as_str()))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} acknowledged writes missing from the store: {missing:?}",
            missing.len()
        )
        .into());
    }
    Ok(acked.len())
}
