//! A stage's members run concurrently, each isolated; stages run in LIFO
//! order, one after another.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod common;

use std::future::pending;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use common::{Journal, poll_once, yield_times};
use futures_lite::future::block_on;
use teardown_stack::{Outcome, Teardown, Timer, VirtualClock};

const SEC: Duration = Duration::from_secs(1);

fn blow_up() {
    std::panic::panic_any("member panicked")
}

#[test]
fn a_stage_takes_as_long_as_its_slowest_member() {
    let clock = VirtualClock::new();
    let journal = Journal::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    let (c, j) = (clock.clone(), journal.clone());
    teardown
        .push("store", async move {
            j.record(format!("store at {:?}", c.now()))
        })
        .unwrap();
    let mut clients = teardown.stage();
    for (name, secs) in [("a", 1), ("b", 3), ("c", 2)] {
        let c = clock.clone();
        clients
            .push(name, async move { c.sleep(secs * SEC).await })
            .unwrap();
    }

    let report = clock.block_on(teardown.run());

    assert_eq!(journal.events(), ["store at 3s"]);
    let finished: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.elapsed()))
        .collect();
    assert_eq!(
        finished,
        [
            ("a".into(), Some(SEC)),
            ("c".into(), Some(2 * SEC)),
            ("b".into(), Some(3 * SEC)),
            ("store".into(), Some(Duration::ZERO)),
        ]
    );
    assert_eq!(report.elapsed(), Some(3 * SEC));
}

#[test]
fn stages_run_in_lifo_order_and_members_together() {
    let journal = Journal::new();
    let mut teardown = Teardown::<8>::new();
    let j = journal.clone();
    teardown
        .push("first", async move { j.record("first") })
        .unwrap();
    let mut stage = teardown.stage();
    for name in ["s1", "s2", "s3"] {
        let j = journal.clone();
        stage
            .push(name, async move {
                j.record(format!("start {name}"));
                yield_times(2).await;
                j.record(format!("end {name}"));
            })
            .unwrap();
    }
    assert_eq!(stage.len(), 3);
    let j = journal.clone();
    teardown
        .push("last", async move { j.record("last") })
        .unwrap();

    block_on(teardown.run());

    let events = journal.events();
    assert_eq!(events.first().unwrap(), "last");
    assert_eq!(events.last().unwrap(), "first");
    let starts: Vec<_> = events[1..4].to_vec();
    assert_eq!(
        starts,
        ["start s3", "start s2", "start s1"],
        "all start before any ends"
    );
    assert!(events[4..7].iter().all(|e| e.starts_with("end ")));
}

#[test]
fn members_are_isolated_from_each_other() {
    let clock = VirtualClock::new();
    let mut teardown = Teardown::<8, _>::with_timer(clock.clone());
    let mut stage = teardown.stage();
    let c = clock.clone();
    stage
        .push("slow-ok", async move { c.sleep(5 * SEC).await })
        .unwrap();
    stage
        .push("fails", async { Err::<(), _>("refused") })
        .unwrap();
    stage.push("panics", async { blow_up() }).unwrap();
    stage
        .push("hangs", pending::<()>())
        .unwrap()
        .timeout(2 * SEC);
    let c = clock.clone();
    stage
        .push("quick-ok", async move { c.sleep(SEC).await })
        .unwrap();

    let report = clock.block_on(teardown.run());

    let seen: Vec<_> = report
        .iter()
        .map(|r| (r.name().to_string(), r.outcome(), r.elapsed()))
        .collect();
    assert_eq!(seen.len(), 5);
    assert!(matches!(&seen[0].1, Outcome::Panicked(m) if m == "member panicked"));
    assert!(matches!(&seen[1].1, Outcome::Failed(m) if m == "refused"));
    assert_eq!(seen[2], ("quick-ok".into(), Outcome::Completed, Some(SEC)));
    assert_eq!(
        seen[3],
        (
            "hangs".into(),
            Outcome::TimedOut { budget: 2 * SEC },
            Some(2 * SEC)
        )
    );
    assert_eq!(
        seen[4],
        ("slow-ok".into(), Outcome::Completed, Some(5 * SEC)),
        "not cancelled, not delayed"
    );
}

