//! Helpers shared by the integration tests. Each test file uses a part.
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Waker};

/// An ordered log of events, shareable across threads.
#[derive(Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }

    pub fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A future that is `Pending` `times` times, waking itself each time.
pub struct Yield {
    remaining: usize,
}

pub fn yield_times(times: usize) -> Yield {
    Yield { remaining: times }
}

impl Future for Yield {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.remaining == 0 {
            return Poll::Ready(());
        }
        self.remaining -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A future that is `Pending` once and is woken from another thread.
pub struct WakeFromThread {
    woken: Option<Arc<Mutex<bool>>>,
}

pub fn wake_from_thread() -> WakeFromThread {
    WakeFromThread { woken: None }
}

impl Future for WakeFromThread {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &self.woken {
            Some(flag) if *flag.lock().unwrap() => Poll::Ready(()),
            Some(_) => Poll::Pending,
            None => {
                let flag = Arc::new(Mutex::new(false));
                self.woken = Some(Arc::clone(&flag));
                let waker = cx.waker().clone();
                std::thread::spawn(move || {
                    *flag.lock().unwrap() = true;
                    waker.wake();
                });
                Poll::Pending
            }
        }
    }
}

/// Polls `future` with a no-op waker until it is ready; returns its output
/// and how many polls it took. Panics after `limit` polls.
pub fn poll_noop<F: Future>(future: F, limit: usize) -> (F::Output, usize) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for polls in 1..=limit {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return (output, polls);
        }
        std::thread::yield_now();
    }
    panic!("future not ready after {limit} polls");
}

/// Polls `future` with a no-op waker exactly once.
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Captures `log` records on the thread that emits them, so parallel tests
/// do not see each other's lines.
pub mod logs {
    use super::*;

    thread_local! {
        static CAPTURED: RefCell<Vec<(log::Level, String)>> = const { RefCell::new(Vec::new()) };
    }

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }

        fn log(&self, record: &log::Record<'_>) {
            if record.target() == "teardown_stack" {
                let line = record.args().to_string();
                CAPTURED.with(|c| c.borrow_mut().push((record.level(), line)));
            }
        }

        fn flush(&self) {}
    }

    static CAPTURE: Capture = Capture;
    static INIT: Once = Once::new();

    /// Installs the capturing logger (once per test binary) and clears this
    /// thread's captured lines.
    pub fn start() {
        INIT.call_once(|| {
            log::set_logger(&CAPTURE).expect("no other logger in this test binary");
            log::set_max_level(log::LevelFilter::Trace);
        });
        CAPTURED.with(|c| c.borrow_mut().clear());
    }

    /// The lines captured on this thread since `start`.
    pub fn taken() -> Vec<(log::Level, String)> {
        CAPTURED.with(|c| c.borrow_mut().drain(..).collect())
    }

    /// Captured lines at `level`.
    pub fn at(level: log::Level) -> Vec<String> {
        taken()
            .into_iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, line)| line)
            .collect()
    }

    /// Whether the crate logs at all in this build: with its `log` feature.
    /// Without it (and on a hosted target, where `defmt` routes nothing) its
    /// diagnostics are compiled out.
    pub const ON: bool = cfg!(feature = "log");

    /// Asserts the lines captured at `level` since `start`: `expected` with
    /// the `log` feature, none without it.
    pub fn assert_at(level: log::Level, expected: &[&str]) {
        let lines = at(level);
        if ON {
            assert_eq!(lines, expected);
        } else {
            assert!(
                lines.is_empty(),
                "logged without the log feature: {lines:?}"
            );
        }
    }
}

/// A guard that records `dropped NAME` in a journal when dropped.
pub struct DropGuard(pub &'static str, pub Journal);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.1.record(format!("dropped {}", self.0));
    }
}

/// Counts drops of the tokens it hands out, from any thread.
#[derive(Clone, Default)]
pub struct Drops(Arc<std::sync::atomic::AtomicUsize>);

impl Drops {
    pub fn new() -> Self {
        Self::default()
    }

    /// A token that adds one to the count when dropped.
    pub fn token(&self) -> DropToken {
        DropToken(Arc::clone(&self.0))
    }

    pub fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Adds one to its [`Drops`] when dropped.
pub struct DropToken(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Sleeps `ms` on `clock`: a cleanup that takes that long in virtual time.
#[cfg(feature = "test-util")]
pub fn sleeper(
    clock: &teardown_stack::VirtualClock,
    ms: u64,
) -> impl Future<Output = ()> + Send + use<> {
    use teardown_stack::Timer;
    let clock = clock.clone();
    async move { clock.sleep(std::time::Duration::from_millis(ms)).await }
}
