//! Runs a lifecycle script on real stacks, step by step, checking the model.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use teardown_stack::{LocalTeardown, Shutdown, Timer, VirtualClock, VirtualSleep};

use super::model::{self, Kind, Node, check_finished_run, ended, may_hang, run_order};
use super::script::{BodyEnd, Interrupt, LifecycleScript, Part, Step};
use crate::harness::driver::quiet_probe_panics;
use crate::harness::probe::{Event, Probe, World, drop_panic_message, millis};
use crate::harness::{CAPACITY, NAMES};

type Stack = LocalTeardown<'static, CAPACITY, VirtualClock>;

/// A grace period given to a run that could otherwise wait forever on a
/// hung probe, so that every script ends.
const FALLBACK_GRACE_MS: u8 = 200;

/// The message of a body that panics (quiet, as the probes' panics are).
const BODY_PANIC: &str = "probe panic in a body";

/// The ids of the probes and nested stacks, one name each.
struct Ids(usize);

impl Ids {
    fn take(&mut self) -> Option<usize> {
        let id = self.0;
        (id < NAMES.len()).then(|| {
            self.0 += 1;
            id
        })
    }
}

/// Runs `script` and panics at the first broken promise.
pub fn run_lifecycle(script: &LifecycleScript) {
    quiet_probe_panics();
    let world = World::new();
    let mut ids = Ids(0);
    let mut stack = Stack::with_timer(world.clock.clone());
    let mut model: Vec<Node> = Vec::new();
    for step in &script.steps {
        match step {
            Step::Push(parts) => {
                let from = world.events().len();
                register_all(&mut stack, &mut model, parts, &world, &mut ids);
                assert_eq!(world.events()[from..], [], "a registration ran something");
            }
            Step::Scope {
                parts,
                end,
                grace_ms,
            } => scope(
                &mut stack, &mut model, parts, *end, *grace_ms, &world, &mut ids,
            ),
            Step::Build {
                parts,
                fail_after,
                panics,
                grace_ms,
            } => {
                let fail = fail_after.map(|k| (usize::from(k) % (parts.len() + 1), *panics));
                build(
                    &mut stack, &mut model, parts, fail, *grace_ms, &world, &mut ids,
                );
            }
            Step::Shutdown {
                grace_ms,
                interrupt,
            } => shutdown(&mut stack, &mut model, *grace_ms, *interrupt, &world),
            Step::Drop => {
                let old = std::mem::replace(&mut stack, Stack::with_timer(world.clock.clone()));
                drop_stack(old, &mut model, &world);
            }
        }
    }
    drop_stack(stack, &mut model, &world);
    world.join_threads();

    let events = world.events();
    for id in 0..ids.0 {
        let drops = events.iter().filter(|e| **e == Event::Dropped(id)).count();
        let probe = events
            .iter()
            .any(|e| matches!(e, Event::Started(i) | Event::Dropped(i) if *i == id));
        assert!(!probe || drops == 1, "p{id} dropped {drops} times");
    }
    assert!(
        !events.iter().any(|e| matches!(e, Event::Moved(_))),
        "a pinned callback moved: {events:?}"
    );
}

/// Registers `parts` on `stack` while it has room, noting them in `nodes`.
fn register_all(
    stack: &mut Stack,
    nodes: &mut Vec<Node>,
    parts: &[Part],
    world: &World,
    ids: &mut Ids,
) {
    for part in parts {
        if nodes.len() == CAPACITY {
            return;
        }
        if let Some(node) = register(stack, part, world, ids) {
            nodes.push(node);
        }
    }
}

/// Registers one part: a probe, or a nested stack of parts as one callback.
fn register(stack: &mut Stack, part: &Part, world: &World, ids: &mut Ids) -> Option<Node> {
    let id = ids.take()?;
    let name = NAMES[id];
    let refused = |refused: bool| assert!(!refused, "{name} refused by a stack with room");
    let kind = match part {
        Part::Leaf(leaf) => {
            let probe = Probe::new(id, leaf.behaviour, world).panicking_on_drop(leaf.drop_panics);
            if leaf.closure {
                refused(stack.push_fn(name, move || probe).is_err());
            } else {
                refused(stack.push(name, probe).is_err());
            }
            Kind::Leaf(*leaf)
        }
        Part::Nest { within_ms, parts } => {
            let mut child = Stack::with_timer(world.clock.clone());
            let mut children = Vec::new();
            register_all(&mut child, &mut children, parts, world, ids);
            if children.is_empty() {
                return None;
            }
            let within = within_ms.map(millis);
            refused(match within {
                Some(budget) => stack.push(name, child.into_cleanup_within(budget)).is_err(),
                None => stack.push(name, child.into_cleanup()).is_err(),
            });
            Kind::Nest { within, children }
        }
    };
    Some(Node { id, name, kind })
}

