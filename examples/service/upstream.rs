//! The upstream the clients talk to: a loopback HTTP server standing in for
//! a model provider. It is outside the service, so not on its teardown stack.

use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use hyper::StatusCode;
use smol::net::TcpListener;

use crate::BoxError;
use crate::http::{self, Server};

/// Starts the upstream on a free loopback port. It takes `latency` to
/// answer, so requests are in flight when a shutdown begins.
pub async fn start(ex: &Arc<Executor<'static>>, latency: Duration) -> Result<Server, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let server = Server::start(ex, listener, move |request| async move {
        smol::Timer::after(latency).await;
        match http::body_text(request).await {
            Ok(prompt) => http::text(StatusCode::OK, format!("completion:{}", prompt.len())),
            Err(error) => http::text(StatusCode::BAD_REQUEST, error.to_string()),
        }
    });
    log::info!("upstream listening on {}", server.addr());
    Ok(server)
}
