//! Budgets, soft deadlines, critical callbacks and escalation, on the
//! virtual clock: a generated stack of `push_with` callbacks (some in
//! stages, some critical, some that hang, some that give up at their soft
//! signal), run with a deadline, a soft margin and up to two interrupts,
//! then checked against what the stack promises:
//!
//! - each callback is recorded (or left unfinished) exactly once;
//! - the budget a callback reads at its start is exactly the sooner of its
//!   own timeout and the run's deadline, less the reserve of the critical
//!   callbacks still to run for one that is not critical;
//! - no callback runs past that hard budget, and one cut is cut at it;
//! - the soft future fires at the soft deadline, never before, and the
//!   report marks exactly those that finished after it;
//! - a critical callback is never skipped while the reserve covers it;
//! - escalation drops only callbacks that are not critical, none starts
//!   after it, and the critical ones go on.

use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use futures_lite::stream::{self, Stream};
use teardown_stack::{Budget, Outcome, Shutdown, Teardown, Timer, Unfinished, VirtualClock, each};

use super::NAMES;

/// At most this many callbacks.
const MAX: usize = 6;

/// One callback of a budget script.
#[derive(Clone, Debug)]
pub struct Spec {
    /// How long its work takes (ms), unless it hangs.
    pub work: u64,
    pub hangs: bool,
    /// Its own timeout (ms).
    pub timeout: Option<u64>,
    pub critical: bool,
    /// Stops its work at the soft signal.
    pub cooperative: bool,
    /// Joins the stage of the callback registered before it.
    pub joined: bool,
}

/// A stack of budgeted callbacks and how it is run.
#[derive(Clone, Debug)]
pub struct BudgetScript {
    pub specs: Vec<Spec>,
    /// The run's deadline (ms).
    pub within: Option<u64>,
    /// The soft margin (ms).
    pub margin: Option<u64>,
    /// When the interrupts come (ms, ascending): the first escalates.
    pub interrupts: Vec<u64>,
}

impl BudgetScript {
    /// Decodes a script; `None` for input too short to make one.
    pub fn from_bytes(bytes: &[u8]) -> Option<BudgetScript> {
        let mut u = Unstructured::new(bytes);
        let count = u.int_in_range(1..=MAX).ok()?;
        let ms = |u: &mut Unstructured<'_>, max: u64| u.int_in_range(0..=max).map(|v| v * 100);
        let within = if bool::arbitrary(&mut u).ok()? {
            Some(ms(&mut u, 200).ok()?)
        } else {
            None
        };
        let margin = if bool::arbitrary(&mut u).ok()? {
            Some(ms(&mut u, 40).ok()?)
        } else {
            None
        };
        let mut interrupts = Vec::new();
        for _ in 0..u.int_in_range(0..=2).ok()? {
            interrupts.push(ms(&mut u, 200).ok()?);
        }
        interrupts.sort_unstable();
        let mut specs = Vec::new();
        for i in 0..count {
            let flags = u8::arbitrary(&mut u).ok()?;
            let timeout = if flags & 1 != 0 {
                Some(ms(&mut u, 80).ok()?.max(100))
            } else {
                None
            };
            let mut hangs = flags & 2 != 0;
            // Something must end a hang: its timeout or the run's deadline.
            if timeout.is_none() && within.is_none() {
                hangs = false;
            }
            specs.push(Spec {
                work: ms(&mut u, 80).ok()?,
                hangs,
                timeout,
                critical: flags & 4 != 0,
                cooperative: flags & 8 != 0,
                joined: i > 0 && flags & 16 != 0,
            });
        }
        Some(BudgetScript {
            specs,
            within,
            margin,
            interrupts,
        })
    }
}

/// What a callback saw while it ran, by its index.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    start: Option<Duration>,
    left: Option<Duration>,
    soft_deadline: Option<Duration>,
    soft_fired: Option<Duration>,
    finished: Option<Duration>,
}

type Journal = Arc<Mutex<Vec<Seen>>>;

/// Interrupts at the virtual times `at`.
fn interrupts_at(clock: &VirtualClock, at: Vec<u64>) -> impl Stream<Item = ()> + Unpin {
    let clock = clock.clone();
    Box::pin(stream::unfold(0, move |i| {
        let (clock, when) = (clock.clone(), at.get(i).copied());
        async move {
            let when = Duration::from_millis(when?);
            clock.sleep(when.saturating_sub(clock.now())).await;
            Some(((), i + 1))
        }
    }))
}

