//! The model: what the stack holds, and the checks of each run against the
//! stack's promises.

use std::collections::HashMap;
use std::time::Duration;

use teardown_stack::{Outcome, Report};

use super::probe::{Event, drop_panic_message, millis, panic_message};
use super::{Behaviour, CAPACITY};

/// A callback the model believes is registered and unfinished.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: usize,
    /// How the stack shows its name in logs (`"p3"` or `#2`).
    pub shown: String,
    /// The stack's name for it (`p3` or `#2`).
    pub name: String,
    pub stage: usize,
    /// Registered with `push_pinned`: the stack never drops it, so a
    /// cancellation (timeout, skip) leaves no event.
    pub borrowed: bool,
    /// Owned, and its destructor panics: a completion then counts as a
    /// panic, with the destructor's message.
    pub drop_panics: bool,
    /// Registered in an inline slot: the stack must not move it, so finished
    /// entries below it keep their room (see [`Model::stuck`]).
    pub inline: bool,
    pub behaviour: Behaviour,
    pub timeout: Option<Duration>,
}

/// The model of one stack.
#[derive(Default)]
pub struct Model {
    /// Registration order; the top of the stack is last.
    pub pending: Vec<Entry>,
    /// Callbacks that finished in a run given up part-way (dropped or
    /// forgotten): their cells are still taken. The stack removes them when
    /// it can, unless a live inline future lies above them: removing them
    /// would move it (see [`Model::stuck`]).
    pub held: Vec<Entry>,
    /// A run began since the last registration: the next registration ends
    /// its report, removing the finished cells that may go.
    pub recorded: bool,
}

/// Whether a behaviour can be pending at all (it then can time out with a
/// zero budget).
fn pends(behaviour: Behaviour) -> bool {
    match behaviour {
        Behaviour::Complete | Behaviour::Fail | Behaviour::Panic => false,
        Behaviour::Yield(k) | Behaviour::WakeTwice(k) => k % 8 > 0,
        Behaviour::Sleep(ms) => ms > 0,
        Behaviour::WakeFromThread | Behaviour::Hang => true,
    }
}

/// The first event that ended `id` at or after `from`: finished, panicking,
/// or dropped without either.
fn end_index(events: &[Event], id: usize) -> Option<usize> {
    events.iter().position(|event| {
        matches!(event, Event::Finished(i) | Event::Panicking(i) | Event::Dropped(i) if *i == id)
    })
}

fn start_index(events: &[Event], id: usize) -> Option<usize> {
    events.iter().position(|event| *event == Event::Started(id))
}

impl Model {
    /// Whether the next registration fails: `N` cells are taken, and none
    /// of the finished ones among them can go.
    pub fn is_full(&self) -> bool {
        self.pending.len() + self.held.len() == CAPACITY && self.stuck() == self.held.len()
    }

    /// The finished cells that cannot go: those below a live inline future
    /// (registered before it).
    pub fn stuck(&self) -> usize {
        let top_inline = self.pending.iter().filter(|e| e.inline).map(|e| e.id).max();
        self.held
            .iter()
            .filter(|e| top_inline.is_some_and(|top| e.id < top))
            .count()
    }

    /// The stack removes every finished cell it may.
    fn compact(&mut self) {
        let top_inline = self.pending.iter().filter(|e| e.inline).map(|e| e.id).max();
        self.held
            .retain(|e| top_inline.is_some_and(|top| e.id < top));
    }

    /// A run starts: it removes the finished cells it may.
    pub fn start_run(&mut self) {
        if self.recorded {
            self.compact();
        }
        self.recorded = true;
    }

    /// A registration succeeded. The first after a run began ends the
    /// run's report and removes the finished cells that may go; on a stack
    /// whose cells were all taken, so does making room.
    pub fn push(&mut self, entry: Entry) {
        if std::mem::take(&mut self.recorded) || self.pending.len() + self.held.len() == CAPACITY {
            self.compact();
        }
        assert!(
            self.pending.len() + self.held.len() < CAPACITY,
            "registered on a full stack"
        );
        self.pending.push(entry);
    }

    /// After a run given up part-way, and [`forget_ended`](Self::forget_ended):
    /// the callbacks that ended in that run keep their cells, as records,
    /// until the stack removes them. Whether the run was dropped or
    /// forgotten makes no difference.
    pub fn keep_room(&mut self, ended: Vec<Entry>) {
        self.held.extend(ended);
    }

    /// The stack was dropped, or a run completed: it holds nothing.
    pub fn clear(&mut self) -> Vec<Entry> {
        self.held.clear();
        std::mem::take(&mut self.pending)
    }

    /// Names top first, as the stack lists them.
    pub fn names_top_first(&self) -> Vec<String> {
        self.pending.iter().rev().map(|e| e.name.clone()).collect()
    }

