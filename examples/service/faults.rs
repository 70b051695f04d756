//! Faults injected on request, so the tests can watch the stack isolate them.

use std::future::Future;

use crate::BoxError;

/// Which cleanup fails or hangs, and which build step fails.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// The cleanup (by registered name) that does its work, then fails.
    pub fail_cleanup: Option<String>,
    /// The cleanup (by registered name) that never finishes.
    pub hang_cleanup: Option<String>,
    /// The build step (1-based) that fails.
    pub fail_build_at: Option<usize>,
}

impl Faults {
    /// Fails build step `step` if asked to.
    pub fn build_step(&self, step: usize, component: &str) -> Result<(), BoxError> {
        if self.fail_build_at == Some(step) {
            return Err(format!("injected failure building step {step} ({component})").into());
        }
        Ok(())
    }

    /// Wraps the cleanup registered as `name` with its injected fault, if any.
    pub fn cleanup<F>(
        &self,
        name: &'static str,
        work: F,
    ) -> impl Future<Output = Result<(), BoxError>> + Send + 'static
    where
        F: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let hang = self.hang_cleanup.as_deref() == Some(name);
        let fail = self.fail_cleanup.as_deref() == Some(name);
        async move {
            if hang {
                log::warn!("{name}: hanging (injected)");
                std::future::pending::<()>().await;
            }
            work.await?;
            if fail {
                return Err("injected failure".into());
            }
            Ok(())
        }
    }
}
