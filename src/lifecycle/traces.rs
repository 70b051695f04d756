//! Shutdown in the traces a service already collects (with the `tracing`
//! feature): an [`Observer`] that opens a `tracing` span for each run and
//! a child span for each callback, closed as it ends with its outcome and
//! time, and emits the events the `log` lines say, at the same levels.

use std::string::String;
use std::sync::{Mutex, PoisonError};
use std::vec::Vec;

use tracing::{Span, field};

use crate::{Event, Observer, Outcome, Record};

/// Where the spans go: `teardown_stack`, the `log` lines' target.
const TARGET: &str = "teardown_stack";

/// Tells `tracing` what a run does: register it with
/// [`Teardown::observe`](crate::Teardown::observe) (with the `tracing`
/// feature).
///
/// - each run is a span `teardown` (fields `pending`, the callbacks it has
///   to run, `within`, its budget, then `outcome` and `elapsed` as it
///   ends); its parent is the span current when the run starts;
/// - each callback is a span `teardown_callback`, a child of the run's,
///   from its first poll to its end (fields `name`, `concurrent`, then
///   `outcome`: `completed`, `failed`, `panicked`, `timed out` or
///   `skipped`, and `elapsed`); a skipped one opens and closes at once;
/// - inside them, events at the `log` lines' levels: the start of each
///   callback at debug, a failure or a timeout or a skip at warn, a panic
///   at error, the run's report at debug.
///
/// Spans are opened and closed as the run tells the observer; the
/// callbacks are not polled inside them, so what a callback logs itself
/// goes to the span current where the run is polled.
///
/// # Examples
///
/// ```
/// use teardown_stack::{Teardown, Tracing};
///
/// static TRACING: Tracing = Tracing::new();
///
/// let mut teardown = Teardown::<4>::new();
/// teardown.observe(&TRACING);
/// teardown.push("store", async {}).unwrap();
/// futures_lite::future::block_on(teardown.run()); // a span, and one for "store"
/// ```
#[derive(Debug, Default)]
pub struct Tracing {
    spans: Mutex<Spans>,
}

/// The spans open: the run's, and each running callback's with its name.
#[derive(Debug, Default)]
struct Spans {
    run: Option<Span>,
    callbacks: Vec<(String, Span)>,
}

impl Tracing {
    /// An observer that opens spans and emits events through `tracing`.
    #[must_use]
    pub const fn new() -> Self {
        Tracing {
            spans: Mutex::new(Spans {
                run: None,
                callbacks: Vec::new(),
            }),
        }
    }
}

impl Observer for Tracing {
    fn event(&self, event: Event<'_>) {
        let mut spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::RunStarted { pending, within } => {
                let run = tracing::info_span!(
                    target: TARGET,
                    "teardown",
                    pending,
                    within = within.map(field::debug),
                    outcome = field::Empty,
                    elapsed = field::Empty,
                );
                *spans = Spans {
                    run: Some(run),
                    callbacks: Vec::new(),
                };
            }
            Event::Started { name, concurrent } => {
                let span = spans.callback(name, concurrent);
                tracing::debug!(target: TARGET, parent: &span, "running teardown callback {:?}", name);
                spans.callbacks.push((std::format!("{name:?}"), span));
            }
            Event::Ended { record, .. } => {
                let name = std::format!("{:?}", record.name());
                let span = match spans.callbacks.iter().position(|(n, _)| *n == name) {
                    Some(at) => spans.callbacks.remove(at).1,
                    // Never started (skipped): opened to be closed.
                    None => spans.callback(record.name(), record.is_concurrent()),
                };
                ended(&span, record);
            }
            Event::RunEnded { report } => {
                if let Some(run) = spans.run.take() {
                    let outcome = if report.is_clean() {
                        "completed"
                    } else {
                        "unclean"
                    };
                    run.record("outcome", outcome);
                    if let Some(elapsed) = report.elapsed() {
                        run.record("elapsed", field::debug(elapsed));
                    }
                    tracing::debug!(target: TARGET, parent: &run, "{}", report);
                }
                spans.callbacks.clear();
            }
        }
    }
}

impl Spans {
    /// A callback's span, a child of the run's.
    fn callback(&self, name: &crate::Name, concurrent: bool) -> Span {
        let parent = self.run.as_ref().and_then(Span::id);
        tracing::info_span!(
            target: TARGET,
            parent: parent,
            "teardown_callback",
            name = %name,
            concurrent,
            outcome = field::Empty,
            elapsed = field::Empty,
        )
    }
}

/// Records how a callback ended in its span, with the event its `log`
/// line says; the span closes when the caller drops it.
fn ended(span: &Span, record: Record<'_>) {
    let name = record.name();
    let outcome = match record.outcome() {
        Outcome::Completed => "completed",
        Outcome::Failed(message) => {
            tracing::warn!(target: TARGET, parent: span, "teardown callback {:?} failed: {}", name, message);
            "failed"
        }
        Outcome::Panicked(message) => {
            tracing::error!(target: TARGET, parent: span, "teardown callback {:?} panicked: {}", name, message);
            "panicked"
        }
        Outcome::TimedOut { budget } => {
            tracing::warn!(
                target: TARGET,
                parent: span,
                "teardown callback {:?} timed out after {:?}; cancelled",
                name,
                budget
            );
            "timed out"
        }
        Outcome::Skipped => {
            tracing::warn!(target: TARGET, parent: span, "teardown deadline passed: callback {:?} skipped", name);
            "skipped"
        }
    };
    span.record("outcome", outcome);
    if let Some(elapsed) = record.elapsed() {
        span.record("elapsed", field::debug(elapsed));
    }
}
