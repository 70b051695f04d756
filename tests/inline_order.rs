//! An inline stack runs its callbacks last registered first, inline ones
//! mixed with borrowed and boxed ones, and a stage of inline members
//! concurrently.

mod common;

use core::pin::pin;

use common::{Journal, poll_noop, yield_times};
use teardown_stack::{InlineTeardown, Outcome};

#[test]
fn lifo_with_inline_and_borrowed_callbacks_mixed() {
    let journal = Journal::new();
    let borrowed_journal = journal.clone();
    let borrowed = pin!(async move {
        borrowed_journal.record("borrowed");
    });
    let mut teardown = pin!(InlineTeardown::<4, 64>::new());

    let first = journal.clone();
    teardown
        .as_mut()
        .push_inline("first", async move { first.record("first") })
        .unwrap();
    teardown.as_mut().push_pinned("borrowed", borrowed).unwrap();
    let last = journal.clone();
    teardown
        .as_mut()
        .push_inline("last", async move {
            yield_times(2).await;
            last.record("last");
        })
        .unwrap();
    let names: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
    assert_eq!(names, ["last", "borrowed", "first"]);

    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    let order: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(order, ["last", "borrowed", "first"]);
    assert!(report.is_clean());
    assert_eq!(journal.events(), ["last", "borrowed", "first"]);
    assert!(teardown.is_empty());
}

#[cfg(feature = "alloc")]
#[test]
fn lifo_with_inline_and_boxed_callbacks_mixed() {
    let journal = Journal::new();
    let mut teardown = pin!(InlineTeardown::<4, 64>::new());
    for (i, name) in ["a", "b", "c", "d"].into_iter().enumerate() {
        let journal = journal.clone();
        let cleanup = async move { journal.record(name) };
        if i % 2 == 0 {
            teardown.as_mut().push_inline(name, cleanup).unwrap();
        } else {
            teardown.as_mut().push(name, cleanup).unwrap();
        }
    }
    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    assert_eq!(report.completed(), 4);
    assert_eq!(journal.events(), ["d", "c", "b", "a"]);
}

#[test]
fn a_stage_of_inline_members_runs_them_together_between_its_neighbours() {
    let journal = Journal::new();
    let mut teardown = pin!(InlineTeardown::<8, 96>::new());
    let bottom = journal.clone();
    teardown
        .as_mut()
        .push_inline("bottom", async move { bottom.record("bottom") })
        .unwrap();
    let mut stage = teardown.as_mut().stage();
    for (name, pendings) in [("a", 2), ("b", 0), ("c", 1)] {
        let journal = journal.clone();
        stage
            .push_inline(name, async move {
                journal.record(format!("start {name}"));
                yield_times(pendings).await;
                journal.record(format!("end {name}"));
            })
            .unwrap();
    }
    assert_eq!(stage.len(), 3);
    let top = journal.clone();
    teardown
        .as_mut()
        .push_inline("top", async move { top.record("top") })
        .unwrap();

    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    assert_eq!(report.completed(), 5);
    let events = journal.events();
    assert_eq!(events.first().map(String::as_str), Some("top"));
    assert_eq!(events.last().map(String::as_str), Some("bottom"));
    // All three members started before any of the slower ones ended.
    let starts = events.iter().filter(|e| e.starts_with("start")).count();
    assert_eq!(
        &events[1..4],
        ["start c", "start b", "end b"].map(String::from)
    );
    assert_eq!(starts, 3);
    assert!(events.iter().position(|e| e == "start a") < events.iter().position(|e| e == "end c"));
}

#[test]
fn failures_are_isolated_and_reported_like_any_callback() {
    let mut teardown = pin!(InlineTeardown::<2, 32>::new());
    teardown.as_mut().push_inline("ok", async {}).unwrap();
    teardown
        .as_mut()
        .push_inline("fails", async { Err::<(), _>("disk gone") })
        .unwrap();
    let (report, _) = poll_noop(teardown.as_mut().run(), 10);
    assert!(matches!(report.get(0).unwrap().outcome(), Outcome::Failed(m) if m == "disk gone"));
    assert_eq!(report.get(1).unwrap().outcome(), Outcome::Completed);
}
