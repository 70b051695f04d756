//! Critical callbacks: a run with a deadline keeps their time in reserve,
//! and an interrupted shutdown escalates, dropping the others so that the
//! critical ones still run; the next interrupt gives up. Time is virtual.
#![cfg(feature = "test-util")]

mod common;

use std::future::pending;
use std::time::Duration;

use futures_lite::stream::{self, Stream};
use teardown_stack::{Outcome, Shutdown, Teardown, Timer, VirtualClock, each};

const MS: Duration = Duration::from_millis(1);

/// Interrupts at the virtual times `at` (ms), as a stream of signals.
fn signals_at(clock: &VirtualClock, at: &'static [u64]) -> impl Stream<Item = ()> + Unpin {
    let clock = clock.clone();
    Box::pin(stream::unfold(0, move |i| {
        let clock = clock.clone();
        async move {
            let when = Duration::from_millis(*at.get(i)?);
            clock.sleep(when.saturating_sub(clock.now())).await;
            Some(((), i + 1))
        }
    }))
}

fn outcomes(report: teardown_stack::Report<'_>) -> Vec<(String, Outcome<'_>, bool)> {
    report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome(), r.is_escalated()))
        .collect()
}

#[test]
fn the_reserve_keeps_a_critical_callbacks_time_from_a_slow_one() {
    let run = |critical: bool| {
        let clock = VirtualClock::new();
        let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
        let store = teardown
            .push("store", common::sleeper(&clock, 2500))
            .unwrap()
            .timeout(3000 * MS);
        if critical {
            store.critical();
        }
        // Would take 9 s of the 10.
        teardown
            .push("sandboxes", common::sleeper(&clock, 9000))
            .unwrap();
        let report = clock.block_on(teardown.run().within(10_000 * MS));
        report
            .iter()
            .map(|r| {
                let budget = match r.outcome() {
                    Outcome::TimedOut { budget } => Some(budget),
                    _ => None,
                };
                (r.name().to_string(), budget, r.elapsed())
            })
            .collect::<Vec<_>>()
    };
    // Not critical: the slow one takes its 9 s, and the store is cut at
    // the deadline after 1 s of its 2.5.
    assert_eq!(
        run(false),
        [
            ("sandboxes".into(), None, Some(9000 * MS)),
            ("store".into(), Some(1000 * MS), Some(1000 * MS)),
        ]
    );
    // Critical: its 3 s stay in reserve, so the slow one is cut at 7 s and
    // the store completes.
    assert_eq!(
        run(true),
        [
            ("sandboxes".into(), Some(7000 * MS), Some(7000 * MS)),
            ("store".into(), None, Some(2500 * MS)),
        ]
    );
}

#[test]
fn a_callback_that_would_start_inside_the_reserve_is_skipped_and_the_critical_one_runs() {
    common::logs::start();
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown
        .push("wal", common::sleeper(&clock, 4000))
        .unwrap()
        .timeout(5000 * MS)
        .critical();
    teardown.push("metrics", async {}).unwrap();
    teardown
        .push("server", common::sleeper(&clock, 6000))
        .unwrap();
    let report = clock.block_on(teardown.run().within(10_000 * MS));
    let seen: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome(), r.is_critical()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "server".into(),
                Outcome::TimedOut { budget: 5000 * MS },
                false
            ),
            ("metrics".into(), Outcome::Skipped, false),
            ("wal".into(), Outcome::Completed, true),
        ]
    );
    let warnings = common::logs::at(log::Level::Warn);
    if common::logs::ON {
        assert!(
            warnings.contains(
                &"teardown callback \"metrics\" skipped: the time left is kept for critical callbacks"
                    .to_string()
            ),
            "{warnings:?}"
        );
    }
}

#[test]
fn a_critical_callbacks_budget_is_the_whole_deadline_and_the_others_less_the_reserve() {
    let clock = VirtualClock::new();
    let left = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    let reads = |name: &'static str| {
        let left = left.clone();
        move |budget: teardown_stack::Budget<VirtualClock>| async move {
            left.lock().unwrap().push((name, budget.left()));
        }
    };
    // Critical without a timeout: reserves nothing, gets what is left.
    teardown
        .push_with("journal", reads("journal"))
        .unwrap()
        .critical();
    teardown
        .push_with("wal", reads("wal"))
        .unwrap()
        .timeout(6000 * MS)
        .critical();
    teardown
        .push_with("fsync", reads("fsync"))
        .unwrap()
        .timeout(2000 * MS)
        .critical();
    teardown.push_with("cache", reads("cache")).unwrap();
    let report = clock.block_on(teardown.run().within(10_000 * MS));
    assert!(report.is_clean(), "{report}");
    // The cache: 10 s less the 8 s kept for the wal and the fsync; each
    // critical one: its own timeout, or the whole deadline.
    assert_eq!(
        *left.lock().unwrap(),
        [
            ("cache", Some(2000 * MS)),
            ("fsync", Some(2000 * MS)),
            ("wal", Some(6000 * MS)),
            ("journal", Some(10_000 * MS)),
        ]
    );
}

