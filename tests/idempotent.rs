//! A second run runs nothing; `(&mut teardown).await` runs the stack.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_lite::future::block_on;
use teardown_stack::Teardown;

#[test]
fn a_second_run_is_empty() {
    let runs = Arc::new(AtomicUsize::new(0));
    let mut teardown = Teardown::<2>::new();
    let r = Arc::clone(&runs);
    teardown
        .push("once", async move {
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();

    let first = block_on(teardown.run()).len();
    let second = block_on(teardown.run());

    assert_eq!(first, 1);
    assert!(second.is_empty(), "each run starts a fresh report");
    assert!(teardown.report().is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn awaiting_the_stack_itself_runs_it() {
    let mut teardown = Teardown::<2>::new();
    teardown.push("a", async {}).unwrap();
    teardown.push("b", async { Err::<(), _>("no") }).unwrap();

    let report = block_on(async { (&mut teardown).await });

    let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(report.failed(), 1);
    assert!(teardown.is_empty());
}

#[test]
fn the_stack_is_reusable_after_a_run() {
    let mut teardown = Teardown::<1>::new();
    teardown.push("first", async {}).unwrap();
    block_on(teardown.run());
    teardown.push("second", async {}).unwrap();
    let report = block_on(teardown.run());
    assert_eq!(report.get(0).unwrap().name(), "second");
}
