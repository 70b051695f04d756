//! A destructor that panics while the stack lets go of callbacks: every
//! other callback the stack owns is still dropped, exactly once, last
//! registered first (an inline one where it lies), and then the first panic
//! goes on. Checked for each storage kind (boxed, `push_fn`, inline, pinned
//! borrows, a stack built on the heap), for a stage's members, for a nested
//! stack (`into_cleanup`) dropped by its parent or cut off by its timeout,
//! for the callbacks a run lets go of (timed out, skipped), and for a scope.
//! A second panic while the first unwinds aborts the process.
#![cfg(feature = "std")]

mod common;

use std::future::{Future, pending};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{Journal, poll_once};
use teardown_stack::{InlineTeardown, Teardown};

/// Records `dropped NAME` when dropped, then panics if told to.
struct Guard {
    name: &'static str,
    journal: Journal,
    panics: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.journal.record(format!("dropped {}", self.name));
        if self.panics {
            panic!("{} panicked while dropped", self.name);
        }
    }
}

fn guard(name: &'static str, journal: &Journal, panics: bool) -> Guard {
    Guard {
        name,
        journal: journal.clone(),
        panics,
    }
}

/// A cleanup that never completes, holding a guard.
fn hang(name: &'static str, journal: &Journal, panics: bool) -> impl Future<Output = ()> + Send {
    let guard = guard(name, journal, panics);
    async move {
        let _guard = guard;
        pending::<()>().await
    }
}

/// A cleanup that completes at once, holding a guard.
fn done(name: &'static str, journal: &Journal, panics: bool) -> impl Future<Output = ()> + Send {
    let guard = guard(name, journal, panics);
    async move {
        let _guard = guard;
    }
}

/// Pending forever; records where it lies on every poll and when dropped,
/// so that a move after its first poll shows.
struct Pinned {
    name: &'static str,
    journal: Journal,
    at: Option<usize>,
}

impl Future for Pinned {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let here = std::ptr::from_mut(this) as usize;
        this.at.get_or_insert(here);
        Poll::Pending
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let here = std::ptr::from_mut(self) as usize;
        let moved = self.at.is_some_and(|at| at != here);
        let what = if moved { "moved" } else { "dropped" };
        self.journal.record(format!("{what} {}", self.name));
    }
}

fn pinned_probe(name: &'static str, journal: &Journal) -> Pinned {
    Pinned {
        name,
        journal: journal.clone(),
        at: None,
    }
}

/// Drops `value`, which must panic with `bad`'s message.
fn drop_panics<T>(value: T) {
    let panic = catch_unwind(AssertUnwindSafe(|| drop(value))).expect_err("the drop panicked");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or("?");
    assert_eq!(message, "bad panicked while dropped");
}

#[test]
fn inline_stack_dropped_after_a_run_given_up() {
    let journal = Journal::new();
    let mut teardown = Box::pin(InlineTeardown::<4, 256>::new());
    let first = pinned_probe("a", &journal);
    teardown.as_mut().push_inline("a", first).unwrap();
    let bad = hang("bad", &journal, true);
    teardown.as_mut().push_inline("bad", bad).unwrap();
    let last = hang("c", &journal, false);
    teardown.as_mut().push_inline("c", last).unwrap();
    {
        let mut run = teardown.as_mut().run();
        assert!(poll_once(&mut run).is_pending());
    }
    drop_panics(teardown);
    assert_eq!(journal.events(), ["dropped c", "dropped bad", "dropped a"]);
}

#[test]
fn inline_stack_polled_where_it_lies_is_dropped_there() {
    // Every callback polled once (a stage), so every one is pinned in place.
    let journal = Journal::new();
    let mut teardown = Box::pin(InlineTeardown::<4, 256>::new());
    {
        let mut stage = teardown.as_mut().stage();
        stage.push_inline("a", pinned_probe("a", &journal)).unwrap();
        stage
            .push_inline("bad", hang("bad", &journal, true))
            .unwrap();
        stage.push_inline("c", pinned_probe("c", &journal)).unwrap();
    }
    {
        let mut run = teardown.as_mut().run();
        assert!(poll_once(&mut run).is_pending());
    }
    drop_panics(teardown);
    assert_eq!(journal.events(), ["dropped c", "dropped bad", "dropped a"]);
}

