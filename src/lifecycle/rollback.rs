//! Builds with rollback: register as each part comes up; if a part fails,
//! release what was built, in reverse.

use core::time::Duration;

use crate::lifecycle::unwind;
use crate::storage::cleanup::Cleanup;
use crate::timer::Clock;
use crate::{Released, Run, Teardown, Timer};

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// Runs a fallible `build` that registers a cleanup as each part comes
    /// up; if it fails, releases what it had built, last first.
    ///
    /// - On `Ok(value)` nothing runs: the value is handed back, and the
    ///   stack keeps what the build registered, for later (serve, then
    ///   [`run`](Self::run) it).
    /// - On `Err(error)` the stack runs at once (what the build registered,
    ///   and anything registered before it) and the error comes back in
    ///   [`Released`] with the run's report.
    /// - With `std`, on a panic in `build` the stack runs, then the panic
    ///   resumes.
    ///
    /// On a stack with a timer, [`build_within`](Self::build_within) bounds
    /// the rollback. If this future is dropped part-way, nothing runs: what
    /// was registered stays registered, as for a dropped
    /// [`run`](Self::run).
    ///
    /// Await it where nothing asks for `Send` (`block_on`, `#[tokio::main]`,
    /// the future an executor's `run` drives): today's compiler cannot prove
    /// a future that calls an async closure with a borrow `Send`
    /// (rust-lang/rust#126350), so it cannot be spawned on a multi-threaded
    /// executor even over a `Send` stack.
    ///
    /// # Errors
    ///
    /// [`Released`], when `build` returns `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::Teardown;
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut teardown = Teardown::<8>::new();
    /// let built = teardown
    ///     .build(async |t| {
    ///         t.push("store", async { /* close */ }).unwrap();
    ///         t.push("clients", async { /* close */ }).unwrap();
    ///         Ok::<_, std::io::Error>("the service")
    ///     })
    ///     .await;
    /// let service = built.unwrap();
    /// assert_eq!(service, "the service");
    /// // ... serve, then:
    /// assert_eq!(teardown.run().await.completed(), 2);
    /// # });
    /// ```
    pub async fn build<T, E>(
        &mut self,
        build: impl AsyncFnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, Released<'_, E>> {
        built(self, build, |stack| stack.run()).await
    }
}

impl<'a, const N: usize, R: Timer, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// [`build`](Self::build), with the rollback bounded by `grace` (see
    /// [`Run::within`]).
    ///
    /// `grace` bounds only the release after a failed build, not the build.
    ///
    /// # Errors
    ///
    /// [`Released`], when `build` returns `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use core::time::Duration;
    /// use teardown_stack::{Outcome, Teardown, VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    /// let built = clock.block_on(teardown.build_within(Duration::from_secs(5), async |t| {
    ///     t.push("store", async {}).unwrap();
    ///     t.push("daemon", core::future::pending::<()>()).unwrap();
    ///     Err::<(), _>("sandboxes: no such image")
    /// }));
    /// let released = built.unwrap_err();
    /// let outcomes: Vec<_> = released.report.iter().map(|r| r.outcome()).collect();
    /// assert!(matches!(outcomes[..], [Outcome::TimedOut { .. }, Outcome::Skipped]));
    /// # }
    /// ```
    pub async fn build_within<T, E>(
        &mut self,
        grace: Duration,
        build: impl AsyncFnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, Released<'_, E>> {
        built(self, build, move |stack| stack.run().within(grace)).await
    }
}

/// Runs `build`; on a failure, releases through `release`.
async fn built<'s, 'a, const N: usize, R, C, T, E>(
    stack: &'s mut Teardown<'a, N, R, C>,
    build: impl AsyncFnOnce(&mut Teardown<'a, N, R, C>) -> Result<T, E>,
    release: impl for<'x> FnOnce(&'x mut Teardown<'a, N, R, C>) -> Run<'x, 'a, N, R, C>,
) -> Result<T, Released<'s, E>>
where
    R: Clock,
    C: ?Sized + Cleanup + 'a,
{
    let failure = match unwind::catch(build(&mut *stack)).await {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(error)) => Ok(error),
        Err(panic) => Err(panic),
    };
    let pending = stack.len();
    match &failure {
        Ok(_) => warn!("build failed: releasing the {} part(s) built", pending),
        Err(_) => error!(
            "build panicked: releasing the {} part(s) built, then the panic resumes",
            pending
        ),
    }
    let report = release(stack).await;
    match failure {
        Ok(error) => Err(Released { error, report }),
        Err(panic) => unwind::resume(panic),
    }
}
