//! The future that runs a stack: [`Run`], and [`Teardown::run`], which
//! makes it.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use crate::report::counts::Counts;
use crate::report::event::{Watch, watched};
use crate::report::view::Report;
use crate::run::alone::{Alone, run_alone};
use crate::run::escalate::escalate;
use crate::run::limits::reserve_of;
use crate::run::notice::DEFAULT_NOTICE;
use crate::run::progress::Progress;
use crate::run::stage::drive_run;
use crate::stack::inline::InlineTeardown;
use crate::stack::teardown::Teardown;
use crate::storage::cells::Cells;
use crate::storage::cleanup::Cleanup;
use crate::storage::inline::{InlineSlots, NoInline, Storage};
use crate::timer::{Clock, NoTimer, Timer};

/// The future returned by [`Teardown::run`]: runs the callbacks, last
/// registered first (a stage's members together), and resolves to a borrow
/// of the stack's [`Report`].
///
/// Drive it with any executor, or poll it by hand. Dropping it part-way
/// leaves the unfinished callbacks registered (see [`Teardown::run`]). Like
/// most futures, it must not be polled again once it has completed: it
/// panics if it is. `S` is the stack's [`Storage`]: [`NoInline`] but for the
/// run of an [`InlineTeardown`](crate::InlineTeardown).
///
/// Name it with the lifetimes, `N` and, when there is one, the timer, as a
/// [`Teardown`]: `Run<'_, 'a, N>` or `Run<'_, 'a, N, R>`; the aliases
/// [`LocalRun`], [`InlineRun`] and [`LocalInlineRun`] name the runs of the
/// other stacks.
///
/// ```
/// use teardown_stack::{InlineRun, InlineTeardown, Run, Teardown};
///
/// fn start<'s>(teardown: &'s mut Teardown<'static, 8>) -> Run<'s, 'static, 8> {
///     teardown.run()
/// }
/// let mut teardown = Teardown::<8>::new();
/// teardown.push("store", async {}).unwrap();
/// assert!(futures_lite::future::block_on(start(&mut teardown)).is_clean());
///
/// let mut inline = core::pin::pin!(InlineTeardown::<4, 64>::new());
/// let run: InlineRun<'_, 'static, 4, 64> = inline.as_mut().run();
/// assert!(futures_lite::future::block_on(run).is_empty());
/// ```
#[must_use = "futures do nothing unless polled; the callbacks run only when this is awaited"]
pub struct Run<
    's,
    'a,
    const N: usize,
    R: Clock = NoTimer,
    C: ?Sized + Cleanup = dyn Cleanup + Send + 'a,
    S: Storage = NoInline,
> {
    /// Given back, as the view of its report, when the run completes.
    stack: Option<&'s mut Teardown<'a, N, R, C, S>>,
    /// The overall budget asked for with `within` (with a timer).
    within: R::Timeout,
    /// Set on the first poll.
    begun: bool,
    /// Where the run is.
    progress: Progress<R>,
    /// How many callbacks finished in this run (their count numbers them in
    /// order), and how many completed.
    finished: Counts,
}

/// The run of a [`LocalTeardown`](crate::LocalTeardown).
pub type LocalRun<'s, 'a, const N: usize, R = NoTimer> = Run<'s, 'a, N, R, dyn Cleanup + 'a>;

/// The run of an [`InlineTeardown`](crate::InlineTeardown).
pub type InlineRun<'s, 'a, const N: usize, const SLOT: usize, R = NoTimer> =
    Run<'s, 'a, N, R, dyn Cleanup + Send + 'a, InlineSlots<SLOT>>;

/// The run of a [`LocalInlineTeardown`](crate::LocalInlineTeardown).
pub type LocalInlineRun<'s, 'a, const N: usize, const SLOT: usize, R = NoTimer> =
    Run<'s, 'a, N, R, dyn Cleanup + 'a, InlineSlots<SLOT>>;

