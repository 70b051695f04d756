//! The future that runs a stack's callbacks.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use crate::callback::{Cleanup, Failure};
use crate::cell::{Cell, Cells, Counts, End, Parts, State, panicked};
use crate::concurrent::{Driver, Progress, drive_stage};
use crate::inline::{InlineSlots, NoInline, Storage};
use crate::isolate::{self, Panic};
use crate::message::Texts;
use crate::timer::Clock;
use crate::{NoTimer, Report, Teardown, Timer};

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
        Run {
            stack: Some(stack),
            within: R::NO_SPAN,
            begun: false,
            progress: Progress::new(),
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
}

impl<'s, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Future
    for Run<'s, 'a, N, R, C, S>
{
    type Output = Report<'s>;

    /// # Panics
    ///
    /// If polled again after it completed.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Report<'s>> {
        let this = &mut *self;
        let stack = this
            .stack
            .as_deref_mut()
            .expect("teardown run polled after it completed");
        let progress = &mut this.progress;
        if !this.begun {
            this.begun = true;
            stack.cells.forget_records();
            stack.cells.recorded = true;
            stack.cells.elapsed = R::NO_SPAN;
            progress.begin(&stack.timer, this.within, stack.cells.cells.len());
        }
        let Teardown {
            cells,
            timer,
            stages,
            ..
        } = stack;
        let Cells { cells, texts, .. } = cells;
        let counts = &mut this.finished;
        loop {
            if progress.stage.is_none() {
                // Without a timer there is nothing to time out: the
                // callbacks alone in their stages run one after another,
                // with none of a stage's bookkeeping.
                if !R::TIMED {
                    match run_alone(progress, cells, counts, texts, timer, cx) {
                        Alone::Done => break,
                        Alone::Pending => return Poll::Pending,
                        Alone::Stage => {}
                    }
                } else if !progress.next_pending(cells) {
                    break;
                }
            }
            // A stage, or any callback on a stack with a timer. Without a
            // timer only a stack that opened a stage gets here, through the
            // pointer `stage()` left: a stack that never does links none of
            // it.
            let drive: Driver<'a, R, C, S> = if R::TIMED {
                drive_stage
            } else {
                match stages {
                    Some(drive) => *drive,
                    // Cells join a stage only through `stage()`, which leaves
                    // the pointer: there is nothing else to run.
                    None => {
                        debug_assert!(cells.iter().all(|cell| !cell.is_pending()));
                        break;
                    }
                }
            };
            futures_lite::ready!(drive(progress, cells, counts, texts, timer, cx));
        }
        let end = timer.now();
        let elapsed = end
            .zip(R::budget_of(progress.at))
            .map(|(end, at)| end.saturating_sub(at));
        progress.sleep = None;
        let stack = this.stack.take().expect("checked above");
        stack.cells.elapsed = R::span(elapsed);
        stack.cells.ran(*counts, true);
        let report = Report::new(&stack.cells, *counts);
        debug!("{}", report);
        Poll::Ready(report)
    }
}

/// A run given up part-way tells the stack what it recorded.
impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Drop
    for Run<'_, 'a, N, R, C, S>
{
    fn drop(&mut self) {
        if let Some(stack) = self.stack.as_deref_mut() {
            stack.cells.ran(self.finished, false);
        }
    }
}

/// Where [`run_alone`] stopped.
enum Alone {
    /// Every callback has finished.
    Done,
    /// The callback on top is pending.
    Pending,
    /// The callback on top is a member of a stage of several.
    Stage,
}

/// Runs the callbacks that are stages of their own, from the top down,
/// until one is pending, one belongs to a larger stage, or none is left.
///
/// With `std`, the whole batch runs under one `catch_unwind`, not one per
/// callback: a panic can only come from the callback being polled (the one
/// below `progress.top`), which is then recorded as panicked, and the batch
/// goes on under a new one.
fn run_alone<R: Clock, C: ?Sized + Cleanup, S: Storage>(
    progress: &mut Progress<R>,
    cells: &mut [Cell<'_, R, C, S>],
    finished: &mut Counts,
    texts: &mut Texts<'_>,
    timer: &R,
    cx: &mut Context<'_>,
) -> Alone {
    loop {
        let batch = isolate::catch(|| {
            loop {
                if !progress.next_pending(cells) {
                    return Alone::Done;
                }
                let top = progress.top - 1;
                if !is_alone(cells, top) {
                    return Alone::Stage;
                }
                let cell = &mut cells[top];
                if !cell.is_started() {
                    cell.start(timer.stamp());
                    debug!("running teardown callback {:?}", cell.name);
                }
                let Poll::Ready(end) = poll_uncaught(cell, texts, cx) else {
                    return Alone::Pending;
                };
                cell.finish(end, finished, None);
                progress.top = top;
            }
        });
        match batch {
            Ok(stopped) => return stopped,
            Err(panic) => {
                let cell = &mut cells[progress.top - 1];
                let end = caught(cell, panic);
                cell.finish(end, finished, None);
                progress.top -= 1;
            }
        }
    }
}

/// Whether cell `at` is a stage of its own: joins nothing below, and
/// nothing above joins it.
fn is_alone<R: Clock, C: ?Sized, S: Storage>(cells: &[Cell<'_, R, C, S>], at: usize) -> bool {
    !cells[at].is_joined() && cells.get(at + 1).is_none_or(|above| !above.is_joined())
}

/// Polls one pending callback once, turning an error into how it ended; a
/// panic goes through (the caller catches it).
#[inline(always)]
fn poll_uncaught<R: Clock, C: ?Sized + Cleanup, S: Storage>(
    cell: &mut Cell<'_, R, C, S>,
    texts: &mut Texts<'_>,
    cx: &mut Context<'_>,
) -> Poll<End<R::Timeout>> {
    let Parts { name, state, .. } = &mut **cell;
    let State::Pending { slot, .. } = state else {
        unreachable!("only pending callbacks are polled");
    };
    let Some(future) = slot.get_mut().as_mut() else {
        unreachable!("a pending callback has its future");
    };
    let mut failure = Failure::new(name, texts);
    futures_lite::ready!(future.poll_cleanup(cx, &mut failure));
    Poll::Ready(match failure.into_kept() {
        None => End::Completed,
        Some(kept) => End::Failed(kept),
    })
}

/// Polls one pending callback once, turning an error or a panic into how
/// it ended.
pub(crate) fn poll_cell<R: Clock, C: ?Sized + Cleanup, S: Storage>(
    cell: &mut Cell<'_, R, C, S>,
    texts: &mut Texts<'_>,
    cx: &mut Context<'_>,
) -> Poll<End<R::Timeout>> {
    match isolate::catch(|| poll_uncaught(&mut *cell, texts, cx)) {
        Ok(polled) => polled,
        Err(panic) => Poll::Ready(caught(cell, panic)),
    }
}

/// How a callback that panicked while polled ended; logged.
fn caught<R: Clock, C: ?Sized, S: Storage>(
    cell: &Cell<'_, R, C, S>,
    panic: Panic,
) -> End<R::Timeout> {
    error!("teardown callback {:?} panicked: {}", cell.name, panic);
    panicked(panic)
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
