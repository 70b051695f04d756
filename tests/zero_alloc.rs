//! The borrowed path allocates nothing but a failure's text (with `alloc`,
//! which keeps it whole): register, run and read the report
//! with a counting allocator watching. CI also runs this file with
//! `--no-default-features`.
//!
//! No logger is installed in this test binary, so the crate's log lines
//! (a failed callback's warning) are never formatted.

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use core::fmt::Write as _;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::future::Future;

use common::yield_times;
use counting_alloc::allocations_in;
use teardown_stack::{Outcome, Teardown};

/// A `core::fmt::Write` into a fixed buffer on the stack.
struct Buffer {
    bytes: [u8; 256],
    len: usize,
}

impl Buffer {
    const fn new() -> Self {
        Buffer {
            bytes: [0; 256],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap()
    }
}

impl core::fmt::Write for Buffer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// What the test reads off the report inside the counting window.
struct Read {
    polls: usize,
    counts: (usize, usize, usize),
    names: Buffer,
    summary: Buffer,
    radio_failed: bool,
}

#[test]
fn the_counter_counts() {
    let (_, counted) = allocations_in(|| drop(std::hint::black_box(Box::new(7_u64))));
    assert_eq!(counted, 1);
    let (_, counted) = allocations_in(|| ());
    assert_eq!(counted, 0);
}

/// The counter sees allocations made inside the crate too: the boxed path
/// does allocate.
#[cfg(feature = "alloc")]
#[test]
fn the_counter_sees_the_boxed_path() {
    let (completed, counted) = allocations_in(|| {
        let mut teardown = Teardown::<2>::new();
        teardown.push("boxed", async {}).unwrap();
        let mut run = pin!(teardown.run());
        match run.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(report) => report.completed(),
            Poll::Pending => 0,
        }
    });
    assert_eq!(completed, 1);
    assert!(counted >= 1, "boxing a callback was not counted");
}

/// What the report keeps of a failure's text: all of it with the `texts`
/// feature (given a buffer, as these tests do), nothing without.
fn said(text: &str) -> &str {
    if cfg!(feature = "texts") { text } else { "" }
}

#[test]
fn register_run_and_report_allocate_nothing() {
    assert_eq!(
        log::max_level(),
        log::LevelFilter::Off,
        "a logger in this binary would make log lines that may allocate"
    );

    let (read, counted) = allocations_in(|| {
        // Pinned before the stack, which borrows them.
        let store = pin!(async { yield_times(3).await });
        let radio = pin!(async {
            yield_times(1).await;
            Err::<(), &'static str>("radio did not ack")
        });
        let display = pin!(async {});
        #[cfg(feature = "texts")]
        let mut texts = [0_u8; 64];
        let mut teardown = Teardown::<4>::new();
        #[cfg(feature = "texts")]
        teardown.keep_texts(&mut texts);
        teardown.push_pinned("store", store).unwrap();
        teardown.push_pinned("radio", radio).unwrap();
        teardown.push_pinned(None, display).unwrap();

        // Driven inline with a no-op waker: no helper that might allocate.
        let mut run = pin!(teardown.run());
        let mut cx = Context::from_waker(Waker::noop());
        let mut polls = 0;
        let report = loop {
            polls += 1;
            assert!(polls < 1_000, "the run never completed");
            if let Poll::Ready(report) = run.as_mut().poll(&mut cx) {
                break report;
            }
        };

        let mut names = Buffer::new();
        for record in report {
            write!(names, "{} ", record.name()).unwrap();
        }
        let mut summary = Buffer::new();
        write!(summary, "{report}").unwrap();
        let radio_failed = report.len() == 3
            && report.get(1).unwrap().name() == "radio"
            && matches!(
                report.get(1).unwrap().outcome(),
                Outcome::Failed(m) if m == said("radio did not ack")
            );
        Read {
            polls,
            counts: (report.len(), report.completed(), report.failed()),
            names,
            summary,
            radio_failed,
        }
    });

    // With `alloc` the report keeps the failure's whole text: the one
    // allocation, made when the radio fails. Without, nothing at all.
    let texts = usize::from(cfg!(feature = "alloc"));
    assert_eq!(counted, texts, "allocations on the borrowed path");
    // One poll per `Pending` (3 of store, 1 of radio), and the last.
    assert!(
        read.polls >= 5,
        "pending paths driven: {} polls",
        read.polls
    );
    assert_eq!(read.counts, (3, 2, 1));
    assert!(read.radio_failed);
    assert_eq!(read.names.as_str(), "#2 radio store ");
    assert_eq!(
        read.summary.as_str(),
        format!(
            "teardown: 3 callbacks: 2 completed, 1 failed\n  \"radio\" failed: {}",
            said("radio did not ack")
        )
    );
}

/// A stage of pinned callbacks allocates nothing, whatever the features: its
/// members share the run's waker (a wake polls every member still running)
/// rather than each getting a boxed waker of its own.
#[test]
fn a_stage_of_pinned_callbacks_allocates_nothing() {
    let (counts, counted) = allocations_in(|| {
        let a = pin!(async { yield_times(3).await });
        let b = pin!(async { yield_times(1).await });
        let c = pin!(async {});
        let mut teardown = Teardown::<4>::new();
        let mut stage = teardown.stage();
        stage.push_pinned("a", a).unwrap();
        stage.push_pinned("b", b).unwrap();
        stage.push_pinned("c", c).unwrap();

        let mut run = pin!(teardown.run());
        let mut cx = Context::from_waker(Waker::noop());
        let report = loop {
            if let Poll::Ready(report) = run.as_mut().poll(&mut cx) {
                break report;
            }
        };
        let mut order = Buffer::new();
        for record in report {
            write!(order, "{} ", record.name()).unwrap();
        }
        (report.completed(), order)
    });
    assert_eq!(counted, 0, "allocations in a stage of pinned callbacks");
    assert_eq!(counts.0, 3);
    // The order they finished: c at once, then b, then a.
    assert_eq!(counts.1.as_str(), "c b a ");
}
