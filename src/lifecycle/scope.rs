//! Scopes: run a body with the stack, then always run the stack.

use core::time::Duration;

use crate::lifecycle::unwind;
use crate::storage::cleanup::Cleanup;
use crate::timer::Clock;
use crate::{Released, Report, Run, Teardown, Timer};

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// Runs `body` with the stack, then runs the stack however the body
    /// ended: the async counterpart of `try`/`finally`, Python's
    /// `async with AsyncExitStack()`, or Go's `t.Cleanup`.
    ///
    /// The body registers cleanups as it acquires resources (it gets the
    /// stack as `&mut`) and does its work. When it ends:
    ///
    /// - with `Ok(value)`, the stack runs and the scope returns the value
    ///   and the run's report;
    /// - with `Err(error)` (an early `?`, say), the stack runs and the scope
    ///   returns [`Released`]: the body's error *and* the report;
    /// - with `std`, if the body panics, the stack runs (the body's future is
    ///   dropped first, since it borrows the stack), then the panic resumes.
    ///   Without `std` a panic cannot be caught and goes to the panic handler.
    ///
    /// Cleanups registered on the stack before the scope run too: the whole
    /// stack runs. On a stack with a timer, [`scope_within`](Self::scope_within)
    /// bounds that run.
    ///
    /// If the scope's future is dropped part-way, nothing runs: the
    /// callbacks stay registered, as for a dropped [`run`](Self::run).
    ///
    /// Await it where nothing asks for `Send` (`block_on`, `#[tokio::main]`,
    /// the future an executor's `run` drives): today's compiler cannot prove
    /// a future that calls an async closure with a borrow `Send`
    /// (rust-lang/rust#126350), so it cannot be spawned on a multi-threaded
    /// executor even over a `Send` stack.
    ///
    /// # Errors
    ///
    /// [`Released`], when the body returns `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::Teardown;
    ///
    /// async fn open(name: &str) -> Result<String, String> {
    ///     if name == "clients" { Err("upstream refused".into()) } else { Ok(name.into()) }
    /// }
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut teardown = Teardown::<4>::new();
    /// let ended = teardown
    ///     .scope(async |t| {
    ///         let store = open("store").await?;
    ///         t.push("store", async move { drop(store) }).unwrap();
    ///         let clients = open("clients").await?; // fails: the store is still released
    ///         t.push("clients", async move { drop(clients) }).unwrap();
    ///         Ok::<_, String>(())
    ///     })
    ///     .await;
    /// let released = ended.unwrap_err();
    /// assert_eq!(released.error, "upstream refused");
    /// assert_eq!(released.report.get(0).unwrap().name(), "store");
    /// assert!(teardown.is_empty());
    /// # });
    /// ```
    pub async fn scope<T, E>(
        &mut self,
        body: impl AsyncFnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<(T, Report<'_>), Released<'_, E>> {
        scoped(self, body, |stack| stack.run()).await
    }
}

impl<'a, const N: usize, R: Timer, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// [`scope`](Self::scope), with the run that follows the body bounded
    /// by `grace` (see [`Run::within`]).
    ///
    /// The body itself has no deadline.
    ///
    /// # Errors
    ///
    /// [`Released`], when the body returns `Err`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use core::time::Duration;
    /// use teardown_stack::{Teardown, VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    /// let ended = clock.block_on(teardown.scope_within(Duration::from_secs(5), async |t| {
    ///     t.push("hung", core::future::pending::<()>()).unwrap();
    ///     Ok::<_, ()>("served")
    /// }));
    /// let (value, report) = ended.unwrap();
    /// assert_eq!(value, "served");
    /// assert_eq!(report.timed_out(), 1); // cut off after 5 s
    /// # }
    /// ```
    pub async fn scope_within<T, E>(
        &mut self,
        grace: Duration,
        body: impl AsyncFnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<(T, Report<'_>), Released<'_, E>> {
        scoped(self, body, move |stack| stack.run().within(grace)).await
    }
}

/// Runs `body`, then the stack through `release`.
async fn scoped<'s, 'a, const N: usize, R, C, T, E>(
    stack: &'s mut Teardown<'a, N, R, C>,
    body: impl AsyncFnOnce(&mut Teardown<'a, N, R, C>) -> Result<T, E>,
    release: impl for<'x> FnOnce(&'x mut Teardown<'a, N, R, C>) -> Run<'x, 'a, N, R, C>,
) -> Result<(T, Report<'s>), Released<'s, E>>
where
    R: Clock,
    C: ?Sized + Cleanup + 'a,
{
    let ended = unwind::catch(body(&mut *stack)).await;
    match &ended {
        Ok(Ok(_)) => debug!("scope ended: running {} callback(s)", stack.len()),
        Ok(Err(_)) => warn!(
            "scope ended with an error: running {} callback(s)",
            stack.len()
        ),
        Err(_) => error!(
            "scope panicked: running {} callback(s), then the panic resumes",
            stack.len()
        ),
    }
    let report = release(stack).await;
    match ended {
        Ok(Ok(value)) => Ok((value, report)),
        Ok(Err(error)) => Err(Released { error, report }),
        Err(panic) => unwind::resume(panic),
    }
}
