//! `Teardown` and its run are `Send`; `LocalTeardown` is not, and holds what
//! is not `Send`; neither is `Sync`. Checked at compile time, then used for
//! real.

use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use teardown_stack::{Cleanup, Full, LocalTeardown, NoTimer, Refused, Report, Run, Teardown};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

/// Compiles only for a `T` that is not `Send`: with `T: Send` both impls
/// apply, the marker cannot be inferred, and naming `ambiguous` is an error.
trait NotSend<Marker> {
    fn ambiguous() {}
}
impl<T: ?Sized> NotSend<()> for T {}
struct IsSend;
impl<T: ?Sized + Send> NotSend<IsSend> for T {}

#[test]
fn send_where_everything_inside_is_send() {
    assert_send::<Teardown<'static, 4>>();
    assert_send::<Run<'static, 'static, 4, NoTimer, dyn Cleanup + Send>>();
    #[cfg(feature = "test-util")]
    assert_send::<Teardown<'static, 4, teardown_stack::VirtualClock>>();
    assert_send::<Report<'static>>();
    assert_sync::<Report<'static>>();
    // `Full` hands back the callback: `Send` when the callback is.
    assert_send::<Full<std::future::Ready<()>>>();
    assert_send::<Full<Pin<&'static mut std::future::Ready<()>>>>();
    // What `?` makes of a `Full`: goes into any boxed error.
    assert_send::<Refused>();
    assert_sync::<Refused>();
}

#[test]
fn stacks_are_sync_so_their_reports_cross_threads() {
    // A callback is reached only through `&mut`: sharing a stack shares
    // its names and records only, so even a stack of callbacks that are
    // not `Sync` (nor `Send`) is `Sync`, and its report with it.
    assert_sync::<Teardown<'static, 4>>();
    assert_sync::<LocalTeardown<'static, 4>>();
    assert_sync::<teardown_stack::InlineTeardown<'static, 4, 64>>();
    // A callback that is `Send` but not `Sync` (a `Cell` inside).
    let cell = std::cell::Cell::new(0);
    let mut teardown = Teardown::<1>::new();
    teardown.push("cell", async move { cell.set(1) }).unwrap();
    let report = futures_lite::future::block_on(teardown.run());
    std::thread::scope(|s| {
        s.spawn(|| assert!(report.is_clean()));
    });
}

#[test]
fn local_teardown_is_not_send() {
    <LocalTeardown<'static, 4> as NotSend<_>>::ambiguous();
    <Run<'static, 'static, 4, NoTimer, dyn Cleanup> as NotSend<_>>::ambiguous();
    // And the trick itself: `Full` of a callback that is not `Send`.
    <Full<Rc<()>> as NotSend<_>>::ambiguous();
}

#[test]
fn a_send_stack_runs_on_another_thread() {
    let ran = Arc::new(AtomicUsize::new(0));
    let mut teardown: Teardown<'static, 2> = Teardown::new();
    for name in ["first", "second"] {
        let r = Arc::clone(&ran);
        let here = std::thread::current().id();
        teardown
            .push(name, async move {
                assert_ne!(std::thread::current().id(), here, "ran on the spawner");
                r.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }

    let teardown = std::thread::spawn(move || {
        futures_lite::future::block_on(teardown.run());
        teardown
    })
    .join()
    .unwrap();
    let report = teardown.report();

    let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["second", "first"]);
    assert!(report.is_clean(), "{report}");
    assert_eq!(ran.load(Ordering::SeqCst), 2);
}

#[test]
fn a_local_stack_holds_what_is_not_send() {
    let shared = Rc::new(());
    let mut teardown = LocalTeardown::<2>::new();
    let held = Rc::clone(&shared);
    teardown
        .push("rc", async move {
            futures_lite::future::yield_now().await;
            assert_eq!(Rc::strong_count(&held), 2);
        })
        .unwrap();
    assert_eq!(Rc::strong_count(&shared), 2);

    let report = futures_lite::future::block_on(teardown.run());

    assert_eq!(report.len(), 1);
    assert!(report.is_clean(), "{report}");
    assert_eq!(Rc::strong_count(&shared), 1, "the callback was dropped");
}
