//! Interruptible shutdowns: a run raced against a second request to stop.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;

use crate::lifecycle::interrupts::{Interrupts, IntoInterrupts};
use crate::storage::inline::Storage;

use crate::report::unfinished::Interruption;
use crate::report::view::Source;
use crate::storage::cleanup::Cleanup;
use crate::timer::Clock;
use crate::{Name, Report, Run, Teardown, Timer};

/// How an interruptible run ([`Teardown::shutdown`],
/// [`Teardown::shutdown_within`]) ended.
///
/// `Display` writes the report, or `teardown interrupted; not finished:
/// sandboxes, client-3, store`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shutdown<'r, const N: usize> {
    /// The run ended (within its grace period, if it had one): its report.
    Finished(Report<'r>),
    /// An interrupt came first (after the escalation, if the first one
    /// escalated): the run was dropped, and these callbacks had not finished, in the order they would have run (the interrupted
    /// one first).
    ///
    /// They are still registered: dropping the stack drops them, and with
    /// them what they own; running it again resumes them.
    ///
    /// `{:#}` writes the `timeline`: what finished, then what did not,
    /// each with when it started and for how long it ran.
    #[non_exhaustive]
    Interrupted {
        /// The names of the callbacks not finished, in run order.
        unfinished: heapless::Vec<Name, N>,
        /// What the run did until the interrupt: the report of what
        /// finished (with a timer, its time until then) and what did not.
        timeline: Interruption<'r>,
    },
}

impl<'r, const N: usize> Shutdown<'r, N> {
    /// The report, if the run finished.
    #[must_use]
    pub fn report(&self) -> Option<Report<'r>> {
        match self {
            Shutdown::Finished(report) => Some(*report),
            Shutdown::Interrupted { .. } => None,
        }
    }

    /// Whether the run finished and every callback completed.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.report().is_some_and(|report| report.is_clean())
    }
}

impl<const N: usize> fmt::Display for Shutdown<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shutdown::Finished(report) => report.fmt(f),
            Shutdown::Interrupted { timeline, .. } if f.alternate() => write!(f, "{timeline:#}"),
            Shutdown::Interrupted { unfinished, .. } => {
                write!(
                    f,
                    "teardown interrupted; not finished: {}",
                    Names(unfinished)
                )
            }
        }
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// Runs the stack unless `interrupt` completes first: then stops
    /// waiting, and names the callbacks that had not finished.
    ///
    /// `interrupt` is typically the *next* shutdown signal (see
    /// `Signals`, with the `signal` feature) while the
    /// first one started this run: an operator who asks twice wants out now.
    /// The caller decides what to do then, usually to log the names and
    /// exit; dropping the stack drops the unfinished callbacks and what they
    /// own. The run is polled first, so a run and an interrupt ready on the
    /// same poll count as a finished run. What `interrupt` outputs is
    /// ignored.
    ///
    /// With a [critical](crate::Registered::critical) callback pending, the
    /// first interrupt escalates instead (see [`Run::or_interrupt`]): the
    /// rest is dropped and the critical callbacks go on. `interrupt` is then
    /// best a source of several: `&mut signals`, or [`each`](crate::each)
    /// item of a stream; a future is one interrupt only.
    ///
    /// On a stack with a timer, [`shutdown_within`](Self::shutdown_within)
    /// also gives the run a grace period.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::{Shutdown, Teardown};
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut teardown = Teardown::<4>::new();
    /// teardown.push("store", async {}).unwrap();
    /// teardown.push("sandboxes", core::future::pending::<()>()).unwrap(); // hangs
    /// let second_signal = async {}; // the operator already asked twice
    /// match teardown.shutdown(second_signal).await {
    ///     Shutdown::Interrupted { unfinished, .. } => assert_eq!(unfinished, ["sandboxes", "store"]),
    ///     _ => unreachable!(),
    /// }
    /// # });
    /// ```
    pub async fn shutdown(&mut self, interrupt: impl IntoInterrupts) -> Shutdown<'_, N> {
        self.run().or_interrupt(interrupt).await
    }
}

