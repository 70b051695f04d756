//! The service's HTTP API: `POST /records` completes the payload through the
//! clients, appends it to the store and acknowledges it; `GET /healthz`
//! answers 200 while the service takes traffic, 503 once it drains.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_executor::Executor;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use smol::net::TcpListener;

use crate::BoxError;
use crate::clients::Clients;
use crate::http::{self, Server};
use crate::store::Store;

/// What a request handler uses.
pub struct App {
    pub store: Arc<Store>,
    pub clients: Arc<Clients>,
    /// Requests acknowledged so far (the background summarizer reads it).
    pub served: Arc<AtomicU64>,
    /// Set when the teardown begins: `/healthz` then answers 503, so that a
    /// load balancer stops sending before the server stops.
    pub draining: Arc<AtomicBool>,
    next_id: AtomicU64,
}

impl App {
    pub fn new(
        store: Arc<Store>,
        clients: Arc<Clients>,
        served: Arc<AtomicU64>,
        draining: Arc<AtomicBool>,
    ) -> App {
        App {
            store,
            clients,
            served,
            draining,
            next_id: AtomicU64::new(1),
        }
    }

    async fn record(&self, payload: &str) -> Result<u64, BoxError> {
        let completion = self.clients.complete(payload).await?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.store
            .append(&format!("record {id} {payload} {completion}"))
            .await?;
        self.served.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }
}

/// Serves the API on `listener`.
pub fn start(ex: &Arc<Executor<'static>>, listener: TcpListener, app: Arc<App>) -> Server {
    Server::start(ex, listener, move |request: Request<Incoming>| {
        let app = app.clone();
        async move {
            if request.method() == Method::GET && request.uri().path() == "/healthz" {
                return match app.draining.load(Ordering::SeqCst) {
                    false => http::text(StatusCode::OK, "ok\n"),
                    true => http::text(StatusCode::SERVICE_UNAVAILABLE, "draining\n"),
                };
            }
            if request.method() != Method::POST || request.uri().path() != "/records" {
                return http::text(StatusCode::NOT_FOUND, "try POST /records or GET /healthz\n");
            }
            let payload = match http::body_text(request).await {
                Ok(payload) if valid_payload(&payload) => payload,
                Ok(_) => return http::text(StatusCode::BAD_REQUEST, "send one word\n"),
                Err(error) => return http::text(StatusCode::BAD_REQUEST, format!("{error}\n")),
            };
            match app.record(&payload).await {
                Ok(id) => http::text(StatusCode::OK, format!("ack {id}\n")),
                Err(error) => http::text(StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")),
            }
        }
    })
}

/// A payload the store can hold on one line: one non-empty word.
fn valid_payload(payload: &str) -> bool {
    !payload.is_empty() && !payload.contains(char::is_whitespace)
}
