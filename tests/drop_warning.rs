//! A stack dropped with callbacks never run warns, naming them, and drops
//! them last registered first.

mod common;

use common::{Journal, logs, poll_once, yield_times};
use teardown_stack::Teardown;

struct Noisy(&'static str, Journal);

impl Drop for Noisy {
    fn drop(&mut self) {
        self.1.record(self.0);
    }
}

#[test]
fn warns_with_count_and_names() {
    logs::start();
    let journal = Journal::new();
    let mut teardown = Teardown::<4>::new();
    for name in ["store", "clients"] {
        let guard = Noisy(name, journal.clone());
        teardown
            .push(name, async move {
                let _guard = &guard;
            })
            .unwrap();
    }
    teardown.push(None, async {}).unwrap();

    drop(teardown);

    logs::assert_at(
        log::Level::Warn,
        &["teardown stack dropped with 3 callback(s) never finished: #2, \"clients\", \"store\""],
    );
    assert_eq!(journal.events(), ["clients", "store"], "dropped LIFO");
}

#[test]
fn warns_about_an_interrupted_callback() {
    logs::start();
    let mut teardown = Teardown::<2>::new();
    teardown.push("slow", yield_times(5)).unwrap();
    assert!(poll_once(&mut teardown.run()).is_pending());
    drop(teardown);
    logs::assert_at(
        log::Level::Warn,
        &["teardown stack dropped with 1 callback(s) never finished: \"slow\""],
    );
}

#[test]
fn silent_when_everything_ran() {
    logs::start();
    let mut teardown = Teardown::<2>::new();
    teardown.push("a", async {}).unwrap();
    futures_lite::future::block_on(teardown.run());
    drop(teardown);
    assert!(logs::at(log::Level::Warn).is_empty());
    drop(Teardown::<2>::new());
    assert!(logs::at(log::Level::Warn).is_empty());
}
