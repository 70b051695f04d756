//! What a cleanup future may output.

use core::convert::Infallible;
use core::fmt::Display;

/// The output of a cleanup future: `()` or `Result<(), E>` with
/// `E: Display`.
///
/// A `Result` error makes the callback *failed*: the error is logged and
/// recorded, and the next callback runs. Any error type with `Display` works
/// as it is, including `std::io::Error` and `Box<dyn std::error::Error>`.
///
/// An `async` block whose only way out is a panic has output `!` (edition
/// 2024), which is not a cleanup output: end it with a value of type `()`, or
/// panic from a function returning `()`.
///
/// This trait is sealed: it is implemented for exactly those two shapes.
#[diagnostic::on_unimplemented(
    message = "a teardown callback must output `()` or `Result<(), E>` with `E: Display`, not `{Self}`",
    label = "this future's output is `{Self}`"
)]
pub trait CleanupOutput: sealed::Sealed {
    /// The error of a failed cleanup.
    type Error: Display;

    /// `Ok(())` for a cleanup that completed, `Err` for one that failed.
    ///
    /// # Errors
    ///
    /// The error the cleanup returned.
    fn into_result(self) -> Result<(), Self::Error>;
}

impl CleanupOutput for () {
    type Error = Infallible;

    fn into_result(self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl<E: Display> CleanupOutput for Result<(), E> {
    type Error = E;

    fn into_result(self) -> Result<(), E> {
        self
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl<E> Sealed for Result<(), E> {}
}
