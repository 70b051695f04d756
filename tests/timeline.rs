//! The report's timeline: with a timer, each record knows when it started
//! in the run, whether it ran in a stage, and `{:#}` prints every record in
//! run order with its start and time. Time is virtual.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::future::pending;
use std::time::Duration;

use teardown_stack::{Outcome, Teardown, Timer, VirtualClock};

const MS: Duration = Duration::from_millis(1);

#[test]
fn the_alternate_form_prints_every_record_with_its_start_and_time() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown
        .push("store", common::sleeper(&clock, 1000))
        .unwrap();
    let mut stage = teardown.stage();
    stage.push("a", common::sleeper(&clock, 3000)).unwrap();
    stage.push("b", pending::<()>()).unwrap().timeout(2000 * MS);
    teardown
        .push("server", common::sleeper(&clock, 500))
        .unwrap();
    // Clock at 7 s when the run begins: starts count from the run's.
    clock.advance(7000 * MS);

    let report = clock.block_on(teardown.run().within(10_000 * MS));

    let timeline: Vec<_> = report
        .iter()
        .map(|r| {
            (
                r.name().to_string(),
                r.started(),
                r.elapsed(),
                r.is_concurrent(),
            )
        })
        .collect();
    assert_eq!(
        timeline,
        [
            ("server".into(), Some(Duration::ZERO), Some(500 * MS), false),
            ("b".into(), Some(500 * MS), Some(2000 * MS), true),
            ("a".into(), Some(500 * MS), Some(3000 * MS), true),
            ("store".into(), Some(3500 * MS), Some(1000 * MS), false),
        ]
    );
    assert_eq!(
        format!("{report:#}"),
        "teardown: 4 callbacks: 3 completed, 1 timed out, in 4.5s\n  \
         +0ns \"server\" completed (500ms)\n  \
         +500ms \"b\" timed out after 2s (2s), in a stage\n  \
         +500ms \"a\" completed (3s), in a stage\n  \
         +3.5s \"store\" completed (1s)"
    );
    // The plain form still lists only what went wrong.
    assert_eq!(
        report.to_string(),
        "teardown: 4 callbacks: 3 completed, 1 timed out, in 4.5s\n  \
         \"b\" timed out after 2s (2s)"
    );
}

#[test]
fn a_skipped_callback_is_shown_unstarted() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    teardown.push("sandboxes", pending::<()>()).unwrap();

    let report = clock.block_on(teardown.run().within(1000 * MS));

    assert_eq!(report.get(1).unwrap().started(), None);
    assert_eq!(
        format!("{report:#}"),
        "teardown: 2 callbacks: 0 completed, 1 timed out, 1 skipped, in 1s\n  \
         +0ns \"sandboxes\" timed out after 1s (1s)\n  \
         unstarted \"store\" skipped: the deadline had passed"
    );
}

#[test]
fn a_resumed_callback_counts_from_the_run_that_resumed_it() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown
        .push("flush", common::sleeper(&clock, 3000))
        .unwrap();
    {
        let mut run = teardown.run();
        assert!(common::poll_once(&mut run).is_pending());
    }
    clock.advance(1000 * MS);

    let report = clock.block_on(teardown.run());

    let flush = report.get(0).unwrap();
    assert_eq!(flush.started(), Some(Duration::ZERO));
    // Its time counts from its first poll, in the run given up.
    assert_eq!(flush.elapsed(), Some(3000 * MS));
    assert_eq!(report.elapsed(), Some(2000 * MS));
}

#[test]
fn a_nested_stack_keeps_its_timeline_in_its_failure() {
    let clock = VirtualClock::new();
    let failure = std::rc::Rc::new(std::cell::RefCell::new(None));
    // The parent is a local stack: its callback keeps what it saw in an `Rc`.
    let mut local = teardown_stack::LocalTeardown::<4, _>::with_timer(clock.clone());
    let f = failure.clone();
    let mut app = Teardown::<4, _>::with_timer(clock.clone());
    app.push("cache", common::sleeper(&clock, 200)).unwrap();
    let mut stage = app.stage();
    stage
        .push("hooks", async { Err::<(), _>("refused") })
        .unwrap();
    stage.push("queue", common::sleeper(&clock, 100)).unwrap();
    local
        .push("app", async move {
            let ended = app.into_cleanup().await;
            if let Err(nested) = &ended {
                let report = nested.report();
                *f.borrow_mut() = Some(
                    report
                        .iter()
                        .map(|r| (r.name().to_string(), r.started(), r.is_concurrent()))
                        .collect::<Vec<_>>(),
                );
            }
            ended.map_err(|e| e.to_string())
        })
        .unwrap();

    let report = clock.block_on(local.run());

    assert!(matches!(
        report.get(0).unwrap().outcome(),
        Outcome::Failed(_)
    ));
    assert_eq!(
        failure.borrow().clone().unwrap(),
        [
            ("hooks".to_string(), Some(Duration::ZERO), true),
            ("queue".to_string(), Some(Duration::ZERO), true),
            ("cache".to_string(), Some(100 * MS), false),
        ]
    );
}

