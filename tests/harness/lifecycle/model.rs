//! The model of a lifecycle script: the tree of what is registered, and the
//! checks of each step against what the lifecycle layer promises.

use std::time::Duration;

use teardown_stack::{Outcome, Report};

use super::script::Leaf;
use crate::harness::Behaviour;
use crate::harness::probe::{Event, drop_panic_message, panic_message};

/// A registered callback, as the model sees it.
#[derive(Clone, Debug)]
pub struct Node {
    /// The probe's id for a leaf; for a nested stack, only its name's.
    pub id: usize,
    pub name: &'static str,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
pub enum Kind {
    Leaf(Leaf),
    /// A nested stack: its children in registration order.
    Nest {
        within: Option<Duration>,
        children: Vec<Node>,
    },
}

/// The probes under `nodes`, in the order a run reaches them: last
/// registered first, a nested stack's in its own order where it stands.
pub fn run_order(nodes: &[Node]) -> Vec<(usize, Leaf)> {
    let mut leaves = Vec::new();
    for node in nodes.iter().rev() {
        match &node.kind {
            Kind::Leaf(leaf) => leaves.push((node.id, *leaf)),
            Kind::Nest { children, .. } => leaves.extend(run_order(children)),
        }
    }
    leaves
}

/// Whether a run of `nodes` with no deadline could wait forever: a hung
/// probe outside every nested stack that has a budget of its own.
pub fn may_hang(nodes: &[Node]) -> bool {
    nodes.iter().any(|node| match &node.kind {
        Kind::Leaf(leaf) => leaf.behaviour == Behaviour::Hang,
        Kind::Nest { within, children } => within.is_none() && may_hang(children),
    })
}

/// Whether some nested stack under `nodes` has a budget: its probes may
/// then time out or be skipped even in a run with none.
pub fn has_budget(nodes: &[Node]) -> bool {
    nodes.iter().any(|node| match &node.kind {
        Kind::Leaf(_) => false,
        Kind::Nest { within, children } => within.is_some() || has_budget(children),
    })
}

pub fn started(events: &[Event], id: usize) -> bool {
    events.contains(&Event::Started(id))
}

pub fn finished(events: &[Event], id: usize) -> bool {
    events.contains(&Event::Finished(id))
}

pub fn dropped(events: &[Event], id: usize) -> bool {
    events.contains(&Event::Dropped(id))
}

/// Whether a probe is done with: it ended, or was let go.
fn leaf_ended(events: &[Event], id: usize) -> bool {
    events.iter().any(
        |e| matches!(e, Event::Finished(i) | Event::Panicking(i) | Event::Dropped(i) if *i == id),
    )
}

/// Whether the callback is done with: a probe that ended, or a nested
/// stack all of whose probes did.
pub fn ended(events: &[Event], node: &Node) -> bool {
    match &node.kind {
        Kind::Leaf(_) => leaf_ended(events, node.id),
        Kind::Nest { children, .. } => children.iter().all(|c| ended(events, c)),
    }
}

/// Whether the callback completed: a probe that returned `Ok` and whose
/// destructor did not panic, or a nested stack all of whose callbacks did.
pub fn clean(events: &[Event], node: &Node) -> bool {
    match &node.kind {
        Kind::Leaf(leaf) => {
            finished(events, node.id)
                && !matches!(leaf.behaviour, Behaviour::Fail | Behaviour::Panic)
                && !leaf.drop_panics
        }
        Kind::Nest { children, .. } => children.iter().all(|c| clean(events, c)),
    }
}

/// Checks a run that finished: `ran` is what was pending when it began,
/// `events[from..]` what happened during it, `bounded` whether it had a
/// deadline.
pub fn check_finished_run(
    ran: &[Node],
    report: &Report<'_>,
    events: &[Event],
    from: usize,
    bounded: bool,
) {
    // Every pending callback, once each, in run order (last registered
    // first): each runs alone, so the order they ended in.
    let reported: Vec<String> = report.iter().map(|r| r.name().to_string()).collect();
    let expected: Vec<&str> = ran.iter().rev().map(|n| n.name).collect();
    assert_eq!(reported, expected, "report {report}");

    for (record, node) in report.iter().zip(ran.iter().rev()) {
        check_outcome(node, &record.outcome(), events, bounded);
    }

    // Every probe it owned was dropped by the time it finished.
    for (id, _) in run_order(ran) {
        assert!(dropped(events, id), "p{id} not dropped by a finished run");
    }

    check_started_in_order(ran, events, from, bounded || has_budget(ran));
}

/// The probes started in `events[from..]` started in run order, each alone
/// (the one before had ended); without any deadline, every probe not
/// started before did.
pub fn check_started_in_order(ran: &[Node], events: &[Event], from: usize, bounded: bool) {
    let (before, during) = events.split_at(from);
    let due: Vec<usize> = run_order(ran)
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| !started(before, *id))
        .collect();
    let mut starts = Vec::new();
    for (at, event) in during.iter().enumerate() {
        if let Event::Started(id) = event {
            for earlier in &starts {
                assert!(
                    leaf_ended(&during[..at], *earlier),
                    "p{id} started while p{earlier} still ran"
                );
            }
            starts.push(*id);
        }
    }
    let mut rest = due.iter();
    for id in &starts {
        assert!(
            rest.any(|due| due == id),
            "started {starts:?}, out of run order {due:?}"
        );
    }
    if !bounded {
        assert_eq!(starts, due, "with no deadline, every pending probe runs");
    }
}

