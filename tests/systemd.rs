//! The systemd observer against a real datagram socket, bound here as
//! systemd binds `NOTIFY_SOCKET`. The teardown runs in a child process
//! (this test binary again), since `NOTIFY_SOCKET` is read from the
//! environment; its time is virtual, so the timeouts sent are exact.
// Miri runs no child process.
#![cfg(all(feature = "systemd", feature = "test-util", unix, not(miri)))]

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

use teardown_stack::{Systemd, Teardown, VirtualClock};

/// Set in the child: which teardown to run.
const CHILD: &str = "TEARDOWN_STACK_SYSTEMD_CHILD";
const MS: Duration = Duration::from_millis(1);

/// The child's teardown: a service's four cleanups, two in a stage, run
/// within 25 s, told to systemd; "ready" first, as a service says once up.
fn child_teardown() {
    static SYSTEMD: Systemd = Systemd::new();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown.observe(&SYSTEMD);
    teardown
        .push("store", common::sleeper(&clock, 1000))
        .unwrap();
    let mut stage = teardown.stage();
    stage
        .push("client-0", common::sleeper(&clock, 2000))
        .unwrap();
    stage
        .push("client-1", common::sleeper(&clock, 3000))
        .unwrap();
    teardown
        .push("sandboxes", common::sleeper(&clock, 4000))
        .unwrap();
    SYSTEMD.ready();
    let report = clock.block_on(teardown.run().within(25_000 * MS));
    assert!(report.is_clean(), "{report}");
}

/// A service manager's end of `NOTIFY_SOCKET`: reads every datagram as it
/// comes, as systemd does, until told the sender has exited.
struct Manager {
    reader: std::thread::JoinHandle<Vec<String>>,
    exited: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Manager {
    fn listen(socket: UnixDatagram) -> Manager {
        use std::sync::atomic::Ordering;
        let exited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = exited.clone();
        // Not a timing assertion: how often the reader looks at `exited`.
        socket.set_read_timeout(Some(10 * MS)).unwrap();
        let reader = std::thread::spawn(move || {
            let mut datagrams = Vec::new();
            let mut buffer = [0_u8; 4096];
            loop {
                // Read after the sender exited too: what it left queued.
                let exited = done.load(Ordering::Acquire);
                match socket.recv(&mut buffer) {
                    Ok(len) => datagrams.push(String::from_utf8(buffer[..len].to_vec()).unwrap()),
                    Err(_) if exited => return datagrams,
                    Err(_) => {}
                }
            }
        });
        Manager { reader, exited }
    }

    /// Every datagram read, once the sender has exited.
    fn datagrams(self) -> Vec<String> {
        self.exited
            .store(true, std::sync::atomic::Ordering::Release);
        self.reader.join().unwrap()
    }
}

/// Every datagram in a `NOTIFY_SOCKET` queue nobody read, once the sender
/// has exited.
fn queued(socket: &UnixDatagram) -> Vec<String> {
    socket.set_nonblocking(true).unwrap();
    let mut datagrams = Vec::new();
    let mut buffer = [0_u8; 4096];
    while let Ok(len) = socket.recv(&mut buffer) {
        datagrams.push(String::from_utf8(buffer[..len].to_vec()).unwrap());
    }
    datagrams
}

/// What the child's teardown tells the manager, in order.
const TOLD: [&str; 11] = [
    "READY=1\n",
    "STOPPING=1\nSTATUS=stopping (0/4)\n",
    "STATUS=stopping: \"sandboxes\" (0/4)\n",
    // Done at 4 s of a 25 s grace: 21 s left.
    "STATUS=stopping (1/4)\nEXTEND_TIMEOUT_USEC=21000000\n",
    "STATUS=stopping: \"client-1\" (1/4)\n",
    "STATUS=stopping: \"client-1\", \"client-0\" (1/4)\n",
    "STATUS=stopping: \"client-1\" (2/4)\nEXTEND_TIMEOUT_USEC=19000000\n",
    "STATUS=stopping (3/4)\nEXTEND_TIMEOUT_USEC=18000000\n",
    "STATUS=stopping: \"store\" (3/4)\n",
    "STATUS=stopping (4/4)\nEXTEND_TIMEOUT_USEC=17000000\n",
    "STATUS=stopped: 4 callbacks, all completed, in 8s\n",
];

/// Many lone cleanups, each told as it starts and ends: more datagrams
/// than a manager's queue holds.
const MANY: usize = 24;

/// The child's other teardown: `MANY` cleanups, told to systemd.
fn child_teardown_of_many() {
    static SYSTEMD: Systemd = Systemd::new();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<MANY, _>::with_timer(clock.clone());
    teardown.observe(&SYSTEMD);
    for _ in 0..MANY {
        teardown.push(None, common::sleeper(&clock, 10)).unwrap();
    }
    let report = clock.block_on(teardown.run().within(25_000 * MS));
    assert!(report.is_clean(), "{report}");
}

/// Runs `test` of this binary in a child with `NOTIFY_SOCKET` set to
/// `socket`; whether it passed. A child still running after a minute
/// (stalled on the socket) is killed, and counts as failed.
fn run_child(test: &str, socket: &std::path::Path) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--test-threads=1"])
        .env(CHILD, "1")
        .env("NOTIFY_SOCKET", socket)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Not a timing assertion: a guard against a stalled child.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(10 * MS);
    }
}

#[test]
fn a_run_tells_systemd_it_stops_what_it_waits_on_and_extends_the_timeout() {
    if std::env::var_os(CHILD).is_some() {
        return child_teardown();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let manager = Manager::listen(UnixDatagram::bind(&path).unwrap());

    assert!(run_child(
        "a_run_tells_systemd_it_stops_what_it_waits_on_and_extends_the_timeout",
        &path
    ));

    assert_eq!(manager.datagrams(), TOLD);
}

#[test]
fn a_manager_that_stops_reading_does_not_stall_the_teardown() {
    if std::env::var_os(CHILD).is_some() {
        return child_teardown_of_many();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    // Bound, never read while the child runs: its queue fills (a few
    // datagrams), a send waits once, then the rest go without waiting.
    let socket = UnixDatagram::bind(&path).unwrap();

    assert!(run_child(
        "a_manager_that_stops_reading_does_not_stall_the_teardown",
        &path
    ));

    // What the queue held, in order from the first; the rest was dropped
    // rather than waited for.
    let datagrams = queued(&socket);
    // A start, a status and an end for each cleanup, an end.
    let told = 1 + 2 * MANY + 1;
    assert!(
        !datagrams.is_empty() && datagrams.len() < told,
        "{} of {told}: {datagrams:#?}",
        datagrams.len()
    );
    assert_eq!(datagrams[0], "STOPPING=1\nSTATUS=stopping (0/24)\n");
    assert_eq!(datagrams[1], "STATUS=stopping: #23 (0/24)\n");
}

#[test]
fn a_service_manager_that_is_gone_does_not_stop_the_teardown() {
    if std::env::var_os(CHILD).is_some() {
        return child_teardown();
    }
    let dir = tempfile::tempdir().unwrap();
    // Nothing bound there: every send fails, and the run goes on.
    let path = dir.path().join("no-one-listens");

    assert!(run_child(
        "a_service_manager_that_is_gone_does_not_stop_the_teardown",
        &path
    ));
}
