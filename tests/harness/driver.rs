//! Runs a script on the real stack, step by step, checking the model.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use teardown_stack::{Full, LocalTeardown, Report, VirtualClock};

use super::model::{Entry, Model};
use super::probe::{Event, Probe, World, millis};
use super::{CAPACITY, How, MAX_OPS, Mode, NAMES, Op, Registration, Script};

type Stack<'a> = LocalTeardown<'a, CAPACITY, VirtualClock>;

/// Runs `script` against the stack and panics at the first broken promise.
pub fn run_script(script: &Script, mode: Mode) {
    if script.ops.len() > MAX_OPS {
        return;
    }
    quiet_probe_panics();
    let logs = logs::install();
    let world = World::new();

    // Borrowed callbacks must outlive every stack: make them all up front.
    let mut ids = 0..;
    let registrations: Vec<(usize, Registration)> = script
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Register(r) => Some((ids.next().unwrap(), *r)),
            _ => None,
        })
        .collect();
    let mut arena: Vec<Pin<Box<Probe>>> = registrations
        .iter()
        .filter(|(_, r)| r.how == How::Borrowed)
        .map(|(id, r)| Box::pin(Probe::new(*id, r.behaviour, &world)))
        .collect();
    let mut borrowed: VecDeque<Pin<&mut Probe>> = arena.iter_mut().map(|p| p.as_mut()).collect();

    let mut stack = Stack::with_timer(world.clock.clone());
    let mut model = Model::default();
    let mut stages = 0..;
    let mut next = registrations.iter();
    let mut ops = script.ops.iter().peekable();
    while let Some(op) = ops.next() {
        match op {
            Op::Register(_) => {
                // This registration and the ones right after it that join.
                let mut group = vec![*next.next().unwrap()];
                while let Some(Op::Register(r)) = ops.peek() {
                    if !r.join_stage {
                        break;
                    }
                    ops.next();
                    group.push(*next.next().unwrap());
                }
                let stage = stages.next().unwrap();
                register_group(
                    &mut stack,
                    &mut model,
                    &world,
                    &mut borrowed,
                    &group,
                    stage,
                    mode,
                );
            }
            Op::Run {
                deadline_ms,
                drop_after_polls,
            } => {
                let deadline = deadline_ms.filter(|_| mode == Mode::Deadlines).map(millis);
                run(&mut stack, &mut model, &world, deadline, *drop_after_polls);
            }
            Op::DropStack => {
                let fresh = Stack::with_timer(world.clock.clone());
                drop_stack(std::mem::replace(&mut stack, fresh), &mut model, logs);
            }
        }
        check_stack_matches(&stack, &model);
    }
    drop_stack(stack, &mut model, logs);
    drop(borrowed);
    drop(arena);
    world.join_threads();

    // Nothing started twice, ever.
    let events = world.events();
    for event in &events {
        if let Event::Started(id) = event {
            let starts = events.iter().filter(|e| *e == event).count();
            assert_eq!(starts, 1, "callback {id} started {starts} times");
        }
    }
}

/// Registers a group: alone, or as the members of one stage.
fn register_group<'a>(
    stack: &mut Stack<'a>,
    model: &mut Model,
    world: &World,
    borrowed: &mut VecDeque<Pin<&'a mut Probe>>,
    group: &[(usize, Registration)],
    stage_number: usize,
    mode: Mode,
) {
    // Registers through `$sink` (the stack, or a stage of it).
    macro_rules! register {
        ($sink:expr, $id:expr, $r:expr) => {{
            let (id, r): (usize, Registration) = ($id, $r);
            let name = r.named.then(|| NAMES[id]);
            let full = model.is_full();
            let registered = match r.how {
                How::Boxed => $sink
                    .push(name, Probe::new(id, r.behaviour, world))
                    .map_err(|refused: Full<Probe>| {
                        check_refused(full, id, refused.into_inner().id)
                    }),
                How::Closure => {
                    // Made now and moved in, so that dropping the uncalled
                    // closure (skipped, or its stack dropped) is seen.
                    let probe = Probe::new(id, r.behaviour, world);
                    $sink
                        .push_fn(name, move || probe)
                        .map_err(|refused| check_refused(full, id, (refused.into_inner())().id))
                }
                How::Borrowed => {
                    let probe = borrowed.pop_front().expect("made up front");
                    $sink
                        .push_pinned(name, probe)
                        .map_err(|refused| check_refused(full, id, refused.into_inner().id))
                }
            };
            if let Ok(registered) = registered {
                assert!(!full, "registered {id} on a full stack");
                let timeout = r.timeout_ms.filter(|_| mode == Mode::Deadlines).map(millis);
                let registered = match timeout {
                    Some(timeout) => registered.timeout(timeout),
                    None => registered,
                };
                model.pending.push(Entry {
                    id,
                    shown: format!("{:?}", registered.name()),
                    name: registered.name().to_string(),
                    stage: stage_number,
                    borrowed: r.how == How::Borrowed,
                    behaviour: r.behaviour,
                    timeout,
                    started_within: None,
                });
            }
        }};
    }

    if let [(id, r)] = group {
        register!(stack, *id, *r);
    } else {
        let mut stage = stack.stage();
        for (id, r) in group {
            register!(stage, *id, *r);
        }
    }
}

/// A refusal must come from a full stack and hand back the very callback.
fn check_refused(full: bool, offered: usize, returned: usize) {
    assert!(full, "callback {offered} refused by a stack with room");
    assert_eq!(returned, offered, "the stack handed back another callback");
}

