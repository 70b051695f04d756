//! The virtual clock: time moves only when told, and sleeps wake exactly then.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::time::Duration;

use common::poll_once;
use teardown_stack::{Timer, VirtualClock};

const SEC: Duration = Duration::from_secs(1);

#[test]
fn time_moves_only_when_told() {
    let clock = VirtualClock::new();
    assert_eq!(clock.now(), Duration::ZERO);
    std::thread::yield_now();
    assert_eq!(Timer::now(&clock), Duration::ZERO);
    clock.advance(3 * SEC);
    assert_eq!(clock.now(), 3 * SEC);
    assert_eq!(clock.clone().now(), 3 * SEC, "clones share the clock");
}

#[test]
fn a_sleep_is_ready_once_its_deadline_is_reached() {
    let clock = VirtualClock::new();
    let mut sleep = clock.sleep(2 * SEC);
    assert!(poll_once(&mut sleep).is_pending());
    assert_eq!(clock.next_deadline(), Some(2 * SEC));
    clock.advance(SEC);
    assert!(poll_once(&mut sleep).is_pending());
    clock.advance(SEC);
    assert!(poll_once(&mut sleep).is_ready());
}

#[test]
fn advance_to_next_jumps_to_the_earliest_sleep() {
    let clock = VirtualClock::new();
    let mut late = clock.sleep(5 * SEC);
    let mut early = clock.sleep(2 * SEC);
    assert!(poll_once(&mut late).is_pending());
    assert!(poll_once(&mut early).is_pending());
    assert_eq!(clock.advance_to_next(), Some(2 * SEC));
    assert!(poll_once(&mut early).is_ready());
    assert!(poll_once(&mut late).is_pending());
    assert_eq!(clock.advance_to_next(), Some(5 * SEC));
    assert!(poll_once(&mut late).is_ready());
    assert_eq!(clock.advance_to_next(), None);
    assert_eq!(clock.now(), 5 * SEC);
}

#[test]
fn block_on_jumps_over_waits() {
    let clock = VirtualClock::new();
    let c = clock.clone();
    let out = clock.block_on(async move {
        c.sleep(60 * SEC).await;
        c.sleep(60 * SEC).await;
        c.now()
    });
    assert_eq!(out, 120 * SEC);
}

#[test]
fn block_on_waits_for_a_real_wake_from_another_thread() {
    let clock = VirtualClock::new();
    let () = clock.block_on(common::wake_from_thread());
    assert_eq!(clock.now(), Duration::ZERO);
}