impl<'s, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage>
    Run<'s, 'a, N, R, C, S>
{
    pub(crate) fn new(stack: &'s mut Teardown<'a, N, R, C, S>) -> Self {
        let mut progress = Progress::new();
        progress.notice.every = R::span(Some(DEFAULT_NOTICE));
        Run {
            stack: Some(stack),
            within: R::NO_SPAN,
            begun: false,
            progress,
            finished: Counts::new(),
        }
    }
}

impl<'a, const N: usize, R: Timer, C: ?Sized + Cleanup + 'a, S: Storage> Run<'_, 'a, N, R, C, S> {
    /// Gives the whole run at most `budget`, counted from its first poll.
    ///
    /// Each callback then gets the smaller of its own timeout and the time
    /// left. Once the deadline has passed, callbacks not yet started are not
    /// run: each is let go unpolled (an owned one dropped, a `push_pinned`
    /// one left to its caller's binding, see
    /// [`Registered::timeout`](crate::Registered::timeout)), named in a
    /// warning, and reported as [skipped](crate::Outcome::Skipped). Nothing is lost
    /// silently.
    ///
    /// The deadline is this run's alone: if the run is given up part-way, a
    /// later run that resumes a callback applies its own deadline (or none)
    /// and the callback's own timeout, never this one.
    ///
    /// Only on a stack with a timer.
    pub fn within(mut self, budget: Duration) -> Self {
        self.within = Some(budget);
        self
    }

    /// How long the run waits on the same callback, or stage, before it
    /// says so at warn level, and again each interval after: 5 s unless
    /// set; `None` (or zero) turns it off.
    ///
    /// The line names what is still running, how long the run has waited
    /// on it and the budget left, so that an operator sees who blocks a
    /// shutdown while it blocks:
    /// `teardown: still waiting on "sandboxes" after 5s, 20s of the grace left`
    /// (`... 7s before its timeout` when only the callback's own timeout
    /// bounds it, `... with no deadline` when nothing does). Each new stage
    /// starts the interval again.
    ///
    /// Only on a stack with a timer.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use core::time::Duration;
    /// use teardown_stack::{Teardown, Timer, VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    /// let c = clock.clone();
    /// teardown.push("flush", async move { c.sleep(Duration::from_secs(3)).await }).unwrap();
    /// // Says "still waiting on "flush" after 1s, 9s of the grace left", then at 2 s.
    /// let run = teardown.run().within(Duration::from_secs(10));
    /// let report = clock.block_on(run.notice_every(Some(Duration::from_secs(1))));
    /// assert!(report.is_clean());
    /// # }
    /// ```
    pub fn notice_every(mut self, interval: Option<Duration>) -> Self {
        self.progress.notice.every = interval;
        self
    }

    /// Gives each callback a soft deadline `margin` before its hard one
    /// (the sooner of its own timeout and the run's deadline, see
    /// [`Budget`](crate::Budget)): then the budget's
    /// [`soft`](crate::Budget::soft) future fires, a debug line says so,
    /// and the callback has `margin` left to finish with less before it is
    /// cut. Its record says whether it finished after its soft deadline
    /// ([`Record::after_soft`](crate::Record::after_soft)) or was cut
    /// ([timed out](crate::Outcome::TimedOut)).
    ///
    /// A callback with no hard deadline has no soft one either. Only on a
    /// stack with a timer.
    pub fn soft_margin(mut self, margin: Duration) -> Self {
        self.progress.margin = Some(margin);
        self
    }
}

impl<'s, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage>
    Run<'s, 'a, N, R, C, S>
{
    /// Escalates the run (see [`Registered::critical`](crate::Registered::critical)):
    /// drops the callbacks that are not critical, so that only the critical
    /// ones go on; `false`, with nothing changed, when no critical callback
    /// is pending, or the run has not begun or is over.
    pub(crate) fn escalate(&mut self) -> bool {
        let Some(stack) = self.stack.as_deref_mut() else {
            return false;
        };
        if !self.begun {
            return false;
        }
        escalate(
            &mut self.progress,
            &mut stack.cells,
            &mut self.finished,
            &stack.timer,
        )
    }

    /// The stack, taken out of a run given up (as dropping it would).
    pub(crate) fn into_stack(mut self) -> Option<&'s mut Teardown<'a, N, R, C, S>> {
        self.stack.take()
    }
}

