//! One ordering scenario, driven by five different executors (and by hand):
//! `run()` needs no particular runtime.

mod common;

use std::pin::pin;
use std::rc::Rc;

use common::{Journal, poll_noop, wake_from_thread, yield_times};
use teardown_stack::{LocalTeardown, Outcome, Report, Teardown};

const EXPECTED: [&str; 5] = ["server", "clients", "sandboxes", "llm", "store"];

/// Registers five callbacks, by all three registration methods; most of them
/// are pending several times, one is woken from another thread, one fails.
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
            .push("clients", async move {
                yield_times(1).await;
                j.record("clients");
                Err::<(), _>("reset")
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

fn sandboxes(journal: &Journal) -> impl Future<Output = ()> + Send + use<> {
    let j = journal.clone();
    async move {
        yield_times(2).await;
        j.record("sandboxes");
    }
}

fn check<const N: usize>(report: &Report<N>, journal: &Journal) {
    assert_eq!(journal.events(), EXPECTED);
    let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, EXPECTED);
    for record in report {
        let failed = matches!(record.outcome(), Outcome::Failed(m) if m == "reset");
        assert_eq!(failed, record.name() == "clients", "{record}");
        assert!(failed || record.outcome().is_completed(), "{record}");
    }
}

#[test]
#[cfg_attr(miri, ignore = "smol's reactor makes system calls Miri does not run")]
fn smol_block_on() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let mut teardown = Teardown::<8>::new();
    register!(teardown, journal, pinned);
    check(smol::block_on(teardown.run()), &journal);
}

#[test]
fn futures_lite_block_on() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let mut teardown = Teardown::<8>::new();
    register!(teardown, journal, pinned);
    check(futures_lite::future::block_on(teardown.run()), &journal);
}

#[test]
fn async_executor_on_two_threads() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let mut teardown = Teardown::<8>::new();
    register!(teardown, journal, pinned);

    let executor = async_executor::Executor::new();
    let (stop, stopped) = async_channel_free::pair();
    let report = std::thread::scope(|scope| {
        // A second thread works on the executor too, so the run may hop.
        scope.spawn(|| futures_lite::future::block_on(executor.run(stopped)));
        let task = executor.spawn(teardown.run());
        let report = futures_lite::future::block_on(executor.run(task));
        stop.fire();
        report
    });
    check(report, &journal);
}

#[test]
fn async_executor_local_executor() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let local = Rc::new(());
    let mut teardown = LocalTeardown::<8>::new();
    register!(teardown, journal, pinned);
    let held = Rc::clone(&local);
    teardown.push("rc", async move { drop(held) }).unwrap();

    let executor = async_executor::LocalExecutor::new();
    let task = executor.spawn(teardown.run());
    let report = futures_lite::future::block_on(executor.run(task));

    assert_eq!(report.records()[0].name(), "rc");
    assert_eq!(Rc::strong_count(&local), 1);
    let rest: Vec<_> = report
        .iter()
        .skip(1)
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(rest, EXPECTED);
    assert_eq!(journal.events(), EXPECTED);
}

#[test]
fn hand_polled_with_a_noop_waker() {
    let journal = Journal::new();
    let pinned = pin!(sandboxes(&journal));
    let mut teardown = Teardown::<8>::new();
    register!(teardown, journal, pinned);
    let (report, polls) = poll_noop(teardown.run(), 1_000_000);
    check(report, &journal);
    assert!(polls > 8, "the pending paths were driven: {polls} polls");
}

/// A one-shot stop signal for the helper thread's `Executor::run`, without
/// pulling in a channel crate.
mod async_channel_free {
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
            let mut state = waiting.lock().unwrap();
            if state.fired {
                Poll::Ready(())
            } else {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        });
        (Stop(state), stopped)
    }

    impl Stop {
        pub fn fire(self) {
            let mut state = self.0.lock().unwrap();
            state.fired = true;
            if let Some(waker) = state.waker.take() {
                waker.wake();
            }
        }
    }
}