#[test]
fn boxed_stack_dropped_unrun() {
    let journal = Journal::new();
    let mut teardown = Teardown::<4>::new();
    teardown.push("a", hang("a", &journal, false)).unwrap();
    teardown.push("bad", hang("bad", &journal, true)).unwrap();
    teardown.push("c", hang("c", &journal, false)).unwrap();
    drop_panics(teardown);
    assert_eq!(journal.events(), ["dropped c", "dropped bad", "dropped a"]);
}

#[test]
fn closures_never_called() {
    let journal = Journal::new();
    let mut teardown = Teardown::<4>::new();
    for (name, panics) in [("a", false), ("bad", true), ("c", false)] {
        let captured = guard(name, &journal, panics);
        teardown
            .push_fn(name, move || async move { drop(captured) })
            .unwrap();
    }
    drop_panics(teardown);
    assert_eq!(journal.events(), ["dropped c", "dropped bad", "dropped a"]);
}

#[test]
fn pinned_borrows_are_left_to_their_owner() {
    let journal = Journal::new();
    let mut below = Box::pin(pinned_probe("below", &journal));
    let mut between = Box::pin(pinned_probe("between", &journal));
    {
        let mut teardown = Teardown::<6>::new();
        teardown.push_pinned("below", below.as_mut()).unwrap();
        teardown.push("a", hang("a", &journal, false)).unwrap();
        teardown.push_pinned("between", between.as_mut()).unwrap();
        teardown.push("bad", hang("bad", &journal, true)).unwrap();
        teardown.push("c", hang("c", &journal, false)).unwrap();
        drop_panics(teardown);
    }
    assert_eq!(journal.events(), ["dropped c", "dropped bad", "dropped a"]);
    // Still the owner's, and still usable.
    assert!(poll_once(&mut between.as_mut()).is_pending());
    drop(between);
    drop(below);
    assert_eq!(
        journal.events()[3..],
        ["dropped between".to_string(), "dropped below".to_string()]
    );
}

#[test]
fn every_kind_on_one_inline_stack() {
    let journal = Journal::new();
    let mut borrowed = Box::pin(pinned_probe("borrowed", &journal));
    {
        let mut teardown = Box::pin(InlineTeardown::<6, 256>::new());
        let t = &mut teardown;
        t.as_mut()
            .push_inline("inline", hang("inline", &journal, false))
            .unwrap();
        t.as_mut()
            .push("boxed", hang("boxed", &journal, false))
            .unwrap();
        t.as_mut()
            .push_pinned("borrowed", borrowed.as_mut())
            .unwrap();
        let captured = guard("closure", &journal, false);
        t.as_mut()
            .push_fn("closure", move || async move { drop(captured) })
            .unwrap();
        t.as_mut()
            .push_inline("bad", hang("bad", &journal, true))
            .unwrap();
        t.as_mut()
            .push("top", hang("top", &journal, false))
            .unwrap();
        drop_panics(teardown);
    }
    assert_eq!(
        journal.events(),
        [
            "dropped top",
            "dropped bad",
            "dropped closure",
            "dropped boxed",
            "dropped inline"
        ]
    );
    drop(borrowed);
    assert_eq!(journal.events().len(), 6);
}

#[test]
fn a_large_stack_built_on_the_heap() {
    let journal = Journal::new();
    let mut teardown = Teardown::<64>::boxed();
    teardown.push("a", hang("a", &journal, false)).unwrap();
    teardown.push("bad", hang("bad", &journal, true)).unwrap();
    teardown.push("c", hang("c", &journal, false)).unwrap();
    drop_panics(teardown);
    assert_eq!(journal.events(), ["dropped c", "dropped bad", "dropped a"]);
}

