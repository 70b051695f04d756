//! Real signals sent to a child process: the first SIGINT or SIGTERM starts
//! the teardown, a second one during a hung cleanup ends the wait and names
//! what had not finished. The same under smol, async-executor and tokio.
//!
//! The child is this test binary run again, with `CHILD` set to the
//! executor and the scenario: its `child` test then plays the service.
#![cfg(all(
    unix,
    not(miri),
    feature = "signal",
    feature = "async-io",
    feature = "tokio"
))]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use teardown_stack::{AsyncIoTimer, Shutdown, Signals, Teardown, Timer, TokioTimer};

const CHILD: &str = "TEARDOWN_SIGNAL_CHILD";

/// A hang guard for the parent, not a measurement.
const PATIENCE: Duration = Duration::from_secs(60);

/// The child's part. Without `CHILD` in the environment it does nothing.
#[test]
fn child() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let (executor, scenario) = mode.split_once(':').expect("executor:scenario");
    let hang = scenario != "clean";
    // "critical": the store is critical and hangs, and every signal is an
    // interrupt.
    let critical = scenario == "critical";
    let code = match executor {
        "smol" => smol::block_on(lifecycle(AsyncIoTimer::new(), hang, critical)),
        "async-executor" => {
            let ex = async_executor::Executor::new();
            futures_lite::future::block_on(ex.run(lifecycle(AsyncIoTimer::new(), hang, critical)))
        }
        "tokio" => tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(async { lifecycle(TokioTimer::new(), hang, critical).await }),
        other => panic!("unknown executor {other}"),
    };
    std::process::exit(code);
}

/// Prints one line for the parent, at once.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "child: {line}").unwrap();
    out.flush().unwrap();
}

/// The lifecycle of a service, as `main` would write it; returns the exit
/// code: 0 clean, 1 not clean, 3 interrupted by a second signal.
async fn lifecycle<R: Timer>(timer: R, hang: bool, critical: bool) -> i32 {
    let mut signals = Signals::new().unwrap();
    let mut teardown = Teardown::<8, R>::with_timer(timer);
    let store = teardown
        .push("store", async move {
            if critical {
                say("store hanging");
                std::future::pending::<()>().await;
            }
            say("store closed");
        })
        .unwrap();
    if critical {
        store.critical();
    }
    let mut clients = teardown.stage();
    for name in ["client-0", "client-1"] {
        clients.push(name, async move { say(name) }).unwrap();
    }
    teardown
        .push("sandboxes", async move {
            if hang && !critical {
                say("sandboxes hanging");
                std::future::pending::<()>().await;
            }
            say("sandboxes killed");
        })
        .unwrap();
    teardown
        .push("server", async { say("server stopped") })
        .unwrap();
    say("ready");

    let first = signals.recv().await.unwrap();
    say(&format!("first {first}"));
    let grace = Duration::from_secs(50);
    let shutdown = if critical {
        teardown.shutdown_within(grace, &mut signals).await
    } else {
        teardown.shutdown_within(grace, signals.recv()).await
    };
    match shutdown {
        Shutdown::Finished(report) => {
            say(&format!(
                "finished: {}",
                report.to_string().replace('\n', " |")
            ));
            i32::from(!report.is_clean())
        }
        Shutdown::Interrupted { unfinished, .. } => {
            let names: Vec<String> = unfinished.iter().map(|n| n.to_string()).collect();
            say(&format!("interrupted: {}", names.join(", ")));
            3
        }
    }
}