/// Runs the stack once, maybe with a deadline, maybe dropping the run after
/// some polls, and checks the outcome.
fn run(
    stack: &mut Stack<'_>,
    model: &mut Model,
    world: &World,
    deadline: Option<Duration>,
    drop_after_polls: Option<u8>,
) {
    let from = world.events.borrow().len();
    let mut run = stack.run();
    if let Some(deadline) = deadline {
        run = run.within(deadline);
    }
    let limit = drop_after_polls.map(|k| usize::from(k % 8));
    match drive(&mut run, world, limit) {
        Driven::Ready(report) => {
            drop(run);
            model.check_completed_run(&report, &world.events(), from, deadline);
        }
        Driven::Dropped => {
            drop(run);
            let listed: Vec<String> = stack.names().map(|n| n.to_string()).collect();
            model.forget_ended(&world.events()[from..], &listed, deadline);
        }
        Driven::Stuck => {
            drop(run);
            let events = world.events();
            model.check_stuck(&events, deadline);
            let listed: Vec<String> = stack.names().map(|n| n.to_string()).collect();
            model.forget_ended(&events[from..], &listed, deadline);
        }
    }
}

enum Driven {
    Ready(Box<Report<CAPACITY>>),
    /// Dropped after the script's number of polls.
    Dropped,
    /// Pending, with nothing left that could wake it.
    Stuck,
}

/// Polls `run` like an executor whose only clock is virtual: when nothing
/// else can make progress, time jumps to the next deadline.
fn drive<'r, F: Future<Output = &'r Report<CAPACITY>> + Unpin>(
    run: &mut F,
    world: &World,
    limit: Option<usize>,
) -> Driven {
    let woken = Arc::new(Flag::new());
    let waker = Waker::from(Arc::clone(&woken));
    let mut cx = Context::from_waker(&waker);
    for polls in 0.. {
        if limit == Some(polls) {
            return Driven::Dropped;
        }
        assert!(polls < 100_000, "the run never finished");
        woken.take();
        if let Poll::Ready(report) = Pin::new(&mut *run).poll(&mut cx) {
            return Driven::Ready(Box::new(report.clone()));
        }
        if woken.take() {
            continue;
        }
        // Other threads first: virtual time passes only when nothing else can
        // make progress.
        if woken.wait_while(|| world.outstanding.load(Ordering::Acquire) > 0) {
            continue;
        }
        if world.clock.advance_to_next().is_some() {
            continue;
        }
        return Driven::Stuck;
    }
    unreachable!()
}

/// A waker that records it was woken and unparks the driver.
struct Flag {
    woken: AtomicBool,
    thread: std::thread::Thread,
}

impl Flag {
    fn new() -> Self {
        Flag {
            woken: AtomicBool::new(false),
            thread: std::thread::current(),
        }
    }

    fn take(&self) -> bool {
        self.woken.swap(false, Ordering::AcqRel)
    }

    /// Waits while `busy()` for a wake; whether one came.
    fn wait_while(&self, busy: impl Fn() -> bool) -> bool {
        let give_up = Instant::now() + Duration::from_secs(10);
        while busy() || self.woken.load(Ordering::Acquire) {
            if self.take() {
                return true;
            }
            assert!(Instant::now() < give_up, "a promised wake never came");
            std::thread::park_timeout(Duration::from_millis(1));
        }
        self.take()
    }
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// The stack's own view must match the model's after every step.
fn check_stack_matches(stack: &Stack<'_>, model: &Model) {
    assert_eq!(stack.len(), model.pending.len(), "len");
    assert_eq!(stack.is_full(), model.is_full(), "is_full");
    assert_eq!(stack.is_empty(), model.pending.is_empty(), "is_empty");
    let names: Vec<String> = stack.names().map(|n| n.to_string()).collect();
    assert_eq!(names, model.names_top_first(), "names");
}

/// Drops a stack; its unfinished callbacks must be named in one warning.
fn drop_stack(stack: Stack<'_>, model: &mut Model, logs: bool) {
    logs::take();
    drop(stack);
    let dropped = std::mem::take(&mut model.pending);
    if !logs {
        return;
    }
    let warnings = logs::take();
    if dropped.is_empty() {
        assert!(warnings.is_empty(), "{warnings:?}");
        return;
    }
    let names: Vec<&str> = dropped.iter().rev().map(|e| e.shown.as_str()).collect();
    let expected = format!(
        "teardown stack dropped with {} callback(s) never finished: {}",
        dropped.len(),
        names.join(", ")
    );
    assert_eq!(warnings, [expected]);
}

/// Keeps the default panic hook quiet for the probes' own panics.
fn quiet_probe_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let probe = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with("probe panic "));
            if !probe {
                default(info);
            }
        }));
    });
}

/// Captures the crate's warnings on this thread.
mod logs {
    use super::*;

    thread_local! {
        static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.level() <= log::Level::Warn
        }

        fn log(&self, record: &log::Record<'_>) {
            if record.target() == "teardown_stack" && record.level() <= log::Level::Warn {
                let line = record.args().to_string();
                LINES.with(|lines| lines.borrow_mut().push(line));
            }
        }

        fn flush(&self) {}
    }

    static CAPTURE: Capture = Capture;

    /// Installs the capture unless another logger is there; whether ours is.
    pub fn install() -> bool {
        static OURS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *OURS.get_or_init(|| {
            let ours = log::set_logger(&CAPTURE).is_ok();
            if ours {
                log::set_max_level(log::LevelFilter::Warn);
            }
            ours
        })
    }

    /// The warnings (not errors) captured since the last call.
    pub fn take() -> Vec<String> {
        LINES.with(|lines| {
            lines
                .borrow_mut()
                .drain(..)
                .filter(|line| line.starts_with("teardown stack dropped"))
                .collect()
        })
    }
}