#[test]
fn a_stage_dropped_unrun() {
    let journal = Journal::new();
    let mut teardown = Teardown::<6>::new();
    teardown
        .push("below", hang("below", &journal, false))
        .unwrap();
    {
        let mut stage = teardown.stage();
        stage.push("a", hang("a", &journal, false)).unwrap();
        stage.push("bad", hang("bad", &journal, true)).unwrap();
        stage.push("c", hang("c", &journal, false)).unwrap();
    }
    {
        // The stage started, all three pending.
        let mut run = teardown.run();
        assert!(poll_once(&mut run).is_pending());
    }
    drop_panics(teardown);
    assert_eq!(
        journal.events(),
        ["dropped c", "dropped bad", "dropped a", "dropped below"]
    );
}

#[test]
fn a_nested_stack_dropped_with_its_parent() {
    let journal = Journal::new();
    let mut child = Teardown::<4>::new();
    child.push("a", hang("a", &journal, false)).unwrap();
    child.push("bad", hang("bad", &journal, true)).unwrap();
    child.push("c", hang("c", &journal, false)).unwrap();
    let mut parent = Teardown::<4>::new();
    parent
        .push("after", done("after", &journal, false))
        .unwrap();
    parent.push("app", child.into_cleanup()).unwrap();
    {
        // The nested run starts, and waits on "c".
        let mut run = parent.run();
        assert!(poll_once(&mut run).is_pending());
    }
    drop_panics(parent);
    assert_eq!(
        journal.events(),
        ["dropped c", "dropped bad", "dropped a", "dropped after"]
    );
}

#[cfg(feature = "test-util")]
mod with_a_timer {
    use super::*;
    use teardown_stack::{InlineTeardown, Outcome, VirtualClock};

    fn outcomes(report: teardown_stack::Report<'_>) -> Vec<(String, Outcome<'_>)> {
        report
            .iter()
            .map(|r| (r.name().to_string(), r.outcome()))
            .collect()
    }

    #[test]
    fn a_nested_stack_cut_off_by_its_timeout() {
        let journal = Journal::new();
        let mut child = Teardown::<4>::new();
        child.push("a", hang("a", &journal, false)).unwrap();
        child.push("bad", hang("bad", &journal, true)).unwrap();
        child.push("c", hang("c", &journal, false)).unwrap();
        let clock = VirtualClock::new();
        let mut parent = Teardown::<4, _>::with_timer(clock.clone());
        parent
            .push("after", done("after", &journal, false))
            .unwrap();
        parent
            .push("app", child.into_cleanup())
            .unwrap()
            .timeout(Duration::from_secs(1));
        let report = clock.block_on(parent.run());
        let outcomes = outcomes(report);
        assert!(
            matches!(outcomes[0], (ref name, Outcome::TimedOut { .. }) if name == "app"),
            "{outcomes:?}"
        );
        assert!(outcomes[1].1.is_completed(), "{outcomes:?}");
        assert_eq!(
            journal.events(),
            ["dropped c", "dropped bad", "dropped a", "dropped after"]
        );
    }

