//! The teardown's timer on smol. Any runtime supplies a `Timer` in a few
//! lines; this one gives the service its grace period and timeouts.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use teardown_stack::Timer;

/// Monotonic time since the service started, and smol's sleep.
#[derive(Clone, Copy, Debug)]
pub struct SmolClock {
    origin: Instant,
}

impl SmolClock {
    pub fn new() -> SmolClock {
        SmolClock {
            origin: Instant::now(),
        }
    }
}

/// A sleep on the smol reactor.
pub struct Sleep(smol::Timer);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

impl Timer for SmolClock {
    type Sleep = Sleep;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep(smol::Timer::after(duration))
    }
}
