//! The service lifecycle under `#[tokio::main]`: a hyper server on tokio's
//! sockets, built with rollback, torn down on the first SIGINT or SIGTERM
//! within a grace period on `TokioTimer`, a second signal ending the wait.
//! The application's own cleanups join the framework's as one nested step.
//! The teardown shows in `tracing`: a span for the run and one per cleanup,
//! printed here by `tracing-subscriber`'s formatter as each closes.
//!
//! ```text
//! cargo run --example tokio --features tokio,signal,tracing                    # a few requests, then shutdown
//! cargo run --example tokio --features tokio,signal,tracing -- --until-signal  # serve until SIGINT/SIGTERM
//! ```
//!
//! Exit codes: 0 a clean teardown, 1 a cleanup failed, 2 the build failed,
//! 3 a second signal cut the teardown short.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use teardown_stack::{Shutdown, Signals, Teardown, TokioTimer, Tracing};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const GRACE: Duration = Duration::from_secs(25);
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The teardown's spans and events, for whatever subscriber is installed.
static TRACING: Tracing = Tracing::new();

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Each span printed as it closes, with its fields and time: the run's,
    // and one per cleanup inside it.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
    let mut signals = Signals::new().expect("signal handlers");
    let mut teardown = Teardown::<8, _>::with_timer(TokioTimer::new());
    teardown.observe(&TRACING);
    let addr = match teardown.build_within(GRACE, async |t| build(t).await).await {
        Ok(addr) => addr,
        Err(released) => {
            eprintln!("build failed: {released}");
            return ExitCode::from(2);
        }
    };
    println!("listening on http://{addr}");

    if std::env::args().any(|arg| arg == "--until-signal") {
        let signal = signals.recv().await.expect("the signal pipe");
        println!("{signal}: shutting down");
    } else {
        for request in 0..3 {
            let body = get(addr).await.expect("the server answers");
            println!("request {request}: {body}");
        }
    }

    // A second signal drops all but the critical store; a third gives up.
    match teardown.shutdown_within(GRACE, &mut signals).await {
        Shutdown::Finished(report) => {
            println!("{report:#}");
            ExitCode::from(&report)
        }
        interrupted @ Shutdown::Interrupted { .. } => {
            eprintln!("second signal: {interrupted}");
            ExitCode::from(3)
        }
    }
}

/// The framework's parts, each registering its release as it comes up.
async fn build(t: &mut Teardown<'static, 8, TokioTimer>) -> Result<SocketAddr, BoxError> {
    t.push("store", async { println!("store closed") })?
        .critical();

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel();
    let server = tokio::spawn(serve(listener, stopped));
    let stop = async move {
        let _ = stop.send(());
        server.await?;
        println!("server stopped: {addr} closed, in-flight requests finished");
        Ok::<(), BoxError>(())
    };
    t.push("server", stop)?.timeout(CLEANUP_TIMEOUT);

    // The application hooks its own cleanups in, as one step.
    let mut app = Teardown::<4, _>::with_timer(TokioTimer::new());
    app.push("cache", async { println!("app cache flushed") })?;
    app.push("webhooks", async { println!("app webhooks drained") })?;
    let nested = app.into_cleanup_within(CLEANUP_TIMEOUT);
    t.push("app", nested).map_err(|full| full.to_string())?;
    Ok(addr)
}

/// Serves until `stopped`; then closes the port, lets the requests in
/// flight finish and waits for every connection.
async fn serve(listener: TcpListener, mut stopped: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = &mut stopped => break,
        };
        let service = hyper::service::service_fn(|_: Request<Incoming>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello from tokio"))))
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        tokio::spawn(graceful.watch(conn));
    }
    drop(listener);
    graceful.shutdown().await;
}

/// One `GET /` over a fresh connection.
async fn get(addr: SocketAddr) -> Result<String, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let request = Request::get("/")
        .header(hyper::header::HOST, "localhost")
        .body(Empty::<Bytes>::new())?;
    let body = sender
        .send_request(request)
        .await?
        .into_body()
        .collect()
        .await?;
    Ok(String::from_utf8(body.to_bytes().to_vec())?)
}
