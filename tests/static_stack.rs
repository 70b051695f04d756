//! `Teardown::new` is a `const fn`: a stack can live in a `static`.

mod common;

use std::sync::Mutex;

use common::Journal;
use teardown_stack::Teardown;

static TEARDOWN: Mutex<Teardown<'static, 4>> = Mutex::new(Teardown::new());

fn bring_up(name: &'static str, journal: &Journal) {
    let journal = journal.clone();
    TEARDOWN
        .lock()
        .unwrap()
        .push(name, async move { journal.record(name) })
        .unwrap();
}

#[test]
fn a_static_stack_runs_like_any_other() {
    let journal = Journal::new();
    bring_up("db", &journal);
    bring_up("server", &journal);

    let mut teardown = TEARDOWN.lock().unwrap();
    let report = futures_lite::future::block_on(teardown.run());

    assert_eq!(journal.events(), ["server", "db"]);
    assert_eq!(report.len(), 2);
    assert!(teardown.is_empty());
}
