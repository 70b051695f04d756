//! A small HTTP/1.1 server on hyper and smol, with a graceful stop, and a
//! one-connection client. Both the service and its stand-in upstream use it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_executor::{Executor, Task};
use futures_lite::future;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self as client_http1, SendRequest};
use hyper::server::conn::http1 as server_http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use smol::channel::{Receiver, Sender};
use smol::net::{TcpListener, TcpStream};
use smol_hyper::rt::{FuturesIo, SmolTimer};

use crate::BoxError;

/// A running server: stop it to close its port and finish its requests.
pub struct Server {
    addr: SocketAddr,
    /// Dropped to tell the accept loop and every connection to stop.
    stop: Sender<()>,
    accept: Task<()>,
    /// Each connection holds a sender; `recv` fails once all are gone.
    connections: Receiver<()>,
    /// How many connections are open.
    open: Arc<AtomicUsize>,
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
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let (alive, connections) = smol::channel::bounded::<()>(1);
        let spawner = ex.clone();
        let open = Arc::new(AtomicUsize::new(0));
        let counter = open.clone();
        let accept = ex.spawn(async move {
            loop {
                let accepted = future::or(async { Some(listener.accept().await) }, async {
                    let _ = stopped.recv().await;
                    None
                })
                .await;
                match accepted {
                    // Stopping: the listener is dropped here, closing the port.
                    None => break,
                    Some(Err(error)) => {
                        // Out of file descriptors, say: back off instead of spinning.
                        log::warn!("{addr}: accept failed: {error}");
                        smol::Timer::after(std::time::Duration::from_millis(50)).await;
                    }
                    Some(Ok((stream, _))) => {
                        let conn = serve_connection(stream, handler.clone(), stopped.clone());
                        let alive = alive.clone();
                        let counter = counter.clone();
                        counter.fetch_add(1, Ordering::Relaxed);
                        spawner
                            .spawn(async move {
                                conn.await;
                                counter.fetch_sub(1, Ordering::Relaxed);
                                drop(alive);
                            })
                            .detach();
                    }
                }
            }
        });
        Server {
            addr,
            stop,
            accept,
            connections,
            open,
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting (the port closes), lets in-flight requests finish,
    /// closes idle keep-alive connections, and waits for every connection.
    pub async fn stop(self) {
        let open = self.open.load(Ordering::Relaxed);
        log::info!("{}: stopping with {open} connection(s) open", self.addr);
        drop(self.stop);
        self.accept.await;
        // Fails once every connection task has dropped its sender.
        let _ = self.connections.recv().await;
    }
}

async fn serve_connection<H, F>(stream: TcpStream, handler: H, stopped: Receiver<()>)
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let service = service_fn(move |request| {
        let response = handler(request);
        async move { Ok::<_, std::convert::Infallible>(response.await) }
    });
    let mut conn = pin!(
        server_http1::Builder::new()
            .timer(SmolTimer::new())
            .serve_connection(FuturesIo::new(stream), service)
    );
    let finished = future::or(async { Some(conn.as_mut().await) }, async {
        let _ = stopped.recv().await;
        None
    })
    .await;
    let result = match finished {
        Some(result) => result,
        None => {
            // The request in flight (if any) completes; then the connection closes.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(error) = result {
        log::debug!("connection ended with an error: {error}");
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
        if status != hyper::StatusCode::OK {
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
pub fn text(status: hyper::StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// The whole body of a request, as text.
pub async fn body_text(request: Request<Incoming>) -> Result<String, BoxError> {
    let bytes = request.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8(bytes.to_vec())?)
}