impl<'s, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Future
    for Run<'s, 'a, N, R, C, S>
{
    type Output = Report<'s>;

    /// # Panics
    ///
    /// If polled again after it completed.
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Report<'s>> {
        let this = &mut *self;
        // Taken for the report's lifetime, given back while pending.
        let stack: &'s mut Teardown<'a, N, R, C, S> = this
            .stack
            .take()
            .expect("teardown run polled after it completed");
        let progress = &mut this.progress;
        if !this.begun {
            this.begun = true;
            stack.cells.forget_records();
            stack.cells.begin_run();
            stack.cells.elapsed = R::NO_SPAN;
            progress.begin(&stack.timer, this.within, stack.cells.cells.len());
            if R::TIMED && R::budget_of(this.within).is_some() {
                progress.reserve = R::span(Some(reserve_of(&stack.cells.cells)));
            }
            stack.cells.began = progress.at;
            if watched(stack.cells.observer) {
                begin_watch(progress, &stack.cells, this.within);
            }
        }
        let owned = stack.cells.holds_callbacks();
        let Teardown { cells, timer, .. } = &mut *stack;
        let Cells {
            cells,
            texts,
            stages,
            observer,
            ..
        } = cells;
        let watch = *observer;
        let counts = &mut this.finished;
        // Without a timer there is nothing to time out: a stack that never
        // opened a stage runs its callbacks one after another, with none of
        // a stage's bookkeeping. Any other goes through the driver of whole
        // runs: the pointer `stage()` left, or the timed one. A stack that
        // does neither links none of it.
        let polled = match stages {
            _ if R::TIMED => drive_run(progress, cells, counts, texts, timer, cx, watch),
            Some(drive) => drive(progress, cells, counts, texts, timer, cx, watch),
            None => {
                match run_alone::<false, _, _, _>(
                    progress, cells, counts, texts, timer, cx, owned, watch,
                ) {
                    Alone::Done => Poll::Ready(()),
                    Alone::Pending => Poll::Pending,
                    Alone::Stage => unreachable!("no stage was opened"),
                }
            }
        };
        if polled.is_pending() {
            this.stack = Some(stack);
            return Poll::Pending;
        }
        Poll::Ready(this.complete(stack))
    }
}

impl<'s, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage>
    Run<'s, 'a, N, R, C, S>
{
    /// Ends a run whose callbacks have all finished: its report.
    fn complete(&mut self, stack: &'s mut Teardown<'a, N, R, C, S>) -> Report<'s> {
        let progress = &mut self.progress;
        let timer = &stack.timer;
        let end = timer.now();
        let elapsed = end
            .zip(R::budget_of(progress.at))
            .map(|(end, at)| end.saturating_sub(at));
        if R::TIMED {
            progress.sleep = None;
        }
        stack.cells.elapsed = R::span(elapsed);
        stack.cells.ran(self.finished);
        let report = Report::new(&stack.cells, self.finished);
        if crate::fmt::debug_enabled() {
            log_report(report);
        }
        if watched(stack.cells.observer) {
            run_ended(stack.cells.observer, report);
        }
        report
    }
}

/// Tells the observer that a run began: how many callbacks it has to run.
#[cold]
#[inline(never)]
fn begin_watch<const N: usize, R: Clock, C: ?Sized, S: Storage, D>(
    progress: &mut Progress<R>,
    cells: &Cells<'_, N, R, C, S, D>,
    within: R::Timeout,
) {
    let pending = cells.cells.iter().filter(|cell| cell.is_pending()).count();
    #[cfg(feature = "observer")]
    {
        progress.pending = pending;
    }
    #[cfg(not(feature = "observer"))]
    let _ = progress;
    crate::run::watch::run_started(cells.observer, pending, R::budget_of(within));
}

