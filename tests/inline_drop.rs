//! An inline future is dropped exactly once, where it lies: when it
//! completes, fails, panics or times out, when the stack is dropped with it
//! pending, and when a run is dropped (or leaked) while it is pending and a
//! later run resumes it. A future that checks its own address after each
//! wake would see a move.

mod common;

use core::pin::pin;
use core::task::Poll;

use common::{DropToken, Drops, Journal, poll_noop, poll_once, yield_times};
use teardown_stack::{InlineTeardown, Outcome};

/// Pending `pendings` times, holding a shared and a mutable borrow of its
/// own state across each await (a self-referential future); fails if that
/// state moved between polls.
async fn pinned_in_place(token: DropToken, pendings: usize) -> Result<(), &'static str> {
    let anchor = [7_u8; 8];
    let held = &anchor;
    let at = core::ptr::from_ref(held).addr();
    let mut polls = 0_usize;
    let counting = &mut polls;
    for _ in 0..pendings {
        yield_times(1).await;
        *counting += 1;
        if core::ptr::from_ref(&anchor).addr() != at || held[0] != 7 {
            return Err("the future moved after it was polled");
        }
    }
    if polls != pendings {
        return Err("lost a count");
    }
    drop(token);
    Ok(())
}

#[test]
fn dropped_once_after_completing() {
    let drops = Drops::new();
    {
        let mut teardown = pin!(InlineTeardown::<2, 128>::new());
        teardown
            .as_mut()
            .push_inline("done", pinned_in_place(drops.token(), 3))
            .unwrap();
        let (report, _) = poll_noop(teardown.as_mut().run(), 100);
        assert!(report.is_clean(), "{report}");
        assert_eq!(drops.count(), 1);
    } // The stack is dropped here, and does not drop it again.
    assert_eq!(drops.count(), 1);
}

#[test]
fn dropped_once_after_failing() {
    let drops = Drops::new();
    let token = drops.token();
    let mut teardown = pin!(InlineTeardown::<2, 64>::new());
    teardown
        .as_mut()
        .push_inline("fails", async move {
            let _held = token;
            yield_times(1).await;
            Err::<(), _>("refused")
        })
        .unwrap();
    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    assert_eq!(report.failed(), 1);
    assert_eq!(drops.count(), 1);
}

#[cfg(feature = "std")]
#[test]
fn dropped_once_after_panicking() {
    let drops = Drops::new();
    let token = drops.token();
    let mut teardown = pin!(InlineTeardown::<2, 64>::new());
    teardown
        .as_mut()
        .push_inline("panics", async move {
            let _held = token;
            yield_times(1).await;
            if true {
                panic!("boom");
            }
        })
        .unwrap();
    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    assert!(matches!(report.get(0).unwrap().outcome(), Outcome::Panicked(m) if m == "boom"));
    assert_eq!(drops.count(), 1);
}

#[cfg(feature = "std")]
#[test]
fn a_destructor_that_panics_counts_as_dropped_once() {
    struct PanicOnDrop(#[allow(dead_code, reason = "dropped, never read")] DropToken);
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop failed");
        }
    }

    let drops = Drops::new();
    let guard = PanicOnDrop(drops.token());
    {
        let mut teardown = pin!(InlineTeardown::<1, 64>::new());
        teardown
            .as_mut()
            .push_inline("bad drop", async move {
                let _held = guard;
            })
            .unwrap();
        let (report, _) = poll_noop(teardown.as_mut().run(), 10);
        let outcome = report.get(0).unwrap().outcome();
        assert!(matches!(outcome, Outcome::Panicked(m) if m == "drop failed"));
        assert_eq!(drops.count(), 1);
    } // The stack is dropped here, and does not drop it again.
    assert_eq!(drops.count(), 1);
}

