//! Code generic over a stack's timer compiles with the public bound
//! `Clock`, and takes every timer parameter: the default `NoTimer`, a timer
//! the user implements, and the virtual clock.

use core::pin::Pin;
use core::time::Duration;

use futures_lite::future::block_on;
use teardown_stack::{Clock, InlineTeardown, LocalTeardown, NoTimer, Teardown, Timer};

/// What a component does as it comes up, on whatever stack the program has.
fn register<const N: usize, R: Clock>(teardown: &mut Teardown<'static, N, R>) {
    teardown.push("store", async {}).unwrap();
    let mut clients = teardown.stage();
    clients.push("client-a", async {}).unwrap();
    clients.push("client-b", async {}).unwrap();
}

/// The same for a local stack, and for an inline one.
fn register_local<const N: usize, R: Clock>(teardown: &mut LocalTeardown<'static, N, R>) {
    teardown.push("store", async {}).unwrap();
}

fn register_inline<const N: usize, const SLOT: usize, R: Clock>(
    teardown: Pin<&mut InlineTeardown<'static, N, SLOT, R>>,
) {
    teardown.push_inline("store", async {}).unwrap();
}

/// A user's own timer: a `Clock` through `Timer`, despite the seal.
#[derive(Clone, Copy, Debug)]
struct Instant;

impl Timer for Instant {
    type Sleep = core::future::Ready<()>;

    fn now(&self) -> Duration {
        Duration::ZERO
    }

    fn sleep(&self, _: Duration) -> Self::Sleep {
        core::future::ready(())
    }
}

fn assert_clock<R: Clock>() {}

#[test]
fn every_timer_parameter_is_a_clock() {
    assert_clock::<NoTimer>();
    assert_clock::<Instant>();
    #[cfg(feature = "test-util")]
    assert_clock::<teardown_stack::VirtualClock>();
}

#[test]
fn a_generic_helper_registers_on_a_stack_without_a_timer() {
    let mut teardown = Teardown::<4>::new();
    register(&mut teardown);
    assert_eq!(block_on(teardown.run()).completed(), 3);

    let mut local = LocalTeardown::<1>::new();
    register_local(&mut local);
    assert!(block_on(local.run()).is_clean());

    let mut inline = core::pin::pin!(InlineTeardown::<1, 16>::new());
    register_inline(inline.as_mut());
    assert!(block_on(inline.as_mut().run()).is_clean());
}

#[test]
fn a_generic_helper_registers_on_a_stack_with_a_users_timer() {
    let mut teardown = Teardown::<4, _>::with_timer(Instant);
    register(&mut teardown);
    let report = block_on(teardown.run().within(Duration::from_secs(1)));
    assert_eq!(report.completed(), 3);
}

#[cfg(feature = "test-util")]
#[test]
fn a_generic_helper_registers_on_a_stack_on_the_virtual_clock() {
    let clock = teardown_stack::VirtualClock::new();
    let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    register(&mut teardown);
    let mut local = LocalTeardown::<1, _>::with_timer(clock.clone());
    register_local(&mut local);
    let mut inline = core::pin::pin!(InlineTeardown::<1, 16, _>::with_timer(clock.clone()));
    register_inline(inline.as_mut());

    assert_eq!(clock.block_on(teardown.run()).completed(), 3);
    assert!(clock.block_on(local.run()).is_clean());
    assert!(clock.block_on(inline.as_mut().run()).is_clean());
}
