//! A full stack hands the callback back, un-run; capacity queries tell the
//! truth.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_lite::future::block_on;
use teardown_stack::Teardown;

#[test]
fn capacity_queries() {
    let mut teardown = Teardown::<2>::new();
    assert_eq!(teardown.capacity(), 2);
    assert!(teardown.is_empty());
    assert!(!teardown.is_full());
    teardown.push("a", async {}).unwrap();
    assert_eq!(teardown.len(), 1);
    assert!(!teardown.is_empty());
    teardown.push("b", async {}).unwrap();
    assert!(teardown.is_full());
    block_on(teardown.run());
    assert!(teardown.is_empty());
    assert!(!teardown.is_full());
}

#[test]
fn a_boxed_future_comes_back_and_still_works() {
    let ran = Arc::new(AtomicUsize::new(0));
    let mut teardown = Teardown::<1>::new();
    teardown.push("kept", async {}).unwrap();
    let r = Arc::clone(&ran);
    let full = teardown
        .push("refused", async move {
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap_err();

    assert_eq!(full.capacity(), 1);
    assert_eq!(full.to_string(), "teardown stack is full (capacity 1)");
    assert_eq!(teardown.len(), 1);
    assert_eq!(ran.load(Ordering::SeqCst), 0, "refused callback was run");

    // It is the very future we offered: awaiting it does its work.
    block_on(full.into_inner());
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    // And the stack never ran it.
    assert_eq!(block_on(teardown.run()).len(), 1);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn a_closure_comes_back_uncalled() {
    let called = Arc::new(AtomicUsize::new(0));
    let mut teardown = Teardown::<0>::new();
    let c = Arc::clone(&called);
    let full = teardown
        .push_fn("refused", move || {
            c.fetch_add(1, Ordering::SeqCst);
            async {}
        })
        .unwrap_err();
    assert_eq!(called.load(Ordering::SeqCst), 0);
    let closure = full.callback;
    block_on(closure());
    assert_eq!(called.load(Ordering::SeqCst), 1);
}

#[test]
fn a_pinned_future_comes_back() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    let refused = pin!(async move {
        r.fetch_add(1, Ordering::SeqCst);
    });
    let kept = pin!(async {});
    let mut teardown = Teardown::<1>::new();
    teardown.push_pinned("kept", kept).unwrap();
    let back = teardown
        .push_pinned("refused", refused)
        .unwrap_err()
        .into_inner();
    block_on(back);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(block_on(teardown.run()).len(), 1);
}

#[test]
fn full_converts_into_a_boxed_error() {
    fn register() -> Result<(), Box<dyn std::error::Error>> {
        let mut teardown = Teardown::<0>::new();
        teardown.push("x", std::future::ready(()))?;
        Ok(())
    }
    let error = register().unwrap_err();
    assert_eq!(error.to_string(), "teardown stack is full (capacity 0)");
    let full = Teardown::<0>::new().push("x", async {}).unwrap_err();
    assert_eq!(format!("{full:?}"), "Full { capacity: 0, .. }");
}
