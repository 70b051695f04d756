//! A callback whose destructor panics once it has finished: the panic is
//! caught and named, a completion then counts as a panic, any other outcome
//! stays what it was (a failure keeps its error), the callback is dropped
//! once, and the callbacks below still run. Checked for owned callbacks,
//! boxed and inline, on each path a callback finishes by: alone on a stack
//! without a timer, in a stage, and on a stack with a timer.
#![cfg(feature = "std")]

mod common;

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use common::{DropToken, Drops, Journal, poll_noop};
use teardown_stack::{Clock, InlineTeardown, Outcome, Report, Teardown};

/// Ready at once with `output`; panics when dropped.
struct PanicsWhenDropped {
    output: Result<(), &'static str>,
    _token: DropToken,
}

impl Future for PanicsWhenDropped {
    type Output = Result<(), &'static str>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(self.output)
    }
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("drop failed");
    }
}

fn bomb(output: Result<(), &'static str>, drops: &Drops) -> PanicsWhenDropped {
    PanicsWhenDropped {
        output,
        _token: drops.token(),
    }
}

/// The report of a stack that ran, top first: "failing bomb", "bomb",
/// "after"; each bomb dropped once, and "after" ran.
fn check(report: Report<'_>, drops: &Drops, journal: &Journal) {
    let outcomes: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome()))
        .collect();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert_eq!(outcomes[0].0, "failing bomb");
    assert!(
        matches!(outcomes[0].1, Outcome::Failed(m) if m == "refused"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1].0, "bomb");
    assert!(
        matches!(outcomes[1].1, Outcome::Panicked(m) if m == "drop failed"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[2].0, "after");
    assert!(outcomes[2].1.is_completed(), "{outcomes:?}");
    assert_eq!(
        (report.completed(), report.failed(), report.panicked()),
        (1, 1, 1)
    );
    assert_eq!(drops.count(), 2);
    assert_eq!(journal.events(), ["after"]);
}

/// Registers, boxed, "after", "bomb" and "failing bomb", in that order.
fn push_three<R: Clock>(teardown: &mut Teardown<'_, 4, R>, drops: &Drops, journal: &Journal) {
    let j = journal.clone();
    teardown
        .push("after", async move { j.record("after") })
        .unwrap();
    teardown.push("bomb", bomb(Ok(()), drops)).unwrap();
    teardown
        .push("failing bomb", bomb(Err("refused"), drops))
        .unwrap();
}

#[test]
fn boxed_alone() {
    let (drops, journal) = (Drops::new(), Journal::new());
    let mut teardown = Teardown::<4>::new();
    push_three(&mut teardown, &drops, &journal);
    let (report, _) = poll_noop(teardown.run(), 1);
    check(report, &drops, &journal);
}

#[test]
fn inline_alone() {
    let (drops, journal) = (Drops::new(), Journal::new());
    {
        let mut teardown = pin!(InlineTeardown::<4, 64>::new());
        let j = journal.clone();
        let after = async move { j.record("after") };
        teardown.as_mut().push_inline("after", after).unwrap();
        teardown
            .as_mut()
            .push_inline("bomb", bomb(Ok(()), &drops))
            .unwrap();
        let failing = bomb(Err("refused"), &drops);
        teardown
            .as_mut()
            .push_inline("failing bomb", failing)
            .unwrap();
        let (report, _) = poll_noop(teardown.as_mut().run(), 1);
        check(report, &drops, &journal);
    }
    assert_eq!(drops.count(), 2, "dropped once, not again with the stack");
}

#[test]
fn boxed_after_a_stage() {
    let (drops, journal) = (Drops::new(), Journal::new());
    let mut teardown = Teardown::<4>::new();
    push_three(&mut teardown, &drops, &journal);
    // A stack that opened a stage runs its lone callbacks in the loop with
    // stage checks.
    teardown.stage().push("empty stage", async {}).unwrap();
    let (report, _) = poll_noop(teardown.run(), 1);
    let rest: Vec<_> = report
        .iter()
        .skip(1)
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(rest, ["failing bomb", "bomb", "after"]);
    assert_eq!(
        (report.completed(), report.failed(), report.panicked()),
        (2, 1, 1)
    );
    assert_eq!(drops.count(), 2);
}

#[test]
fn inline_in_a_stage() {
    let drops = Drops::new();
    let mut teardown = pin!(InlineTeardown::<4, 64>::new());
    {
        let mut stage = teardown.as_mut().stage();
        stage.push_inline("bomb", bomb(Ok(()), &drops)).unwrap();
        stage
            .push_inline("failing bomb", bomb(Err("refused"), &drops))
            .unwrap();
    }
    let (report, _) = poll_noop(teardown.as_mut().run(), 1);
    assert_eq!(
        (report.completed(), report.failed(), report.panicked()),
        (0, 1, 1)
    );
    assert_eq!(drops.count(), 2);
}

#[cfg(feature = "test-util")]
#[test]
fn boxed_with_a_timer() {
    let (drops, journal) = (Drops::new(), Journal::new());
    let mut teardown = Teardown::<4, _>::with_timer(teardown_stack::VirtualClock::new());
    push_three(&mut teardown, &drops, &journal);
    let (report, _) = poll_noop(teardown.run(), 1);
    check(report, &drops, &journal);
}
