//! Runs a script on the real stack, step by step, checking the model.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use teardown_stack::{Full, InlineError, LocalInlineTeardown, LocalTeardown, Report, VirtualClock};

use super::model::{Entry, Model, RunTiming};
use super::probe::{Big, Event, Probe, SLOT, World, drop_panic_message, millis};
use super::{CAPACITY, How, MAX_OPS, Mode, NAMES, Op, Registration, Script, StackKind};

type PlainStack<'a> = LocalTeardown<'a, CAPACITY, VirtualClock>;
type InlineStack<'a> = LocalInlineTeardown<'a, CAPACITY, SLOT, VirtualClock>;

/// The stack a script runs on. The inline one is pinned in a box: it must not
/// move once a callback in it was polled. The plain one is not boxed, as
/// before.
#[allow(clippy::large_enum_variant)]
enum Stack<'a> {
    Plain(PlainStack<'a>),
    Inline(Pin<Box<InlineStack<'a>>>),
}

impl<'a> Stack<'a> {
    fn new(kind: StackKind, world: &World) -> Self {
        match kind {
            StackKind::Plain => Stack::Plain(PlainStack::with_timer(world.clock.clone())),
            StackKind::Inline => {
                Stack::Inline(Box::pin(InlineStack::with_timer(world.clock.clone())))
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Stack::Plain(stack) => stack.len(),
            Stack::Inline(stack) => stack.len(),
        }
    }

    fn is_full(&self) -> bool {
        match self {
            Stack::Plain(stack) => stack.is_full(),
            Stack::Inline(stack) => stack.is_full(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Stack::Plain(stack) => stack.is_empty(),
            Stack::Inline(stack) => stack.is_empty(),
        }
    }

    /// The report of the last run, read back from the stack.
    fn report(&self) -> Report<'_> {
        match self {
            Stack::Plain(stack) => stack.report(),
            Stack::Inline(stack) => stack.report(),
        }
    }

    fn names(&self) -> Vec<String> {
        match self {
            Stack::Plain(stack) => stack.names().map(|n| n.to_string()).collect(),
            Stack::Inline(stack) => stack.names().map(|n| n.to_string()).collect(),
        }
    }
}

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
        .filter(|(_, r)| how_on(script.stack, r.how) == How::Borrowed)
        .map(|(id, r)| Box::pin(Probe::new(*id, r.behaviour, &world)))
        .collect();
    let mut borrowed: VecDeque<Pin<&mut Probe>> = arena.iter_mut().map(|p| p.as_mut()).collect();

    let mut stack = Stack::new(script.stack, &world);
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
                let fresh = Stack::new(script.stack, &world);
                drop_stack(
                    std::mem::replace(&mut stack, fresh),
                    &mut model,
                    &world,
                    logs,
                );
            }
        }
        check_stack_matches(&stack, &model);
    }
    drop_stack(stack, &mut model, &world, logs);
    drop(borrowed);
    drop(arena);
    world.join_threads();

    // Nothing started twice, ever; every probe made, registered or handed
    // back, was dropped exactly once.
    let events = world.events();
    for event in &events {
        if let Event::Started(id) = event {
            let starts = events.iter().filter(|e| *e == event).count();
            assert_eq!(starts, 1, "callback {id} started {starts} times");
        }
    }
    if let Some(moved) = events.iter().find(|e| matches!(e, Event::Moved(_))) {
        panic!("a callback was moved after it was first polled: {moved:?}");
    }
    for (id, _) in &registrations {
        let drops = events.iter().filter(|e| **e == Event::Dropped(*id)).count();
        assert_eq!(drops, 1, "callback {id} dropped {drops} times");
    }
}