impl<'a, const N: usize, R: Timer, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// [`shutdown`](Self::shutdown), with the run bounded by `grace` (see
    /// [`Run::within`]): past it, a hung callback is cut off and the rest
    /// are skipped, all reported.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use core::time::Duration;
    /// use teardown_stack::{Shutdown, Teardown, VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    /// teardown.push("store", async {}).unwrap();
    /// teardown.push("sandboxes", core::future::pending::<()>()).unwrap();
    /// let never = core::future::pending::<()>(); // no second signal
    /// let shutdown = clock.block_on(teardown.shutdown_within(Duration::from_secs(25), never));
    /// let Shutdown::Finished(report) = shutdown else { unreachable!() };
    /// assert_eq!((report.timed_out(), report.skipped()), (1, 1));
    /// # }
    /// ```
    pub async fn shutdown_within(
        &mut self,
        grace: Duration,
        interrupt: impl IntoInterrupts,
    ) -> Shutdown<'_, N> {
        self.run().within(grace).or_interrupt(interrupt).await
    }
}

impl<'s, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage>
    Run<'s, 'a, N, R, C, S>
{
    /// Runs unless interrupted: [`Teardown::shutdown`] for a run set up
    /// by hand (a deadline, a soft margin, how often it says what it
    /// waits on).
    ///
    /// The first interrupt escalates the run when a
    /// [critical](crate::Registered::critical) callback is pending: the
    /// others are dropped, each reported as dropped by escalation, and the
    /// critical ones go on, each within its budget. The next interrupt (or
    /// the first, with nothing critical pending) gives the run up: the
    /// callbacks not finished are named, and stay registered.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use core::time::Duration;
    /// use teardown_stack::{Shutdown, Teardown, VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    /// teardown.push("store", async {}).unwrap();
    /// let run = teardown.run().within(Duration::from_secs(25)).soft_margin(Duration::from_secs(3));
    /// let never = core::future::pending::<()>();
    /// assert!(clock.block_on(run.or_interrupt(never)).is_clean());
    /// # }
    /// ```
    pub async fn or_interrupt(self, interrupts: impl IntoInterrupts) -> Shutdown<'s, N> {
        let mut run = self;
        let interrupts = interrupts.into_interrupts();
        let mut interrupts = core::pin::pin!(interrupts);
        // Whether an interrupt escalated the run, and whether no more will come.
        let (mut escalated, mut quiet) = (false, false);
        let finished = core::future::poll_fn(|cx| {
            loop {
                if let Poll::Ready(report) = Pin::new(&mut run).poll(cx) {
                    return Poll::Ready(Some(report));
                }
                if quiet {
                    return Poll::Pending;
                }
                match interrupts.as_mut().poll_interrupt(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(false) => quiet = true,
                    Poll::Ready(true) if !escalated && run.escalate() => escalated = true,
                    Poll::Ready(true) => return Poll::Ready(None),
                }
            }
        })
        .await;
        if let Some(report) = finished {
            return Shutdown::Finished(report);
        }
        let Some(stack) = run.into_stack() else {
            unreachable!("a run that has not completed holds its stack");
        };
        interrupted(stack)
    }
}

/// What a run given up by an interrupt leaves: the names of the callbacks
/// not finished, and the timeline until then.
fn interrupted<'s, 'a, const N: usize, R, C, S>(
    stack: &'s mut Teardown<'a, N, R, C, S>,
) -> Shutdown<'s, N>
where
    R: Clock,
    C: ?Sized + Cleanup + 'a,
    S: Storage,
{
    // The run's time is its time until the interrupt.
    let began = R::budget_of(stack.cells.began);
    let elapsed = stack
        .timer
        .now()
        .zip(began)
        .map(|(now, began)| now.saturating_sub(began));
    stack.cells.elapsed = R::span(elapsed);
    let mut unfinished = heapless::Vec::new();
    for name in stack.names() {
        // The stack holds at most `N` callbacks.
        let _ = unfinished.push(name.clone());
    }
    warn!(
        "teardown interrupted: {} callback(s) not finished: {}",
        unfinished.len(),
        Names(&unfinished)
    );
    let cells = &stack.cells;
    let timeline = Interruption::new(Report::new(cells, cells.counts()), cells);
    Shutdown::Interrupted {
        unfinished,
        timeline,
    }
}

/// Names separated by commas, bare: `sandboxes, #3, store`.
struct Names<'n>(&'n [Name]);

impl fmt::Display for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            name.fmt(f)?;
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Names<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                defmt::write!(f, ", ");
            }
            defmt::write!(f, "{}", name);
        }
    }
}
