//! The error of a scope or a build that failed: the caller's error and the
//! report of the teardown that ran after it.

use core::fmt;

use crate::Report;

/// A [scope](crate::Teardown::scope)'s body or a
/// [build](crate::Teardown::build) returned an error; the stack then ran,
/// releasing what had been registered. Both results are here: neither hides
/// the other.
///
/// `Display` writes the error, then the report (`store unreachable; then
/// teardown: 2 callbacks, all completed`). With `E: Error`, it is an
/// [`Error`](core::error::Error) whose [`source`](core::error::Error::source)
/// is `error`.
///
/// # Examples
///
/// ```
/// use teardown_stack::{Released, Teardown};
///
/// let mut teardown = Teardown::<4>::new();
/// let built = futures_lite::future::block_on(teardown.build(async |t| {
///     t.push("store", async {}).unwrap();
///     Err::<(), _>("clients: connection refused")
/// }));
/// let Err(Released { error, report }) = built else { panic!() };
/// assert_eq!(error, "clients: connection refused");
/// assert_eq!(report.completed(), 1); // the store was released
/// ```
///
/// The report is a view of the stack that ran (see [`Report`]), so a
/// `Released` borrows it; [`into_error`](Self::into_error) keeps the error
/// alone, to pass on with `?`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Released<'r, E> {
    /// What the body or the build returned.
    pub error: E,
    /// What the teardown did afterwards.
    pub report: Report<'r>,
}

impl<E> Released<'_, E> {
    /// The caller's error, without the report.
    #[must_use]
    pub fn into_error(self) -> E {
        self.error
    }
}

impl<E: fmt::Display> fmt::Display for Released<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; then {}", self.error, self.report)
    }
}

impl<E: core::error::Error + 'static> core::error::Error for Released<'_, E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}