    /// Forgets the callbacks that ended (by the events), after a run that was
    /// dropped part-way. A borrowed callback cancelled in that run leaves no
    /// event: for those alone, `listed` (what the stack still lists) decides.
    pub fn forget_ended(&mut self, events: &[Event], listed: &[String]) {
        self.pending.retain(|entry| {
            if end_index(events, entry.id).is_some() {
                return false;
            }
            !entry.borrowed || listed.contains(&entry.name)
        });
    }

    /// Checks a run that completed. `all` is the whole event log, `from` the
    /// index where this run's events start, `deadline` the run's budget.
    pub fn check_completed_run(
        &mut self,
        report: &Report<'_>,
        all: &[Event],
        from: usize,
        run: &RunTiming<'_>,
    ) {
        let ran = self.clear();
        let by_name: HashMap<&str, &Entry> = ran.iter().map(|e| (e.name.as_str(), e)).collect();

        // Exactly the callbacks that were pending, each once.
        assert_eq!(
            report.len(),
            ran.len(),
            "report: {report}\npending: {ran:?}"
        );
        let mut seen = std::collections::HashSet::new();
        for record in report {
            let name = record.name().to_string();
            assert!(seen.insert(name.clone()), "{name} reported twice");
            assert!(
                by_name.contains_key(name.as_str()),
                "{name} was not pending"
            );
        }

        // In the order they ended (where the end can be seen: a borrowed
        // callback that was cancelled leaves no event).
        let unseen = |e: &Entry| {
            let outcome = report
                .iter()
                .find(|r| r.name().to_string() == e.name)
                .map(|r| r.outcome());
            e.borrowed && matches!(outcome, Some(Outcome::TimedOut { .. } | Outcome::Skipped))
        };
        let mut by_end: Vec<(usize, &str)> = ran
            .iter()
            .filter(|e| !unseen(e))
            .map(|e| {
                let end = end_index(&all[from..], e.id)
                    .unwrap_or_else(|| panic!("{} never ended in a completed run", e.name));
                (end, e.name.as_str())
            })
            .collect();
        by_end.sort();
        let ended: Vec<&str> = by_end.iter().map(|(_, name)| *name).collect();
        let reported: Vec<String> = report
            .iter()
            .map(|r| r.name().to_string())
            .filter(|name| ended.contains(&name.as_str()))
            .collect();
        assert_eq!(reported, ended, "report order is not the order they ended");

        for record in report {
            let entry = by_name[record.name().to_string().as_str()];
            let resumed = start_index(&all[..from], entry.id).is_some();
            check_outcome(entry, &record, resumed, run, report, all);
        }

        // The stack dropped every callback it owned (boxed, closure, inline)
        // by the time the run completed: when it ended, timed out or was
        // skipped. Once each is checked at the end of the script.
        for entry in ran.iter().filter(|e| !e.borrowed) {
            assert!(
                all[from..].contains(&Event::Dropped(entry.id)),
                "{} was not dropped by a completed run",
                entry.name
            );
        }

        // LIFO by stage: a callback starts only once everything registered
        // after it, outside its stage, has ended.
        for (lower_index, lower) in ran.iter().enumerate() {
            let Some(started) = start_index(&all[from..], lower.id) else {
                continue;
            };
            for upper in &ran[lower_index + 1..] {
                if upper.stage == lower.stage || unseen(upper) {
                    continue;
                }
                let ended = end_index(&all[from..], upper.id).expect("ended above");
                assert!(
                    ended < started,
                    "{} started before {} (registered after it, another stage) ended",
                    lower.name,
                    upper.name
                );
            }
        }
    }

    /// Checks a run that was dropped because it could make no progress: only
    /// a hung callback with no budget may block a run.
    pub fn check_stuck(&self, all: &[Event], deadline: Option<Duration>) {
        let blocking = self.pending.iter().any(|entry| {
            entry.behaviour == Behaviour::Hang
                && entry.timeout.is_none()
                && deadline.is_none()
                && start_index(all, entry.id).is_some()
                && end_index(all, entry.id).is_none()
        });
        assert!(
            blocking,
            "the run stalled with no hung callback to blame: lost wake? {:?} events {all:?}",
            self.pending
        );
    }
}

/// When a completed run began and what bound it, on the virtual clock.
pub struct RunTiming<'w> {
    /// The run's first poll.
    pub began: Duration,
    /// Its `within` budget, if any.
    pub deadline: Option<Duration>,
    /// When each callback was first polled, by this run or an earlier one.
    pub world: &'w super::probe::World,
}

impl RunTiming<'_> {
    /// Where a callback first polled at `at` is cut off: at its own timeout,
    /// counted from its first poll (even in an earlier run that was given
    /// up), or at this run's deadline, whichever comes first. The deadline
    /// of an abandoned run binds nothing.
    fn cutoff(&self, entry: &Entry, at: Duration) -> Option<Duration> {
        let own = entry.timeout.map(|own| at + own);
        let run = self.deadline.map(|within| self.began + within);
        match (own, run) {
            (Some(own), Some(run)) => Some(own.min(run)),
            (own, run) => own.or(run),
        }
    }
}

