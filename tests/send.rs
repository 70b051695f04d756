//! `Teardown` and its run are `Send`; `LocalTeardown` is not, and holds what
//! is not `Send`. Checked at compile time, then used for real.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use teardown_stack::{Full, LocalTeardown, Report, Run, Teardown, VirtualClock};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

/// Compiles only for a `T` that is not `Send`: with `T: Send` both impls
/// apply and `ambiguous` cannot be resolved.
trait NotSend<Marker> {
    fn ambiguous() {}
}
impl<T: ?Sized> NotSend<()> for T {}
struct IsSend;
impl<T: ?Sized + Send> NotSend<IsSend> for T {}

#[test]
fn send_where_everything_inside_is_send() {
    assert_send::<Teardown<'static, 4>>();
    assert_send::<
        Run<'static, 'static, 4, teardown_stack::NoTimer, dyn teardown_stack::Cleanup + Send>,
    >();
    assert_send::<Teardown<'static, 4, VirtualClock>>();
    assert_send::<Report<4>>();
    assert_sync::<Report<4>>();
    assert_send::<Full<std::future::Ready<()>>>();
}

#[test]
fn local_teardown_is_not_send() {
    <LocalTeardown<'static, 4> as NotSend<_>>::ambiguous();
    <Full<Rc<()>> as NotSend<_>>::ambiguous();
}

#[test]
fn a_send_stack_runs_on_another_thread() {
    let ran = Arc::new(AtomicUsize::new(0));
    let mut teardown = Teardown::<2>::new();
    let r = Arc::clone(&ran);
    teardown
        .push("counted", async move {
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    let report = std::thread::spawn(move || futures_lite::future::block_on(teardown.run()).clone())
        .join()
        .unwrap();
    assert_eq!(report.completed(), 1);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn a_local_stack_holds_what_is_not_send() {
    let shared = Rc::new(());
    let mut teardown = LocalTeardown::<2>::new();
    let held = Rc::clone(&shared);
    teardown.push("rc", async move { drop(held) }).unwrap();
    assert_eq!(Rc::strong_count(&shared), 2);
    let report = futures_lite::future::block_on(teardown.run());
    assert!(report.is_clean());
    assert_eq!(Rc::strong_count(&shared), 1);
}