/// The callback of `spec`, number `i`, noting what it sees in `journal`.
fn callback(
    i: usize,
    spec: &Spec,
    clock: &VirtualClock,
    journal: &Journal,
) -> impl FnOnce(Budget<VirtualClock>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
+ Send
+ 'static {
    let (spec, clock, journal) = (spec.clone(), clock.clone(), journal.clone());
    move |budget| {
        Box::pin(async move {
            let now = clock.now();
            journal.lock().unwrap()[i] = Seen {
                start: Some(now),
                left: budget.left(),
                soft_deadline: budget.soft_deadline(),
                ..Seen::default()
            };
            let work = async {
                if spec.hangs {
                    pending::<()>().await;
                }
                clock.sleep(Duration::from_millis(spec.work)).await;
            };
            if spec.cooperative {
                let soft = async {
                    budget.soft().await;
                    journal.lock().unwrap()[i].soft_fired = Some(clock.now());
                };
                futures_lite::future::or(work, soft).await;
            } else {
                work.await;
            }
            journal.lock().unwrap()[i].finished = Some(clock.now());
        })
    }
}

/// Which stage each callback is in: the index of its stage's first member.
fn stage_of(specs: &[Spec]) -> Vec<usize> {
    let mut stages = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let stage = if spec.joined { stages[i - 1] } else { i };
        stages.push(stage);
    }
    stages
}

/// Runs `script` and checks every promise above.
pub fn run_budget_script(script: &BudgetScript) {
    let clock = VirtualClock::new();
    let journal: Journal = Arc::new(Mutex::new(vec![Seen::default(); script.specs.len()]));
    let stages = stage_of(&script.specs);
    let mut teardown = Teardown::<'static, 8, VirtualClock>::with_timer(clock.clone());
    let mut i = 0;
    while i < script.specs.len() {
        let end = (i + 1..script.specs.len())
            .find(|&j| stages[j] != stages[i])
            .unwrap_or(script.specs.len());
        let mut stage = teardown.stage();
        for (j, spec) in script.specs.iter().enumerate().take(end).skip(i) {
            let mut registered = stage
                .push_with(NAMES[j], callback(j, spec, &clock, &journal))
                .unwrap_or_else(|_| panic!("room for {MAX}"));
            if let Some(timeout) = spec.timeout {
                registered = registered.timeout(Duration::from_millis(timeout));
            }
            if spec.critical {
                registered.critical();
            }
        }
        i = end;
    }

    let mut run = teardown.run();
    if let Some(within) = script.within {
        run = run.within(Duration::from_millis(within));
    }
    if let Some(margin) = script.margin {
        run = run.soft_margin(Duration::from_millis(margin));
    }
    let shutdown =
        clock.block_on(run.or_interrupt(each(interrupts_at(&clock, script.interrupts.clone()))));
    let seen = journal.lock().unwrap().clone();
    check(script, &stages, &seen, &shutdown);
}

