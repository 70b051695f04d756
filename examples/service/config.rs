//! Command-line flags: the mode, where state lives, and injected faults.

use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::BoxError;

/// How the service runs.
#[derive(Debug)]
pub struct Config {
    /// Serve until SIGINT/SIGTERM instead of driving a short demo load.
    pub until_signal: bool,
    /// Port of the HTTP server on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Where the store and the scratch directory live.
    pub data_dir: PathBuf,
    /// The whole teardown's budget: past it, cleanups not started are
    /// skipped (and reported).
    pub grace: Duration,
    /// Each cleanup's budget: one that hangs is cut off and the next runs.
    pub cleanup_timeout: Duration,
    /// How long the stand-in upstream takes to answer.
    pub upstream_latency: Duration,
    /// How long the server keeps serving after `/healthz` turns 503, so
    /// that load balancers stop sending first (`--drain-delay-ms`; 0 in
    /// the demo, about 5 s behind a Kubernetes Service).
    pub drain_delay: Duration,
    /// How long before its cut a cleanup's soft deadline comes.
    pub soft_margin: Duration,
    /// Where to write the teardown's timeline as a Chrome trace (with the
    /// crate's `trace-file` feature): Perfetto and chrome://tracing open it.
    pub trace_file: Option<PathBuf>,
    /// Faults injected for the tests.
    pub faults: Faults,
}

/// Which cleanup fails or hangs, and which build step fails.
#[derive(Debug, Default)]
pub struct Faults {
    /// The cleanup (by registered name) that does its work, then fails.
    pub fail_cleanup: Option<String>,
    /// The cleanup (by registered name) that never finishes.
    pub hang_cleanup: Option<String>,
    /// The build step (1-based) that fails.
    pub fail_build_at: Option<usize>,
}

const USAGE: &str = "\
usage: service [--until-signal] [--port N] [--data-dir DIR]
               [--grace-ms MS] [--cleanup-timeout-ms MS] [--upstream-latency-ms MS]
               [--drain-delay-ms MS] [--soft-margin-ms MS] [--trace-file PATH]
               [--fail-cleanup NAME] [--hang-cleanup NAME] [--fail-build-at K]";

impl Config {
    /// Parses `std::env::args`, or returns a message for the user.
    pub fn from_args() -> Result<Config, String> {
        let mut config = Config {
            until_signal: false,
            port: 0,
            data_dir: std::env::temp_dir()
                .join(format!("teardown-stack-service-{}", std::process::id())),
            // Under the 30 s an orchestrator usually allows after SIGTERM.
            grace: Duration::from_secs(25),
            cleanup_timeout: Duration::from_secs(10),
            upstream_latency: Duration::from_millis(20),
            drain_delay: Duration::ZERO,
            soft_margin: Duration::from_secs(3),
            trace_file: None,
            faults: Faults::default(),
        };
        let mut args = std::env::args().skip(1);
        let ms = Duration::from_millis;
        while let Some(flag) = args.next() {
            match flag.as_str() {
                "--until-signal" => config.until_signal = true,
                "--port" => config.port = value(&mut args, &flag)?,
                "--data-dir" => config.data_dir = value(&mut args, &flag)?,
                "--grace-ms" => config.grace = ms(value(&mut args, &flag)?),
                "--cleanup-timeout-ms" => config.cleanup_timeout = ms(value(&mut args, &flag)?),
                "--upstream-latency-ms" => config.upstream_latency = ms(value(&mut args, &flag)?),
                "--drain-delay-ms" => config.drain_delay = ms(value(&mut args, &flag)?),
                "--soft-margin-ms" => config.soft_margin = ms(value(&mut args, &flag)?),
                "--trace-file" if cfg!(feature = "trace-file") => {
                    config.trace_file = Some(value(&mut args, &flag)?);
                }
                "--trace-file" => {
                    return Err("--trace-file needs the crate's trace-file feature \
                                (cargo run --example service --features trace-file)"
                        .to_owned());
                }
                "--fail-cleanup" => config.faults.fail_cleanup = Some(value(&mut args, &flag)?),
                "--hang-cleanup" => config.faults.hang_cleanup = Some(value(&mut args, &flag)?),
                "--fail-build-at" => config.faults.fail_build_at = Some(value(&mut args, &flag)?),
                "--help" | "-h" => return Err(USAGE.to_owned()),
                _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
            }
        }
        Ok(config)
    }
}

/// The value after `flag`, parsed.
fn value<T: FromStr>(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<T, String> {
    let value = args
        .next()
        .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: cannot parse {value:?}\n{USAGE}"))
}

impl Faults {
    /// Fails build step `step` if asked to.
    pub fn build_step(&self, step: usize, component: &str) -> Result<(), BoxError> {
        if self.fail_build_at == Some(step) {
            return Err(format!("injected failure building step {step} ({component})").into());
        }
        Ok(())
    }

    /// Wraps the cleanup registered as `name` with its injected fault, if any.
    pub fn cleanup<F>(
        &self,
        name: &'static str,
        work: F,
    ) -> impl Future<Output = Result<(), BoxError>> + Send + 'static
    where
        F: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let hang = self.hang_cleanup.as_deref() == Some(name);
        let fail = self.fail_cleanup.as_deref() == Some(name);
        async move {
            if hang {
                log::warn!("{name}: hanging (injected)");
                std::future::pending::<()>().await;
            }
            work.await?;
            if fail {
                return Err("injected failure".into());
            }
            Ok(())
        }
    }
}