/// Checks how one callback ended against what it does.
fn check_outcome(node: &Node, outcome: &Outcome<'_>, events: &[Event], bounded: bool) {
    let name = node.name;
    let id = node.id;
    match &node.kind {
        Kind::Leaf(leaf) => match outcome {
            Outcome::TimedOut { .. } => assert!(
                bounded && started(events, id) && !finished(events, id),
                "{name} ({leaf:?}) timed out"
            ),
            Outcome::Skipped => {
                assert!(bounded && !started(events, id), "{name} skipped")
            }
            ended => {
                assert!(finished(events, id) || leaf.behaviour == Behaviour::Panic);
                let (expected, text) = match leaf.behaviour {
                    Behaviour::Fail => ("failed", format!("fail {id}")),
                    Behaviour::Panic => ("panicked", panic_message(id)),
                    Behaviour::Hang => panic!("{name} hangs, yet ended: {ended:?}"),
                    _ if leaf.drop_panics => ("panicked", drop_panic_message(id)),
                    _ => ("completed", String::new()),
                };
                let (seen, message) = match ended {
                    Outcome::Completed => ("completed", String::new()),
                    Outcome::Failed(m) => ("failed", m.as_str().to_string()),
                    Outcome::Panicked(m) => ("panicked", m.as_str().to_string()),
                    other => panic!("{name}: unknown outcome {other:?}"),
                };
                assert_eq!((seen, message), (expected, text), "{name} ({leaf:?})");
            }
        },
        Kind::Nest { children, .. } => match outcome {
            Outcome::Completed => assert!(clean(events, node), "{name} completed, yet not clean"),
            Outcome::Failed(message) => {
                assert!(!clean(events, node), "{name} failed, yet clean");
                let completed = children.iter().filter(|c| clean(events, c)).count();
                let counts = format!("; {completed} of {} completed", children.len());
                assert!(
                    message.as_str().ends_with(&counts),
                    "{name}: {message} (expected it to end with {counts:?})"
                );
            }
            Outcome::TimedOut { .. } => assert!(bounded, "{name} timed out with no deadline"),
            Outcome::Skipped => {
                let any = run_order(children)
                    .iter()
                    .any(|(id, _)| started(events, *id));
                assert!(bounded && !any, "{name} skipped");
            }
            other => panic!("{name}: a nested stack ended with {other:?}"),
        },
    }
}
