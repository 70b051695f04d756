//! The inline path allocates nothing but a failure's text (kept whole with
//! `alloc`): register owned callbacks (inline, in
//! a stage, and a borrowed one beside them), interrupt a run, resume it and
//! read the report with a counting allocator watching. CI runs this file with
//! `--no-default-features` too, where the crate has no allocator at all.
//!
//! No logger is installed in this test binary, so the crate's log lines
//! (a failed callback's warning) are never formatted.

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::future::Future;

use common::yield_times;
use counting_alloc::allocations_in;
use teardown_stack::{InlineTeardown, Outcome};

#[test]
fn the_counter_counts() {
    let (_, counted) = allocations_in(|| drop(std::hint::black_box(Box::new(7_u64))));
    assert_eq!(counted, 1);
}

/// Without a stage: allocates nothing whatever the features.
#[test]
fn register_interrupt_resume_and_report_allocate_nothing() {
    scenario(false);
}

/// With a stage: allocates nothing either. A stage gets a waker per member
/// (boxed) only when one of its callbacks is boxed already.
#[test]
fn a_stage_of_inline_members_allocates_nothing() {
    scenario(true);
}

fn scenario(with_stage: bool) {
    assert_eq!(
        log::max_level(),
        log::LevelFilter::Off,
        "a logger in this binary would make log lines that may allocate"
    );

    let ((counts, radio_failed, interrupted_left), counted) = allocations_in(|| {
        let display = pin!(async {});
        #[cfg(feature = "texts")]
        let mut texts = [0_u8; 64];
        let mut teardown = pin!(InlineTeardown::<6, 64>::new());
        #[cfg(feature = "texts")]
        teardown.as_mut().keep_texts(&mut texts);
        teardown
            .as_mut()
            .push_inline("store", async { yield_times(3).await })
            .unwrap();
        let radio = |name: &'static str| async move {
            yield_times(2).await;
            if name == "radio-b" {
                Err::<(), &'static str>("radio did not ack")
            } else {
                Ok(())
            }
        };
        if with_stage {
            let mut radios = teardown.as_mut().stage();
            for name in ["radio-a", "radio-b"] {
                radios.push_inline(name, radio(name)).unwrap();
            }
        } else {
            for name in ["radio-a", "radio-b"] {
                teardown.as_mut().push_inline(name, radio(name)).unwrap();
            }
        }
        teardown.as_mut().push_pinned(None, display).unwrap();

        let mut cx = Context::from_waker(Waker::noop());
        {
            // Interrupted part-way, inside the stage.
            let mut run = pin!(teardown.as_mut().run());
            for _ in 0..2 {
                assert!(run.as_mut().poll(&mut cx).is_pending());
            }
        }
        let interrupted_left = teardown.len();

        let mut run = pin!(teardown.as_mut().run());
        let mut polls = 0;
        let report = loop {
            polls += 1;
            assert!(polls < 1_000, "the run never completed");
            if let Poll::Ready(report) = run.as_mut().poll(&mut cx) {
                break report;
            }
        };
        let radio_failed = report.iter().any(|record| {
            record.name() == "radio-b"
                && matches!(record.outcome(), Outcome::Failed(m)
                    if m == if cfg!(feature = "texts") { "radio did not ack" } else { "" })
        });
        (
            (report.len(), report.completed(), report.failed()),
            radio_failed,
            interrupted_left,
        )
    });

    // With `alloc` the report keeps the failure's whole text: the one
    // allocation, made when the radio fails. Without, nothing at all.
    let texts = usize::from(cfg!(feature = "alloc"));
    assert_eq!(counted, texts, "allocations on the inline path");
    // Interrupted in the radios: both are left, and the store.
    assert_eq!(interrupted_left, 3);
    assert_eq!(counts, (3, 2, 1));
    assert!(radio_failed);
}
