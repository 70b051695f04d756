//! [`Timer`] for embassy-time.

use core::time::Duration;

use super::Timer;

/// A [`Timer`] on embassy-time: `embassy_time::Instant` and
/// `embassy_time::Timer`, with whatever time driver the firmware links.
///
/// Durations are converted to embassy's ticks, rounding up, so a timeout never
/// fires early.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbassyTimer;

impl Timer for EmbassyTimer {
    type Sleep = embassy_time::Timer;

    fn now(&self) -> Duration {
        Duration::from_micros(embassy_time::Instant::now().as_micros())
    }

    fn sleep(&self, duration: Duration) -> embassy_time::Timer {
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        embassy_time::Timer::after(embassy_time::Duration::from_micros(micros))
    }
}
