//! A real service, built part by part and torn down in reverse: the store
//! (an append-only file), keep-alive HTTP clients to an upstream, a pool of
//! sandbox processes, an HTTP server, background tasks, and scratch files.
//!
//! ```text
//! cargo run --example service                    # a few seconds of load, then shutdown
//! cargo run --example service -- --until-signal  # serve until SIGINT/SIGTERM
//! ```
//!
//! The first SIGINT or SIGTERM starts the teardown: `/healthz` turns 503
//! and the server keeps serving for `--drain-delay-ms` (0 here; what a
//! Kubernetes deployment sets, e.g. 5000, so that endpoints stop sending
//! before the stop), then the parts are released in reverse. A second
//! signal drops every cleanup but the critical one, the store's close and
//! fsync, which still runs; a third exits at once, naming the cleanups
//! that did not finish.
//!
//! Exit codes: 0 a clean teardown; 1 a cleanup failed (or, in the demo, an
//! acknowledged write is missing); 2 the build failed (what was built was
//! released), or the start did; 3 a signal after the escalation (or one
//! with nothing critical left to keep) cut the teardown short;
//! 64 bad flags; 75 another instance is running on the data directory.
//!
//! A killed run leaves nothing behind that outlives it: its sandboxes die
//! with it (`sandboxes.rs`), and the next start on the same data directory
//! removes what it left there before building anything (`data_dir.rs`).
//!
//! The teardown has 25 s in all (`--grace-ms`) and each cleanup 10 s
//! (`--cleanup-timeout-ms`): a hung cleanup is cut off, reported by name,
//! and the next one runs. The store's 10 s stay in reserve for it, and
//! each cleanup's soft deadline comes 3 s before its cut
//! (`--soft-margin-ms`).
//!
//! For the tests: `--port N`, `--data-dir DIR`, `--upstream-latency-ms MS`,
//! `--fail-cleanup NAME`, `--hang-cleanup NAME`, `--fail-build-at K` (1 to
//! 6, in build order).

mod background;
mod build;
mod clients;
mod clock;
mod config;
mod data_dir;
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
use teardown_stack::{Shutdown, each};

use crate::build::ServiceTeardown;
use crate::config::Config;

/// The error type of every fallible step.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long the demo sends load before shutting itself down.
const DEMO_LOAD: Duration = Duration::from_secs(2);
const DEMO_WORKERS: usize = 4;

/// What tells systemd, when the service runs under it.
#[cfg(all(feature = "systemd", unix))]
static SYSTEMD: teardown_stack::Systemd = teardown_stack::Systemd::new();

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
    // Held to the end: dropping it (on every return) empties the lock file.
    let (mut signals, _lock, upstream) = match setup(&ex, &config).await {
        Ok(setup) => setup,
        Err(error) if error.is::<data_dir::InUse>() => {
            log::error!("cannot start: {error}");
            return ExitCode::from(data_dir::IN_USE);
        }
        Err(error) => {
            log::error!("cannot start: {error}");
            return ExitCode::from(2);
        }
    };

    // The build registers each part's release as it comes up; if a part
    // fails, what was built is released, last first, within the grace period.
    let mut teardown = ServiceTeardown::with_timer(clock::Clock::new());
    // Under systemd (`Type=notify`, with the `systemd` feature): the
    // teardown says it is stopping, what it waits on, and extends the stop
    // timeout as it makes progress. Without NOTIFY_SOCKET nothing is sent.
    #[cfg(all(feature = "systemd", unix))]
    teardown.observe(&SYSTEMD);
    let built = teardown
        .build_within(config.grace, async |t| {
            build::build(&ex, &config, upstream.addr(), t).await
        })
        .await;
    let service = match built {
        Ok(service) => service,
        Err(released) => {
            log::error!("build failed: {}; released what was built", released.error);
            println!("{}", released.report);
            return ExitCode::from(2);
        }
    };
    #[cfg(all(feature = "systemd", unix))]
    SYSTEMD.ready();

    let load = (!config.until_signal).then(|| load::Load::start(&ex, service.addr, DEMO_WORKERS));
    let demo_over = async {
        smol::Timer::after(DEMO_LOAD).await;
        log::info!("demo load sent: shutting down with requests in flight");
    };
    let signalled = async {
        let _ = signals.next().await;
        log::info!("signal received: shutting down");
    };
    match load {
        Some(_) => future::or(demo_over, signalled).await,
        None => signalled.await,
    }

    // A second signal escalates: every cleanup but the store's is dropped
    // (and what it owns: the sandboxes are killed), and the store still
    // closes. A third stops the wait: dropping the stack then drops what
    // did not finish.
    // A soft deadline no earlier than halfway through a cleanup's budget:
    // a short one (a test's) keeps its soft signal for when it is late.
    let margin = config.soft_margin.min(config.cleanup_timeout / 2);
    let run = teardown.run().within(config.grace).soft_margin(margin);
    let report = match run.or_interrupt(each(&mut signals)).await {
        Shutdown::Finished(report) => report,
        Shutdown::Interrupted {
            unfinished,
            timeline,
            ..
        } => {
            let names: Vec<String> = unfinished.iter().map(ToString::to_string).collect();
            log::error!(
                "signalled again: exiting now; cleanups not finished: {}",
                names.join(", ")
            );
            // The timeline: what finished, and what was still running.
            println!("{timeline:#}");
            #[cfg(feature = "trace-file")]
            if let Some(path) = &config.trace_file {
                write_trace(path, |file| timeline.write_trace(file));
            }
            return ExitCode::from(3);
        }
    };
    // The timeline: every cleanup in run order, with its start and time.
    println!("{report:#}");
    #[cfg(feature = "trace-file")]
    if let Some(path) = &config.trace_file {
        write_trace(path, |file| report.write_trace(file));
    }
    let mut code = ExitCode::from(&report);
    if let Some(load) = load {
        let acked = load.finish().await;
        match load::verify(&service.store_path, &acked) {
            Ok(found) => log::info!("all {found} acknowledged writes are in the store"),
            Err(error) => {
                log::error!("{error}");
                code = ExitCode::FAILURE;
            }
        }
    }
    upstream.stop().await;
    code
}

/// What comes before the service's own parts: the signals, caught from now
/// on so that one sent during the build is not lost; the data directory,
/// locked for this process and cleared of what a killed run left; and the
/// stand-in upstream, which is not the service's to tear down.
async fn setup(
    ex: &Arc<Executor<'static>>,
    config: &Config,
) -> Result<(Signals, data_dir::Lock, http::Server), BoxError> {
    let signals = Signals::new([Signal::Term, Signal::Int])?;
    let lock = data_dir::open(&config.data_dir)?;
    let upstream = upstream::start(ex, config.upstream_latency).await?;
    Ok((signals, lock, upstream))
}

/// Writes the teardown's trace to `path` with `write`, logging the outcome.
#[cfg(feature = "trace-file")]
fn write_trace(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) {
    use std::io::Write as _;
    let written = std::fs::File::create(path).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()
    });
    match written {
        Ok(()) => log::info!("teardown trace written to {}", path.display()),
        Err(error) => log::error!("could not write the trace to {}: {error}", path.display()),
    }
}