/// How a registration registers on a stack of this kind.
fn how_on(kind: StackKind, how: How) -> How {
    match kind {
        StackKind::Plain => how.fallback(),
        StackKind::Inline => how,
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
    // Registers through `$sink` (the stack, or a stage of it); `$inline!`
    // registers the inline kinds, on a sink that has them.
    macro_rules! register {
        ($sink:expr, $id:expr, $r:expr, $how:expr, $inline:ident) => {{
            let (id, r, how): (usize, Registration, How) = ($id, $r, $how);
            let name = r.named.then(|| NAMES[id]);
            let full = model.is_full();
            let registered = match how {
                How::Boxed => $sink
                    .push(name, owned_probe(id, r, world))
                    .map_err(|refused: Full<Probe>| check_refused(full, id, refused.into_inner())),
                How::Closure => {
                    // Made now and moved in, so that dropping the uncalled
                    // closure (skipped, or its stack dropped) is seen.
                    let probe = owned_probe(id, r, world);
                    $sink
                        .push_fn(name, move || probe)
                        .map_err(|refused| check_refused(full, id, (refused.into_inner())()))
                }
                How::Borrowed => {
                    let probe = borrowed.pop_front().expect("made up front");
                    $sink
                        .push_pinned(name, probe)
                        .map_err(|refused| check_refused_id(full, id, refused.into_inner().id))
                }
                How::Inline | How::TryInline | How::TooBig => {
                    $inline!($sink, id, r, how, name, full)
                }
            };
            if let Ok(registered) = registered {
                assert!(!full, "registered {id} on a full stack");
                let timeout = r.timeout_ms.filter(|_| mode == Mode::Deadlines).map(millis);
                let registered = match timeout {
                    Some(timeout) => registered.timeout(timeout),
                    None => registered,
                };
                model.push(Entry {
                    id,
                    shown: format!("{:?}", registered.name()),
                    name: registered.name().to_string(),
                    stage: stage_number,
                    borrowed: how == How::Borrowed,
                    drop_panics: r.drop_panics && how != How::Borrowed,
                    inline: matches!(how, How::Inline | How::TryInline),
                    behaviour: r.behaviour,
                    timeout,
                });
            }
        }};
    }

    macro_rules! no_inline {
        ($sink:expr, $id:expr, $r:expr, $how:expr, $name:expr, $full:expr) => {
            unreachable!("{:?} on a plain stack", $how)
        };
    }

    macro_rules! inline {
        ($sink:expr, $id:expr, $r:expr, $how:expr, $name:expr, $full:expr) => {{
            let (id, r, name, full): (usize, Registration, Option<&'static str>, bool) =
                ($id, $r, $name, $full);
            match $how {
                How::Inline => $sink
                    .push_inline(name, owned_probe(id, r, world))
                    .map_err(|refused: Full<Probe>| check_refused(full, id, refused.into_inner())),
                How::TryInline => $sink
                    .try_push_inline(name, owned_probe(id, r, world))
                    .map_err(|refused| match refused {
                        InlineError::Full(refused) => check_refused(full, id, refused.into_inner()),
                        InlineError::DoesNotFit { size, slot, .. } => {
                            panic!("a probe of {size} bytes does not fit a slot of {slot}")
                        }
                    }),
                _ => {
                    let before = $sink.len();
                    let events = world.events.borrow().len();
                    let big = match $sink.try_push_inline(name, Big::new(owned_probe(id, r, world)))
                    {
                        Ok(_) => {
                            panic!("{id}: a future larger than its slot was registered inline")
                        }
                        Err(InlineError::DoesNotFit {
                            callback,
                            size,
                            align,
                            slot,
                        }) => {
                            assert_eq!(
                                (size, align, slot),
                                (
                                    std::mem::size_of::<Big>(),
                                    std::mem::align_of::<Big>(),
                                    SLOT
                                )
                            );
                            callback
                        }
                        // Both apply: which one the stack names is its choice.
                        Err(InlineError::Full(refused)) if full => refused.into_inner(),
                        Err(InlineError::Full(_)) => {
                            panic!("{id}: refused as full by a stack with room")
                        }
                    };
                    assert_eq!(big.probe.id, id, "the stack handed back another callback");
                    assert_eq!(
                        $sink.len(),
                        before,
                        "{id}: a refused callback was registered"
                    );
                    assert_eq!(
                        world.events.borrow().len(),
                        events,
                        "{id}: the stack touched a refused callback"
                    );
                    // Too big for a slot: box it instead.
                    $sink.push(name, big).map_err(|refused: Full<Big>| {
                        check_refused(full, id, refused.into_inner().probe)
                    })
                }
            }
        }};
    }

    match stack {
        Stack::Plain(stack) => {
            let how = |r: &Registration| how_on(StackKind::Plain, r.how);
            if let [(id, r)] = group {
                register!(stack, *id, *r, how(r), no_inline);
            } else {
                let mut stage = stack.stage();
                for (id, r) in group {
                    register!(stage, *id, *r, how(r), no_inline);
                }
            }
        }
        Stack::Inline(stack) => {
            if let [(id, r)] = group {
                register!(stack.as_mut(), *id, *r, r.how, inline);
            } else {
                let mut stage = stack.as_mut().stage();
                for (id, r) in group {
                    register!(stage, *id, *r, r.how, inline);
                }
            }
        }
    }
}

/// A probe the stack may own: its destructor panics if the registration
/// says so.
fn owned_probe(id: usize, r: Registration, world: &World) -> Probe {
    Probe::new(id, r.behaviour, world).panicking_on_drop(r.drop_panics)
}

/// A refusal must come from a full stack and hand back the very callback,
/// which the script then drops (quietly: it is not the stack's to drop).
fn check_refused(full: bool, offered: usize, mut returned: Probe) {
    returned.disarm();
    check_refused_id(full, offered, returned.id);
}

/// [`check_refused`] of a borrowed callback, by its id.
fn check_refused_id(full: bool, offered: usize, returned: usize) {
    assert!(full, "callback {offered} refused by a stack with room");
    assert_eq!(returned, offered, "the stack handed back another callback");
}

/// Runs the stack once, maybe with a deadline, maybe giving the run up after
/// some polls (`drop_after_polls`: the low three bits count the polls; bit 3
/// set forgets the run instead of dropping it), and checks the outcome.
fn run(
    stack: &mut Stack<'_>,
    model: &mut Model,
    world: &World,
    deadline: Option<Duration>,
    drop_after_polls: Option<u8>,
) {
    let from = world.events.borrow().len();
    let limit = drop_after_polls.map(|k| usize::from(k % 8));
    // Miri would report the forgotten run as leaked memory: drop it there.
    let forget = drop_after_polls.is_some_and(|k| k & 8 != 0) && !cfg!(miri);
    let began = world.clock.now();
    model.start_run();
    // The run is given up at the end of its arm, unless it completed.
    let driven = match stack {
        Stack::Plain(stack) => {
            let mut run = stack.run().notice_every(notice(deadline));
            if let Some(deadline) = deadline {
                run = run.within(deadline);
            }
            let driven = drive(&mut run, world, limit);
            abandon(run, forget);
            driven
        }
        Stack::Inline(stack) => {
            let mut run = stack.as_mut().run().notice_every(notice(deadline));
            if let Some(deadline) = deadline {
                run = run.within(deadline);
            }
            let driven = drive(&mut run, world, limit);
            abandon(run, forget);
            driven
        }
    };
    let before = model.pending.clone();
    match driven {
        Driven::Ready(len) => {
            let timing = RunTiming {
                began,
                deadline,
                world,
            };
            let report = stack.report();
            assert_eq!(report.len(), len, "the run's report and the stack's differ");
            model.check_completed_run(&report, &world.events(), from, &timing);
            return;
        }
        Driven::Dropped => {
            model.forget_ended(&world.events()[from..], &stack.names());
        }
        Driven::Stuck => {
            let events = world.events();
            model.check_stuck(&events, deadline);
            model.forget_ended(&events[from..], &stack.names());
        }
    }
    let ended = before
        .into_iter()
        .filter(|e| !model.pending.iter().any(|p| p.id == e.id))
        .collect();
    model.keep_room(ended);
}

/// Gives up a run: drops it, or forgets it (its destructor never runs, as
/// `mem::forget` allows in safe code). A forgotten run's memory is kept
/// reachable here, so that a leak checker does not report what the script
/// leaked on purpose; past [`GRAVEYARD_LIMIT`] runs it is dropped instead.
fn abandon<T>(run: T, forget: bool) {
    static GRAVEYARD: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    const GRAVEYARD_LIMIT: usize = 100_000;
    let mut graveyard = GRAVEYARD.lock().unwrap_or_else(|e| e.into_inner());
    if forget && graveyard.len() < GRAVEYARD_LIMIT {
        graveyard.push(Box::into_raw(Box::new(run)) as usize);
    }
}

enum Driven {
    /// Completed, with a report of this many records.
    Ready(usize),
    /// Dropped after the script's number of polls.
    Dropped,
    /// Pending, with nothing left that could wake it.
    Stuck,
}

/// The still-waiting line of a run: every few milliseconds when the run has
/// a deadline, so that its wake-ups mix with the callbacks' and must change
/// nothing they do; off without, where it would keep a hung run's clock
/// moving forever and hide that the run is stuck.
fn notice(deadline: Option<Duration>) -> Option<Duration> {
    deadline.map(|_| Duration::from_millis(7))
}

/// Polls `run` like an executor whose only clock is virtual: when nothing
/// else can make progress, time jumps to the next deadline.
fn drive<'r, F: Future<Output = Report<'r>> + Unpin>(
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
            return Driven::Ready(report.len());
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
    assert_eq!(stack.names(), model.names_top_first(), "names");
}

/// Drops a stack; its unfinished callbacks must be named in one warning,
/// and the ones it owns dropped then, last registered first.
///
/// A destructor that panics there does not stop the others: every owned
/// callback is still dropped, in order, and then the first panic (of the
/// last registered callback whose destructor panics) reaches the caller.
fn drop_stack(stack: Stack<'_>, model: &mut Model, world: &World, logs: bool) {
    logs::take();
    let from = world.events.borrow().len();
    let dropping = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(stack)));
    let dropped = model.clear();
    let owned: Vec<Event> = dropped
        .iter()
        .rev()
        .filter(|e| !e.borrowed)
        .map(|e| Event::Dropped(e.id))
        .collect();
    // A move is reported at the end of the script.
    let events: Vec<Event> = world.events.borrow()[from..]
        .iter()
        .filter(|e| !matches!(e, Event::Moved(_) | Event::DropPanicSpared(_)))
        .copied()
        .collect();
    assert_eq!(
        events, owned,
        "dropping the stack did not drop what it owned, last registered first"
    );
    let first_panic = dropped.iter().rev().find(|e| e.drop_panics);
    match (dropping, first_panic) {
        (Ok(()), None) => {}
        (Err(panic), Some(entry)) => {
            let message = panic.downcast_ref::<String>().cloned();
            assert_eq!(
                message,
                Some(drop_panic_message(entry.id)),
                "dropping the stack went on with another panic than the first"
            );
        }
        (Ok(()), Some(entry)) => panic!(
            "{}'s destructor panicked while its stack dropped, and the panic was lost",
            entry.name
        ),
        (Err(_), None) => panic!("dropping the stack panicked, and no destructor did"),
    }
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
pub(crate) fn quiet_probe_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let probe = info.payload().downcast_ref::<String>().is_some_and(|m| {
                m.starts_with("probe panic ") || m.starts_with("probe drop panic ")
            });
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
