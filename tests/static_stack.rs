//! `Teardown::new` is a `const fn`: a stack can live in a `static`.

mod common;

use std::sync::Mutex;

use common::{Journal, yield_times};
use teardown_stack::Teardown;

/// Compiles only because `Teardown::new` is `const` (and the stack `Send`,
/// so the `Mutex` is `Sync`).
static TEARDOWN: Mutex<Teardown<'static, 4>> = Mutex::new(Teardown::new());

/// What a component does as it comes up: registers its release on the
/// program's stack.
fn bring_up(name: &'static str, journal: &Journal) {
    let journal = journal.clone();
    TEARDOWN
        .lock()
        .unwrap()
        .push(name, async move {
            yield_times(1).await;
            journal.record(name);
        })
        .unwrap();
}

#[test]
fn a_static_stack_runs_like_any_other() {
    let journal = Journal::new();
    bring_up("db", &journal);
    bring_up("cache", &journal);
    bring_up("server", &journal);
    assert!(journal.events().is_empty(), "nothing runs before `run`");

    {
        let mut teardown = TEARDOWN.lock().unwrap();
        let pending: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
        assert_eq!(pending, ["server", "cache", "db"]);

        let report = futures_lite::future::block_on(teardown.run());

        let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
        assert_eq!(names, ["server", "cache", "db"]);
        assert!(report.is_clean(), "{report}");
    }

    assert_eq!(journal.events(), ["server", "cache", "db"]);
    let teardown = TEARDOWN.lock().unwrap();
    assert!(teardown.is_empty());
    assert_eq!(teardown.len(), 0);
    assert_eq!(teardown.names().count(), 0);
}