    #[test]
    fn timed_out_and_skipped_callbacks_let_go_by_a_run() {
        let journal = Journal::new();
        let clock = VirtualClock::new();
        let mut teardown = Teardown::<6, _>::with_timer(clock.clone());
        teardown
            .push("skipped", hang("skipped", &journal, false))
            .unwrap();
        teardown
            .push("skipped bad", hang("skipped bad", &journal, true))
            .unwrap();
        teardown.push("a", hang("a", &journal, false)).unwrap();
        teardown.push("bad", hang("bad", &journal, true)).unwrap();
        let report = clock.block_on(teardown.run().within(Duration::from_secs(1)));
        let outcomes = outcomes(report);
        let names: Vec<_> = outcomes.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["bad", "a", "skipped bad", "skipped"]);
        assert!(matches!(outcomes[0].1, Outcome::TimedOut { .. }));
        assert!(matches!(
            outcomes[1].1,
            Outcome::Skipped | Outcome::TimedOut { .. }
        ));
        assert!(matches!(outcomes[2].1, Outcome::Skipped));
        assert!(matches!(outcomes[3].1, Outcome::Skipped));
        assert_eq!(
            journal.events(),
            [
                "dropped bad",
                "dropped a",
                "dropped skipped bad",
                "dropped skipped"
            ]
        );
        drop(teardown);
        assert_eq!(journal.events().len(), 4, "dropped once, not again");
    }

    #[test]
    fn a_stages_members_timed_out_inline() {
        let journal = Journal::new();
        let clock = VirtualClock::new();
        let mut teardown = Box::pin(InlineTeardown::<6, 256, _>::with_timer(clock.clone()));
        {
            let mut stage = teardown.as_mut().stage();
            for (name, panics) in [("a", false), ("bad", true), ("c", false)] {
                stage
                    .push_inline(name, hang(name, &journal, panics))
                    .unwrap()
                    .timeout(Duration::from_secs(1));
            }
        }
        let report = clock.block_on(teardown.as_mut().run());
        let outcomes = outcomes(report);
        assert_eq!(outcomes.len(), 3);
        for (_, outcome) in &outcomes {
            assert!(matches!(outcome, Outcome::TimedOut { .. }), "{outcomes:?}");
        }
        let mut events = journal.events();
        events.sort();
        assert_eq!(events, ["dropped a", "dropped bad", "dropped c"]);
        drop(teardown);
        assert_eq!(journal.events().len(), 3, "dropped once, not again");
    }
}

#[test]
fn a_scope_runs_the_stack_and_lets_everything_go() {
    let journal = Journal::new();
    let mut teardown = Teardown::<4>::new();
    let ended = futures_lite::future::block_on(teardown.scope(async |t| {
        t.push("a", done("a", &journal, false)).unwrap();
        t.push("bad", done("bad", &journal, true)).unwrap();
        t.push("c", done("c", &journal, false)).unwrap();
        Err::<(), _>("body failed")
    }));
    let released = ended.unwrap_err();
    assert_eq!(released.error, "body failed");
    let panicked: Vec<_> = released
        .report
        .iter()
        .filter(|r| matches!(r.outcome(), teardown_stack::Outcome::Panicked(_)))
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(panicked, ["bad"]);
    assert_eq!(journal.events(), ["dropped c", "dropped bad", "dropped a"]);
}

#[test]
fn a_scope_given_up_leaves_the_stack_to_drop_everything() {
    let journal = Journal::new();
    let mut teardown = Teardown::<4>::new();
    {
        let scope = teardown.scope(async |t| {
            t.push("a", hang("a", &journal, false)).unwrap();
            t.push("bad", hang("bad", &journal, true)).unwrap();
            t.push("c", hang("c", &journal, false)).unwrap();
            pending::<Result<(), ()>>().await
        });
        let mut scope = Box::pin(scope);
        assert!(poll_once(&mut scope).is_pending());
    }
    drop_panics(teardown);
    assert_eq!(journal.events(), ["dropped c", "dropped bad", "dropped a"]);
}

/// A second destructor panic while the first unwinds aborts, as std's
/// collections do: run in a child process of this test binary.
#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_second_panic_while_unwinding_aborts() {
    const CHILD: &str = "TEARDOWN_STACK_DOUBLE_PANIC";
    if std::env::var_os(CHILD).is_some() {
        let journal = Journal::new();
        let mut teardown = Teardown::<4>::new();
        teardown.push("a", hang("a", &journal, true)).unwrap();
        teardown.push("bad", hang("bad", &journal, true)).unwrap();
        let _ = catch_unwind(AssertUnwindSafe(|| drop(teardown)));
        // Not reached: the second panic aborts.
        std::process::exit(0);
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_second_panic_while_unwinding_aborts",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(6), "{status:?}: not aborted");
    }
    #[cfg(not(unix))]
    assert!(!status.success());
}