/// The child, its stdout read line by line.
struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(mode: &str) -> Running {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child", "--nocapture", "--test-threads=1"])
            .env(CHILD, mode)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                // libtest's "test child ... " may start the first line.
                if let Some((_, said)) = line.split_once("child: ") {
                    let _ = send.send(said.to_owned());
                }
            }
        });
        let mut running = Running {
            child,
            lines,
            seen: Vec::new(),
        };
        running.wait_for("ready");
        running
    }

    /// Waits for the child to say `line`.
    fn wait_for(&mut self, line: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.seen.iter().any(|seen| seen == line) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(said) => self.seen.push(said),
                Err(RecvTimeoutError::Timeout) => panic!("the child never said {line:?}"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the child ended without saying {line:?}: {:?}", self.seen)
                }
            }
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the child to exit; returns its status and all it said.
    fn finish(mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the child did not exit");
            thread::sleep(Duration::from_millis(20));
        };
        self.seen.extend(self.lines.iter());
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn one_signal_runs_the_teardown_and_exits_0(executor: &str, signal: &str, name: &str) {
    let child = Running::start(&format!("{executor}:clean"));
    child.signal(signal);
    let (status, said) = child.finish();
    assert_eq!(status.code(), Some(0), "{said:?}");
    assert_eq!(said.len(), 8, "{said:?}");
    let first = format!("first {name}");
    let expected = ["ready", &first, "server stopped", "sandboxes killed"];
    assert_eq!(said[..4], expected, "{said:?}");
    let mut clients = said[4..6].to_vec();
    clients.sort();
    assert_eq!(clients, ["client-0", "client-1"], "{said:?}");
    assert_eq!(said[6], "store closed", "{said:?}");
    assert!(
        said[7].starts_with("finished: teardown: 5 callbacks, all completed"),
        "{said:?}"
    );
}

fn a_second_signal_during_a_hung_cleanup_names_the_unfinished(executor: &str) {
    let mut child = Running::start(&format!("{executor}:hang"));
    child.signal("TERM");
    child.wait_for("sandboxes hanging");
    child.signal("INT");
    let (status, said) = child.finish();
    assert_eq!(status.code(), Some(3), "{said:?}");
    assert_eq!(
        said,
        [
            "ready",
            "first SIGTERM",
            "server stopped",
            "sandboxes hanging",
            "interrupted: sandboxes, client-1, client-0, store",
        ]
    );
}

#[test]
fn smol_each_signal_interrupts_the_second_escalates_and_the_third_gives_up() {
    let mut child = Running::start("smol:critical");
    child.signal("TERM");
    child.wait_for("store hanging");
    // The second keeps the critical store running (nothing else is left);
    // only a third, read from the same `&mut signals`, gives up.
    child.signal("INT");
    child.signal("TERM");
    let (status, said) = child.finish();
    assert_eq!(status.code(), Some(3), "{said:?}");
    assert!(said.iter().any(|line| line == "store hanging"), "{said:?}");
    assert_eq!(
        said.last().map(String::as_str),
        Some("interrupted: store"),
        "{said:?}"
    );
    assert!(!said.iter().any(|line| line == "store closed"), "{said:?}");
}

#[test]
fn smol_sigterm_runs_the_teardown_and_exits_0() {
    one_signal_runs_the_teardown_and_exits_0("smol", "TERM", "SIGTERM");
}

#[test]
fn smol_sigint_runs_the_teardown_and_exits_0() {
    one_signal_runs_the_teardown_and_exits_0("smol", "INT", "SIGINT");
}

#[test]
fn smol_second_signal_during_a_hung_cleanup_names_the_unfinished_in_run_order() {
    a_second_signal_during_a_hung_cleanup_names_the_unfinished("smol");
}

#[test]
fn async_executor_sigterm_runs_the_teardown_and_exits_0() {
    one_signal_runs_the_teardown_and_exits_0("async-executor", "TERM", "SIGTERM");
}

#[test]
fn async_executor_second_signal_during_a_hung_cleanup_names_the_unfinished_in_run_order() {
    a_second_signal_during_a_hung_cleanup_names_the_unfinished("async-executor");
}

#[test]
fn tokio_sigterm_runs_the_teardown_and_exits_0() {
    one_signal_runs_the_teardown_and_exits_0("tokio", "TERM", "SIGTERM");
}

#[test]
fn tokio_sigint_runs_the_teardown_and_exits_0() {
    one_signal_runs_the_teardown_and_exits_0("tokio", "INT", "SIGINT");
}

#[test]
fn tokio_second_signal_during_a_hung_cleanup_names_the_unfinished_in_run_order() {
    a_second_signal_during_a_hung_cleanup_names_the_unfinished("tokio");
}
