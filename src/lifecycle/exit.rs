//! A report as a process's exit status.

use std::process::ExitCode;

use crate::Report;

/// `ExitCode::SUCCESS` for a clean report (every callback completed, or
/// none ran), `ExitCode::FAILURE` (1) otherwise: what `main` returns after
/// its teardown.
///
/// # Examples
///
/// ```
/// use std::process::ExitCode;
/// use teardown_stack::Teardown;
///
/// let mut teardown = Teardown::<2>::new();
/// teardown.push("store", async {}).unwrap();
/// teardown.push("clients", async { Err::<(), _>("reset") }).unwrap();
/// let code = ExitCode::from(futures_lite::future::block_on(teardown.run()));
/// assert_eq!(code, ExitCode::FAILURE); // main returns it
/// ```
impl From<&Report<'_>> for ExitCode {
    fn from(report: &Report<'_>) -> ExitCode {
        if report.is_clean() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// As for `&Report`.
impl From<Report<'_>> for ExitCode {
    fn from(report: Report<'_>) -> ExitCode {
        ExitCode::from(&report)
    }
}
