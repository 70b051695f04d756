//! Command-line flags: the mode, where state lives, and injected faults.

use std::path::PathBuf;
use std::time::Duration;

use crate::faults::Faults;

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
    /// Faults injected for the tests.
    pub faults: Faults,
}

const USAGE: &str = "\
usage: service [--until-signal] [--port N] [--data-dir DIR]
               [--grace-ms MS] [--cleanup-timeout-ms MS] [--upstream-latency-ms MS]
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
            faults: Faults::default(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--until-signal" => config.until_signal = true,
                "--port" => config.port = parse(&flag, &value()?)?,
                "--grace-ms" => config.grace = Duration::from_millis(parse(&flag, &value()?)?),
                "--cleanup-timeout-ms" => {
                    config.cleanup_timeout = Duration::from_millis(parse(&flag, &value()?)?);
                }
                "--upstream-latency-ms" => {
                    config.upstream_latency = Duration::from_millis(parse(&flag, &value()?)?);
                }
                "--data-dir" => config.data_dir = value()?.into(),
                "--fail-cleanup" => config.faults.fail_cleanup = Some(value()?),
                "--hang-cleanup" => config.faults.hang_cleanup = Some(value()?),
                "--fail-build-at" => config.faults.fail_build_at = Some(parse(&flag, &value()?)?),
                "--help" | "-h" => return Err(USAGE.to_owned()),
                _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
            }
        }
        Ok(config)
    }
}

fn parse<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: cannot parse {value:?}\n{USAGE}"))
}
