//! Dropping a run part-way keeps the unfinished callbacks; the next run
//! resumes the interrupted one where it stopped, then runs the rest.

mod common;

use common::{Journal, poll_once, yield_times};
use futures_lite::future::block_on;
use teardown_stack::Teardown;

fn stack(journal: &Journal) -> Teardown<'static, 4> {
    let mut teardown = Teardown::<4>::new();
    for (name, pendings) in [("bottom", 0), ("middle", 3), ("top", 0)] {
        let journal = journal.clone();
        teardown
            .push(name, async move {
                journal.record(format!("start {name}"));
                yield_times(pendings).await;
                journal.record(format!("end {name}"));
            })
            .unwrap();
    }
    teardown
}

#[test]
fn an_interrupted_callback_is_resumed_not_restarted() {
    let journal = Journal::new();
    let mut teardown = stack(&journal);

    {
        let mut run = teardown.run();
        // First poll: "top" completes, "middle" starts and is pending.
        assert!(poll_once(&mut run).is_pending());
        assert!(poll_once(&mut run).is_pending());
    } // The caller gives up: the run is dropped.

    assert_eq!(journal.events(), ["start top", "end top", "start middle"]);
    let left: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
    assert_eq!(left, ["middle", "bottom"], "interrupted one stays on top");

    let report = block_on(teardown.run());

    assert_eq!(
        journal.events(),
        [
            "start top",
            "end top",
            "start middle",
            "end middle",
            "start bottom",
            "end bottom"
        ]
    );
    let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["middle", "bottom"]);
    assert!(report.is_clean());
}

#[test]
fn a_run_dropped_before_its_first_poll_changes_nothing() {
    let journal = Journal::new();
    let mut teardown = stack(&journal);
    drop(teardown.run());
    assert_eq!(teardown.len(), 3);
    assert!(journal.events().is_empty());
    assert_eq!(block_on(teardown.run()).len(), 3);
}

#[test]
fn a_run_polled_after_completion_says_so() {
    let journal = Journal::new();
    let mut teardown = stack(&journal);
    let mut run = teardown.run();
    let ran = common::poll_noop(&mut run, 100).0.len();
    assert_eq!(ran, 3);
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_once(&mut run)));
    let payload = again.expect_err("a completed run must not be polled");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(message, Some("teardown run polled after it completed"));
}