/// The grace a run gets: the script's, or one that ends a run that could
/// wait forever.
fn grace_for(grace_ms: Option<u8>, nodes: &[Node], parts_may_hang: bool) -> Option<u8> {
    grace_ms.or((may_hang(nodes) || parts_may_hang).then_some(FALLBACK_GRACE_MS))
}

/// Whether registering `parts` could add a probe that hangs unbounded.
fn parts_may_hang(parts: &[Part]) -> bool {
    parts.iter().any(|part| match part {
        Part::Leaf(leaf) => leaf.behaviour == crate::harness::Behaviour::Hang,
        Part::Nest { within_ms, parts } => within_ms.is_none() && parts_may_hang(parts),
    })
}

fn scope(
    stack: &mut Stack,
    model: &mut Vec<Node>,
    parts: &[Part],
    end: BodyEnd,
    grace_ms: Option<u8>,
    world: &World,
    ids: &mut Ids,
) {
    let grace = grace_for(grace_ms, model, parts_may_hang(parts));
    let from = world.events().len();
    let clock = world.clock.clone();
    let ended = catch_unwind(AssertUnwindSafe(|| {
        let body = async |t: &mut Stack| {
            register_all(t, model, parts, world, ids);
            match end {
                BodyEnd::Ok => Ok("value"),
                BodyEnd::Err => Err("body error"),
                BodyEnd::Panic => std::panic::panic_any(BODY_PANIC.to_string()),
            }
        };
        let ended = match grace {
            Some(ms) => clock.block_on(stack.scope_within(millis(ms), body)),
            None => clock.block_on(stack.scope(body)),
        };
        match ended {
            Ok((value, _)) => Ok(value),
            Err(released) => Err(released.error),
        }
    }));
    match (end, ended) {
        (BodyEnd::Ok, Ok(Ok("value"))) | (BodyEnd::Err, Ok(Err("body error"))) => {}
        (BodyEnd::Panic, Err(panic)) => check_payload(panic, BODY_PANIC),
        (end, other) => panic!("a scope whose body ended {end:?} returned {other:?}"),
    }
    // However the body ended, the whole stack ran.
    finished_run(stack, model, world, from, grace.is_some());
}

fn build(
    stack: &mut Stack,
    model: &mut Vec<Node>,
    parts: &[Part],
    fail: Option<(usize, bool)>,
    grace_ms: Option<u8>,
    world: &World,
    ids: &mut Ids,
) {
    let grace = grace_for(grace_ms, model, parts_may_hang(parts));
    let from = world.events().len();
    let clock = world.clock.clone();
    let built = catch_unwind(AssertUnwindSafe(|| {
        let body = async |t: &mut Stack| {
            let upto = fail.map_or(parts.len(), |(k, _)| k);
            register_all(t, model, &parts[..upto], world, ids);
            match fail {
                None => Ok("built"),
                Some((_, false)) => Err("build error"),
                Some((_, true)) => std::panic::panic_any(BODY_PANIC.to_string()),
            }
        };
        let built = match grace {
            Some(ms) => clock.block_on(stack.build_within(millis(ms), body)),
            None => clock.block_on(stack.build(body)),
        };
        built.map_err(|released| released.error)
    }));
    match (fail, built) {
        (None, Ok(Ok("built"))) => {
            // Nothing ran: the stack keeps what was built.
            assert_eq!(
                world.events()[from..],
                [],
                "a build that succeeded ran something"
            );
            assert_eq!(stack.len(), model.len());
            return;
        }
        (Some((_, false)), Ok(Err("build error"))) => {}
        (Some((_, true)), Err(panic)) => check_payload(panic, BODY_PANIC),
        (fail, other) => panic!("a build failing at {fail:?} returned {other:?}"),
    }
    finished_run(stack, model, world, from, grace.is_some());
}

/// After a run that finished: the stack is empty and its report is the
/// model's.
fn finished_run(stack: &Stack, model: &mut Vec<Node>, world: &World, from: usize, bounded: bool) {
    let ran = std::mem::take(model);
    assert!(
        stack.is_empty(),
        "{} callback(s) left after a finished run",
        stack.len()
    );
    check_finished_run(&ran, &stack.report(), &world.events(), from, bounded);
}

