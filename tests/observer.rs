//! The observer: what a run tells it, in order, on every path a callback
//! ends by (completed, failed, panicked, timed out, skipped), alone and in
//! stages, boxed and inline. Time is virtual where it matters.
#![cfg(feature = "observer")]

mod common;

use std::future::pending;
use std::pin::pin;
use std::sync::Mutex;
use std::time::Duration;

use teardown_stack::{Event, InlineTeardown, Observer, Outcome, Teardown};

const MS: Duration = Duration::from_millis(1);

/// Writes each event as a line.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl Lines {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn outcome(outcome: Outcome<'_>) -> String {
    match outcome {
        Outcome::Completed => "completed".into(),
        Outcome::Failed(m) => format!("failed: {m}"),
        Outcome::Panicked(m) => format!("panicked: {m}"),
        Outcome::TimedOut { budget } => format!("timed out after {budget:?}"),
        Outcome::Skipped => "skipped".into(),
        _ => "?".into(),
    }
}

impl Observer for Lines {
    fn event(&self, event: Event<'_>) {
        let line = match event {
            Event::RunStarted { pending, within } => format!("run of {pending}, within {within:?}"),
            Event::Started { name, concurrent } => {
                format!("start {name} (concurrent: {concurrent})")
            }
            Event::Ended {
                record,
                done,
                pending,
                left,
            } => format!(
                "end {} {} at {:?} for {:?}, {done}/{pending}, left {left:?}",
                record.name(),
                outcome(record.outcome()),
                record.started(),
                record.elapsed(),
            ),
            Event::RunEnded { report } => format!("run ended: {report}"),
            _ => "unknown event".into(),
        };
        self.0.lock().unwrap().push(line);
    }
}

#[test]
fn a_run_without_a_timer_tells_each_start_and_end_in_order() {
    let lines = Lines::default();
    let mut teardown = Teardown::<4>::new();
    teardown.observe(&lines);
    teardown.push("store", async {}).unwrap();
    teardown
        .push("cache", async { Err::<(), _>("refused") })
        .unwrap();
    teardown
        .push("server", async { Ok::<(), &str>(()) })
        .unwrap();

    futures_lite::future::block_on(teardown.run());

    assert_eq!(
        lines.take(),
        [
            "run of 3, within None",
            "start server (concurrent: false)",
            "end server completed at None for None, 1/3, left None",
            "start cache (concurrent: false)",
            "end cache failed: refused at None for None, 2/3, left None",
            "start store (concurrent: false)",
            "end store completed at None for None, 3/3, left None",
            "run ended: teardown: 3 callbacks: 2 completed, 1 failed\n  \"cache\" failed: refused",
        ]
    );
}

#[test]
fn a_panic_is_told_once_as_the_callback_that_panicked() {
    let lines = Lines::default();
    let mut teardown = Teardown::<4>::new();
    teardown.observe(&lines);
    teardown.push("store", async {}).unwrap();
    teardown
        .push("sandboxes", async { blow_up("sandbox lost") })
        .unwrap();

    futures_lite::future::block_on(teardown.run());

    let lines = lines.take();
    assert_eq!(
        lines[..5],
        [
            "run of 2, within None",
            "start sandboxes (concurrent: false)",
            "end sandboxes panicked: sandbox lost at None for None, 1/2, left None",
            "start store (concurrent: false)",
            "end store completed at None for None, 2/2, left None",
        ]
    );
    assert_eq!(lines.len(), 6);
    assert!(lines[5].starts_with("run ended: teardown: 2 callbacks: 1 completed, 1 panicked"));
}

/// Panics in its destructor: the stack drops it when it completes.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("destructor failed");
    }
}

#[test]
fn a_destructor_that_panics_is_told_as_the_callbacks_end_once() {
    let lines = Lines::default();
    let mut teardown = Teardown::<4>::new();
    teardown.observe(&lines);
    teardown.push("store", async {}).unwrap();
    let guard = PanicsOnDrop;
    teardown
        .push("client", async move {
            let _guard = &guard;
        })
        .unwrap();

    futures_lite::future::block_on(teardown.run());

    let lines = lines.take();
    assert_eq!(
        lines[1..5],
        [
            "start client (concurrent: false)",
            "end client panicked: destructor failed at None for None, 1/2, left None",
            "start store (concurrent: false)",
            "end store completed at None for None, 2/2, left None",
        ]
    );
}

