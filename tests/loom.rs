//! The stage's wake-to-poll protocol under the loom model checker: every
//! interleaving of wakes from other threads with the run's polls, up to a
//! bound of preemptions, is explored.
//!
//! What is checked, through the public API only:
//! - a wake from another thread at any point between a member's poll and
//!   the run's next registration is never lost (a lost wake leaves every
//!   thread blocked, which loom reports as a deadlock);
//! - a member is never polled after it finished, even when its waker is
//!   woken again afterwards;
//! - an interrupt woken from another thread ends a shutdown, and the
//!   callbacks it names as not finished are exactly those that did not
//!   complete.
//!
//! Only under `--cfg teardown_stack_loom`, which builds the stage wakers
//! (`src/run/wake.rs`) on loom's atomics: `bash .ci/loom.sh` runs it. The
//! operating system's part of `Signals` (the signal handler and its pipe,
//! read by the async-io reactor) is outside the model; `tests/signal.rs`
//! covers it with real signals. Here an interrupt is a future woken from
//! another thread, which is all that the shutdown race sees of it.
#![cfg(teardown_stack_loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use loom::future::{AtomicWaker, block_on};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use teardown_stack::{Outcome, Shutdown, Teardown};

/// Explores every interleaving with at most `LOOM_MAX_PREEMPTIONS` (3 if
/// unset) preemptions: bounded, as tokio bounds its own loom runs.
fn check(test: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(test);
}

/// Something another thread opens, once; whoever waits for it is woken.
struct Latch {
    open: AtomicBool,
    waiter: AtomicWaker,
}

impl Latch {
    fn new() -> Arc<Latch> {
        Arc::new(Latch {
            open: AtomicBool::new(false),
            waiter: AtomicWaker::new(),
        })
    }

    fn open(&self) {
        self.open.store(true, Ordering::Release);
        self.waiter.wake();
    }
}

/// A future that ends once the latch is open, and fails the test if it is
/// polled after it ended.
fn wait(latch: &Arc<Latch>) -> Wait {
    Wait {
        latch: Arc::clone(latch),
        ended: false,
    }
}

struct Wait {
    latch: Arc<Latch>,
    ended: bool,
}

impl Future for Wait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        assert!(!self.ended, "polled after it finished");
        // Register first, then look: an `open` between the two is seen by
        // the look, one after both wakes the registered waker.
        self.latch.waiter.register_by_ref(cx.waker());
        if self.latch.open.load(Ordering::Acquire) {
            self.ended = true;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Ends on its first poll, leaving its waker where another thread wakes it.
struct Quick {
    late: Arc<AtomicWaker>,
    ended: bool,
}

impl Future for Quick {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        assert!(!self.ended, "polled after it finished");
        self.late.register_by_ref(cx.waker());
        self.ended = true;
        Poll::Ready(())
    }
}

fn opener(latch: &Arc<Latch>) -> thread::JoinHandle<()> {
    let latch = Arc::clone(latch);
    thread::spawn(move || latch.open())
}

fn outcomes(report: teardown_stack::Report<'_>) -> Vec<(String, bool)> {
    report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome() == Outcome::Completed))
        .collect()
}

#[test]
fn a_wake_from_another_thread_is_never_lost() {
    check(|| {
        let (a, b) = (Latch::new(), Latch::new());
        let mut teardown = Teardown::<4>::new();
        let mut stage = teardown.stage();
        // Boxed members of a stage of two: each has a waker of its own.
        stage.push("a", wait(&a)).unwrap();
        stage.push("b", wait(&b)).unwrap();
        let threads = [opener(&a), opener(&b)];

        let report = block_on(teardown.run());

        let mut ended = outcomes(report);
        ended.sort();
        assert_eq!(ended, [("a".into(), true), ("b".into(), true)]);
        threads.into_iter().for_each(|t| t.join().unwrap());
    });
}

#[test]
fn a_finished_member_woken_again_is_not_polled() {
    check(|| {
        let slow = Latch::new();
        // "quick" ends on its first poll, but hands its waker to a thread
        // that wakes it again later, while "slow" is still running.
        let late = Arc::new(AtomicWaker::new());
        let mut teardown = Teardown::<4>::new();
        let mut stage = teardown.stage();
        stage
            .push(
                "quick",
                Quick {
                    late: Arc::clone(&late),
                    ended: false,
                },
            )
            .unwrap();
        stage.push("slow", wait(&slow)).unwrap();
        let waker = {
            let late = Arc::clone(&late);
            thread::spawn(move || late.wake())
        };
        let threads = [opener(&slow), waker];

        let report = block_on(teardown.run());

        let mut ended = outcomes(report);
        ended.sort();
        assert_eq!(ended, [("quick".into(), true), ("slow".into(), true)]);
        threads.into_iter().for_each(|t| t.join().unwrap());
    });
}

#[test]
fn an_interrupt_from_another_thread_ends_the_shutdown() {
    check(|| {
        let (a, b, stop) = (Latch::new(), Latch::new(), Latch::new());
        let mut teardown = Teardown::<4>::new();
        let mut stage = teardown.stage();
        stage.push("a", wait(&a)).unwrap();
        stage.push("b", wait(&b)).unwrap();
        let threads = [opener(&a), opener(&b), opener(&stop)];

        let shutdown = block_on(teardown.shutdown(wait(&stop)));

        let unfinished: Vec<String> = match shutdown {
            Shutdown::Finished(_) => Vec::new(),
            Shutdown::Interrupted { unfinished, .. } => {
                assert!(
                    !unfinished.is_empty(),
                    "interrupted, yet nothing unfinished"
                );
                unfinished.iter().map(|n| n.to_string()).collect()
            }
        };
        // Every callback is either completed, in the report, or named as
        // not finished: never both, never neither, never twice.
        let report = teardown.report();
        let mut seen: Vec<String> = unfinished.clone();
        for record in report.iter() {
            assert_eq!(record.outcome(), Outcome::Completed);
            assert!(!unfinished.contains(&record.name().to_string()));
            seen.push(record.name().to_string());
        }
        seen.sort();
        assert_eq!(seen, ["a", "b"]);
        threads.into_iter().for_each(|t| t.join().unwrap());
    });
}
