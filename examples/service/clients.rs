//! A pool of keep-alive HTTP connections to the upstream (the stand-in for
//! a model provider). Each connection is borrowed for one request at a time.

use std::net::SocketAddr;
use std::sync::Arc;

use async_executor::Executor;
use smol::channel::{Receiver, Sender};

use crate::BoxError;
use crate::http::Connection;

/// The idle connections; a request takes one and gives it back.
pub struct Clients {
    idle_tx: Sender<Connection>,
    idle_rx: Receiver<Connection>,
}

impl Clients {
    /// Opens `size` connections to `upstream`.
    pub async fn connect(
        ex: &Executor<'static>,
        upstream: SocketAddr,
        size: usize,
    ) -> Result<Arc<Clients>, BoxError> {
        let (idle_tx, idle_rx) = smol::channel::bounded(size);
        for _ in 0..size {
            let conn = Connection::open(ex, upstream).await?;
            idle_tx
                .try_send(conn)
                .expect("the pool has room for every connection");
        }
        Ok(Arc::new(Clients { idle_tx, idle_rx }))
    }

    /// Asks the upstream to complete `prompt`.
    pub async fn complete(&self, prompt: &str) -> Result<String, BoxError> {
        let mut conn = self
            .idle_rx
            .recv()
            .await
            .map_err(|_| "the clients are closed")?;
        let result = conn.post("/v1/complete", prompt.to_owned()).await;
        // Given back even after an error, so that closing finds every one.
        let _ = self.idle_tx.try_send(conn);
        Ok(String::from_utf8(result?.to_vec())?)
    }

    /// Waits for one connection to be idle and closes it. Called once per
    /// connection, concurrently, as one stage of the teardown.
    pub async fn close_one(&self) -> Result<(), BoxError> {
        let conn = self
            .idle_rx
            .recv()
            .await
            .map_err(|_| "no connection left to close")?;
        conn.close().await;
        log::info!("client connection closed");
        Ok(())
    }
}
