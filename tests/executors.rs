//! One ordering scenario, driven by five different executors (and by hand):
//! `run()` needs no particular runtime.

mod common;

use std::pin::pin;
use std::rc::Rc;

use common::{Journal, poll_noop, wake_from_thread, yield_times};
use teardown_stack::{LocalTeardown, Outcome, Report, Teardown};

/// The scenario's callbacks, in the order they must run (last registered
/// first).
const EXPECTED: [&str; 5] = ["server", "clients", "sandboxes", "llm", "store"];

/// The one that fails, and what it says.
const FAILING: (&str, &str) = ("clients", "reset");

/// How often the scenario's callbacks return `Pending` at the least: `server`
/// 1 + 2, `clients` 1, `sandboxes` 2, `llm` 1, `store` 3.
const MIN_PENDINGS: usize = 10;

/// Registers the scenario's five callbacks on `$teardown` (a `Teardown` or a
/// `LocalTeardown`), by all three registration methods: most are pending
/// several times, two are woken from another thread, one fails, and each
/// records its name in `$journal` as it finishes.
///
/// A macro rather than a function: a function generic over both stack
/// flavours would need `push_fn`'s bound, which names a type the crate does
/// not export.
macro_rules! register {
    ($teardown:expr, $journal:expr, $pinned:expr) => {{
        let j = $journal.clone();
        $teardown
            .push("store", async move {
                yield_times(3).await;
                j.record("store");
            })
            .unwrap();
        let j = $journal.clone();
        $teardown
            .push_fn("llm", move || async move {
                wake_from_thread().await;
                j.record("llm");
            })
            .unwrap();
        $teardown.push_pinned("sandboxes", $pinned).unwrap();
        let j = $journal.clone();
        $teardown
            .push(FAILING.0, async move {
                yield_times(1).await;
                j.record(FAILING.0);
                Err::<(), _>(FAILING.1)
            })
            .unwrap();
        let j = $journal.clone();
        $teardown
            .push("server", async move {
                wake_from_thread().await;
                yield_times(2).await;
                j.record("server");
            })
            .unwrap();
    }};
}

/// The callback registered with `push_pinned`; pin it before the stack.
fn sandboxes(journal: &Journal) -> impl Future<Output = ()> + Send + use<> {
    let j = journal.clone();
    async move {
        yield_times(2).await;
        j.record("sandboxes");
    }
}

/// The callbacks finished in exactly `expected` order, and the report lists
/// the same names in the same order, each completed but the failing one.
fn check(report: Report<'_>, journal: &Journal, expected: &[&str]) {
    assert_eq!(journal.events(), expected, "finishing order");
    let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, expected, "report order");
    for record in report {
        if record.name() == FAILING.0 {
            assert!(
                matches!(record.outcome(), Outcome::Failed(m) if m == FAILING.1),
                "{record}"
            );
        } else {
            assert_eq!(record.outcome(), Outcome::Completed, "{record}");
        }
    }
    assert_eq!(report.failed(), 1);
    assert_eq!(report.completed(), expected.len() - 1);
}

#[test]
#[cfg_attr(miri, ignore = "smol's reactor makes system calls Miri does not run")]
fn smol_block_on() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let mut teardown = Teardown::<8>::new();
    register!(teardown, journal, pinned);
    check(smol::block_on(teardown.run()), &journal, &EXPECTED);
}

#[test]
fn futures_lite_block_on() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let mut teardown = Teardown::<8>::new();
    register!(teardown, journal, pinned);
    check(
        futures_lite::future::block_on(teardown.run()),
        &journal,
        &EXPECTED,
    );
}

#[test]
fn async_executor_on_two_threads() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let mut teardown = Teardown::<8>::new();
    register!(teardown, journal, pinned);

    let executor = async_executor::Executor::new();
    // `Executor::spawn` takes `Send` futures only: the run is one.
    let task = executor.spawn(teardown.run());
    let (stop, stopped) = stop_signal::pair();
    let report = std::thread::scope(|scope| {
        // Two threads work on the executor, so the run may hop between them.
        let helper = scope.spawn(|| futures_lite::future::block_on(executor.run(stopped)));
        let driver = scope.spawn(|| {
            // Fired when this thread is done, even by a panic: the helper
            // must not be left waiting, or the scope would never end.
            let _stop = stop;
            futures_lite::future::block_on(executor.run(task))
        });
        let report = driver.join().unwrap();
        helper.join().unwrap();
        report
    });
    check(report, &journal, &EXPECTED);
}

#[test]
fn async_executor_local_executor() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let shared = Rc::new(());
    let mut teardown = LocalTeardown::<8>::new();
    register!(teardown, journal, pinned);
    let (held, j) = (Rc::clone(&shared), journal.clone());
    teardown
        .push("rc", async move {
            // Holds the `Rc` across an await: this future is not `Send`.
            yield_times(1).await;
            drop(held);
            j.record("rc");
        })
        .unwrap();
    assert_eq!(Rc::strong_count(&shared), 2);

    let executor = async_executor::LocalExecutor::new();
    let task = executor.spawn(teardown.run());
    let report = futures_lite::future::block_on(executor.run(task));

    let mut expected = vec!["rc"];
    expected.extend(EXPECTED);
    check(report, &journal, &expected);
    assert_eq!(
        Rc::strong_count(&shared),
        1,
        "the `Rc` callback was dropped"
    );
}

#[test]
fn hand_polled_with_a_noop_waker() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let mut teardown = Teardown::<8>::new();
    register!(teardown, journal, pinned);

    let (report, polls) = poll_noop(teardown.run(), 1_000_000);

    check(report, &journal, &EXPECTED);
    assert!(polls > 1, "the pending paths were driven: {polls} polls");
    // Each poll of the run polls one callback that is pending, or finishes
    // callbacks until one is: one poll per `Pending`, and the last.
    assert!(
        polls > MIN_PENDINGS,
        "every pending callback was polled again: {polls} polls"
    );
}

/// A one-shot stop signal for the helper thread's `Executor::run`, without
/// pulling in a channel crate. The `Stop` fires when dropped.
mod stop_signal {
    use std::sync::{Arc, Mutex};
    use std::task::{Poll, Waker};

    #[derive(Default)]
    struct State {
        fired: bool,
        waker: Option<Waker>,
    }

    pub struct Stop(Arc<Mutex<State>>);

    pub fn pair() -> (Stop, impl Future<Output = ()> + Send) {
        let state = Arc::new(Mutex::new(State::default()));
        let waiting = Arc::clone(&state);
        let stopped = std::future::poll_fn(move |cx| {
            let mut state = waiting.lock().unwrap_or_else(|e| e.into_inner());
            if state.fired {
                Poll::Ready(())
            } else {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        });
        (Stop(state), stopped)
    }

    impl Drop for Stop {
        fn drop(&mut self) {
            let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
            state.fired = true;
            if let Some(waker) = state.waker.take() {
                waker.wake();
            }
        }
    }
}
