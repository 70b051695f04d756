//! Time as a budget: a `push_with` callback sees the time it has left (its
//! own timeout or the run's deadline, whichever is sooner), a soft deadline
//! a margin before the cut, and the report says who finished after it and
//! who was cut. Time is virtual, so every figure is exact.
#![cfg(feature = "test-util")]

mod common;

use std::future::pending;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teardown_stack::{Budget, InlineTeardown, Outcome, Teardown, Timer, VirtualClock, WithBudget};

const MS: Duration = Duration::from_millis(1);

/// When a callback read its budget, and the time it had left.
type Reading = (Duration, Option<Duration>);

/// What a callback saw, at which virtual time.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Reading>>>);

impl Seen {
    fn note(&self, at: Duration, left: Option<Duration>) {
        self.0.lock().unwrap().push((at, left));
    }

    fn all(&self) -> Vec<Reading> {
        self.0.lock().unwrap().clone()
    }
}

/// A callback that reads its budget at its start and after each of the
/// sleeps `steps` (ms).
fn reader(
    clock: &VirtualClock,
    seen: &Seen,
    steps: &'static [u32],
) -> impl FnOnce(Budget<VirtualClock>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send
{
    let (clock, seen) = (clock.clone(), seen.clone());
    move |budget| {
        Box::pin(async move {
            seen.note(clock.now(), budget.left());
            for ms in steps {
                clock.sleep(*ms * MS).await;
                seen.note(clock.now(), budget.left());
            }
        })
    }
}

#[test]
fn a_budget_is_its_own_timeout_while_that_ends_first() {
    let clock = VirtualClock::new();
    let seen = Seen::default();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown
        .push_with("flush", reader(&clock, &seen, &[1000, 1500]))
        .unwrap()
        .timeout(4000 * MS);
    clock.advance(10_000 * MS);
    let report = clock.block_on(teardown.run().within(30_000 * MS));
    assert!(report.is_clean(), "{report}");
    let start = 10_000 * MS;
    assert_eq!(
        seen.all(),
        [
            (start, Some(4000 * MS)),
            (start + 1000 * MS, Some(3000 * MS)),
            (start + 2500 * MS, Some(1500 * MS)),
        ]
    );
}

#[test]
fn a_budget_is_the_runs_time_left_when_that_ends_first() {
    let clock = VirtualClock::new();
    let seen = Seen::default();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown
        .push_with("flush", reader(&clock, &seen, &[500, 2000]))
        .unwrap()
        .timeout(60_000 * MS);
    // Above it, a callback that takes 3 s of the run's 10.
    teardown
        .push("server", common::sleeper(&clock, 3000))
        .unwrap();
    let report = clock.block_on(teardown.run().within(10_000 * MS));
    assert!(report.is_clean(), "{report}");
    assert_eq!(
        seen.all(),
        [
            (3000 * MS, Some(7000 * MS)),
            (3500 * MS, Some(6500 * MS)),
            (5500 * MS, Some(4500 * MS)),
        ]
    );
}

#[test]
fn a_budget_without_any_bound_or_timer_is_unbounded_and_its_soft_future_never_fires() {
    // A stack without a timer: unbounded.
    let unbounded = Arc::new(Mutex::new(None));
    let mut teardown = Teardown::<2>::new();
    let u = unbounded.clone();
    teardown
        .push_with("flush", move |budget| async move {
            let mut soft = pin!(budget.soft());
            let fired = common::poll_once(&mut soft).is_ready();
            *u.lock().unwrap() = Some((budget.is_unbounded(), budget.left(), fired));
        })
        .unwrap();
    assert!(futures_lite::future::block_on(teardown.run()).is_clean());
    assert_eq!(*unbounded.lock().unwrap(), Some((true, None, false)));

    // A timer, but nothing bounds the callback: unbounded too, and a soft
    // margin makes no soft deadline.
    let clock = VirtualClock::new();
    let seen = Seen::default();
    let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
    teardown
        .push_with("flush", reader(&clock, &seen, &[5000]))
        .unwrap();
    let report = clock.block_on(teardown.run().soft_margin(1000 * MS));
    assert!(report.is_clean());
    assert!(!report.get(0).unwrap().after_soft());
    assert_eq!(seen.all(), [(Duration::ZERO, None), (5000 * MS, None)]);
}

#[test]
fn the_soft_future_fires_at_the_soft_deadline_not_before() {
    common::logs::start();
    let clock = VirtualClock::new();
    let fired_at = Arc::new(Mutex::new(Vec::new()));
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    let (c, f) = (clock.clone(), fired_at.clone());
    teardown
        .push_with("checkpoint", move |budget| async move {
            assert_eq!(budget.soft_left(), Some(7000 * MS));
            assert_eq!(budget.soft_deadline(), Some(7000 * MS));
            assert_eq!(budget.deadline(), Some(10_000 * MS));
            // A full checkpoint would take 60 s: write the small one at
            // the soft signal (500 ms) instead.
            let full = c.sleep(60_000 * MS);
            futures_lite::future::or(full, budget.soft()).await;
            f.lock().unwrap().push(c.now());
            // Made after the soft deadline passed: ready at once.
            budget.soft().await;
            c.sleep(500 * MS).await;
        })
        .unwrap()
        .timeout(10_000 * MS);
    let report = clock.block_on(teardown.run().soft_margin(3000 * MS));
    assert_eq!(*fired_at.lock().unwrap(), [7000 * MS]);
    let record = report.get(0).unwrap();
    assert!(record.outcome().is_completed(), "{report}");
    assert!(record.after_soft());
    assert_eq!(record.elapsed(), Some(7500 * MS));
    assert_eq!(
        record.to_string(),
        "\"checkpoint\" completed (7.5s), after its soft deadline"
    );
    common::logs::assert_at(
        log::Level::Debug,
        &[
            "running teardown callback \"checkpoint\"",
            "teardown callback \"checkpoint\" reached its soft deadline, 3s before its cut",
            "teardown: 1 callback, all completed, in 7.5s",
        ],
    );
}

#[test]
fn the_report_tells_a_callback_finished_after_its_soft_deadline_from_one_cut() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    // Ignores its budget and hangs: cut at the hard deadline.
    teardown
        .push("sandboxes", pending::<()>())
        .unwrap()
        .timeout(2000 * MS);
    // Finishes 1 s before its cut, after its soft deadline.
    teardown
        .push("flush", common::sleeper(&clock, 4000))
        .unwrap()
        .timeout(5000 * MS);
    // Finishes before its soft deadline.
    teardown
        .push("server", common::sleeper(&clock, 100))
        .unwrap()
        .timeout(5000 * MS);
    let report = clock.block_on(teardown.run().soft_margin(2000 * MS));
    let seen: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome(), r.after_soft()))
        .collect();
    assert_eq!(
        seen,
        [
            ("server".to_string(), Outcome::Completed, false),
            ("flush".to_string(), Outcome::Completed, true),
            (
                "sandboxes".to_string(),
                Outcome::TimedOut { budget: 2000 * MS },
                false
            ),
        ]
    );
}

