//! The borrowed path alone: what a no_std, no-allocator user has. CI also
//! runs this file with `--no-default-features`.

mod common;

use core::pin::pin;

use common::{Journal, poll_noop, yield_times};
use teardown_stack::{LocalTeardown, Outcome, Teardown};

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
    #[cfg(feature = "texts")]
    let mut texts = [0_u8; 32];

    let mut teardown = Teardown::<3>::new();
    #[cfg(feature = "texts")]
    teardown.keep_texts(&mut texts);
    teardown.push_pinned("store", store).unwrap();
    teardown.push_pinned("radio", radio).unwrap();
    teardown.push_pinned(None, display).unwrap();

    let (report, polls) = poll_noop(teardown.run(), 100);

    assert_eq!(journal.events(), ["display", "radio", "store"]);
    assert!(polls > 1, "the store's pending polls were driven");
    assert_eq!(report.len(), 3);
    assert_eq!(report.get(0).unwrap().name().to_string(), "#2");
    assert!(
        matches!(report.get(1).unwrap().outcome(), Outcome::Failed(m) if m == said("radio did not ack"))
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

/// What the report keeps of a failure's text: all of it with the `texts`
/// feature (given a buffer, as these tests do), nothing without.
fn said(text: &str) -> &str {
    if cfg!(feature = "texts") { text } else { "" }
}

/// Without `alloc`, the report keeps failure texts in the buffer the stack
/// was given, one after another, each cut at a character boundary (and
/// marked with `…`) when the rest does not fit; with `alloc`, every text
/// whole, buffer or not.
#[cfg(feature = "texts")]
#[test]
fn texts_go_in_the_given_buffer_without_alloc_and_whole_with_it() {
    // 'é' is two bytes: a cut in the middle of one must back off.
    let long = "é".repeat(40);
    let fits = "x".repeat(30);
    let (error_long, error_fits) = (long.clone(), fits.clone());
    let long_fut = pin!(async move { Err::<(), _>(error_long) });
    let fits_fut = pin!(async move { Err::<(), _>(error_fits) });
    let mut buffer = [0_u8; 64];
    let mut teardown = Teardown::<2>::new();
    teardown.keep_texts(&mut buffer);
    teardown.push_pinned("long", long_fut).unwrap();
    teardown.push_pinned("fits", fits_fut).unwrap();

    let (report, _) = poll_noop(teardown.run(), 10);

    let whole = report.get(0).unwrap().outcome().message().unwrap();
    let cut = report.get(1).unwrap().outcome().message().unwrap();
    assert!(!whole.is_truncated());
    assert_eq!(whole.as_str(), fits);
    if cfg!(feature = "alloc") {
        assert!(!cut.is_truncated());
        assert_eq!(cut.as_str(), long);
        return;
    }
    // 30 bytes went to the first text; 34 are left for the second.
    assert!(cut.is_truncated());
    assert!(cut.as_str().len() <= 34, "{}", cut.as_str().len());
    assert!(cut.as_str().ends_with('…'));
    let kept = cut.as_str().trim_end_matches('…');
    assert_eq!(kept, &long[..kept.len()]);
    assert_eq!(
        kept.len(),
        30,
        "15 whole 'é' and the 3-byte ellipsis fit in 34"
    );
}

/// Without `alloc` and without a buffer (or without the `texts` feature), a
/// failure keeps no text (its log line had it): the report says it failed,
/// with an empty, cut message.
#[cfg(not(feature = "alloc"))]
#[test]
fn without_a_buffer_no_text_is_kept() {
    let failing = pin!(async { Err::<(), _>("disk full") });
    let mut teardown = Teardown::<1>::new();
    teardown.push_pinned("log", failing).unwrap();
    let (report, _) = poll_noop(teardown.run(), 1);
    let message = report.get(0).unwrap().outcome().message().unwrap();
    assert_eq!(message.as_str(), "");
    assert!(message.is_truncated());
}

/// Each run starts the buffer afresh: a stack that fails on every run never
/// runs out of room for its texts.
#[cfg(feature = "texts")]
#[test]
fn each_run_reuses_the_buffer() {
    async fn fail() -> Result<(), &'static str> {
        Err("0123456789")
    }
    let mut rounds = [pin!(fail()), pin!(fail()), pin!(fail())];
    let mut buffer = [0_u8; 16];
    let mut teardown = LocalTeardown::<1>::new();
    teardown.keep_texts(&mut buffer);
    for (round, failing) in rounds.iter_mut().enumerate() {
        teardown.push_pinned("log", failing.as_mut()).unwrap();
        let (report, _) = poll_noop(teardown.run(), 1);
        let message = report.get(0).unwrap().outcome().message().unwrap();
        assert_eq!(message.as_str(), "0123456789", "round {round}");
        assert!(!message.is_truncated());
    }
}

/// Giving the stack another text buffer after a run ends that run's report
/// (its texts were in the old buffer): reading it after cannot index the new
/// buffer with the old positions.
#[cfg(all(feature = "texts", not(feature = "alloc")))]
#[test]
fn a_new_text_buffer_ends_the_last_report() {
    let failing = pin!(async { Err::<(), _>("connection reset by peer") });
    let (mut big, mut small) = ([0_u8; 64], [0_u8; 4]);
    let mut teardown = Teardown::<2>::new();
    teardown.keep_texts(&mut big);
    teardown.push_pinned("db", failing).unwrap();
    let (report, _) = poll_noop(teardown.run(), 1);
    assert_eq!(
        report.get(0).unwrap().outcome().message().unwrap(),
        "connection reset by peer"
    );
    teardown.keep_texts(&mut small);
    assert!(teardown.report().is_empty());
    assert_eq!(teardown.report().records().count(), 0);
}