#[cfg(feature = "test-util")]
#[test]
fn dropped_once_when_it_times_out() {
    let clock = teardown_stack::VirtualClock::new();
    let drops = Drops::new();
    let token = drops.token();
    let mut teardown = pin!(InlineTeardown::<1, 64, _>::with_timer(clock.clone()));
    teardown
        .as_mut()
        .push_inline("hangs", async move {
            let _held = token;
            core::future::pending::<()>().await;
        })
        .unwrap()
        .timeout(core::time::Duration::from_secs(1));
    let report = clock.block_on(teardown.as_mut().run());
    assert!(matches!(
        report.get(0).unwrap().outcome(),
        Outcome::TimedOut { .. }
    ));
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_dropped_stack_drops_pending_callbacks_once_last_first() {
    let journal = Journal::new();
    let drops = Drops::new();
    {
        let mut teardown = pin!(InlineTeardown::<3, 64>::new());
        for name in ["bottom", "top"] {
            let guard = common::DropGuard(name, journal.clone());
            let token = drops.token();
            teardown
                .as_mut()
                .push_inline(name, async move {
                    let _held = (guard, token);
                })
                .unwrap();
        }
        assert_eq!(drops.count(), 0);
    }
    assert_eq!(drops.count(), 2);
    assert_eq!(journal.events(), ["dropped top", "dropped bottom"]);
}

#[test]
fn a_run_dropped_while_it_is_pending_leaves_it_in_place_for_the_next_run() {
    let drops = Drops::new();
    let mut teardown = pin!(InlineTeardown::<2, 128>::new());
    teardown
        .as_mut()
        .push_inline("slow", pinned_in_place(drops.token(), 4))
        .unwrap();
    {
        let mut run = teardown.as_mut().run();
        assert!(poll_once(&mut run).is_pending());
        assert!(poll_once(&mut run).is_pending());
    }
    assert_eq!(
        drops.count(),
        0,
        "an interrupted callback is kept, not dropped"
    );
    assert_eq!(teardown.len(), 1);

    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    assert!(report.is_clean(), "{report}");
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_stack_dropped_after_an_interrupted_run_drops_the_started_future_once() {
    let drops = Drops::new();
    {
        let mut teardown = pin!(InlineTeardown::<2, 128>::new());
        teardown
            .as_mut()
            .push_inline("slow", pinned_in_place(drops.token(), 4))
            .unwrap();
        let mut run = teardown.as_mut().run();
        assert!(poll_once(&mut run).is_pending());
    }
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_leaked_run_leaves_the_started_future_to_the_stack() {
    let drops = Drops::new();
    {
        let mut teardown = pin!(InlineTeardown::<2, 128>::new());
        teardown
            .as_mut()
            .push_inline("slow", pinned_in_place(drops.token(), 4))
            .unwrap();
        let mut run = teardown.as_mut().run();
        assert!(poll_once(&mut run).is_pending());
        core::mem::forget(run);
        assert_eq!(drops.count(), 0);
        // The stack is still pinned: the next run resumes the future where
        // it is.
        let (report, _) = poll_noop(teardown.as_mut().run(), 100);
        assert!(report.is_clean(), "{report}");
    }
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_run_dropped_mid_stage_keeps_pending_inline_members_in_place() {
    let drops = Drops::new();
    let mut teardown = pin!(InlineTeardown::<4, 128>::new());
    let mut stage = teardown.as_mut().stage();
    stage
        .push_inline("slow", pinned_in_place(drops.token(), 5))
        .unwrap();
    let quick = drops.token();
    stage
        .push_inline("quick", async move { drop(quick) })
        .unwrap();
    stage
        .push_inline("slower", pinned_in_place(drops.token(), 8))
        .unwrap();
    {
        let mut run = teardown.as_mut().run();
        assert!(matches!(poll_once(&mut run), Poll::Pending));
        assert!(matches!(poll_once(&mut run), Poll::Pending));
    }
    assert_eq!(drops.count(), 1, "only the finished member was dropped");
    let left: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
    assert_eq!(left, ["slower", "slow"]);

    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.completed(), 2);
    assert_eq!(drops.count(), 3);
    assert!(teardown.is_empty());
}

/// A run dropped part-way compacts the stack only if that moves no live
/// inline future, in any stage: here the finished member is in a lower
/// stage, kept with a pending inline sibling, and the run dropped is of a
/// stage of boxed callbacks above it.
#[test]
fn a_run_dropped_in_a_boxed_stage_keeps_a_lower_pending_inline_member_in_place() {
    let drops = Drops::new();
    let mut teardown = pin!(InlineTeardown::<4, 128>::new());
    let mut lower = teardown.as_mut().stage();
    let quick = drops.token();
    lower
        .push_inline("quick", async move { drop(quick) })
        .unwrap();
    lower
        .push_inline("slow", pinned_in_place(drops.token(), 6))
        .unwrap();
    {
        let mut run = teardown.as_mut().run();
        assert!(poll_once(&mut run).is_pending());
    }
    assert_eq!(drops.count(), 1, "quick finished, slow started");

    let mut upper = teardown.as_mut().stage();
    upper.push("done", async {}).unwrap();
    upper.push("waiting", yield_times(3)).unwrap();
    {
        let mut run = teardown.as_mut().run();
        assert!(poll_once(&mut run).is_pending());
    }
    let left: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
    assert_eq!(left, ["waiting", "slow"]);

    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    assert!(report.is_clean(), "{report}");
    assert_eq!(drops.count(), 2);
}

/// A registration ends the last run's report even when it is refused: making
/// room removes records first. On an inline stack whose finished stage
/// members are stuck below a live inline future, the refusal still comes.
#[test]
fn a_refused_registration_ends_the_report_too() {
    use std::task::{Context, Waker};

    let mut teardown = core::pin::pin!(teardown_stack::InlineTeardown::<2, 64>::new());
    {
        let mut stage = teardown.as_mut().stage();
        stage.push_inline("done", async {}).unwrap();
        stage
            .push_inline("stuck", std::future::pending::<()>())
            .unwrap();
    }
    {
        let mut run = core::pin::pin!(teardown.as_mut().run());
        assert!(
            run.as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
    }
    assert_eq!(teardown.report().len(), 1);
    assert!(
        teardown.is_full(),
        "the finished member is stuck below a live inline future"
    );
    assert!(teardown.as_mut().try_push_inline("more", async {}).is_err());
    assert!(teardown.report().is_empty());
}
