//! A run's timeline as a trace file (with the `trace-file` feature): the
//! Chrome Trace Event Format, which Perfetto and `chrome://tracing` open.
//!
//! Each callback is a complete event (`"ph": "X"`) with its start and
//! time in microseconds from the run's start; a callback that overlaps
//! another (the members of a stage) gets a thread of its own (`tid`), so
//! that the overlap shows; the run is one event around them all. A skipped
//! callback, or one an interrupt left unstarted, is an instant event at
//! the run's end. The JSON is written by `serde_json`.

use core::time::Duration;
use std::io;
use std::string::{String, ToString};
use std::vec::Vec;

use serde::Serialize;

use crate::{Interruption, Outcome, Record, Report, Unfinished};

/// One trace event.
#[derive(Serialize)]
struct TraceEvent {
    name: String,
    cat: &'static str,
    ph: &'static str,
    /// Microseconds from the run's start.
    ts: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<u128>,
    /// An instant event's scope: its thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    pid: u32,
    tid: u32,
    args: Args,
}

/// What the event says besides its times.
#[derive(Serialize)]
struct Args {
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    concurrent: bool,
    /// Registered critical.
    #[serde(skip_serializing_if = "is_false")]
    critical: bool,
    /// Finished after its soft deadline.
    #[serde(skip_serializing_if = "is_false")]
    after_soft: bool,
}

/// Leaves a flag out of the file unless it is set.
fn is_false(flag: &bool) -> bool {
    !flag
}

/// The document: `{"traceEvents": [...]}`.
#[derive(Serialize)]
struct Trace {
    #[serde(rename = "traceEvents")]
    trace_events: Vec<TraceEvent>,
    #[serde(rename = "displayTimeUnit")]
    display_time_unit: &'static str,
}

/// The process every event is in.
const PID: u32 = 1;

/// Events in run order, each on the lowest thread free at its start.
struct Lanes {
    events: Vec<TraceEvent>,
    /// When each thread is next free, in microseconds.
    free_at: Vec<u128>,
}

impl Lanes {
    fn new() -> Self {
        Lanes {
            events: Vec::new(),
            free_at: Vec::new(),
        }
    }

    /// A complete event from `ts` for `dur`, on the first thread free then.
    fn span(&mut self, name: String, ts: u128, dur: u128, args: Args) {
        let tid = match self.free_at.iter().position(|&free| free <= ts) {
            Some(tid) => tid,
            None => {
                self.free_at.push(0);
                self.free_at.len() - 1
            }
        };
        self.free_at[tid] = ts + dur;
        self.events.push(TraceEvent {
            name,
            cat: "teardown",
            ph: "X",
            ts,
            dur: Some(dur),
            s: None,
            pid: PID,
            tid: tid as u32,
            args,
        });
    }

    /// A complete event for a callback that ran from `times` (its start
    /// and time), or an instant at the run's `end` for one that never ran.
    fn place(&mut self, name: String, times: Option<(Duration, Duration)>, end: u128, args: Args) {
        match times {
            Some((started, ran)) => self.span(name, started.as_micros(), ran.as_micros(), args),
            None => self.instant(name, end, args),
        }
    }

    /// An instant event at `ts`, on the first thread.
    fn instant(&mut self, name: String, ts: u128, args: Args) {
        self.events.push(TraceEvent {
            name,
            cat: "teardown",
            ph: "i",
            ts,
            dur: None,
            s: Some("t"),
            pid: PID,
            tid: 0,
            args,
        });
    }
}

/// The outcome's word, and its text if it has one.
fn outcome(record: &Record<'_>) -> (&'static str, Option<String>) {
    if record.is_escalated() {
        return ("dropped by escalation", Some(record.to_string()));
    }
    match record.outcome() {
        Outcome::Completed => ("completed", None),
        Outcome::Failed(message) => ("failed", Some(message.to_string())),
        Outcome::Panicked(message) => ("panicked", Some(message.to_string())),
        Outcome::TimedOut { .. } => ("timed out", Some(record.to_string())),
        Outcome::Skipped => ("skipped", None),
    }
}

/// The run's event, then each record's, then each unfinished one's.
fn events<'r>(
    report: &Report<'r>,
    unfinished: impl Iterator<Item = Unfinished<'r>>,
    interrupted: bool,
) -> Vec<TraceEvent> {
    let end = report.elapsed().map_or(0, |elapsed| elapsed.as_micros());
    let mut lanes = Lanes::new();
    let mut summary = report.to_string();
    if interrupted {
        summary.push_str("; interrupted");
    }
    // The run first: every callback lies inside it, on its thread.
    lanes.events.push(TraceEvent {
        name: "teardown".into(),
        cat: "teardown",
        ph: "X",
        ts: 0,
        dur: Some(end),
        s: None,
        pid: PID,
        tid: 0,
        args: Args {
            outcome: if interrupted {
                "interrupted"
            } else if report.is_clean() {
                "completed"
            } else {
                "unclean"
            },
            message: Some(summary),
            concurrent: false,
            critical: false,
            after_soft: false,
        },
    });
    for record in report {
        let (word, message) = outcome(&record);
        let args = Args {
            outcome: word,
            message,
            concurrent: record.is_concurrent(),
            critical: record.is_critical(),
            after_soft: record.after_soft(),
        };
        let times = record.started().zip(record.elapsed());
        lanes.place(record.name().to_string(), times, end, args);
    }
    for unfinished in unfinished {
        let args = Args {
            outcome: "unfinished",
            message: None,
            concurrent: unfinished.is_concurrent(),
            critical: false,
            after_soft: false,
        };
        let times = unfinished.started().zip(unfinished.running());
        lanes.place(unfinished.name().to_string(), times, end, args);
    }
    lanes.events
}

fn write(events: Vec<TraceEvent>, out: impl io::Write) -> io::Result<()> {
    let trace = Trace {
        trace_events: events,
        display_time_unit: "ms",
    };
    serde_json::to_writer_pretty(out, &trace).map_err(io::Error::from)
}

impl Report<'_> {
    /// Writes the run's timeline to `out` as a Chrome Trace Event Format
    /// document, which Perfetto and `chrome://tracing` open (with the
    /// `trace-file` feature). Times come from the stack's timer: without
    /// one, every event is at 0.
    ///
    /// # Errors
    ///
    /// What writing to `out` returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::Teardown;
    ///
    /// let mut teardown = Teardown::<4>::new();
    /// teardown.push("store", async {}).unwrap();
    /// let report = futures_lite::future::block_on(teardown.run());
    /// let mut json = Vec::new();
    /// report.write_trace(&mut json).unwrap();
    /// assert!(String::from_utf8(json).unwrap().contains("\"traceEvents\""));
    /// ```
    pub fn write_trace(&self, out: impl io::Write) -> io::Result<()> {
        write(events(self, core::iter::empty(), false), out)
    }
}

impl Interruption<'_> {
    /// Writes the timeline of the interrupted run to `out`, as
    /// [`Report::write_trace`] does; the callbacks not finished are in it
    /// too, marked `"outcome": "unfinished"`, each one that had started
    /// up to the interrupt.
    ///
    /// # Errors
    ///
    /// What writing to `out` returned.
    pub fn write_trace(&self, out: impl io::Write) -> io::Result<()> {
        write(events(&self.report(), self.unfinished(), true), out)
    }
}