/// Checks one record against what its callback does. `resumed`: it started
/// in an earlier run that was dropped, so time may have passed while nobody
/// polled it.
fn check_outcome(
    entry: &Entry,
    record: &teardown_stack::Record<'_>,
    resumed: bool,
    run: &RunTiming<'_>,
    report: &Report<'_>,
    all: &[Event],
) {
    let deadline = run.deadline;
    let (outcome, elapsed) = (record.outcome(), record.elapsed());
    let name = &entry.name;
    let cutoff = run
        .world
        .started_at(entry.id)
        .map(|at| (at, run.cutoff(entry, at)));
    // Exactly `expected`, or at least that for a resumed callback.
    let took = |expected: Duration, what: &str| {
        let elapsed = elapsed.unwrap_or_else(|| panic!("{name}: no timing"));
        if resumed {
            assert!(
                elapsed >= expected,
                "{name} {what}: {elapsed:?} < {expected:?}"
            );
        } else {
            assert_eq!(elapsed, expected, "{name} {what}");
        }
    };
    let starts = all
        .iter()
        .filter(|e| **e == Event::Started(entry.id))
        .count();
    match outcome {
        Outcome::Skipped => {
            let deadline = deadline.unwrap_or_else(|| panic!("{name} skipped without a deadline"));
            assert_eq!(starts, 0, "{name} skipped after it started");
            assert!(
                report.elapsed().unwrap() >= deadline,
                "{name} skipped before the deadline"
            );
            assert_eq!(elapsed, None);
        }
        Outcome::TimedOut { budget } => {
            assert_eq!(starts, 1, "{name} timed out but started {starts} times");
            let (at, cutoff) = cutoff.unwrap_or_else(|| panic!("{name} timed out unstarted"));
            let cutoff = cutoff.unwrap_or_else(|| panic!("{name} timed out with no budget"));
            assert_eq!(
                budget,
                cutoff - at,
                "{name}: cut off at the wrong time (own timeout {:?}, run deadline {deadline:?})",
                entry.timeout
            );
            let over = deadline.is_some_and(|d| budget > d);
            assert!(resumed || !over, "{name}: budget over the deadline");
            took(budget, "cancelled at the wrong time");
            // A resumed callback's budget ran on while nobody polled it.
            let expected = (budget.is_zero() || resumed) && pends(entry.behaviour)
                || entry.behaviour == Behaviour::Hang
                || matches!(entry.behaviour, Behaviour::Sleep(ms) if millis(ms) > budget);
            assert!(
                expected,
                "{name} ({:?}) timed out after {budget:?}",
                entry.behaviour
            );
        }
        Outcome::Completed | Outcome::Failed(_) | Outcome::Panicked(_) => {
            assert_eq!(starts, 1, "{name} started {starts} times");
            // A panic of the destructor makes a completion a panic, and
            // leaves any other end as it was (the first panic is kept).
            let expected = match entry.behaviour {
                Behaviour::Fail => Outcome::Failed(message_of(report, name)),
                Behaviour::Panic => Outcome::Panicked(message_of(report, name)),
                Behaviour::Hang => panic!("{name} hangs, yet ended with {outcome:?}"),
                _ if entry.drop_panics => Outcome::Panicked(message_of(report, name)),
                _ => Outcome::Completed,
            };
            assert_eq!(outcome, expected, "{name} ({:?})", entry.behaviour);
            if let Some(message) = outcome.message() {
                let text = match entry.behaviour {
                    Behaviour::Fail => format!("fail {}", entry.id),
                    Behaviour::Panic => panic_message(entry.id),
                    _ => drop_panic_message(entry.id),
                };
                assert_eq!(message.as_str(), text);
            }
            if let Behaviour::Sleep(ms) = entry.behaviour {
                took(millis(ms), "slept the wrong time");
                // It ended on its own, so it was not due to be cut off first
                // (a resumed one may find its sleep over when polled late).
                let (at, cutoff) = cutoff.unwrap_or_else(|| panic!("{name} ended unstarted"));
                if let (Some(cutoff), false) = (cutoff, resumed) {
                    assert!(
                        at + millis(ms) <= cutoff,
                        "{name} slept {ms} ms from {at:?}, past its cutoff {cutoff:?}"
                    );
                }
            }
        }
        other => panic!("unknown outcome {other:?}"),
    }
}

fn message_of<'r>(report: &Report<'r>, name: &str) -> teardown_stack::Message<'r> {
    let record = report.iter().find(|r| r.name() == name).unwrap();
    record
        .outcome()
        .message()
        .unwrap_or_else(|| panic!("{name}: no message"))
}
