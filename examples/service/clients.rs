//! A pool of keep-alive HTTP connections to the upstream (the stand-in for
//! a model provider). Each connection is leased for one request at a time.

use std::net::SocketAddr;
use std::sync::Arc;

use async_executor::Executor;
use smol::channel::{Receiver, Sender};

use crate::BoxError;
use crate::http::Connection;

/// The idle slots: a request leases one and it comes back however the
/// request ends, so closing always finds every one. An empty slot's
/// connection was closed (its request was cut off); the next request to
/// take it opens a new one.
pub struct Clients {
    ex: Arc<Executor<'static>>,
    upstream: SocketAddr,
    idle_tx: Sender<Option<Connection>>,
    idle_rx: Receiver<Option<Connection>>,
}

impl Clients {
    /// Opens `size` connections to `upstream`.
    pub async fn connect(
        ex: &Arc<Executor<'static>>,
        upstream: SocketAddr,
        size: usize,
    ) -> Result<Arc<Clients>, BoxError> {
        let (idle_tx, idle_rx) = smol::channel::bounded(size);
        for _ in 0..size {
            let conn = Connection::open(ex, upstream).await?;
            let room = idle_tx.try_send(Some(conn));
            assert!(room.is_ok(), "the pool has room for every connection");
        }
        let ex = ex.clone();
        Ok(Arc::new(Clients {
            ex,
            upstream,
            idle_tx,
            idle_rx,
        }))
    }

    /// Asks the upstream to complete `prompt`.
    pub async fn complete(&self, prompt: &str) -> Result<String, BoxError> {
        let slot = self.idle_rx.recv().await;
        let mut lease = Lease {
            idle: &self.idle_tx,
            conn: None,
        };
        let mut conn = match slot.map_err(|_| "the clients are closed")? {
            Some(conn) => conn,
            None => Connection::open(&self.ex, self.upstream).await?,
        };
        // If this future is dropped here (the client hung up), `conn` is
        // dropped mid-request, closing it, and the lease gives back its
        // slot empty.
        let result = conn.post("/v1/complete", prompt.to_owned()).await;
        lease.conn = Some(conn);
        drop(lease);
        Ok(String::from_utf8(result?.to_vec())?)
    }

    /// Waits for one slot to be idle and closes its connection. Called once
    /// per connection, concurrently, as one stage of the teardown.
    pub async fn close_one(&self) -> Result<(), BoxError> {
        let slot = self.idle_rx.recv().await;
        if let Some(conn) = slot.map_err(|_| "no connection left to close")? {
            conn.close().await;
        }
        log::info!("client connection closed");
        Ok(())
    }
}

/// A slot taken for one request: given back to the pool when dropped,
/// however the request ended, with the connection handed back to it after
/// the request, unless hyper closed that connection.
struct Lease<'p> {
    idle: &'p Sender<Option<Connection>>,
    conn: Option<Connection>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let conn = self.conn.take().filter(|conn| !conn.is_closed());
        // Never full: at most as many slots as leased come back.
        let _ = self.idle.try_send(conn);
    }
}