#[test]
fn inline_and_pinned_budgeted_callbacks_see_the_same_budget() {
    let clock = VirtualClock::new();
    let seen = Seen::default();
    let pinned = pin!(WithBudget::with_timer(
        reader(&clock, &seen, &[]),
        clock.clone()
    ));
    let mut teardown = pin!(InlineTeardown::<4, 512, _>::with_timer(clock.clone()));
    teardown
        .as_mut()
        .push_pinned_with("pinned", pinned)
        .unwrap()
        .timeout(1000 * MS);
    let (c, s) = (clock.clone(), seen.clone());
    teardown
        .as_mut()
        .push_inline_with("inline", move |budget: Budget<VirtualClock>| async move {
            s.note(c.now(), budget.left());
            c.sleep(250 * MS).await;
        })
        .unwrap()
        .timeout(2000 * MS);
    let mut stage = teardown.as_mut().stage();
    stage
        .push_with("member", reader(&clock, &seen, &[]))
        .unwrap()
        .timeout(3000 * MS);
    let report = clock.block_on(teardown.as_mut().run().within(2100 * MS));
    assert!(report.is_clean(), "{report}");
    // member: its run deadline (2.1 s) is sooner than its 3 s; inline: its
    // own 2 s; pinned, after the inline one's 250 ms: its own 1 s.
    assert_eq!(
        seen.all(),
        [
            (Duration::ZERO, Some(2100 * MS)),
            (Duration::ZERO, Some(2000 * MS)),
            (250 * MS, Some(1000 * MS)),
        ]
    );
}

#[test]
fn a_full_stack_hands_the_closure_back_uncalled() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<1, _>::with_timer(clock.clone());
    teardown.push("a", async {}).unwrap();
    let called = Arc::new(Mutex::new(false));
    let c = called.clone();
    let full = teardown
        .push_with("b", move |_budget| async move {
            *c.lock().unwrap() = true;
        })
        .unwrap_err();
    let closure = full.into_inner();
    assert!(!*called.lock().unwrap());
    // Still the caller's to call.
    futures_lite::future::block_on(closure(Budget::unbounded(clock.clone())));
    assert!(*called.lock().unwrap());
}
