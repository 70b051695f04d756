//! The borrowed path alone: what a no_std, no-allocator user has. CI also
//! runs this file with `--no-default-features`.

mod common;

use core::pin::pin;

use common::{Journal, poll_noop, yield_times};
use teardown_stack::{LocalTeardown, MESSAGE_CAPACITY, Outcome, Teardown};

#[test]
fn pinned_callbacks_run_lifo_with_errors_isolated() {
    let journal = Journal::new();
    let (a, b, c) = (journal.clone(), journal.clone(), journal.clone());
    let store = pin!(async move {
        yield_times(2).await;
        a.record("store");
    });
    let radio = pin!(async move {
        b.record("radio");
        Err::<(), _>("radio did not ack")
    });
    let display = pin!(async move { c.record("display") });

    let mut teardown = Teardown::<3>::new();
    teardown.push_pinned("store", store).unwrap();
    teardown.push_pinned("radio", radio).unwrap();
    teardown.push_pinned(None, display).unwrap();

    let (report, polls) = poll_noop(teardown.run(), 100);

    assert_eq!(journal.events(), ["display", "radio", "store"]);
    assert!(polls > 1, "the store's pending polls were driven");
    assert_eq!(report.len(), 3);
    assert_eq!(report.records()[0].name().to_string(), "#2");
    assert!(
        matches!(report.records()[1].outcome(), Outcome::Failed(m) if m == "radio did not ack")
    );
    assert_eq!(report.completed(), 2);
}

#[test]
fn a_full_stack_returns_the_pinned_future() {
    let first = pin!(async {});
    let second = pin!(async { Err::<(), _>("never run by the stack") });
    let mut teardown = LocalTeardown::<1>::new();
    teardown.push_pinned("first", first).unwrap();
    let back = teardown.push_pinned("second", second).unwrap_err();
    assert_eq!(back.capacity(), 1);
    let (output, _) = poll_noop(back.into_inner(), 1);
    assert_eq!(output, Err("never run by the stack"));
    assert_eq!(poll_noop(teardown.run(), 1).0.len(), 1);
}

/// Without `std` nothing can catch a panic: it leaves `run` as it came, which
/// is what the documentation promises.
#[cfg(not(feature = "std"))]
#[test]
fn without_std_a_panic_is_not_caught() {
    fn blow_up() {
        std::panic::panic_any("not caught")
    }
    let callback = pin!(async { blow_up() });
    let mut teardown = Teardown::<1>::new();
    teardown.push_pinned("bomb", callback).unwrap();
    let escaped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        poll_noop(teardown.run(), 1).0.len()
    }));
    let payload = escaped.expect_err("the panic went through run");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"not caught"));
}

/// Without `alloc`, a report keeps at most `MESSAGE_CAPACITY` bytes of each
/// failure's text, cut at a character boundary; with it, the whole text.
#[test]
fn long_messages_are_kept_whole_with_alloc_and_cut_at_a_char_boundary_without() {
    // 'é' is two bytes: a cut in the middle of one must back off.
    let long = "é".repeat(MESSAGE_CAPACITY);
    let fits = "x".repeat(MESSAGE_CAPACITY);
    let (error_long, error_fits) = (long.clone(), fits.clone());
    let long_fut = pin!(async move { Err::<(), _>(error_long) });
    let fits_fut = pin!(async move { Err::<(), _>(error_fits) });
    let mut teardown = Teardown::<2>::new();
    teardown.push_pinned("fits", fits_fut).unwrap();
    teardown.push_pinned("long", long_fut).unwrap();

    let (report, _) = poll_noop(teardown.run(), 10);

    let cut = report.records()[0].outcome().message().unwrap();
    let whole = report.records()[1].outcome().message().unwrap();
    assert!(!whole.is_truncated());
    assert_eq!(whole.as_str(), fits);
    if cfg!(feature = "alloc") {
        assert!(!cut.is_truncated());
        assert_eq!(cut.as_str(), long);
        return;
    }
    assert!(cut.is_truncated());
    assert!(cut.as_str().len() <= MESSAGE_CAPACITY);
    assert!(cut.as_str().ends_with('…'));
    assert_eq!(
        cut.as_str().trim_end_matches('…'),
        &long[..cut.as_str().len() - '…'.len_utf8()]
    );
}