/// Tells the observer that a run completed, with its report.
#[cold]
#[inline(never)]
fn run_ended(watch: Watch<'_>, report: Report<'_>) {
    #[cfg(feature = "observer")]
    if let Some(observer) = watch {
        observer.event(crate::Event::RunEnded { report });
    }
    #[cfg(not(feature = "observer"))]
    let _ = (watch, report);
}

/// Logs a run's report: out of line, so that the report is built in place
/// where it is returned rather than also kept for the log's arguments.
#[cold]
#[inline(never)]
fn log_report(report: Report<'_>) {
    debug!("{}", report);
}

impl<'a, const N: usize, R: Clock + fmt::Debug, C: ?Sized + Cleanup + 'a, S: Storage> fmt::Debug
    for Run<'_, 'a, N, R, C, S>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("stack", &self.stack)
            .field("within", &self.within)
            .finish_non_exhaustive()
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// Runs every registered callback, last registered first, and reports
    /// what happened.
    ///
    /// The returned future drives the callbacks one at a time on whatever
    /// executor polls it; it spawns nothing. Each callback leaves the stack
    /// once it has finished, so it runs at most once:
    ///
    /// - a callback that returns `Err` is logged at warn level with its name
    ///   and the error, recorded as failed, and the next one runs;
    /// - with the `std` feature, a callback that panics is caught, logged at
    ///   error level with its name and the panic message, recorded as
    ///   panicked, and the next one runs. Without `std`, a panic cannot be
    ///   caught: it goes to the panic handler as usual.
    ///
    /// The stack is borrowed for the whole run, so no callback can be
    /// registered while it runs.
    ///
    /// The future resolves to a [`Report`](crate::Report): a view of the
    /// records the stack keeps where the callbacks were, so a report takes
    /// no memory of its own and a run of thousands of callbacks never copies
    /// one. Read it before using the stack again. Each run starts a fresh
    /// report: running an empty stack (for instance a second time) runs
    /// nothing and reports nothing.
    ///
    /// # Cancellation
    ///
    /// If the returned future is dropped part-way (the caller's own timeout
    /// fired, say), the callbacks that have not finished stay registered, the
    /// interrupted one on top and not restarted: a later `run` resumes it
    /// where it stopped, then runs the rest. The next run's report starts
    /// afresh; the callbacks that finished in the dropped run were logged.
    /// Forgetting the run (`core::mem::forget`) has the same effect.
    ///
    /// The abandoned run's intent goes with it: its deadline
    /// ([`Run::within`]) binds nothing after it. A resumed callback answers
    /// to its own timeout, still counted from its first poll, and to the
    /// deadline of the run that resumes it, if that run has one. The room of
    /// the callbacks that finished comes back: a registration succeeds
    /// whenever fewer than `N` callbacks are pending (on an
    /// [`InlineTeardown`](crate::InlineTeardown), see its `is_full`).
    pub fn run(&mut self) -> Run<'_, 'a, N, R, C> {
        Run::new(self)
    }
}

/// `(&mut teardown).await` is the same as `teardown.run().await`.
impl<'s, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> IntoFuture
    for &'s mut Teardown<'a, N, R, C>
{
    type Output = Report<'s>;
    type IntoFuture = Run<'s, 'a, N, R, C>;

    fn into_future(self) -> Self::IntoFuture {
        self.run()
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock, C: ?Sized + Cleanup + 'a>
    InlineTeardown<'a, N, SLOT, R, C>
{
    /// Runs every registered callback, last registered first, and reports
    /// what happened; see [`Teardown::run`], which it behaves like, a run
    /// dropped part-way included.
    pub fn run(self: Pin<&mut Self>) -> Run<'_, 'a, N, R, C, InlineSlots<SLOT>> {
        Run::new(self.stack())
    }
}
