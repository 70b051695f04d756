//! With `std`, a panicking callback is caught, logged and recorded; the rest
//! still run.

mod common;

use std::panic::panic_any;

use common::{Journal, logs, yield_times};
use futures_lite::future::block_on;
use teardown_stack::{Outcome, Teardown};

/// Panics with a `&'static str` payload. (A bare `async { panic!() }` has
/// output `!` in edition 2024, which is not a cleanup output.)
fn blow_up(text: &'static str) {
    panic_any(text)
}

/// Panics with a `String` payload.
fn blow_up_formatted(pid: u32) {
    panic!("child {pid} would not die")
}

/// Panics with a payload that is not text.
fn blow_up_foreign() {
    panic_any(42_u32)
}

fn panicked_with(outcome: Outcome<'_>) -> &str {
    match outcome {
        Outcome::Panicked(message) => message.as_str(),
        other => panic!("expected a panic, got {other:?}"),
    }
}

#[test]
fn a_panic_does_not_stop_the_others() {
    logs::start();
    let journal = Journal::new();
    let mut teardown = Teardown::<4>::new();
    let j = journal.clone();
    teardown
        .push("store", async move { j.record("store") })
        .unwrap();
    teardown
        .push("sandboxes", async {
            yield_times(2).await;
            blow_up("docker daemon gone");
        })
        .unwrap();
    let j = journal.clone();
    teardown
        .push("server", async move { j.record("server") })
        .unwrap();

    let report = block_on(teardown.run());

    assert_eq!(journal.events(), ["server", "store"]);
    assert_eq!(report.len(), 3);
    assert_eq!(report.panicked(), 1);
    assert_eq!(report.get(1).unwrap().name(), "sandboxes");
    assert_eq!(
        panicked_with(report.get(1).unwrap().outcome()),
        "docker daemon gone"
    );
    assert!(teardown.is_empty(), "the panicked callback left the stack");
    logs::assert_at(
        log::Level::Error,
        &["teardown callback \"sandboxes\" panicked: docker daemon gone"],
    );
}

#[test]
fn formatted_and_foreign_payloads_are_reported() {
    let mut teardown = Teardown::<3>::new();
    teardown
        .push("foreign", async { blow_up_foreign() })
        .unwrap();
    teardown
        .push("formatted", async { blow_up_formatted(7) })
        .unwrap();
    teardown
        .push_fn("closure", || -> std::future::Ready<()> {
            panic_any("closure itself")
        })
        .unwrap();

    let report = block_on(teardown.run());

    assert_eq!(report.panicked(), 3);
    let texts: Vec<_> = report.iter().map(|r| panicked_with(r.outcome())).collect();
    assert_eq!(
        texts,
        [
            "closure itself",
            "child 7 would not die",
            "panic payload of unknown type"
        ]
    );
}

#[test]
fn a_destructor_that_panics_is_caught_too() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            blow_up("bomb went off in drop");
        }
    }
    let journal = Journal::new();
    let mut teardown = Teardown::<2>::new();
    let j = journal.clone();
    teardown
        .push("after", async move { j.record("after") })
        .unwrap();
    let bomb = Bomb;
    teardown
        .push("bomb", async move {
            let _held = &bomb;
        })
        .unwrap();

    let report = block_on(teardown.run());

    assert_eq!(journal.events(), ["after"]);
    assert_eq!(
        panicked_with(report.get(0).unwrap().outcome()),
        "bomb went off in drop"
    );
    assert!(report.get(1).unwrap().outcome().is_completed());
}
