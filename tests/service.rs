//! The service example, run as a real process: it is signalled while under
//! load, and what it leaves behind is checked from the outside.
//!
//! `cargo test` builds the example before running this file; run alone, it
//! needs `cargo build --example service` first (it says so if not).
#![cfg(all(unix, not(miri)))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long any step may take before the test gives up (a hang guard, not
/// a measurement: a healthy run needs a small fraction of it).
const PATIENCE: Duration = Duration::from_secs(60);

fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/service-<hash> -> target/<profile>/examples/service
    let profile = exe.parent().and_then(Path::parent).unwrap();
    let binary = profile.join("examples").join("service");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo test` (which builds the examples) or `cargo build --example service` first",
        binary.display()
    );
    binary
}

/// The example running as a child process, its log collected line by line.
struct Service {
    child: Child,
    log: Arc<(Mutex<Vec<String>>, Condvar)>,
    reader: Option<JoinHandle<()>>,
    stdout: Option<JoinHandle<String>>,
}

impl Service {
    fn start(data_dir: &Path, args: &[&str]) -> Service {
        Service::start_with_env(data_dir, args, &[])
    }

    /// [`start`](Self::start), with `env` added to its environment.
    fn start_with_env(data_dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Service {
        let mut child = Command::new(example_binary())
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env("RUST_LOG", "info,teardown_stack=debug")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let sink = log.clone();
        let reader = thread::spawn(move || {
            for line in stderr.lines() {
                let line = line.unwrap();
                eprintln!("service: {line}");
                sink.0.lock().unwrap().push(line);
                sink.1.notify_all();
            }
        });
        let mut stdout = child.stdout.take().unwrap();
        let stdout = thread::spawn(move || {
            let mut text = String::new();
            stdout.read_to_string(&mut text).unwrap();
            text
        });
        Service {
            child,
            log,
            reader: Some(reader),
            stdout: Some(stdout),
        }
    }

    /// Waits for a log line containing `needle`; returns what follows it.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut lines = self.log.0.lock().unwrap();
        loop {
            if let Some(line) = lines.iter().find(|line| line.contains(needle)) {
                return line.split_once(needle).unwrap().1.trim().to_owned();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no log line with {needle:?}");
            lines = self.log.1.wait_timeout(lines, left).unwrap().0;
        }
    }

    fn addr(&self) -> SocketAddr {
        self.wait_for("listening on http://").parse().unwrap()
    }

    fn sandbox_pids(&self) -> Vec<u32> {
        let pids = self.wait_for("sandbox pids:");
        pids.split(' ').map(|pid| pid.parse().unwrap()).collect()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The log so far.
    fn log(&self) -> Vec<String> {
        self.log.0.lock().unwrap().clone()
    }

    /// Waits for the process to exit (not for its output to end: children
    /// that outlive it keep that open); returns its status.
    fn exited(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the service did not exit");
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the process to exit; returns its status, stdout and log.
    fn wait(mut self) -> (ExitStatus, String, Vec<String>) {
        let status = self.exited();
        self.reader.take().unwrap().join().unwrap();
        let stdout = self.stdout.take().unwrap().join().unwrap();
        let log = std::mem::take(&mut *self.log.0.lock().unwrap());
        (status, stdout, log)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // A failed assertion must not leave the service running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clients that write records until the service stops answering.
struct Load {
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<Vec<String>>>,
    acked: Arc<Mutex<usize>>,
}

impl Load {
    /// Starts `workers` clients; their payloads begin with `tag`.
    fn start(addr: SocketAddr, workers: usize, tag: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(0));
        let workers = (0..workers)
            .map(|worker| {
                let stop = stop.clone();
                let count = acked.clone();
                let tag = tag.to_owned();
                thread::spawn(move || {
                    let mut acked = Vec::new();
                    for seq in 0.. {
                        let payload = format!("{tag}-{worker}-{seq}");
                        if stop.load(Ordering::Relaxed) || !post(addr, &payload) {
                            break;
                        }
                        acked.push(payload);
                        *count.lock().unwrap() += 1;
                    }
                    acked
                })
            })
            .collect();
        Load {
            stop,
            workers,
            acked,
        }
    }

    fn wait_for_acks(&self, count: usize) {
        let deadline = Instant::now() + PATIENCE;
        while *self.acked.lock().unwrap() < count {
            assert!(
                Instant::now() < deadline,
                "fewer than {count} writes acknowledged"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the clients (if the service has not already) and returns every
    /// acknowledged payload.
    fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    }
}

/// One `POST /records`; true if the service acknowledged it.
fn post(addr: SocketAddr, payload: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let request = format!(
        "POST /records HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    let mut response = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && response.starts_with("HTTP/1.1 200")
        && response.contains("\r\n\r\nack ")
}

/// The payloads of the records in the store file, which must hold whole,
/// valid records and nothing else.
fn stored_payloads(data_dir: &Path) -> Vec<String> {
    let bytes = std::fs::read(data_dir.join("store.log")).unwrap();
    let (payloads, end) = scan_store(&bytes);
    let extra = bytes.len() - end;
    assert_eq!(extra, 0, "the store has {extra} bytes past its last record");
    payloads
}

/// The payloads of the records at the start of a store file's `bytes`, and
/// the length of the part they fill. A record is a line: the CRC-32 of its
/// text in eight hex digits, a space, the text (`record ID PAYLOAD ...` for
/// a request's record).
fn scan_store(bytes: &[u8]) -> (Vec<String>, usize) {
    let mut payloads = Vec::new();
    let mut end = 0;
    while let Some(len) = bytes[end..].iter().position(|&byte| byte == b'\n') {
        let Ok(line) = std::str::from_utf8(&bytes[end..end + len]) else {
            break;
        };
        let Some((sum, text)) = line.split_once(' ') else {
            break;
        };
        if sum.len() != 8 || u32::from_str_radix(sum, 16) != Ok(crc32(text.as_bytes())) {
            break;
        }
        if let Some(rest) = text.strip_prefix("record ") {
            payloads.push(rest.split(' ').nth(1).unwrap().to_owned());
        }
        end += len + 1;
    }
    (payloads, end)
}

/// A record's line, as the service writes it.
fn store_line(text: &str) -> String {
    format!("{:08x} {text}\n", crc32(text.as_bytes()))
}

/// CRC-32 (IEEE, as zlib's).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Whether `pid` is a live process (a zombie is not).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesized command name.
        Ok(stat) => !stat.rsplit_once(") ").unwrap().1.starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits for every one of `pids` to be gone (or a zombie), for one second
/// at most: the bound within which no sandbox may outlive the service. Any
/// still running then are killed, so that a failure leaves none behind.
fn assert_gone_within_a_second(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|&pid| running(pid)).collect();
        if alive.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(alive.iter().map(u32::to_string))
                .status();
            panic!("sandboxes {alive:?} outlived the service by more than a second");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The index of the first line containing `needle` (panics if none).
fn position(log: &[String], needle: &str) -> usize {
    log.iter()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no log line with {needle:?}"))
}

fn assert_in_order(log: &[String], needles: &[&str]) {
    let positions: Vec<usize> = needles.iter().map(|n| position(log, n)).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "out of order: {needles:?} at lines {positions:?}"
    );
}

/// The seed's shutdown order, as the stack and the components log it.
const SEED_ORDER: [&str; 12] = [
    "running teardown callback \"background\"",
    "background tasks drained",
    "running teardown callback \"server\"",
    "server stopped",
    "running teardown callback \"sandboxes\"",
    "sandboxes killed and reaped",
    "running teardown callback \"client-3\"",
    "client connection closed",
    "running teardown callback \"store\"",
    "store closed",
    "running teardown callback \"temp-files\"",
    "temp files removed",
];

#[test]
fn sigterm_under_load_releases_everything_in_order() {
    let data_dir = tempfile::tempdir().unwrap();
    let service = Service::start(data_dir.path(), &["--until-signal"]);
    let addr = service.addr();
    let pids = service.sandbox_pids();
    let scratch = PathBuf::from(service.wait_for("scratch directory:"));
    assert!(pids.iter().all(|&pid| running(pid)));
    assert!(scratch.exists());

    let load = Load::start(addr, 4, "load");
    load.wait_for_acks(40);
    service.signal("TERM"); // the clients keep writing through the shutdown
    let (status, stdout, log) = service.wait();
    let acked = load.finish();

    assert_eq!(status.code(), Some(0), "report: {stdout}");
    assert!(stdout.contains("all completed"), "report: {stdout}");
    let stored = stored_payloads(data_dir.path());
    let missing: Vec<_> = acked.iter().filter(|p| !stored.contains(p)).collect();
    assert!(acked.len() >= 40);
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    for pid in pids {
        assert!(!running(pid), "sandbox {pid} is still running");
    }
    assert!(TcpStream::connect(addr).is_err(), "{addr} still accepts");
    assert!(!scratch.exists(), "{} is still there", scratch.display());
    assert_in_order(&log, &SEED_ORDER);
}

#[test]
fn a_failing_cleanup_is_reported_and_the_rest_still_run() {
    let data_dir = tempfile::tempdir().unwrap();
    let service = Service::start(
        data_dir.path(),
        &["--until-signal", "--fail-cleanup", "store"],
    );
    let pids = service.sandbox_pids();
    let scratch = PathBuf::from(service.wait_for("scratch directory:"));
    service.signal("TERM");
    let (status, stdout, log) = service.wait();

    assert_eq!(status.code(), Some(1), "report: {stdout}");
    assert!(
        stdout.contains("\"store\" failed: injected failure"),
        "report: {stdout}"
    );
    assert!(stdout.contains("9 completed, 1 failed"), "report: {stdout}");
    position(&log, "teardown callback \"store\" failed: injected failure");
    // The cleanups on either side of the failure ran.
    assert_in_order(&log, &SEED_ORDER);
    assert!(pids.iter().all(|&pid| !running(pid)));
    assert!(!scratch.exists());
}

/// One `GET /healthz`: its status code, if the service answered.
fn health(addr: SocketAddr) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.get(9..12)?.parse().ok()
}

#[test]
fn a_second_signal_drops_a_hung_cleanup_and_the_critical_store_still_closes_with_every_ack() {
    let data_dir = tempfile::tempdir().unwrap();
    let service = Service::start(
        data_dir.path(),
        &["--until-signal", "--hang-cleanup", "sandboxes"],
    );
    let addr = service.addr();
    let pids = service.sandbox_pids();
    let load = Load::start(addr, 4, "acked");
    load.wait_for_acks(40);
    service.signal("TERM");
    service.wait_for("sandboxes: hanging (injected)");
    let acked = load.finish();
    // The process is alive (hung), and the server, stopped before, no
    // longer accepts connections.
    assert!(TcpStream::connect(addr).is_err(), "{addr} still accepts");
    service.signal("TERM");
    let (status, stdout, log) = service.wait();

    // Finished, though not clean: what the escalation dropped is reported.
    assert_eq!(status.code(), Some(1), "{stdout}");
    let escalated = position(
        &log,
        "teardown escalated: 6 callback(s) dropped, 1 critical still to run",
    );
    let store_closed = position(&log, "store closed:");
    assert!(escalated < store_closed);
    assert!(
        log[store_closed].contains("records appended and fsynced to"),
        "{}",
        log[store_closed]
    );
    for line in [
        "\"sandboxes\" dropped by escalation while it ran",
        "\"client-0\" skipped: dropped by escalation",
        "\"temp-files\" skipped: dropped by escalation",
        "\"store\" completed",
    ] {
        assert!(stdout.contains(line), "no {line:?} in: {stdout}");
    }
    // What ran before the hang ran, then the store.
    assert_in_order(&log, &SEED_ORDER[..5]);
    assert!(!log.iter().any(|l| l.contains("client connection closed")));
    // Every acknowledged write is in the store, fsynced.
    let stored = stored_payloads(data_dir.path());
    assert!(acked.len() >= 40);
    for payload in &acked {
        assert!(
            stored.contains(payload),
            "acknowledged {payload} is not stored"
        );
    }
    // Dropping the hung cleanup still killed the sandboxes.
    assert!(pids.iter().all(|&pid| !running(pid)));
}

#[test]
fn a_third_signal_ends_a_hung_critical_cleanup_naming_what_did_not_finish() {
    let data_dir = tempfile::tempdir().unwrap();
    let service = Service::start(
        data_dir.path(),
        &["--until-signal", "--hang-cleanup", "store"],
    );
    let pids = service.sandbox_pids();
    service.signal("INT"); // SIGINT starts the teardown as SIGTERM does
    service.wait_for("store: hanging (injected)");
    service.signal("TERM");
    service.wait_for("teardown escalated: 1 callback(s) dropped, 1 critical still to run");
    service.signal("TERM");
    let (status, stdout, log) = service.wait();

    assert_eq!(status.code(), Some(3));
    // The timeline so far: what finished, each with its start, what the
    // escalation dropped, and what was still running.
    assert!(
        stdout.contains("; interrupted, 1 not finished: store"),
        "timeline: {stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("  +") && l.contains("\"server\" completed")),
        "timeline: {stdout}"
    );
    assert!(
        stdout.contains("\"temp-files\" skipped: dropped by escalation"),
        "timeline: {stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("  +") && l.contains("\"store\" unfinished, running for")),
        "timeline: {stdout}"
    );
    let unfinished = position(&log, "cleanups not finished:");
    assert!(
        log[unfinished].ends_with("cleanups not finished: store"),
        "{}",
        log[unfinished]
    );
    assert_in_order(&log, &SEED_ORDER[..8]);
    assert!(!log.iter().any(|line| line.contains("store closed")));
    assert!(pids.iter().all(|&pid| !running(pid)));
}

#[test]
fn healthz_turns_503_at_the_first_signal_and_the_server_serves_through_the_drain_delay() {
    let data_dir = tempfile::tempdir().unwrap();
    let service = Service::start(
        data_dir.path(),
        &["--until-signal", "--drain-delay-ms", "1500"],
    );
    let addr = service.addr();
    assert_eq!(health(addr), Some(200));
    service.signal("TERM");
    service.wait_for("draining: /healthz answers 503");
    // During the drain delay the server still serves: health says 503,
    // and writes are still acknowledged.
    assert_eq!(health(addr), Some(503));
    assert!(
        post(addr, "during-drain"),
        "a write during the drain was refused"
    );
    assert_eq!(health(addr), Some(503));
    let (status, stdout, log) = service.wait();
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert_in_order(
        &log,
        &[
            "running teardown callback \"drain\"",
            "draining: /healthz answers 503",
            "running teardown callback \"background\"",
            "running teardown callback \"server\"",
            "server stopped",
            "store closed",
        ],
    );
    assert!(stored_payloads(data_dir.path()).contains(&"during-drain".to_string()));
}

#[test]
fn a_build_failure_releases_what_was_built_in_reverse() {
    let data_dir = tempfile::tempdir().unwrap();
    // Step 4 is the sandbox pool: scratch files, store and clients are up.
    let service = Service::start(data_dir.path(), &["--until-signal", "--fail-build-at", "4"]);
    let (status, stdout, log) = service.wait();

    assert_eq!(status.code(), Some(2), "report: {stdout}");
    position(
        &log,
        "build failed: injected failure building step 4 (sandboxes)",
    );
    assert!(
        stdout.contains("6 callbacks, all completed"),
        "report: {stdout}"
    );
    assert_in_order(&log, &SEED_ORDER[6..]);
    for never_built in [
        "sandbox pids",
        "listening on http",
        "\"sandboxes\"",
        "\"server\"",
    ] {
        assert!(
            !log.iter().any(|line| line.contains(never_built)),
            "{never_built}"
        );
    }
    let scratch = PathBuf::from(
        log[position(&log, "scratch directory:")]
            .split_once("scratch directory:")
            .unwrap()
            .1
            .trim(),
    );
    assert!(!scratch.exists());
}

#[test]
fn a_hung_cleanup_is_cut_off_by_its_timeout_and_the_rest_still_run() {
    let data_dir = tempfile::tempdir().unwrap();
    let args = [
        "--until-signal",
        "--hang-cleanup",
        "sandboxes",
        "--cleanup-timeout-ms",
        "300",
    ];
    let service = Service::start(data_dir.path(), &args);
    let pids = service.sandbox_pids();
    service.signal("TERM");
    let (status, stdout, log) = service.wait();

    assert_eq!(status.code(), Some(1), "report: {stdout}");
    assert!(
        stdout.contains("\"sandboxes\" timed out after 300ms"),
        "report: {stdout}"
    );
    assert!(
        stdout.contains("9 completed, 1 timed out"),
        "report: {stdout}"
    );
    let cut_off = position(&log, "\"sandboxes\" timed out");
    assert!(cut_off > position(&log, "sandboxes: hanging (injected)"));
    assert!(cut_off < position(&log, "running teardown callback \"client-3\""));
    assert_in_order(&log, &SEED_ORDER[6..]);
    // The timed-out shutdown was dropped, and the sandboxes with it.
    assert!(pids.iter().all(|&pid| !running(pid)));
}

#[test]
fn a_client_hanging_up_mid_request_does_not_stall_the_teardown() {
    let data_dir = tempfile::tempdir().unwrap();
    // The upstream takes 2 s, so a client that hangs up 300 ms after sending
    // its request leaves while the service is waiting on the upstream for it.
    let args = [
        "--until-signal",
        "--cleanup-timeout-ms",
        "5000",
        "--upstream-latency-ms",
        "2000",
    ];
    let service = Service::start(data_dir.path(), &args);
    let addr = service.addr();
    // More clients than pooled connections (4): every connection is taken
    // by a request that is then cut off.
    let streams: Vec<TcpStream> = (0..8)
        .map(|seq| {
            let mut stream = TcpStream::connect(addr).unwrap();
            let payload = format!("gone-{seq}");
            let request = format!(
                "POST /records HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{payload}",
                payload.len()
            );
            stream.write_all(request.as_bytes()).unwrap();
            stream
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    drop(streams);
    // A request that completes shows the pool still serves.
    assert!(post(addr, "after"));
    service.signal("TERM");
    let (status, stdout, _) = service.wait();

    assert_eq!(status.code(), Some(0), "report: {stdout}");
    assert!(stdout.contains("all completed"), "report: {stdout}");
    assert!(stored_payloads(data_dir.path()).contains(&"after".to_owned()));
}

/// Whether `ab` (Apache's load generator, Debian's `apache2-utils`) runs.
fn ab_available() -> bool {
    Command::new("ab")
        .arg("-V")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// The number after `label` in `ab`'s summary, if the line is there.
fn ab_figure(summary: &str, label: &str) -> Option<usize> {
    let line = summary.lines().find(|line| line.starts_with(label))?;
    line[label.len()..].split_whitespace().next()?.parse().ok()
}

#[test]
fn a_real_load_generator_cut_off_mid_request_leaves_a_clean_exit_and_every_ack_stored() {
    if !ab_available() {
        // CI installs it (.ci/run); elsewhere say so rather than fail.
        assert!(
            std::env::var_os("CI").is_none(),
            "ab is missing: apt-get install apache2-utils"
        );
        eprintln!("skipped: ab is missing (apt-get install apache2-utils)");
        return;
    }
    for concurrency in [4, 16, 64] {
        let data_dir = tempfile::tempdir().unwrap();
        let service = Service::start(data_dir.path(), &["--until-signal"]);
        let addr = service.addr();
        let payload = data_dir.path().join("payload");
        std::fs::write(&payload, "ab-load").unwrap();
        // Keep-alive connections for 2 s; then ab stops and hangs up on the
        // requests in flight, most of them waiting on the upstream.
        let concurrency_arg = concurrency.to_string();
        let url = format!("http://{addr}/records");
        let args = [
            "-k",
            "-l",
            "-r",
            "-c",
            &concurrency_arg,
            "-t",
            "2",
            "-n",
            "1000000",
            "-T",
            "text/plain",
            "-p",
        ];
        let output = Command::new("ab")
            .args(args)
            .arg(&payload)
            .arg(&url)
            .output()
            .unwrap();
        let summary = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "ab failed: {summary}");
        let complete = ab_figure(&summary, "Complete requests:").unwrap();
        assert!(complete > 0, "{summary}");
        assert_eq!(
            ab_figure(&summary, "Failed requests:"),
            Some(0),
            "{summary}"
        );
        assert_eq!(ab_figure(&summary, "Non-2xx responses:"), None, "{summary}");

        service.signal("TERM");
        let (status, stdout, _) = service.wait();
        assert_eq!(status.code(), Some(0), "-c {concurrency}: {stdout}");
        assert!(
            stdout.contains("all completed"),
            "-c {concurrency}: {stdout}"
        );
        // Every acknowledged write is stored; at most the requests in flight
        // when ab stopped were stored without ab reading their answer.
        let stored = stored_payloads(data_dir.path())
            .iter()
            .filter(|payload| *payload == "ab-load")
            .count();
        assert!(
            (complete..=complete + concurrency).contains(&stored),
            "-c {concurrency}: ab completed {complete}, the store has {stored}"
        );
    }
}

#[test]
fn sigkill_under_load_takes_the_sandboxes_with_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut service = Service::start(data_dir.path(), &["--until-signal"]);
    let addr = service.addr();
    let pids = service.sandbox_pids();
    assert!(pids.iter().all(|&pid| running(pid)));
    let load = Load::start(addr, 4, "load");
    load.wait_for_acks(20);
    service.signal("KILL"); // nothing of the service runs after this
    let status = service.exited();
    assert_eq!(status.signal(), Some(9), "{status}");
    assert_gone_within_a_second(&pids);
    load.finish();
}

#[test]
fn sigkill_during_the_teardown_takes_the_sandboxes_with_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let args = ["--until-signal", "--hang-cleanup", "sandboxes"];
    let mut service = Service::start(data_dir.path(), &args);
    let pids = service.sandbox_pids();
    service.signal("TERM");
    // The teardown is under way, stuck before the sandboxes are killed.
    service.wait_for("sandboxes: hanging (injected)");
    assert!(pids.iter().all(|&pid| running(pid)));
    service.signal("KILL");
    let status = service.exited();
    assert_eq!(status.signal(), Some(9), "{status}");
    assert_gone_within_a_second(&pids);
}

/// A small deterministic generator (splitmix64), seeded per round.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound
    }
}

/// What a SIGKILLed run left on the data directory, for the next start
/// to remove.
struct Left {
    pid: u32,
    scratch: PathBuf,
    /// Bytes past the store's last whole record.
    torn: usize,
    /// The store up to there: every record in it stays.
    records: Vec<u8>,
}

#[test]
fn each_start_recovers_from_a_sigkill_at_a_random_moment() {
    const ROUNDS: u64 = 20;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path();
    let store = dir.join("store.log");
    let mut acked = Vec::new();
    let mut left: Option<Left> = None;
    for round in 0..ROUNDS {
        let mut rng = Rng(round);
        // A killed run held the lock: it never blocks this start.
        let mut service = Service::start(dir, &["--until-signal"]);
        let addr = service.addr();
        // Recovery comes before the build, so it is all in the log by now.
        let log = service.log();
        match left.take() {
            None => {
                position(&log, "nothing left behind to recover");
            }
            Some(left) => {
                let lock = dir.join("service.lock");
                let pid = left.pid;
                position(
                    &log,
                    &format!(
                        "recovered: cleared stale lock file {} left by pid {pid}",
                        lock.display()
                    ),
                );
                let scratch = left.scratch.display();
                position(
                    &log,
                    &format!("recovered: removed stale scratch directory {scratch}"),
                );
                assert!(
                    !left.scratch.exists(),
                    "round {round}: {scratch} is still there"
                );
                let torn = format!(
                    "recovered: dropped torn tail of {} bytes from the store",
                    left.torn
                );
                if left.torn > 0 {
                    position(&log, &torn);
                } else {
                    assert!(
                        !log.iter().any(|line| line.contains("torn tail")),
                        "round {round}"
                    );
                }
                // The store is appended to past its records, none of them lost.
                let now = std::fs::read(&store).unwrap();
                assert!(
                    now.starts_with(&left.records),
                    "round {round}: records changed"
                );
            }
        }
        let pids = service.sandbox_pids();
        let scratch = PathBuf::from(service.wait_for("scratch directory:"));
        let load = Load::start(addr, 4, &format!("round{round}"));
        thread::sleep(Duration::from_millis(rng.below(400)));

        if round == ROUNDS - 1 {
            // The last run ends cleanly: nothing is left, every write stored.
            service.signal("TERM");
            let (status, stdout, _) = service.wait();
            acked.extend(load.finish());
            assert_eq!(status.code(), Some(0), "report: {stdout}");
            assert!(!scratch.exists());
            assert!(pids.iter().all(|&pid| !running(pid)));
            let stored = stored_payloads(dir);
            let missing: Vec<_> = acked.iter().filter(|p| !stored.contains(p)).collect();
            assert!(
                missing.is_empty(),
                "acknowledged but not stored: {missing:?}"
            );
            assert!(!stored.iter().any(|p| p.starts_with("torn")));
            break;
        }

        let pid = service.child.id();
        service.signal("KILL");
        let status = service.exited();
        acked.extend(load.finish());
        assert_eq!(status.signal(), Some(9), "round {round}: {status}");
        assert_gone_within_a_second(&pids);

        // What the killed run left: its scratch directory, its pid in the
        // lock file, and a store holding every write it acknowledged.
        assert!(scratch.exists(), "round {round}");
        let lock = std::fs::read_to_string(dir.join("service.lock")).unwrap();
        assert_eq!(lock.trim(), pid.to_string(), "round {round}");
        let mut bytes = std::fs::read(&store).unwrap();
        let (stored, end) = scan_store(&bytes);
        let missing: Vec<_> = acked.iter().filter(|p| !stored.contains(p)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged but not stored: {missing:?}"
        );
        // In half the rounds, the last record is also cut short, as a kill
        // in the middle of its write would leave it.
        if rng.below(2) == 0 {
            let line = store_line(&format!("record 999999 torn{round} completion:9"));
            let cut = 1 + rng.below(line.len() as u64 - 1) as usize;
            bytes.extend_from_slice(&line.as_bytes()[..cut]);
            std::fs::write(&store, &bytes).unwrap();
        }
        left = Some(Left {
            pid,
            scratch,
            torn: bytes.len() - end,
            records: bytes[..end].to_vec(),
        });
    }
}

#[test]
fn a_torn_tail_is_dropped_at_start_and_never_read_as_a_record() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = data_dir.path().join("store.log");
    let mut bytes = store_line("record 1 before completion:6").into_bytes();
    // A whole line that fails its checksum, then the start of one.
    let mut damaged = store_line("record 2 damaged completion:7").into_bytes();
    damaged[0] ^= 1;
    let torn = store_line("record 3 torn completion:4");
    damaged.extend_from_slice(&torn.as_bytes()[..torn.len() - 1]);
    bytes.extend_from_slice(&damaged);
    std::fs::write(&store, &bytes).unwrap();

    let service = Service::start(data_dir.path(), &["--until-signal"]);
    let addr = service.addr();
    let line = format!(
        "recovered: dropped torn tail of {} bytes from the store",
        damaged.len()
    );
    position(&service.log(), &line);
    assert!(post(addr, "after"));
    service.signal("TERM");
    let (status, stdout, _) = service.wait();

    assert_eq!(status.code(), Some(0), "report: {stdout}");
    let stored = stored_payloads(data_dir.path());
    assert_eq!(stored, ["before", "after"]);
}

#[test]
fn a_store_damaged_before_its_last_record_is_left_alone_and_the_start_refused() {
    let data_dir = tempfile::tempdir().unwrap();
    let store = data_dir.path().join("store.log");
    let mut damaged = store_line("record 1 damaged completion:7").into_bytes();
    damaged[0] ^= 1;
    let bytes = [
        damaged,
        store_line("record 2 after completion:5").into_bytes(),
    ]
    .concat();
    std::fs::write(&store, &bytes).unwrap();

    let service = Service::start(data_dir.path(), &["--until-signal"]);
    let (status, _, log) = service.wait();

    assert_eq!(status.code(), Some(2));
    let refused = position(&log, "cannot start:");
    assert!(log[refused].contains("not a torn tail"), "{}", log[refused]);
    assert_eq!(
        std::fs::read(&store).unwrap(),
        bytes,
        "the store was changed"
    );
}

#[test]
fn a_second_instance_on_the_same_data_directory_is_refused() {
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path();
    let first = Service::start(dir, &["--until-signal"]);
    let addr = first.addr();
    let pids = first.sandbox_pids();
    let scratch = PathBuf::from(first.wait_for("scratch directory:"));

    let second = Service::start(dir, &["--until-signal"]);
    let (status, _, log) = second.wait();
    assert_eq!(status.code(), Some(75));
    let refused = &log[position(&log, "cannot start:")];
    let message = format!(
        "cannot start: the data directory {} is in use by another instance (pid {})",
        dir.display(),
        first.child.id()
    );
    assert!(refused.ends_with(&message), "{refused}");
    // It touched nothing: the first still has its scratch directory and
    // sandboxes, and serves.
    for not_done in ["recovered:", "nothing left behind", "scratch directory:"] {
        assert!(
            !log.iter().any(|line| line.contains(not_done)),
            "{not_done}"
        );
    }
    assert!(scratch.exists());
    assert!(pids.iter().all(|&pid| running(pid)));
    assert!(post(addr, "first"));
    first.signal("TERM");
    let (status, stdout, _) = first.wait();
    assert_eq!(status.code(), Some(0), "report: {stdout}");
    assert!(stdout.contains("all completed"), "report: {stdout}");
    assert!(stored_payloads(dir).contains(&"first".to_owned()));

    // Its clean exit left nothing for the next start to recover.
    let next = Service::start(dir, &["--until-signal"]);
    next.addr();
    position(&next.log(), "nothing left behind to recover");
    next.signal("TERM");
    assert_eq!(next.wait().0.code(), Some(0));
}

#[cfg(feature = "systemd")]
#[test]
fn systemd_is_told_ready_then_stopping_what_runs_and_the_grace_left() {
    use std::os::unix::net::UnixDatagram;

    let data_dir = tempfile::tempdir().unwrap();
    let manager = tempfile::tempdir().unwrap();
    let notify = manager.path().join("notify");
    // Bound as systemd binds NOTIFY_SOCKET for a `Type=notify` unit, and
    // read as it reads: each datagram as it comes, until the last.
    let socket = UnixDatagram::bind(&notify).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    let manager = thread::spawn(move || {
        let mut datagrams = Vec::new();
        let mut buffer = [0_u8; 4096];
        while let Ok(len) = socket.recv(&mut buffer) {
            let datagram = String::from_utf8(buffer[..len].to_vec()).unwrap();
            let last = datagram.starts_with("STATUS=stopped: ");
            datagrams.push(datagram);
            if last {
                break;
            }
        }
        datagrams
    });
    let mut service =
        Service::start_with_env(data_dir.path(), &[], &[("NOTIFY_SOCKET", notify.as_path())]);
    let status = service.exited();
    assert_eq!(status.code(), Some(0), "{:?}", service.log());
    let datagrams = manager.join().unwrap();
    assert_eq!(datagrams.first().map(String::as_str), Some("READY=1\n"));
    assert_eq!(
        datagrams.get(1).map(String::as_str),
        Some("STOPPING=1\nSTATUS=stopping (0/10)\n"),
        "{datagrams:#?}"
    );
    for name in [
        "drain",
        "background",
        "server",
        "sandboxes",
        "client-0",
        "store",
    ] {
        assert!(
            datagrams
                .iter()
                .any(|d| d.starts_with("STATUS=stopping: ") && d.contains(&format!("\"{name}\""))),
            "no status naming {name}: {datagrams:#?}"
        );
    }
    // Each end extends the stop timeout to what is left of the 25 s grace.
    let extensions: Vec<u64> = datagrams
        .iter()
        .filter_map(|d| {
            d.lines()
                .find_map(|l| l.strip_prefix("EXTEND_TIMEOUT_USEC="))
        })
        .map(|usec| usec.parse().unwrap())
        .collect();
    assert!(extensions.len() >= 6, "{datagrams:#?}");
    assert!(
        extensions.iter().all(|&usec| usec <= 25_000_000),
        "{extensions:?}"
    );
    assert!(
        extensions.windows(2).all(|w| w[1] <= w[0]),
        "{extensions:?}"
    );
    let last = datagrams.last().unwrap();
    assert!(
        last.starts_with("STATUS=stopped: ") && last.contains("all completed"),
        "{last}"
    );
}

/// The trace file's events: (name, tid, outcome).
#[cfg(feature = "trace-file")]
fn trace_events(path: &Path) -> Vec<(String, u64, String)> {
    let trace: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["tid"].as_u64().unwrap(),
                e["args"]["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[cfg(feature = "trace-file")]
#[test]
fn the_teardown_is_written_as_a_trace_with_a_thread_per_client_closed_at_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let trace = data_dir.path().join("teardown.json");
    let mut service = Service::start(data_dir.path(), &["--trace-file", trace.to_str().unwrap()]);
    let status = service.exited();
    assert_eq!(status.code(), Some(0), "{:?}", service.log());

    let events = trace_events(&trace);
    // The run, then each cleanup in run order (the clients in the order
    // they finished).
    let names: Vec<&str> = events.iter().map(|(name, ..)| name.as_str()).collect();
    let lone: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !name.starts_with("client-"))
        .collect();
    assert_eq!(
        lone,
        [
            "teardown",
            "drain",
            "background",
            "server",
            "sandboxes",
            "store",
            "temp-files"
        ]
    );
    let mut clients: Vec<&str> = names[5..9].to_vec();
    clients.sort_unstable();
    assert_eq!(clients, ["client-0", "client-1", "client-2", "client-3"]);
    assert!(
        events.iter().all(|(_, _, outcome)| outcome == "completed"),
        "{events:?}"
    );
    // The four clients close as one stage: overlapping, so on four threads.
    let mut client_threads: Vec<u64> = events
        .iter()
        .filter(|(name, ..)| name.starts_with("client-"))
        .map(|(_, tid, _)| *tid)
        .collect();
    client_threads.sort_unstable();
    client_threads.dedup();
    assert_eq!(client_threads.len(), 4, "{events:?}");
}

#[cfg(feature = "trace-file")]
#[test]
fn a_third_signal_still_writes_the_trace_with_what_escalation_dropped_and_did_not_finish() {
    let data_dir = tempfile::tempdir().unwrap();
    let trace = data_dir.path().join("teardown.json");
    let service = Service::start(
        data_dir.path(),
        &[
            "--until-signal",
            "--hang-cleanup",
            "store",
            "--trace-file",
            trace.to_str().unwrap(),
        ],
    );
    service.addr();
    service.signal("TERM");
    service.wait_for("store: hanging (injected)");
    service.signal("TERM");
    service.wait_for("teardown escalated:");
    service.signal("TERM");
    let (status, _, log) = service.wait();
    assert_eq!(status.code(), Some(3), "{log:?}");

    let events = trace_events(&trace);
    assert_eq!(events[0], ("teardown".into(), 0, "interrupted".into()));
    let outcome = |name: &str| {
        events
            .iter()
            .find(|(n, ..)| n == name)
            .map(|(_, _, outcome)| outcome.clone())
    };
    assert_eq!(outcome("server").as_deref(), Some("completed"));
    assert_eq!(outcome("sandboxes").as_deref(), Some("completed"));
    assert_eq!(
        outcome("temp-files").as_deref(),
        Some("dropped by escalation")
    );
    assert_eq!(outcome("store").as_deref(), Some("unfinished"));
}
