//! A `LocalInlineTeardown` owns callbacks that are not `Send`; an
//! `InlineTeardown` holds `Send` ones only and is `Send`, run included; a
//! `Teardown`, which has no inline slots, stays `Unpin`.

mod common;

use core::cell::RefCell;
use core::pin::pin;
use std::rc::Rc;

use common::{poll_noop, yield_times};
use teardown_stack::{InlineTeardown, LocalInlineTeardown};

fn assert_send<T: Send>(_: &T) {}

#[test]
fn a_local_stack_owns_futures_that_are_not_send() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut teardown = pin!(LocalInlineTeardown::<2, 64>::new());
    for name in ["first", "second"] {
        let log = Rc::clone(&log);
        teardown
            .as_mut()
            .push_inline(name, async move {
                // The `Rc` is held across an await: the future is `!Send`.
                let held = Rc::clone(&log);
                yield_times(1).await;
                held.borrow_mut().push(name);
            })
            .unwrap();
    }
    let (report, _) = poll_noop(teardown.as_mut().run(), 100);
    assert!(report.is_clean(), "{report}");
    assert_eq!(*log.borrow(), ["second", "first"]);
    assert_eq!(Rc::strong_count(&log), 1, "every future was dropped");
}

#[test]
fn an_inline_stack_of_send_callbacks_is_send_and_so_is_its_run() {
    let mut teardown = pin!(InlineTeardown::<2, 64>::new());
    teardown
        .as_mut()
        .push_inline("send", async { yield_times(1).await })
        .unwrap();
    assert_send(&teardown);
    let run = teardown.as_mut().run();
    assert_send(&run);
    let (report, _) = poll_noop(run, 10);
    assert_eq!(report.completed(), 1);
}

#[test]
fn an_inline_stack_runs_on_a_multi_threaded_executor() {
    let mut teardown = Box::pin(InlineTeardown::<2, 64>::new());
    teardown
        .as_mut()
        .push_inline("send", async { common::wake_from_thread().await })
        .unwrap();
    let completed = std::thread::spawn(move || {
        futures_lite::future::block_on(async { teardown.as_mut().run().await.completed() })
    })
    .join()
    .unwrap();
    assert_eq!(completed, 1);
}

#[test]
fn a_teardown_without_inline_slots_stays_unpin() {
    fn assert_unpin<T: Unpin>() {}
    assert_unpin::<teardown_stack::Teardown<'static, 4>>();
    assert_unpin::<teardown_stack::LocalTeardown<'static, 4>>();
}
