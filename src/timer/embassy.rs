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
        embassy_time::Timer::after(to_embassy(duration))
    }
}

/// Converts a duration to embassy's ticks, rounding up; one too long to
/// express becomes embassy's longest.
fn to_embassy(duration: Duration) -> embassy_time::Duration {
    let micros = duration.as_nanos().div_ceil(1_000);
    u64::try_from(micros)
        .ok()
        .and_then(embassy_time::Duration::try_from_micros)
        .unwrap_or(embassy_time::Duration::MAX)
}
