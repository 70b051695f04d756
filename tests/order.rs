//! Callbacks run last registered first, whatever way they were registered.

mod common;

use std::pin::pin;

use common::{Journal, yield_times};
use futures_lite::future::block_on;
use teardown_stack::{LocalTeardown, Teardown};

#[test]
fn runs_in_reverse_registration_order() {
    let journal = Journal::new();
    let mut teardown = Teardown::<8>::new();
    for name in ["store", "llm", "sandboxes", "server", "agent"] {
        let journal = journal.clone();
        teardown
            .push(name, async move {
                yield_times(2).await;
                journal.record(name);
            })
            .unwrap();
    }

    let report = block_on(teardown.run());

    let expected = ["agent", "server", "sandboxes", "llm", "store"];
    assert_eq!(journal.events(), expected);
    let reported: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(reported, expected);
}

#[test]
fn one_at_a_time_each_finishes_before_the_next_starts() {
    let journal = Journal::new();
    let mut teardown = Teardown::<4>::new();
    for name in ["a", "b", "c"] {
        let journal = journal.clone();
        teardown
            .push(name, async move {
                journal.record(format!("start {name}"));
                yield_times(3).await;
                journal.record(format!("end {name}"));
            })
            .unwrap();
    }

    block_on(teardown.run());

    assert_eq!(
        journal.events(),
        ["start c", "end c", "start b", "end b", "start a", "end a"]
    );
}

#[test]
fn boxed_closure_and_pinned_callbacks_share_one_order() {
    let journal = Journal::new();
    let j = journal.clone();
    let pinned = pin!(async move { j.record("pinned") });
    let mut teardown = LocalTeardown::<4>::new();
    let j = journal.clone();
    teardown
        .push("boxed", async move { j.record("boxed") })
        .unwrap();
    teardown.push_pinned("pinned", pinned).unwrap();
    let j = journal.clone();
    teardown
        .push_fn("closure", move || async move { j.record("closure") })
        .unwrap();

    block_on(teardown.run());

    assert_eq!(journal.events(), ["closure", "pinned", "boxed"]);
}

#[test]
fn unnamed_callbacks_are_numbered_by_registration() {
    let mut teardown = Teardown::<4>::new();
    teardown.push(None, async {}).unwrap();
    teardown.push("named", async {}).unwrap();
    teardown.push(None, async {}).unwrap();

    let pending: Vec<_> = teardown.names().map(|n| format!("{n:?}")).collect();
    assert_eq!(pending, ["#2", "\"named\"", "#0"]);

    let report = block_on(teardown.run());
    let ran: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(ran, ["#2", "named", "#0"]);
    assert_eq!(report.get(0).unwrap().name().as_str(), None);
    assert_eq!(report.get(1).unwrap().name().as_str(), Some("named"));

    // Numbers keep counting after a run: a default name is never reused.
    teardown.push(None, async {}).unwrap();
    assert_eq!(teardown.names().next().unwrap().to_string(), "#3");
}

#[test]
fn a_name_equals_the_string_it_displays_as() {
    let mut teardown = Teardown::<12>::new();
    for _ in 0..11 {
        teardown.push(None, async {}).unwrap();
    }
    teardown.push("db", async {}).unwrap();
    let names: Vec<_> = teardown.names().collect();
    assert!(names[0] == "db" && names[0] != "#11");
    assert!(names[1] == "#10");
    assert!(names[1] != "#010" && names[1] != "#+10" && names[1] != "10" && names[1] != "#1");
    assert!(names[11] == "#0" && names[11] != "#00");
    for name in &names {
        assert!(*name == name.to_string().as_str());
    }
}
