//! Panic isolation: with `std`, a panic in a callback becomes a value.

use crate::report::counts::End;

/// What a caught panic said: its text, kept whole (`std` implies `alloc`).
#[cfg(feature = "std")]
pub(crate) type Panic = crate::report::message::Kept;

/// Without `std` no panic is ever caught.
#[cfg(not(feature = "std"))]
pub(crate) type Panic = core::convert::Infallible;

/// Runs `f`; with `std`, a panic inside it is caught and returned as its
/// message. Without `std`, panics cannot be caught and this just calls `f`.
#[cfg(feature = "std")]
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panic> {
    use crate::report::message::render;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    // The closure's state (a callback, the report under construction) is
    // never observed again in a broken state: a callback that panicked is
    // removed from the stack and only dropped.
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
            render(text)
        } else if let Some(text) = payload.downcast_ref::<std::string::String>() {
            render(text)
        } else {
            render(&"panic payload of unknown type")
        };
        // Dropping the payload runs foreign code that may panic in turn.
        if let Err(nested) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
            core::mem::forget(nested);
        }
        message
    })
}

/// Without `std` a panic cannot be caught; it reaches the panic handler.
#[cfg(not(feature = "std"))]
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panic> {
    Ok(f())
}

/// A caught panic's record.
pub(crate) fn panicked<B>(panic: Panic) -> End<B> {
    #[cfg(feature = "std")]
    return End::Panicked(panic);
    #[cfg(not(feature = "std"))]
    match panic {}
}
