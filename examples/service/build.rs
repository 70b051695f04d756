//! Building the service: each component registers its release on the
//! teardown stack as soon as it is up, so a failure part-way leaves a stack
//! that releases exactly what was built, in reverse.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_executor::Executor;
use smol::net::TcpListener;
use teardown_stack::{Registered, Teardown};

use crate::BoxError;
use crate::background;
use crate::clients::Clients;
use crate::clock::Clock;
use crate::config::Config;
use crate::sandboxes::Sandboxes;
use crate::scratch;
use crate::server::{self, App};
use crate::store::{self, Store};

/// The service's teardown stack: room for every cleanup below, and a timer
/// for the grace period and the per-cleanup timeouts.
pub type ServiceTeardown = Teardown<'static, 16, Clock>;

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

    faults.build_step(1, "temp-files")?;
    let scratch = scratch::create(&config.data_dir)?;
    let scratch_path = scratch.path().to_owned();
    register(teardown, config, "temp-files", scratch::remove(scratch))?;

    faults.build_step(2, "store")?;
    let store_path = config.data_dir.join(store::FILE);
    let store = Store::open(&store_path).await?;
    log::info!("store: {}", store_path.display());
    let closing = store.clone();
    // Critical: its fsync still happens after a second signal, and the
    // grace period keeps its timeout in reserve for it.
    register(
        teardown,
        config,
        "store",
        async move { closing.close().await },
    )?
    .critical();

    faults.build_step(3, "clients")?;
    let clients = Clients::connect(ex, upstream, CLIENTS.len()).await?;
    let mut stage = teardown.stage();
    for name in CLIENTS {
        let closing = clients.clone();
        let close = faults.cleanup(name, async move { closing.close_one().await });
        stage.push(name, close)?.timeout(config.cleanup_timeout);
    }

    faults.build_step(4, "sandboxes")?;
    let sandboxes = Sandboxes::start(SANDBOXES, &scratch_path).await?;
    register(teardown, config, "sandboxes", sandboxes.shutdown())?;

    faults.build_step(5, "server")?;
    let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
    let served = Arc::new(AtomicU64::new(0));
    let draining = Arc::new(AtomicBool::new(false));
    let app = Arc::new(App::new(
        store.clone(),
        clients,
        served.clone(),
        draining.clone(),
    ));
    let api = server::start(ex, listener, app);
    let addr = api.addr();
    log::info!("listening on http://{addr}");
    let stop = async move {
        api.stop().await;
        log::info!("server stopped: {addr} closed, in-flight requests finished");
        Ok(())
    };
    register(teardown, config, "server", stop)?;

    faults.build_step(6, "background")?;
    // The application's own stack, as one step: it fails here, naming its
    // cleanups, if any of them fails.
    let timeout = config.cleanup_timeout;
    let app = background::start(ex, store, served, SUMMARY_PERIOD, timeout);
    let drain = async move { app.into_cleanup().await.map_err(BoxError::from) };
    register(teardown, config, "background", drain)?;

    // Last up, so first down: from the first signal `/healthz` answers
    // 503, and the server keeps serving for the drain delay, so that load
    // balancers stop sending before it stops.
    let delay = config.drain_delay;
    let drain = async move {
        draining.store(true, Ordering::SeqCst);
        log::info!("draining: /healthz answers 503; serving {delay:?} more before the stop");
        smol::Timer::after(delay).await;
        Ok(())
    };
    register(teardown, config, "drain", drain)?;

    Ok(Service { addr, store_path })
}

/// Registers `name`'s release with its injected fault, if any, and the
/// cleanup timeout. A full stack is a bug here (the capacity covers every
/// cleanup), but it is reported, not unwrapped.
fn register<'t, F>(
    teardown: &'t mut ServiceTeardown,
    config: &Config,
    name: &'static str,
    release: F,
) -> Result<Registered<'t, Clock>, BoxError>
where
    F: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    let release = config.faults.cleanup(name, release);
    Ok(teardown
        .push(name, release)?
        .timeout(config.cleanup_timeout))
}
