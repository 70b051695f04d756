//! Internal logging macros.
//!
//! Every diagnostic of the crate goes through these, so the backend (today
//! `log`) is chosen in exactly one place.

macro_rules! debug {
    ($($arg:tt)*) => { ::log::debug!(target: "teardown_stack", $($arg)*) };
}

macro_rules! warn {
    ($($arg:tt)*) => { ::log::warn!(target: "teardown_stack", $($arg)*) };
}

macro_rules! error {
    ($($arg:tt)*) => { ::log::error!(target: "teardown_stack", $($arg)*) };
}
