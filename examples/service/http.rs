//! A small HTTP/1.1 server on hyper and smol, with a graceful stop, and a
//! one-connection client. Both the service and its stand-in upstream use it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_executor::{Executor, Task};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self as client_http1, SendRequest};
use hyper::server::conn::http1 as server_http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::server::graceful::GracefulShutdown;
use smol::net::{TcpListener, TcpStream};
use smol_hyper::rt::{FuturesIo, SmolTimer};

use crate::BoxError;

/// A running server: stop it to close its port and finish its requests.
pub struct Server {
    addr: SocketAddr,
    /// Owns the listener; cancelled to stop accepting.
    accept: Task<()>,
    /// Watches every connection the accept loop hands it.
    connections: Arc<GracefulShutdown>,
}

impl Server {
    /// Serves `handler` on `listener`, one task per connection on `ex`.
    pub fn start<H, F>(ex: &Arc<Executor<'static>>, listener: TcpListener, handler: H) -> Server
    where
        H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
    {
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let service = service_fn(move |request| {
            let response = handler(request);
            async move { Ok::<_, Infallible>(response.await) }
        });
        let connections = Arc::new(GracefulShutdown::new());
        let (spawner, watching) = (ex.clone(), connections.clone());
        let accept = ex.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let conn = server_http1::Builder::new()
                            .timer(SmolTimer::new())
                            .serve_connection(FuturesIo::new(stream), service.clone());
                        let conn = watching.watch(conn);
                        let serve = async move {
                            if let Err(error) = conn.await {
                                log::debug!("connection ended with an error: {error}");
                            }
                        };
                        spawner.spawn(serve).detach();
                    }
                    Err(error) => {
                        // Out of file descriptors, say: back off instead of spinning.
                        log::warn!("{addr}: accept failed: {error}");
                        smol::Timer::after(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        Server {
            addr,
            accept,
            connections,
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting (the port closes), lets in-flight requests finish,
    /// closes idle keep-alive connections, and waits for every connection.
    pub async fn stop(self) {
        let open = self.connections.count();
        log::info!("{}: stopping with {open} connection(s) open", self.addr);
        // Drops the accept loop, with the listener and its handle on `connections`.
        self.accept.cancel().await;
        let connections = Arc::into_inner(self.connections).expect("the accept loop is gone");
        connections.shutdown().await;
    }
}

/// One keep-alive client connection, driven by a task on the executor.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: Task<()>,
}

impl Connection {
    /// Connects to `addr`.
    pub async fn open(ex: &Executor<'static>, addr: SocketAddr) -> Result<Connection, BoxError> {
        let stream = TcpStream::connect(addr).await?;
        let (sender, conn) = client_http1::handshake(FuturesIo::new(stream)).await?;
        let driver = ex.spawn(async move {
            if let Err(error) = conn.await {
                log::debug!("client connection to {addr} ended with an error: {error}");
            }
        });
        Ok(Connection { sender, driver })
    }

    /// Sends `POST path` with `body`; the status must be 200.
    pub async fn post(&mut self, path: &str, body: String) -> Result<Bytes, BoxError> {
        self.sender.ready().await?;
        let request = Request::post(path)
            .header(hyper::header::HOST, "localhost")
            .body(Full::new(Bytes::from(body)))?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if status != StatusCode::OK {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)).into());
        }
        Ok(body)
    }

    /// Whether the connection is closed, so that it cannot send any more.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Closes the connection: its socket is shut once this returns.
    pub async fn close(self) {
        drop(self.sender);
        self.driver.await;
    }
}

/// A response with `status` and a text body.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// The whole body of a request, as text.
pub async fn body_text(request: Request<Incoming>) -> Result<String, BoxError> {
    let bytes = request.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8(bytes.to_vec())?)
}
