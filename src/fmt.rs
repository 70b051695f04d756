//! Internal logging macros, and the adapters their arguments go through.
//!
//! Every diagnostic of the crate goes through `debug!`, `warn!` and `error!`,
//! so the backend is chosen here and nowhere else:
//!
//! - `defmt` on a bare-metal target (`target_os = "none"`): `defmt`'s macros,
//!   even if `log` is on too. A firmware that asks for `defmt` gets its lines
//!   there, and does not pay for `core::fmt` formatting of lines that a
//!   `log` it got through default features would format.
//! - otherwise `log`, if on: `log`'s macros, with target `teardown_stack`.
//!   On a hosted target `defmt` changes no routing: a host binary has no
//!   `defmt` global logger nor `defmt.x` to link with, while `log` needs
//!   neither (so `--all-features` builds, tests and Miri stay as they were).
//! - neither: compiled out. The arguments are still type-checked, so every
//!   feature combination checks the same call sites.
//!
//! Call sites therefore use the syntax both `core::fmt` and `defmt` accept:
//! positional `{}` and `{:?}` only (`defmt` treats both as `Format`), and
//! arguments that implement `Display`/`Debug` as well as `defmt::Format`
//! (with the `defmt` feature). The crate's own types implement both; a
//! caller's error, a duration and the list of names go through the adapters
//! below.

// The three `cfg`s below are exhaustive and mutually exclusive.

#[cfg(all(feature = "defmt", target_os = "none"))]
macro_rules! debug {
    ($($arg:tt)*) => { ::defmt::debug!($($arg)*) };
}

#[cfg(all(feature = "defmt", target_os = "none"))]
macro_rules! warn {
    ($($arg:tt)*) => { ::defmt::warn!($($arg)*) };
}

#[cfg(all(feature = "defmt", target_os = "none"))]
macro_rules! error {
    ($($arg:tt)*) => { ::defmt::error!($($arg)*) };
}

#[cfg(all(feature = "log", not(all(feature = "defmt", target_os = "none"))))]
macro_rules! debug {
    ($($arg:tt)*) => { ::log::debug!(target: "teardown_stack", $($arg)*) };
}

#[cfg(all(feature = "log", not(all(feature = "defmt", target_os = "none"))))]
macro_rules! warn {
    ($($arg:tt)*) => { ::log::warn!(target: "teardown_stack", $($arg)*) };
}

#[cfg(all(feature = "log", not(all(feature = "defmt", target_os = "none"))))]
macro_rules! error {
    ($($arg:tt)*) => { ::log::error!(target: "teardown_stack", $($arg)*) };
}

#[cfg(not(any(feature = "log", all(feature = "defmt", target_os = "none"))))]
macro_rules! debug {
    ($($arg:tt)*) => {{ let _ = ::core::format_args!($($arg)*); }};
}

#[cfg(not(any(feature = "log", all(feature = "defmt", target_os = "none"))))]
macro_rules! warn {
    ($($arg:tt)*) => {{ let _ = ::core::format_args!($($arg)*); }};
}

#[cfg(not(any(feature = "log", all(feature = "defmt", target_os = "none"))))]
macro_rules! error {
    ($($arg:tt)*) => {{ let _ = ::core::format_args!($($arg)*); }};
}

use core::fmt;
use core::time::Duration;

/// Whether a `debug!` line may be written: checked once before a loop that
/// would write one per callback, rather than once per callback.
#[inline(always)]
pub(crate) fn debug_enabled() -> bool {
    #[cfg(all(feature = "defmt", target_os = "none"))]
    return true;
    #[cfg(all(feature = "log", not(all(feature = "defmt", target_os = "none"))))]
    return log::STATIC_MAX_LEVEL >= log::LevelFilter::Debug
        && log::max_level() >= log::LevelFilter::Debug;
    #[cfg(not(any(feature = "log", all(feature = "defmt", target_os = "none"))))]
    false
}

/// A caller's value known only as `Display` (a cleanup's error): shown with
/// `Display`, and through `defmt::Display2Format` for `defmt`, which formats
/// it on the device since its text is not known at compile time.
pub(crate) struct Shown<'a>(pub(crate) &'a dyn fmt::Display);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Shown<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}", defmt::Display2Format(self.0));
    }
}

/// A duration: `Debug` as `core` writes it (`250ms`), and for `defmt` in
/// seconds with microseconds (`0.250000s`), rather than `defmt`'s own
/// `Duration { secs: 0, nanos: 250000000 }`.
#[derive(Clone, Copy)]
pub(crate) struct Span(pub(crate) Duration);

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Span {
    fn format(&self, f: defmt::Formatter<'_>) {
        // Whole microseconds, as embassy-time counts; saturates past
        // u64::MAX µs (more than 500,000 years).
        let micros = u64::try_from(self.0.as_micros()).unwrap_or(u64::MAX);
        defmt::write!(f, "{=u64:us}s", micros);
    }
}
