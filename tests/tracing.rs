//! The `tracing` observer, seen by a subscriber layer of the test's own:
//! the span tree (a run's span, a child per callback), the fields each
//! records, the events inside them and their levels, in order.
#![cfg(feature = "tracing")]

use std::fmt::{self, Write as _};
use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teardown_stack::{Teardown, Tracing};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// Writes what the subscriber sees as lines.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

/// `a=1 b=x`: the fields recorded, strings bare.
#[derive(Default)]
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let sep = if self.0.is_empty() { "" } else { " " };
        let _ = write!(self.0, "{sep}{}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let sep = if self.0.is_empty() { "" } else { " " };
        let _ = write!(self.0, "{sep}{}={value}", field.name());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let span = ctx.span(id).unwrap();
        let parent = span.parent().map_or("none", |p| p.name());
        self.0
            .lock()
            .unwrap()
            .push(format!("open {} [{}] in {parent}", span.name(), fields.0));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        let name = ctx.span(id).unwrap().name();
        self.0
            .lock()
            .unwrap()
            .push(format!("record {name} [{}]", fields.0));
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let span = ctx.event_span(event).map_or("none", |s| s.name());
        let message = fields.0.strip_prefix("message=").unwrap_or(&fields.0);
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {message} in {span}", event.metadata().level()));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let name = ctx.span(&id).unwrap().name();
        self.0.lock().unwrap().push(format!("close {name}"));
    }
}

/// Runs `f` with the capturing subscriber as this thread's default; the
/// lines it saw.
fn captured(f: impl FnOnce()) -> Vec<String> {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, f);
    capture.0.lock().unwrap().clone()
}

#[test]
fn a_run_is_a_span_and_each_callback_a_child_span_with_its_outcome() {
    static TRACING: Tracing = Tracing::new();
    let lines = captured(|| {
        let mut teardown = Teardown::<4>::new();
        teardown.observe(&TRACING);
        teardown.push("store", async {}).unwrap();
        teardown
            .push("cache", async { Err::<(), _>("refused") })
            .unwrap();
        teardown
            .push("server", async { blow_up("bind lost") })
            .unwrap();
        futures_lite::future::block_on(teardown.run());
    });

    assert_eq!(
        lines,
        [
            "open teardown [pending=3] in none",
            "open teardown_callback [name=server concurrent=false] in teardown",
            "DEBUG running teardown callback \"server\" in teardown_callback",
            "ERROR teardown callback \"server\" panicked: bind lost in teardown_callback",
            "record teardown_callback [outcome=panicked]",
            "close teardown_callback",
            "open teardown_callback [name=cache concurrent=false] in teardown",
            "DEBUG running teardown callback \"cache\" in teardown_callback",
            "WARN teardown callback \"cache\" failed: refused in teardown_callback",
            "record teardown_callback [outcome=failed]",
            "close teardown_callback",
            "open teardown_callback [name=store concurrent=false] in teardown",
            "DEBUG running teardown callback \"store\" in teardown_callback",
            "record teardown_callback [outcome=completed]",
            "close teardown_callback",
            "record teardown [outcome=unclean]",
            "DEBUG teardown: 3 callbacks: 1 completed, 1 failed, 1 panicked\n  \
             \"server\" panicked: bind lost\n  \"cache\" failed: refused in teardown",
            "close teardown",
        ]
    );
}

#[cfg(feature = "test-util")]
#[test]
fn a_timed_run_has_overlapping_spans_for_a_stage_and_times_in_each() {
    use teardown_stack::{Timer, VirtualClock};

    static TRACING: Tracing = Tracing::new();
    const MS: Duration = Duration::from_millis(1);
    let lines = captured(|| {
        let clock = VirtualClock::new();
        let sleep = |ms| {
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_millis(ms)).await }
        };
        let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
        teardown.observe(&TRACING);
        teardown.push("store", async {}).unwrap();
        let mut stage = teardown.stage();
        stage.push("a", sleep(300)).unwrap();
        stage.push("b", pending::<()>()).unwrap().timeout(200 * MS);
        clock.block_on(teardown.run().within(300 * MS));
    });

    assert_eq!(
        lines,
        [
            "open teardown [pending=3 within=300ms] in none",
            "open teardown_callback [name=b concurrent=true] in teardown",
            "DEBUG running teardown callback \"b\" in teardown_callback",
            "open teardown_callback [name=a concurrent=true] in teardown",
            "DEBUG running teardown callback \"a\" in teardown_callback",
            "WARN teardown callback \"b\" timed out after 200ms; cancelled in teardown_callback",
            "record teardown_callback [outcome=timed out]",
            "record teardown_callback [elapsed=200ms]",
            "close teardown_callback",
            "record teardown_callback [outcome=completed]",
            "record teardown_callback [elapsed=300ms]",
            "close teardown_callback",
            "open teardown_callback [name=store concurrent=false] in teardown",
            "WARN teardown deadline passed: callback \"store\" skipped in teardown_callback",
            "record teardown_callback [outcome=skipped]",
            "close teardown_callback",
            "record teardown [outcome=unclean]",
            "record teardown [elapsed=300ms]",
            "DEBUG teardown: 3 callbacks: 1 completed, 1 timed out, 1 skipped, in 300ms\n  \
             \"b\" timed out after 200ms (200ms)\n  \
             \"store\" skipped: the deadline had passed in teardown",
            "close teardown",
        ]
    );
}

#[test]
fn a_pair_tells_both_observers() {
    use teardown_stack::{Event as RunEvent, Observer};

    #[derive(Default)]
    struct Count(std::sync::atomic::AtomicUsize);
    impl Observer for Count {
        fn event(&self, _: RunEvent<'_>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    static COUNT: Count = Count(std::sync::atomic::AtomicUsize::new(0));
    static TRACING: Tracing = Tracing::new();
    static BOTH: (&Count, &Tracing) = (&COUNT, &TRACING);

    let lines = captured(|| {
        let mut teardown = Teardown::<2>::new();
        teardown.observe(&BOTH);
        teardown.push("store", async {}).unwrap();
        futures_lite::future::block_on(teardown.run());
    });

    // Run start, the callback's start and end, run end.
    assert_eq!(COUNT.0.load(std::sync::atomic::Ordering::Relaxed), 4);
    assert_eq!(
        lines.first().map(String::as_str),
        Some("open teardown [pending=1] in none")
    );
    assert_eq!(lines.last().map(String::as_str), Some("close teardown"));
}

/// Panics with `text`. (A bare `async { panic!() }` has output `!` in
/// edition 2024, which is not a cleanup output.)
fn blow_up(text: &'static str) {
    std::panic::panic_any(text)
}
