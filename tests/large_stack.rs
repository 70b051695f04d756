//! Large stacks built in place on the heap (`Teardown::boxed`): 100,000
//! callbacks on a thread with the default 2 MiB stack, where the stack's
//! cells alone take megabytes.
#![cfg(feature = "alloc")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_lite::future::block_on;
use teardown_stack::{InlineTeardown, Teardown};

/// What a thread gets by default (and what `cargo test` gives each test
/// unless `RUST_MIN_STACK` says otherwise): set here, so the test does not
/// depend on the environment.
const DEFAULT_THREAD_STACK: usize = 2 << 20;

#[test]
#[cfg_attr(miri, ignore = "100,000 callbacks take hours under Miri")]
fn a_hundred_thousand_callbacks_run_in_reverse_on_a_default_thread() {
    const COUNT: usize = 100_000;
    std::thread::Builder::new()
        .stack_size(DEFAULT_THREAD_STACK)
        .spawn(|| {
            // The cells alone are more than the thread's whole stack.
            assert!(size_of::<Teardown<'static, COUNT>>() > 2 * DEFAULT_THREAD_STACK);
            let mut teardown = Teardown::<COUNT>::boxed();
            assert!(teardown.is_empty());
            // Each callback checks that it runs when the ones registered
            // after it have run, and only then.
            let next = Arc::new(AtomicUsize::new(COUNT));
            for i in 0..COUNT {
                let next = Arc::clone(&next);
                teardown
                    .push(None, async move {
                        let expected = next.fetch_sub(1, Ordering::SeqCst) - 1;
                        if expected == i {
                            Ok(())
                        } else {
                            Err("out of order")
                        }
                    })
                    .unwrap();
            }
            assert!(teardown.is_full());
            let report = block_on(teardown.run());
            assert_eq!(report.len(), COUNT);
            assert!(report.is_clean(), "{report}");
            let first = report.get(0).unwrap();
            assert_eq!(first.name().to_string(), format!("#{}", COUNT - 1));
            assert_eq!(report.records().last().unwrap().name().to_string(), "#0");
            assert_eq!(next.load(Ordering::SeqCst), 0);
        })
        .unwrap()
        .join()
        .unwrap();
}

/// A boxed stack is the same empty stack `new` makes: checked on a small
/// one, which Miri runs too (the constructor has `unsafe` code).
#[test]
fn a_boxed_stack_starts_empty_and_behaves_like_a_new_one() {
    let mut teardown = Teardown::<4>::boxed();
    assert!(teardown.is_empty());
    assert!(!teardown.is_full());
    assert_eq!(teardown.len(), 0);
    assert_eq!(teardown.capacity(), 4);
    assert!(teardown.report().is_empty());
    assert_eq!(teardown.names().count(), 0);
    for name in ["a", "b", "c", "d"] {
        teardown.push(name, async {}).unwrap();
    }
    assert!(teardown.push("e", async {}).is_err());
    let mut stage = teardown.stage();
    assert!(stage.push("f", async {}).is_err());
    let report = block_on(teardown.run());
    let order: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(order, ["d", "c", "b", "a"]);
    // Unnamed callbacks count from 0, as on a new stack.
    teardown.push(None, async {}).unwrap();
    assert_eq!(teardown.names().next().unwrap().to_string(), "#4");
}

#[test]
fn a_boxed_inline_stack_is_pinned_in_place() {
    let mut teardown = InlineTeardown::<3, 64>::boxed();
    assert!(teardown.is_empty());
    let dropped = Arc::new(AtomicUsize::new(0));
    for name in ["a", "b"] {
        let dropped = Arc::clone(&dropped);
        let guard = Guard(dropped);
        teardown
            .as_mut()
            .push_inline(name, async move {
                let _guard = guard;
            })
            .unwrap();
    }
    let report = block_on(teardown.as_mut().run());
    assert_eq!(report.completed(), 2);
    assert_eq!(dropped.load(Ordering::SeqCst), 2);
}

#[cfg(feature = "test-util")]
#[test]
fn a_boxed_stack_with_a_timer_times_callbacks_out() {
    use std::time::Duration;
    use teardown_stack::{Outcome, VirtualClock};

    let clock = VirtualClock::new();
    let mut teardown = Teardown::<2, _>::boxed_with_timer(clock.clone());
    teardown
        .push("hung", std::future::pending::<()>())
        .unwrap()
        .timeout(Duration::from_secs(3));
    let report = clock.block_on(teardown.run());
    assert_eq!(
        report.get(0).unwrap().outcome(),
        Outcome::TimedOut {
            budget: Duration::from_secs(3)
        }
    );
    assert_eq!(report.elapsed(), Some(Duration::from_secs(3)));
}

struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