#[test]
fn the_first_interrupt_drops_the_rest_but_the_critical_ones_and_the_next_gives_up() {
    let clock = VirtualClock::new();
    let drops = common::Drops::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown
        .push("store", common::sleeper(&clock, 3000))
        .unwrap()
        .critical();
    let token = drops.token();
    teardown
        .push("clients", async move {
            let _token = token;
            pending::<()>().await
        })
        .unwrap();
    let token = drops.token();
    teardown
        .push("sandboxes", async move {
            let _token = token;
            pending::<()>().await
        })
        .unwrap();
    // The second signal at 1 s escalates; no third comes.
    let signals = signals_at(&clock, &[1000]);
    let shutdown = clock.block_on(teardown.shutdown_within(30_000 * MS, each(signals)));
    let Shutdown::Finished(report) = shutdown else {
        panic!("escalation keeps the run going: {shutdown}");
    };
    assert_eq!(drops.count(), 2, "both dropped at the escalation");
    assert_eq!(
        outcomes(report),
        [
            (
                "sandboxes".into(),
                Outcome::TimedOut { budget: 1000 * MS },
                true
            ),
            ("clients".into(), Outcome::Skipped, true),
            ("store".into(), Outcome::Completed, false),
        ]
    );
    let store = report.get(2).unwrap();
    assert_eq!(
        (store.started(), store.elapsed()),
        (Some(1000 * MS), Some(3000 * MS))
    );
    assert_eq!(
        report.to_string(),
        "teardown: 3 callbacks: 1 completed, 1 timed out, 1 skipped, in 4s\n  \
         \"sandboxes\" dropped by escalation while it ran (1s)\n  \
         \"clients\" skipped: dropped by escalation"
    );
}

#[test]
fn a_hung_critical_callback_gives_way_to_the_next_interrupt() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown.push("wal", pending::<()>()).unwrap().critical();
    teardown.push("sandboxes", pending::<()>()).unwrap();
    let signals = signals_at(&clock, &[1000, 2000]);
    let shutdown = clock.block_on(teardown.shutdown_within(30_000 * MS, each(signals)));
    let Shutdown::Interrupted {
        unfinished,
        timeline,
        ..
    } = &shutdown
    else {
        panic!("the third signal gives up: {shutdown}");
    };
    assert_eq!(unfinished, &["wal"]);
    let report = timeline.report();
    assert_eq!(
        outcomes(report),
        [(
            "sandboxes".into(),
            Outcome::TimedOut { budget: 1000 * MS },
            true
        )]
    );
    assert!(
        format!("{shutdown:#}").contains("\"sandboxes\" dropped by escalation while it ran"),
        "{shutdown:#}"
    );
}

#[test]
fn with_nothing_critical_the_first_interrupt_gives_up_as_before() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    teardown.push("sandboxes", pending::<()>()).unwrap();
    let signals = signals_at(&clock, &[1000, 2000]);
    let shutdown = clock.block_on(teardown.shutdown_within(30_000 * MS, each(signals)));
    let Shutdown::Interrupted { unfinished, .. } = shutdown else {
        panic!("nothing to keep: gives up");
    };
    assert_eq!(unfinished, ["sandboxes", "store"]);
    assert_eq!(clock.now(), 1000 * MS);
}

#[test]
fn escalation_works_on_a_stack_without_a_timer_and_with_one_interrupt() {
    // One future as the interrupt: it escalates, and nothing comes after.
    let drops = common::Drops::new();
    let mut teardown = Teardown::<4>::new();
    teardown
        .push("store", common::yield_times(3))
        .unwrap()
        .critical();
    let token = drops.token();
    teardown
        .push("sandboxes", async move {
            let _token = token;
            pending::<()>().await
        })
        .unwrap();
    teardown.push("server", async {}).unwrap();
    let shutdown = futures_lite::future::block_on(teardown.shutdown(common::yield_times(1)));
    let Shutdown::Finished(report) = shutdown else {
        panic!("escalated, then the store finished: {shutdown}");
    };
    assert_eq!(drops.count(), 1);
    let seen: Vec<_> = report
        .iter()
        .map(|r| {
            (
                r.name().to_string(),
                r.outcome().is_completed(),
                r.is_escalated(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("server".into(), true, false),
            ("sandboxes".into(), false, true),
            ("store".into(), true, false),
        ]
    );
}

#[test]
fn escalation_drops_the_members_of_a_running_stage_but_the_critical_one() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    let mut stage = teardown.stage();
    stage
        .push("telemetry", common::sleeper(&clock, 2000))
        .unwrap()
        .critical();
    stage.push("a", pending::<()>()).unwrap();
    stage.push("b", pending::<()>()).unwrap();
    let signals = signals_at(&clock, &[500]);
    let shutdown = clock.block_on(teardown.shutdown(each(signals)));
    let Shutdown::Finished(report) = shutdown else {
        panic!("{shutdown}");
    };
    let mut seen: Vec<_> = report
        .iter()
        .map(|r| {
            (
                r.name().to_string(),
                r.outcome().is_completed(),
                r.is_escalated(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("a".into(), false, true),
            ("b".into(), false, true),
            ("telemetry".into(), true, false),
        ]
    );
    assert_eq!(clock.now(), 2000 * MS);
}

#[test]
fn a_stage_whose_members_were_dropped_before_it_ran_reports_each_once_in_order() {
    // The escalation numbers "p0" (in the stage below) before the stage
    // runs its critical member: the stage's records are then not numbered
    // one after another from its start.
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    let mut stage = teardown.stage();
    stage.push("p0", pending::<()>()).unwrap();
    stage
        .push("wal", common::sleeper(&clock, 100))
        .unwrap()
        .critical();
    teardown.push("sandboxes", pending::<()>()).unwrap();
    teardown
        .push("server", common::sleeper(&clock, 1000))
        .unwrap();
    let signals = signals_at(&clock, &[0]);
    let shutdown = clock.block_on(teardown.shutdown(each(signals)));
    let Shutdown::Finished(report) = shutdown else {
        panic!("{shutdown}");
    };
    let seen: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.is_escalated()))
        .collect();
    assert_eq!(
        seen,
        [
            ("server".into(), true),
            ("sandboxes".into(), true),
            ("p0".into(), true),
            ("wal".into(), false),
        ]
    );
    assert_eq!(report.len(), 4);
}
