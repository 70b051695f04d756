//! A deterministic clock for tests: time moves only when told.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::sync::{Arc, Mutex, MutexGuard};
use std::vec::Vec;

use super::Timer;

/// A [`Timer`] whose time stands still until [`advance`](Self::advance)
/// moves it, so tests of shutdown logic are exact and never sleep.
///
/// Clones share one clock. [`block_on`](Self::block_on) drives a future and,
/// whenever it waits for nothing but this clock, jumps to the next sleeper's
/// deadline: a five-minute timeout is tested in microseconds.
///
/// A test utility, behind the `test-util` feature so that it stays out of
/// production builds: turn it on for your tests only,
///
/// ```toml
/// [dev-dependencies]
/// teardown-stack = { version = "0.1", features = ["test-util"] }
/// ```
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use teardown_stack::{Outcome, Teardown, VirtualClock};
///
/// let clock = VirtualClock::new();
/// let mut teardown = Teardown::<2, _>::with_timer(clock.clone());
/// teardown
///     .push("hangs", core::future::pending::<()>())
///     .unwrap()
///     .timeout(Duration::from_secs(5));
///
/// let report = clock.block_on(teardown.run());
/// assert!(matches!(report.get(0).unwrap().outcome(), Outcome::TimedOut { .. }));
/// assert_eq!(clock.now(), Duration::from_secs(5));
/// ```
#[derive(Clone, Default)]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub struct VirtualClock {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    now: Duration,
    sleepers: Vec<(Duration, Waker)>,
}

impl VirtualClock {
    /// A clock at time zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held left the state whole: recover it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current virtual time.
    #[must_use]
    pub fn now(&self) -> Duration {
        self.state().now
    }

    /// Moves time forward by `by`, waking every sleep whose deadline is
    /// reached.
    pub fn advance(&self, by: Duration) {
        let mut state = self.state();
        state.now = state.now.saturating_add(by);
        let now = state.now;
        let due: Vec<Waker> = {
            let mut due = Vec::new();
            state.sleepers.retain(|(deadline, waker)| {
                let keep = *deadline > now;
                if !keep {
                    due.push(waker.clone());
                }
                keep
            });
            due
        };
        drop(state);
        for waker in due {
            waker.wake();
        }
    }

    /// The earliest deadline among pending sleeps, if any.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Duration> {
        self.state()
            .sleepers
            .iter()
            .map(|(deadline, _)| *deadline)
            .min()
    }

    /// Moves time to the earliest pending sleep's deadline and wakes it;
    /// returns that time, or `None` (and leaves time alone) when nothing
    /// sleeps.
    pub fn advance_to_next(&self) -> Option<Duration> {
        let next = self.next_deadline()?;
        let now = self.now();
        self.advance(next.saturating_sub(now));
        Some(next)
    }

    /// Drives `future` on this thread; whenever it is not woken by anything
    /// else, moves the clock to the next sleep's deadline.
    ///
    /// When the future waits while nothing sleeps on the clock, it waits for
    /// a real wake (from another thread, say).
    ///
    /// # Panics
    ///
    /// If, in that state, nothing wakes the future within ten seconds of real
    /// time: it is stuck, and a test had better fail than hang.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut future = core::pin::pin!(future);
        let woken = Arc::new(Flag {
            woken: AtomicBool::new(false),
            thread: std::thread::current(),
        });
        let waker = Waker::from(Arc::clone(&woken));
        let mut cx = Context::from_waker(&waker);
        loop {
            woken.take();
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            if woken.take() {
                continue;
            }
            if self.advance_to_next().is_none() {
                let stuck_after = std::time::Instant::now() + STUCK;
                while !woken.woken.load(Ordering::Acquire) {
                    let left = stuck_after.saturating_duration_since(std::time::Instant::now());
                    assert!(
                        !left.is_zero(),
                        "VirtualClock::block_on: the future waits, nothing sleeps on the clock and nothing woke it"
                    );
                    std::thread::park_timeout(left);
                }
            }
        }
    }

    fn register(&self, deadline: Duration, waker: &Waker) -> bool {
        let mut state = self.state();
        if state.now >= deadline {
            return true;
        }
        match state
            .sleepers
            .iter_mut()
            .find(|(d, w)| *d == deadline && w.will_wake(waker))
        {
            Some(_) => {}
            None => state.sleepers.push((deadline, waker.clone())),
        }
        false
    }
}

impl fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("VirtualClock")
            .field("now", &state.now)
            .field("sleepers", &state.sleepers.len())
            .finish()
    }
}

impl Timer for VirtualClock {
    type Sleep = VirtualSleep;

    fn now(&self) -> Duration {
        VirtualClock::now(self)
    }

    fn sleep(&self, duration: Duration) -> VirtualSleep {
        VirtualSleep {
            clock: self.clone(),
            deadline: self.now().saturating_add(duration),
        }
    }
}

/// The sleep of a [`VirtualClock`]: done once the clock reaches its deadline.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub struct VirtualSleep {
    clock: VirtualClock,
    deadline: Duration,
}

impl Future for VirtualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.register(self.deadline, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// How long `block_on` waits for a real wake before calling the future stuck.
const STUCK: Duration = Duration::from_secs(10);

/// A waker that notes it was woken and unparks the thread that waits.
struct Flag {
    woken: AtomicBool,
    thread: std::thread::Thread,
}

impl Flag {
    fn take(&self) -> bool {
        self.woken.swap(false, Ordering::AcqRel)
    }
}

impl std::task::Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}