#[cfg(feature = "test-util")]
#[test]
fn a_timed_run_tells_stages_timeouts_skips_and_the_time_left() {
    use teardown_stack::VirtualClock;

    let clock = VirtualClock::new();
    let lines = Lines::default();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    teardown.observe(&lines);
    teardown.push("store", async {}).unwrap();
    let mut stage = teardown.stage();
    stage.push("a", common::sleeper(&clock, 3000)).unwrap();
    stage.push("b", pending::<()>()).unwrap().timeout(1000 * MS);
    teardown
        .push("server", common::sleeper(&clock, 500))
        .unwrap();
    clock.advance(7000 * MS);

    clock.block_on(teardown.run().within(2500 * MS));

    assert_eq!(
        lines.take(),
        [
            "run of 4, within Some(2.5s)",
            "start server (concurrent: false)",
            "end server completed at Some(0ns) for Some(500ms), 1/4, left Some(2s)",
            "start b (concurrent: true)",
            "start a (concurrent: true)",
            "end b timed out after 1s at Some(500ms) for Some(1s), 2/4, left Some(1s)",
            "end a timed out after 2s at Some(500ms) for Some(2s), 3/4, left Some(0ns)",
            "end store skipped at None for None, 4/4, left Some(0ns)",
            "run ended: teardown: 4 callbacks: 1 completed, 2 timed out, 1 skipped, in 2.5s\n  \
             \"b\" timed out after 1s (1s)\n  \
             \"a\" timed out after 2s (2s)\n  \
             \"store\" skipped: the deadline had passed",
        ]
    );
}

#[cfg(feature = "test-util")]
#[test]
fn a_resumed_run_counts_only_what_is_left() {
    use teardown_stack::VirtualClock;

    let clock = VirtualClock::new();
    let lines = Lines::default();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    teardown.observe(&lines);
    teardown.push("store", async {}).unwrap();
    teardown
        .push("flush", common::sleeper(&clock, 300))
        .unwrap();
    teardown.push("server", async {}).unwrap();
    {
        let mut run = teardown.run();
        assert!(common::poll_once(&mut run).is_pending());
    }
    assert_eq!(
        lines.take(),
        [
            "run of 3, within None",
            "start server (concurrent: false)",
            "end server completed at Some(0ns) for Some(0ns), 1/3, left None",
            "start flush (concurrent: false)",
        ],
        "a run given up part-way tells no end of its own"
    );

    clock.block_on(teardown.run());

    assert_eq!(
        lines.take(),
        [
            "run of 2, within None",
            "end flush completed at Some(0ns) for Some(300ms), 1/2, left None",
            "start store (concurrent: false)",
            "end store completed at Some(300ms) for Some(0ns), 2/2, left None",
            "run ended: teardown: 2 callbacks, all completed, in 300ms",
        ]
    );
}

#[test]
fn an_inline_stack_tells_its_observer_too() {
    let lines = Lines::default();
    let mut teardown = pin!(InlineTeardown::<4, 64>::new());
    teardown.as_mut().observe(&lines);
    teardown.as_mut().push_inline("store", async {}).unwrap();
    teardown
        .as_mut()
        .push_inline("server", async { Err::<(), _>("busy") })
        .unwrap();

    futures_lite::future::block_on(teardown.as_mut().run());

    assert_eq!(
        lines.take()[..5],
        [
            "run of 2, within None",
            "start server (concurrent: false)",
            "end server failed: busy at None for None, 1/2, left None",
            "start store (concurrent: false)",
            "end store completed at None for None, 2/2, left None",
        ]
    );
}

#[test]
fn a_later_observer_replaces_the_first() {
    let (first, second) = (Lines::default(), Lines::default());
    let mut teardown = Teardown::<2>::new();
    teardown.observe(&first).observe(&second);
    teardown.push("store", async {}).unwrap();

    futures_lite::future::block_on(teardown.run());

    assert!(first.take().is_empty());
    assert_eq!(second.take().len(), 4);
}

/// Panics with `text`. (A bare `async { panic!() }` has output `!` in
/// edition 2024, which is not a cleanup output.)
fn blow_up(text: &'static str) {
    std::panic::panic_any(text)
}