/// How a callback ended, as the report or the timeline says.
#[derive(Debug)]
enum Ended<'r> {
    Record(teardown_stack::Record<'r>),
    Unfinished(Unfinished<'r>),
}

fn check(script: &BudgetScript, stages: &[usize], seen: &[Seen], shutdown: &Shutdown<'_, 8>) {
    let specs = &script.specs;
    let ms = Duration::from_millis;
    let (report, unfinished): (_, Vec<Unfinished<'_>>) = match shutdown {
        Shutdown::Finished(report) => (*report, Vec::new()),
        Shutdown::Interrupted { timeline, .. } => {
            (timeline.report(), timeline.unfinished().collect())
        }
    };
    // Exactly once each.
    let mut ended: Vec<Option<Ended<'_>>> = (0..specs.len()).map(|_| None).collect();
    let index = |name: &str| {
        NAMES
            .iter()
            .position(|n| *n == name)
            .expect("a script name")
    };
    for record in report.iter() {
        let at = index(&record.name().to_string());
        assert!(ended[at].is_none(), "{} recorded twice", NAMES[at]);
        ended[at] = Some(Ended::Record(record));
    }
    for left in unfinished {
        let at = index(&left.name().to_string());
        assert!(ended[at].is_none(), "{} recorded and unfinished", NAMES[at]);
        ended[at] = Some(Ended::Unfinished(left));
    }
    // The first interrupt escalated if a record says so.
    let escalated_at = report
        .iter()
        .any(|r| r.is_escalated())
        .then(|| ms(script.interrupts[0]));

    for (i, spec) in specs.iter().enumerate() {
        let name = NAMES[i];
        let Some(how) = &ended[i] else {
            panic!("{name} neither recorded nor unfinished: {shutdown:#}");
        };
        let seen = seen[i];
        if let Ended::Record(record) = how {
            assert_eq!(record.is_critical(), spec.critical, "{name}");
            if record.is_escalated() {
                assert!(
                    !spec.critical,
                    "{name}: a critical callback was dropped by escalation"
                );
            }
            if spec.critical && !record.is_escalated() && record.outcome() == Outcome::Skipped {
                // Skipped only once the deadline passed.
                let covered = specs
                    .iter()
                    .filter(|s| s.critical)
                    .all(|s| s.timeout.is_some_and(|t| t > 0))
                    && script.within.is_some_and(|within| {
                        specs
                            .iter()
                            .filter(|s| s.critical)
                            .filter_map(|s| s.timeout)
                            .sum::<u64>()
                            <= within
                    });
                assert!(
                    !covered || escalated_at.is_some(),
                    "{name}: a critical callback skipped while the reserve covered it: {shutdown:#}"
                );
            }
        }
        let Some(start) = seen.start else {
            // Never started: skipped (by the deadline, the reserve or an
            // escalation) or unstarted when the run was given up.
            match how {
                Ended::Record(record) => assert_eq!(record.outcome(), Outcome::Skipped, "{name}"),
                Ended::Unfinished(left) => assert!(left.started().is_none(), "{name}"),
            }
            continue;
        };
        // The budget it read is the sooner of its own timeout and the run's
        // deadline, less the reserve below its stage for one not critical.
        let reserve: u64 = specs
            .iter()
            .enumerate()
            .filter(|(j, s)| stages[*j] < stages[i] && s.critical)
            .filter_map(|(_, s)| s.timeout)
            .sum();
        let run_limit = script.within.map(|within| {
            if spec.critical {
                ms(within)
            } else {
                ms(within).saturating_sub(ms(reserve))
            }
        });
        let own = spec.timeout.map(|t| start + ms(t));
        let hard = match (own, run_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        assert_eq!(
            seen.left,
            hard.map(|hard| hard.saturating_sub(start)),
            "{name}: the budget it read at {start:?}"
        );
        let soft = hard
            .zip(script.margin)
            .map(|(hard, m)| hard.saturating_sub(ms(m)));
        assert_eq!(seen.soft_deadline, soft, "{name}: its soft deadline");
        // The soft future fires at the soft deadline, not before.
        if let Some(fired) = seen.soft_fired {
            assert_eq!(
                Some(fired),
                soft.map(|soft| soft.max(start)),
                "{name}: soft fired"
            );
        }
        if let Some(escalated_at) = escalated_at {
            if !spec.critical {
                assert!(start <= escalated_at, "{name} started after the escalation");
            }
        }
        let Ended::Record(record) = how else {
            continue;
        };
        assert_eq!(record.started().map(|_| ()), Some(()), "{name} started");
        let elapsed = record.elapsed().expect("a timer");
        // Never past its hard budget.
        if let Some(hard) = hard {
            assert!(
                start + elapsed <= hard,
                "{name} ran past its hard deadline: {shutdown:#}"
            );
        }
        match record.outcome() {
            Outcome::TimedOut { budget } if record.is_escalated() => {
                assert_eq!(
                    Some(start + budget),
                    escalated_at,
                    "{name}: cut by escalation"
                );
            }
            Outcome::TimedOut { budget } => {
                assert_eq!(
                    Some(start + budget),
                    hard,
                    "{name}: cut at its hard deadline"
                );
                assert!(
                    !record.after_soft(),
                    "{name}: cut, not finished after its soft deadline"
                );
            }
            Outcome::Completed => {
                let finished = seen.finished.expect("a completed callback finished");
                assert_eq!(start + elapsed, finished, "{name}: its time");
                let after = soft.is_some_and(|soft| finished >= soft);
                assert_eq!(
                    record.after_soft(),
                    after,
                    "{name}: after its soft deadline"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}
