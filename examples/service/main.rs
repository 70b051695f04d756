//! A real service, built part by part and torn down in reverse: the store
//! (an append-only file), keep-alive HTTP clients to an upstream, a pool of
//! sandbox processes, an HTTP server, background tasks, and scratch files.
//!
//! ```text
//! cargo run --example service                    # a few seconds of load, then shutdown
//! cargo run --example service -- --until-signal  # serve until SIGINT/SIGTERM
//! ```
//!
//! The first SIGINT or SIGTERM starts the teardown; a second one during the
//! teardown exits at once, naming the cleanups that did not finish.
//!
//! Exit codes: 0 a clean teardown; 1 a cleanup failed (or, in the demo, an
//! acknowledged write is missing); 2 the build failed (what was built was
//! released); 3 a second signal cut the teardown short; 64 bad flags.
//!
//! The teardown has 25 s in all (`--grace-ms`) and each cleanup 10 s
//! (`--cleanup-timeout-ms`): a hung cleanup is cut off, reported by name,
//! and the next one runs.
//!
//! For the tests: `--port N`, `--data-dir DIR`, `--fail-cleanup NAME`,
//! `--hang-cleanup NAME`, `--fail-build-at K` (1 to 6, in build order).

mod background;
mod build;
mod clients;
mod clock;
mod config;
mod faults;
mod http;
mod load;
mod sandboxes;
mod scratch;
mod server;
mod store;
mod upstream;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use async_signal::{Signal, Signals};
use futures_lite::{StreamExt, future};

use crate::build::ServiceTeardown;
use crate::config::Config;

/// The error type of every fallible step.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long the demo sends load before shutting itself down.
const DEMO_LOAD: Duration = Duration::from_secs(2);
const DEMO_WORKERS: usize = 4;

fn main() -> ExitCode {
    // The stack's own progress ("running teardown callback ...") is at debug.
    let filter = "info,teardown_stack=debug";
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(filter)).init();
    let config = match Config::from_args() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(64);
        }
    };
    let ex = Arc::new(Executor::new());
    smol::block_on(ex.run(run(ex.clone(), config)))
}

async fn run(ex: Arc<Executor<'static>>, config: Config) -> ExitCode {
    // Registered first, so a signal during the build is not lost.
    let mut signals = match Signals::new([Signal::Term, Signal::Int]) {
        Ok(signals) => signals,
        Err(error) => {
            log::error!("cannot watch signals: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = std::fs::create_dir_all(&config.data_dir) {
        log::error!("cannot create {}: {error}", config.data_dir.display());
        return ExitCode::from(2);
    }
    let upstream = match upstream::start(&ex, config.upstream_latency).await {
        Ok(upstream) => upstream,
        Err(error) => {
            log::error!("cannot start the upstream: {error}");
            return ExitCode::from(2);
        }
    };

    let mut teardown = ServiceTeardown::with_timer(clock::SmolClock::new());
    let code = match build::build(&ex, &config, upstream.addr(), &mut teardown).await {
        Err(error) => {
            log::error!("build failed: {error}; releasing what was built");
            shutdown(teardown, config.grace, &mut signals).await;
            ExitCode::from(2)
        }
        Ok(_) if config.until_signal => {
            let _ = signals.next().await;
            log::info!("signal received: shutting down");
            exit_code(shutdown(teardown, config.grace, &mut signals).await)
        }
        Ok(service) => {
            let load = load::Load::start(&ex, service.addr, DEMO_WORKERS);
            let signalled = future::or(
                async {
                    smol::Timer::after(DEMO_LOAD).await;
                    false
                },
                async {
                    let _ = signals.next().await;
                    true
                },
            )
            .await;
            log::info!(
                "{}: shutting down with requests in flight",
                if signalled {
                    "signal received"
                } else {
                    "demo load sent"
                }
            );
            let clean = shutdown(teardown, config.grace, &mut signals).await;
            let acked = load.finish().await;
            match load::verify(&service.store_path, &acked) {
                Ok(found) => {
                    log::info!("all {found} acknowledged writes are in the store");
                    exit_code(clean)
                }
                Err(error) => {
                    log::error!("{error}");
                    ExitCode::FAILURE
                }
            }
        }
    };
    upstream.stop().await;
    code
}

/// Runs the teardown within `grace` and prints its report; a second signal
/// cuts it short and exits at once. Returns whether the report is clean.
async fn shutdown(mut teardown: ServiceTeardown, grace: Duration, signals: &mut Signals) -> bool {
    let run = async { Some(teardown.run().within(grace).await.clone()) };
    let report = future::or(run, async {
        let _ = signals.next().await;
        None
    })
    .await;
    match report {
        Some(report) => {
            println!("{report}");
            report.is_clean()
        }
        None => {
            let unfinished: Vec<String> = teardown.names().map(|name| name.to_string()).collect();
            log::error!(
                "second signal: exiting now; cleanups not finished: {}",
                unfinished.join(", ")
            );
            // Dropping the stack drops the unfinished cleanups, and with them
            // what they own (the sandboxes are killed on drop).
            drop(teardown);
            std::process::exit(3);
        }
    }
}

fn exit_code(clean: bool) -> ExitCode {
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
