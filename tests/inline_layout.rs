//! What fits an inline slot: zero-sized futures, futures of exactly `SLOT`
//! bytes, and futures aligned to `INLINE_ALIGN`; what does not is handed
//! back by `try_push_inline`, as is a callback for a full stack.

mod common;

use core::future::Future;
use core::mem::{align_of, align_of_val, size_of, size_of_val};
use core::pin::{Pin, pin};
use core::task::{Context, Poll};

use common::{Drops, poll_noop};
use teardown_stack::{INLINE_ALIGN, InlineError, InlineTeardown};

/// A zero-sized future that completes at once.
struct Zst;

impl Future for Zst {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

/// A future of exactly `4 * 8` bytes, aligned to `INLINE_ALIGN`.
#[repr(align(8))]
struct Exact([u64; 4]);

impl Future for Exact {
    type Output = Result<(), &'static str>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        // Reading through the pinned reference checks the alignment under Miri.
        if self.0.iter().sum::<u64>() == 10 {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err("corrupted"))
        }
    }
}

#[repr(align(8))]
struct AtTheLimit(u8);

#[repr(align(16))]
struct OverAligned;

#[test]
fn zero_sized_futures_fit_and_run() {
    assert_eq!(size_of::<Zst>(), 0);
    let mut teardown = pin!(InlineTeardown::<3, 8>::new());
    teardown.as_mut().push_inline("zst", Zst).unwrap();
    teardown.as_mut().try_push_inline("zst too", Zst).unwrap();
    let mut stage = teardown.as_mut().stage();
    stage.push_inline("zst in a stage", Zst).unwrap();
    let (report, _) = poll_noop(teardown.as_mut().run(), 10);
    assert_eq!(report.completed(), 3);
}

#[test]
fn a_future_of_exactly_the_slot_size_fits() {
    assert_eq!(size_of::<Exact>(), 32);
    let mut teardown = pin!(InlineTeardown::<1, 32>::new());
    teardown
        .as_mut()
        .push_inline("exact", Exact([1, 2, 3, 4]))
        .unwrap();
    let (report, _) = poll_noop(teardown.as_mut().run(), 10);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn a_future_aligned_to_the_limit_fits() {
    let value = AtTheLimit(5);
    let cleanup = async move {
        let value = value;
        common::yield_times(1).await;
        // Reads the field where the future lies.
        if value.0 == 5 {
            Ok(())
        } else {
            Err("corrupted")
        }
    };
    assert_eq!(align_of_val(&cleanup), INLINE_ALIGN);
    let mut teardown = pin!(InlineTeardown::<1, 64>::new());
    teardown.as_mut().push_inline("aligned", cleanup).unwrap();
    let (report, _) = poll_noop(teardown.as_mut().run(), 10);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn a_future_larger_than_the_slot_is_handed_back() {
    let drops = Drops::new();
    let token = drops.token();
    let state = [3_u8; 40];
    let cleanup = async move {
        let _held = token;
        assert_eq!(state.len(), 40);
    };
    let size = size_of_val(&cleanup);
    let mut teardown = pin!(InlineTeardown::<2, 32>::new());
    let error = teardown
        .as_mut()
        .try_push_inline("big", cleanup)
        .unwrap_err();
    match &error {
        InlineError::DoesNotFit {
            size: reported,
            slot,
            ..
        } => {
            assert_eq!(*reported, size);
            assert_eq!(*slot, 32);
        }
        InlineError::Full(_) => panic!("the stack is not full"),
    }
    assert!(
        error
            .to_string()
            .starts_with("callback does not fit an inline slot"),
        "{error}"
    );
    assert!(teardown.is_empty());
    assert_eq!(drops.count(), 0, "handed back, not dropped");

    // Still ours, and it still runs.
    futures_lite::future::block_on(error.into_inner());
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_future_more_aligned_than_the_slot_is_handed_back() {
    let value = OverAligned;
    let cleanup = async move {
        let _held = value;
    };
    assert!(align_of_val(&cleanup) > INLINE_ALIGN);
    let mut teardown = pin!(InlineTeardown::<2, 64>::new());
    let error = teardown
        .as_mut()
        .try_push_inline("aligned", cleanup)
        .unwrap_err();
    assert!(
        matches!(error, InlineError::DoesNotFit { align: 16, .. }),
        "{error:?}"
    );
    assert_eq!(align_of::<OverAligned>(), 16);
}

#[test]
fn a_full_stack_hands_the_callback_back() {
    let mut teardown = pin!(InlineTeardown::<1, 16>::new());
    teardown.as_mut().push_inline("first", Zst).unwrap();
    assert!(teardown.is_full());

    let full = teardown.as_mut().push_inline("second", Zst).unwrap_err();
    assert_eq!(full.capacity(), 1);
    let _zst: Zst = full.into_inner();

    let error = teardown
        .as_mut()
        .try_push_inline("second", Zst)
        .unwrap_err();
    assert!(matches!(error, InlineError::Full(_)), "{error:?}");
    assert_eq!(error.to_string(), "teardown stack is full (capacity 1)");
    let error: Box<dyn core::error::Error> = error.into();
    assert_eq!(error.to_string(), "teardown stack is full (capacity 1)");
}