fn shutdown(
    stack: &mut Stack,
    model: &mut Vec<Node>,
    grace_ms: Option<u8>,
    interrupt: Interrupt,
    world: &World,
) {
    let never = matches!(interrupt, Interrupt::Never);
    let grace = grace_ms.or((never && may_hang(model)).then_some(FALLBACK_GRACE_MS));
    let from = world.events().len();
    let fired = Rc::new(Cell::new(None));
    let second = Second {
        interrupt,
        polls: 0,
        sleep: None,
        fired: Rc::clone(&fired),
        world: world.clone(),
    };
    let clock = world.clock.clone();
    let unfinished: Option<Vec<String>> = {
        let shutdown = match grace {
            Some(ms) => clock.block_on(stack.shutdown_within(millis(ms), second)),
            None => clock.block_on(stack.shutdown(second)),
        };
        match shutdown {
            Shutdown::Finished(_) => None,
            Shutdown::Interrupted { unfinished, .. } => {
                Some(unfinished.iter().map(|n| n.to_string()).collect())
            }
        }
    };
    let Some(unfinished) = unfinished else {
        return finished_run(stack, model, world, from, grace.is_some());
    };
    let events = world.events();
    let at = fired
        .get()
        .expect("interrupted, yet the interrupt never fired");
    // Nothing ran once the interrupt fired: the run was dropped on that
    // poll, and its callbacks stay registered.
    assert_eq!(events[at..], [], "events after the interrupt");
    let left: Vec<Node> = model
        .iter()
        .filter(|n| !ended(&events, n))
        .cloned()
        .collect();
    let expected: Vec<&str> = left.iter().rev().map(|n| n.name).collect();
    assert_eq!(
        unfinished, expected,
        "the interrupted run names what is left, in run order"
    );
    assert_eq!(
        stack.names().map(|n| n.to_string()).collect::<Vec<_>>(),
        expected
    );
    model::check_started_in_order(model, &events, from, true);
    *model = left;
}

/// Drops the stack: every probe it still owns is dropped once, in run
/// order, and the first destructor's panic reaches the caller.
fn drop_stack(stack: Stack, model: &mut Vec<Node>, world: &World) {
    let events = world.events();
    let from = events.len();
    let due: Vec<_> = run_order(model)
        .into_iter()
        .filter(|(id, _)| !model::dropped(&events, *id))
        .collect();
    let dropping = catch_unwind(AssertUnwindSafe(|| drop(stack)));
    model.clear();
    let seen: Vec<Event> = world.events()[from..]
        .iter()
        .filter(|e| !matches!(e, Event::DropPanicSpared(_) | Event::Moved(_)))
        .copied()
        .collect();
    let expected: Vec<Event> = due.iter().map(|(id, _)| Event::Dropped(*id)).collect();
    assert_eq!(
        seen, expected,
        "dropping the stack: what it owned, in run order"
    );
    match (dropping, due.iter().find(|(_, leaf)| leaf.drop_panics)) {
        (Ok(()), None) => {}
        (Err(panic), Some((id, _))) => check_payload(panic, &drop_panic_message(*id)),
        (dropping, first) => panic!("dropping the stack: {dropping:?}, first panicking {first:?}"),
    }
}

fn check_payload(panic: Box<dyn std::any::Any + Send>, expected: &str) {
    let message = panic.downcast_ref::<String>().map(String::as_str);
    assert_eq!(message, Some(expected), "another panic came out");
}

/// The second request to stop.
struct Second {
    interrupt: Interrupt,
    polls: u8,
    sleep: Option<VirtualSleep>,
    /// How many events there were when it fired.
    fired: Rc<Cell<Option<usize>>>,
    world: World,
}

impl Future for Second {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let ready = match this.interrupt {
            Interrupt::Never => false,
            Interrupt::AtPoll(k) => {
                this.polls += 1;
                this.polls > k % 8 || {
                    cx.waker().wake_by_ref();
                    false
                }
            }
            Interrupt::AtMillis(ms) => {
                let clock = &this.world.clock;
                let sleep = this.sleep.get_or_insert_with(|| clock.sleep(millis(ms)));
                Pin::new(sleep).poll(cx).is_ready()
            }
        };
        if !ready {
            return Poll::Pending;
        }
        this.fired.set(Some(this.world.events().len()));
        Poll::Ready(())
    }
}
