//! Many runs of stages whose members are woken from other threads, on
//! multi-threaded executors: tokio's multi-thread runtime and a 4-thread
//! `async_executor`. Every run must finish with every callback completed,
//! in order; a lost wake shows as runs that never finish, which the
//! watchdog reports by count instead of hanging the suite.
//!
//! The exhaustive check of the same protocol is tests/loom.rs; this one
//! runs the real atomics on real threads.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use teardown_stack::{Outcome, Teardown};

/// Under Miri, which interprets every atomic access and checks it for data
/// races, a few dozen runs already take seconds: there the point is the
/// race detector on the real protocol, not the count.
const RUNS: usize = if cfg!(miri) { 24 } else { 10_000 };
/// Runs in flight at once: enough to keep every worker busy.
const IN_FLIGHT: usize = if cfg!(miri) { 6 } else { 64 };
/// Members of each run's stage.
const MEMBERS: usize = 3; // "a", "b", "c"
/// Not a timing assertion: how long the suite waits for a run that lost a
/// wake before saying so, far beyond what the runs need.
const WATCHDOG: Duration = Duration::from_secs(300);

/// Opened once, from any thread; wakes whoever waits.
#[derive(Default)]
struct Latch {
    state: Mutex<(bool, Option<Waker>)>,
}

impl Latch {
    fn open(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Ends once its latch is open; panics if polled after it ended (the stack
/// would report that callback as panicked, failing the run's check). On
/// its first poll, once its waker is in place, it sends its latch to the
/// opener thread: the wake then races the rest of the run's poll.
struct Wait {
    latch: Arc<Latch>,
    opener: Option<mpsc::Sender<Arc<Latch>>>,
    ended: bool,
}

impl Future for Wait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        assert!(!self.ended, "polled after it finished");
        let mut state = self.latch.state.lock().unwrap();
        if state.0 {
            drop(state);
            self.ended = true;
            return Poll::Ready(());
        }
        state.1 = Some(cx.waker().clone());
        drop(state);
        if let Some(opener) = self.opener.take() {
            opener.send(Arc::clone(&self.latch)).unwrap();
        }
        Poll::Pending
    }
}

/// A thread that opens the latches it is sent, each from a thread that is
/// not the executor's.
fn opener() -> (mpsc::Sender<Arc<Latch>>, thread::JoinHandle<()>) {
    let (send, receive) = mpsc::channel::<Arc<Latch>>();
    let handle = thread::spawn(move || {
        for (i, latch) in receive.into_iter().enumerate() {
            // Now and then, let the run get ahead of the wake.
            if i % 7 == 0 {
                thread::yield_now();
            }
            latch.open();
        }
    });
    (send, handle)
}

/// One run: a callback alone ("store"), then a stage of `MEMBERS` woken
/// from the opener thread. Returns whether it ran completely and in order.
async fn one_run(openers: mpsc::Sender<Arc<Latch>>) -> bool {
    let mut teardown = Teardown::<{ MEMBERS + 1 }>::new();
    teardown.push("store", async {}).unwrap();
    let mut stage = teardown.stage();
    for name in ["a", "b", "c"] {
        let wait = Wait {
            latch: Arc::default(),
            opener: Some(openers.clone()),
            ended: false,
        };
        stage.push(name, wait).unwrap();
    }
    let report = teardown.run().await;
    let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    report.len() == MEMBERS + 1
        && report.iter().all(|r| r.outcome() == Outcome::Completed)
        && names.last().map(String::as_str) == Some("store")
}

/// Drives `RUNS` runs through `spawn`, `IN_FLIGHT` at a time, and checks
/// that all of them finished cleanly.
fn stress(spawn: impl Fn(Pin<Box<dyn Future<Output = ()> + Send>>)) {
    let (send, opener_thread) = opener();
    let finished = Arc::new(AtomicUsize::new(0));
    let clean = Arc::new(AtomicUsize::new(0));
    let (done, all_done) = mpsc::channel::<()>();
    for _ in 0..IN_FLIGHT {
        let (send, finished, clean, done) =
            (send.clone(), finished.clone(), clean.clone(), done.clone());
        spawn(Box::pin(async move {
            while finished.fetch_add(1, Ordering::Relaxed) < RUNS {
                if one_run(send.clone()).await {
                    clean.fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(done);
        }));
    }
    drop((send, done));
    // Every driver task has ended when the channel closes.
    let ended = all_done.recv_timeout(WATCHDOG);
    assert!(
        matches!(ended, Err(mpsc::RecvTimeoutError::Disconnected)),
        "runs still unfinished after the watchdog: {} of {RUNS} clean so far",
        clean.load(Ordering::Relaxed)
    );
    assert_eq!(
        clean.load(Ordering::Relaxed),
        RUNS,
        "every run completes every callback, in order"
    );
    opener_thread.join().unwrap();
}

#[test]
fn ten_thousand_runs_on_tokio_multi_thread() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    stress(|task| {
        runtime.spawn(task);
    });
}

#[test]
fn ten_thousand_runs_on_a_four_thread_async_executor() {
    let executor = Arc::new(async_executor::Executor::new());
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (executor, stopped) = (executor.clone(), stopped.clone());
            thread::spawn(move || futures_lite::future::block_on(executor.run(stopped.recv())))
        })
        .collect();
    stress(|task| executor.spawn(task).detach());
    drop(stop);
    for worker in workers {
        let _ = worker.join().unwrap();
    }
}
