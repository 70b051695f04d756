//! A pool of keep-alive HTTP connections to the upstream (the stand-in for
//! a model provider). Each connection is leased for one request at a time.

use std::net::SocketAddr;
use std::sync::Arc;

use async_executor::Executor;
use smol::channel::{Receiver, Sender};

use crate::BoxError;
use crate::http::Connection;

/// Room for one connection in the pool.
enum Slot {
    Open(Connection),
    /// Its connection was closed because its request was cut off; the next
    /// request to take it opens a new one.
    Closed,
}

/// The idle slots; a request leases one and it comes back however the
/// request ends, so closing always finds every one.
pub struct Clients {
    ex: Arc<Executor<'static>>,
    upstream: SocketAddr,
    idle_tx: Sender<Slot>,
    idle_rx: Receiver<Slot>,
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
            let room = idle_tx.try_send(Slot::Open(conn));
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
            pool: self,
            conn: None,
            finished: false,
        };
        let conn = match slot.map_err(|_| "the clients are closed")? {
            Slot::Open(conn) => lease.conn.insert(conn),
            Slot::Closed => lease
                .conn
                .insert(Connection::open(&self.ex, self.upstream).await?),
        };
        // If this future is dropped here (the client hung up), the lease
        // closes the connection mid-request and gives its slot back.
        let result = conn.post("/v1/complete", prompt.to_owned()).await;
        lease.finished = true;
        drop(lease);
        Ok(String::from_utf8(result?.to_vec())?)
    }

    /// Waits for one slot to be idle and closes its connection. Called once
    /// per connection, concurrently, as one stage of the teardown.
    pub async fn close_one(&self) -> Result<(), BoxError> {
        let slot = self.idle_rx.recv().await;
        if let Slot::Open(conn) = slot.map_err(|_| "no connection left to close")? {
            conn.close().await;
        }
        log::info!("client connection closed");
        Ok(())
    }
}

/// A slot taken for one request: given back to the pool when dropped,
/// however the request ended. A connection whose request did not finish
/// (the request's future was dropped during the upstream call) is closed,
/// since hyper will not reuse it, and its slot comes back empty.
struct Lease<'p> {
    pool: &'p Clients,
    conn: Option<Connection>,
    /// The request finished, with a response or an error.
    finished: bool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let slot = match self.conn.take() {
            Some(conn) if self.finished && !conn.is_closed() => Slot::Open(conn),
            // Dropped here: its driver task is cancelled and the socket closed.
            _ => Slot::Closed,
        };
        // Never full: at most as many slots as leased come back.
        let _ = self.pool.idle_tx.try_send(slot);
    }
}
