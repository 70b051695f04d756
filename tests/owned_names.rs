//! Names built at run time (`String`, `Box<str>`, `Cow`) are accepted with
//! `alloc`, and shown, logged and reported like `&'static str` names.

mod common;

use std::borrow::Cow;

use common::logs;
use futures_lite::future::block_on;
use teardown_stack::{Outcome, Teardown};

#[test]
fn names_built_at_run_time_are_listed_reported_and_logged() {
    logs::start();
    let mut teardown = Teardown::<8>::new();
    teardown.push("store", async {}).unwrap();
    let mut clients = teardown.stage();
    for i in 0..2 {
        clients.push(format!("llm-{i}"), async {}).unwrap();
    }
    teardown
        .push(String::from("sandboxes").into_boxed_str(), async {
            Err::<(), _>("still running")
        })
        .unwrap();
    let registered = teardown
        .push(Cow::Owned(String::from("server")), async {})
        .unwrap();
    assert_eq!(registered.name(), "server");
    teardown.push(None, async {}).unwrap();

    let names: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
    assert_eq!(
        names,
        ["#5", "server", "sandboxes", "llm-1", "llm-0", "store"]
    );

    let report = block_on(teardown.run());
    let failed = report.failures().next().unwrap();
    assert_eq!(failed.name(), "sandboxes");
    assert_eq!(failed.name().as_str(), Some("sandboxes"));
    assert!(matches!(failed.outcome(), Outcome::Failed(m) if m == "still running"));
    assert_eq!(report.records().last().unwrap().name(), "store");
    logs::assert_at(
        log::Level::Warn,
        &["teardown callback \"sandboxes\" failed: still running"],
    );
}

#[test]
fn a_full_stack_hands_back_the_callback_and_drops_the_owned_name() {
    let mut teardown = Teardown::<1>::new();
    teardown.push(format!("first-{}", 1), async {}).unwrap();
    let full = teardown
        .push(format!("second-{}", 2), async {})
        .unwrap_err();
    let _callback = full.into_inner();
    let names: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
    assert_eq!(names, ["first-1"]);
}