#[test]
fn members_count_toward_capacity() {
    let mut teardown = Teardown::<3>::new();
    teardown.push("alone", async {}).unwrap();
    let mut stage = teardown.stage();
    stage.push("m1", async {}).unwrap();
    stage.push("m2", async {}).unwrap();
    let full = stage.push("m3", async {}).unwrap_err();
    assert_eq!(full.capacity(), 3);
    assert_eq!(stage.len(), 2);
    assert!(teardown.is_full());
}

#[test]
fn a_wake_re_polls_only_the_member_woken() {
    // Fewer under Miri, which is slow; the property is the same.
    const K: usize = if cfg!(miri) { 40 } else { 1000 };
    // Member i is pending until `released[i]`; it keeps its latest waker.
    struct Member {
        polls: AtomicUsize,
        released: AtomicBool,
        waker: Mutex<Option<Waker>>,
    }
    let members: Arc<Vec<Member>> = Arc::new(
        (0..K)
            .map(|_| Member {
                polls: AtomicUsize::new(0),
                released: AtomicBool::new(false),
                waker: Mutex::new(None),
            })
            .collect(),
    );
    let mut teardown = Teardown::<K>::new();
    let mut stage = teardown.stage();
    for i in 0..K {
        let members = Arc::clone(&members);
        stage
            .push(
                None,
                std::future::poll_fn(move |cx| {
                    let me = &members[i];
                    me.polls.fetch_add(1, Ordering::Relaxed);
                    if me.released.load(Ordering::Acquire) {
                        return Poll::Ready(());
                    }
                    *me.waker.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                }),
            )
            .unwrap();
    }

    let mut run = teardown.run();
    assert!(poll_once(&mut run).is_pending());
    // Release and wake the members one at a time, polling the run after each.
    for (i, member) in members.iter().enumerate() {
        member.released.store(true, Ordering::Release);
        member.waker.lock().unwrap().take().unwrap().wake();
        let polled = poll_once(&mut run);
        assert_eq!(polled.is_ready(), i == K - 1);
    }

    let counts: Vec<_> = members
        .iter()
        .map(|m| m.polls.load(Ordering::Relaxed))
        .collect();
    let most = counts.iter().max().unwrap();
    assert_eq!(
        *most,
        2,
        "polls per member: first {:?}, last {:?}",
        &counts[..4],
        &counts[K - 4..]
    );
    assert_eq!(counts.iter().sum::<usize>(), 2 * K);
}

#[test]
fn an_interrupted_stage_resumes_without_rerunning_finished_members() {
    let journal = Journal::new();
    let mut teardown = Teardown::<2>::new();
    let mut stage = teardown.stage();
    for (name, pendings) in [("slow", 5), ("quick", 0)] {
        let j = journal.clone();
        stage
            .push(name, async move {
                j.record(format!("start {name}"));
                yield_times(pendings).await;
                j.record(format!("end {name}"));
            })
            .unwrap();
    }

    {
        let mut run = teardown.run();
        assert!(poll_once(&mut run).is_pending());
    }
    assert_eq!(journal.events(), ["start quick", "end quick", "start slow"]);
    assert_eq!(teardown.len(), 1);
    assert_eq!(teardown.names().next().unwrap(), "slow");
    assert!(
        !teardown.is_full(),
        "the finished member gave its room back"
    );
    let j = journal.clone();
    teardown
        .push("later", async move { j.record("later") })
        .unwrap();

    let report = block_on(teardown.run());
    let names: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(names, ["later", "slow"]);
    assert_eq!(
        journal.events(),
        [
            "start quick",
            "end quick",
            "start slow",
            "later",
            "end slow"
        ]
    );
}