#[test]
fn an_interrupted_shutdown_has_the_timeline_of_what_finished_and_what_did_not() {
    use teardown_stack::Shutdown;

    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    let mut stage = teardown.stage();
    stage
        .push("client-0", common::sleeper(&clock, 400))
        .unwrap();
    stage.push("client-1", pending::<()>()).unwrap();
    teardown.push("sandboxes", pending::<()>()).unwrap();
    teardown
        .push("server", common::sleeper(&clock, 500))
        .unwrap();
    clock.advance(60_000 * MS);
    // The second signal comes 3 s into the run: "sandboxes" hangs.
    let second_signal = clock.sleep(3000 * MS);

    let shutdown = clock.block_on(teardown.shutdown_within(25_000 * MS, second_signal));

    let Shutdown::Interrupted { timeline, .. } = &shutdown else {
        panic!("{shutdown}");
    };
    let report = timeline.report();
    assert_eq!(
        report.elapsed(),
        Some(3000 * MS),
        "its time until the interrupt"
    );
    let finished: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.started(), r.elapsed()))
        .collect();
    assert_eq!(
        finished,
        [("server".into(), Some(Duration::ZERO), Some(500 * MS))]
    );
    let unfinished: Vec<_> = timeline
        .unfinished()
        .map(|u| {
            (
                u.name().to_string(),
                u.started(),
                u.running(),
                u.has_started(),
                u.is_concurrent(),
            )
        })
        .collect();
    assert_eq!(
        unfinished,
        [
            (
                "sandboxes".into(),
                Some(500 * MS),
                Some(2500 * MS),
                true,
                false
            ),
            ("client-1".into(), None, None, false, true),
            ("client-0".into(), None, None, false, true),
            ("store".into(), None, None, false, false),
        ]
    );
    assert_eq!(
        format!("{shutdown:#}"),
        "teardown: 1 callback, all completed, in 3s; interrupted, 4 not finished: \
         sandboxes, client-1, client-0, store\n  \
         +0ns \"server\" completed (500ms)\n  \
         +500ms \"sandboxes\" unfinished, running for 2.5s\n  \
         unstarted \"client-1\" unfinished, in a stage\n  \
         unstarted \"client-0\" unfinished, in a stage\n  \
         unstarted \"store\" unfinished"
    );
    // The plain form is the names, as before.
    assert_eq!(
        shutdown.to_string(),
        "teardown interrupted; not finished: sandboxes, client-1, client-0, store"
    );
    assert_eq!(
        timeline.to_string(),
        "teardown: 1 callback, all completed, in 3s; interrupted, 4 not finished: \
         sandboxes, client-1, client-0, store"
    );
}

#[test]
fn an_interrupt_inside_a_stage_shows_its_members_running_and_finished() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown.push("store", async {}).unwrap();
    let mut stage = teardown.stage();
    stage
        .push("client-0", common::sleeper(&clock, 400))
        .unwrap();
    stage.push("client-1", pending::<()>()).unwrap();

    let second_signal = clock.sleep(1000 * MS);
    let shutdown = clock.block_on(teardown.shutdown(second_signal));

    assert_eq!(
        format!("{shutdown:#}"),
        "teardown: 1 callback, all completed, in 1s; interrupted, 2 not finished: \
         client-1, store\n  \
         +0ns \"client-0\" completed (400ms), in a stage\n  \
         +0ns \"client-1\" unfinished, running for 1s, in a stage\n  \
         unstarted \"store\" unfinished"
    );
}

#[test]
fn without_a_timer_an_interrupted_timeline_still_says_what_had_started() {
    use teardown_stack::Shutdown;

    let mut teardown = Teardown::<4>::new();
    teardown.push("store", async {}).unwrap();
    teardown.push("sandboxes", pending::<()>()).unwrap();
    teardown.push("server", async {}).unwrap();

    let shutdown = futures_lite::future::block_on(teardown.shutdown(common::yield_times(3)));

    let Shutdown::Interrupted { timeline, .. } = &shutdown else {
        panic!("{shutdown}");
    };
    assert_eq!(timeline.report().elapsed(), None);
    assert_eq!(
        format!("{shutdown:#}"),
        "teardown: 1 callback, all completed; interrupted, 2 not finished: sandboxes, store\n  \
         \"server\" completed\n  \
         \"sandboxes\" unfinished\n  \
         unstarted \"store\" unfinished"
    );
}

#[test]
fn an_interrupt_before_anything_finished_says_none_did() {
    let mut teardown = Teardown::<4>::new();
    teardown.push("store", async {}).unwrap();
    teardown.push("sandboxes", pending::<()>()).unwrap();

    let shutdown = futures_lite::future::block_on(teardown.shutdown(async {}));

    assert_eq!(
        format!("{shutdown:#}"),
        "teardown: none finished; interrupted, 2 not finished: sandboxes, store\n  \
         \"sandboxes\" unfinished\n  \
         unstarted \"store\" unfinished"
    );
}
