//! Building the service: each component registers its release on the
//! teardown stack as soon as it is up, so a failure part-way leaves a stack
//! that releases exactly what was built, in reverse.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use async_executor::Executor;
use smol::net::TcpListener;
use teardown_stack::{Full, Teardown};

use crate::BoxError;
use crate::background::Background;
use crate::clients::Clients;
use crate::clock::SmolClock;
use crate::config::Config;
use crate::sandboxes::Sandboxes;
use crate::scratch;
use crate::server::{self, App};
use crate::store::Store;

/// The service's teardown stack: room for every cleanup below, and a timer
/// for the grace period and the per-cleanup timeouts.
pub type ServiceTeardown = Teardown<'static, 16, SmolClock>;

/// Keep-alive connections to the upstream, each closed by its own stage member.
const CLIENTS: [&str; 4] = ["client-0", "client-1", "client-2", "client-3"];
const SANDBOXES: usize = 3;
const SUMMARY_PERIOD: Duration = Duration::from_millis(250);

/// What `main` needs of a built service.
pub struct Service {
    /// Where the API listens.
    pub addr: SocketAddr,
    /// The store's file.
    pub store_path: PathBuf,
}

/// Builds the service in order: scratch files, store, clients, sandboxes,
/// server, background tasks; the teardown releases them in reverse.
pub async fn build(
    ex: &Arc<Executor<'static>>,
    config: &Config,
    upstream: SocketAddr,
    teardown: &mut ServiceTeardown,
) -> Result<Service, BoxError> {
    let faults = &config.faults;
    let timeout = config.cleanup_timeout;

    faults.build_step(1, "temp-files")?;
    let scratch = scratch::create(&config.data_dir)?;
    let scratch_path = scratch.path().to_owned();
    teardown
        .push(
            "temp-files",
            faults.cleanup("temp-files", scratch::remove(scratch)),
        )
        .map_err(full)?
        .timeout(timeout);

    faults.build_step(2, "store")?;
    let store_path = config.data_dir.join("store.log");
    let store = Store::open(&store_path).await?;
    log::info!("store: {}", store_path.display());
    let closing = store.clone();
    teardown
        .push(
            "store",
            faults.cleanup("store", async move { closing.close().await }),
        )
        .map_err(full)?
        .timeout(timeout);

    faults.build_step(3, "clients")?;
    let clients = Clients::connect(ex, upstream, CLIENTS.len()).await?;
    let mut stage = teardown.stage();
    for name in CLIENTS {
        let closing = clients.clone();
        stage
            .push(
                name,
                faults.cleanup(name, async move { closing.close_one().await }),
            )
            .map_err(full)?
            .timeout(timeout);
    }

    faults.build_step(4, "sandboxes")?;
    let sandboxes = Sandboxes::start(SANDBOXES, &scratch_path).await?;
    teardown
        .push(
            "sandboxes",
            faults.cleanup("sandboxes", sandboxes.shutdown()),
        )
        .map_err(full)?
        .timeout(timeout);

    faults.build_step(5, "server")?;
    let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
    let served = Arc::new(AtomicU64::new(0));
    let app = Arc::new(App::new(store.clone(), clients, served.clone()));
    let api = server::start(ex, listener, app);
    let addr = api.addr();
    log::info!("listening on http://{addr}");
    let stop = async move {
        api.stop().await;
        log::info!("server stopped: {addr} closed, in-flight requests finished");
        Ok(())
    };
    teardown
        .push("server", faults.cleanup("server", stop))
        .map_err(full)?
        .timeout(timeout);

    faults.build_step(6, "background")?;
    let background = Background::start(ex, store, served, SUMMARY_PERIOD);
    teardown
        .push(
            "background",
            faults.cleanup("background", background.drain()),
        )
        .map_err(full)?
        .timeout(timeout);

    Ok(Service { addr, store_path })
}

/// A full stack is a bug here (the capacity covers every cleanup), but it
/// is reported, not unwrapped.
fn full<T>(error: Full<T>) -> BoxError {
    error.to_string().into()
}
