//! The future that runs a stack's callbacks.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use crate::callback::{Cleanup, Failure};
use crate::cell::{Cell, Cells, End, State, panicked};
use crate::fmt::Span;
use crate::inline::{InlineSlots, NoInline, Storage};
use crate::isolate;
use crate::message::Texts;
use crate::timer::Clock;
use crate::wake::StageWakers;
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
    /// The overall budget asked for with `within`.
    within: Option<Duration>,
    /// Set on the first poll.
    begun: Option<Begun>,
    /// The cells from here up are done with in this run.
    top: usize,
    /// How many callbacks finished in this run: numbers them in order.
    finished: u32,
    /// The stage running now, once started by this run.
    stage: Option<Current>,
    /// A sleep until the earliest deadline of the running members, and the
    /// deadline it is armed for (`None` once it has fired); re-armed in
    /// place when that deadline changes.
    sleep: Option<(Option<Duration>, R::Sleep)>,
}

#[derive(Clone, Copy)]
struct Begun {
    at: Option<Duration>,
    deadline: Option<Duration>,
}

/// The stage being run: cells `base..end` of the stack.
struct Current {
    base: usize,
    end: usize,
    /// Members not finished yet.
    running: usize,
    /// The number the first member to finish gets.
    first: u32,
    /// Per-member wakers, for stages whose members wake separately.
    wakers: Option<StageWakers>,
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
            within: None,
            begun: None,
            top: 0,
            finished: 0,
            stage: None,
            sleep: None,
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
    /// warning, and reported as [skipped](Outcome::Skipped). Nothing is lost
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
        let begun = match this.begun {
            Some(begun) => begun,
            None => {
                let begun = begin(stack, this.within);
                this.top = stack.cells.cells.len();
                *this.begun.insert(begun)
            }
        };
        let Teardown { cells, timer, .. } = stack;
        let Cells { cells, texts } = cells;
        loop {
            if this.stage.is_none() {
                // The highest callback not finished.
                while this.top > 0 && !cells[this.top - 1].is_pending() {
                    this.top -= 1;
                }
                let Some(top) = this.top.checked_sub(1) else {
                    break;
                };
                let alone = !cells[top].is_joined()
                    && cells.get(top + 1).is_none_or(|above| !above.is_joined());
                // Without a timer there is nothing to time out: a callback
                // alone in its stage is started, polled and recorded, with
                // none of a stage's bookkeeping.
                if alone && begun.at.is_none() {
                    let cell = &mut cells[top];
                    if !cell.is_started() {
                        cell.start(timer.stamp());
                        debug!("running teardown callback {:?}", cell.name);
                    }
                    let Poll::Ready(end) = poll_cell(cell, texts, cx) else {
                        return Poll::Pending;
                    };
                    cell.finish(end, this.finished, None);
                    this.finished += 1;
                    this.top = top;
                    continue;
                }
                this.stage = Some(Current::around(cells, top, this.finished));
            }
            let stage = this.stage.as_mut().expect("set above");
            let now = timer.now();
            let members = &mut cells[stage.base..stage.end];
            let finished = &mut this.finished;

            stage.start(members, finished, timer, begun.deadline);
            stage.poll(members, finished, texts, timer, cx);
            let earliest = stage.expire(members, finished, now, begun.deadline);

            if stage.running == 0 {
                let (base, end, first) = (stage.base, stage.end, stage.first);
                this.stage = None;
                crate::cell::order_stage(cells, base, end, first);
                this.top = base;
                continue;
            }
            // Wait for a member's wake, or for the earliest deadline.
            let Some(deadline) = earliest else {
                return Poll::Pending;
            };
            let left = deadline.saturating_sub(now.unwrap_or_default());
            let sleep = match &mut this.sleep {
                Some((armed, sleep)) => {
                    if *armed != Some(deadline) {
                        timer.reset(sleep, left);
                        *armed = Some(deadline);
                    }
                    sleep
                }
                slot => match timer.sleep(left) {
                    Some(sleep) => &mut slot.insert((Some(deadline), sleep)).1,
                    None => return Poll::Pending,
                },
            };
            futures_lite::ready!(Pin::new(sleep).poll(cx));
            if let Some((armed, _)) = &mut this.sleep {
                *armed = None;
            }
        }
        let end = timer.now();
        let elapsed = end.zip(begun.at).map(|(end, at)| end.saturating_sub(at));
        this.sleep = None;
        let stack = this.stack.take().expect("checked above");
        stack.elapsed = Some(R::span(elapsed));
        let report = stack.report_of(this.finished as usize);
        debug!("{}", report);
        Poll::Ready(report)
    }
}

/// Starts a run: forgets the last run's records and texts, and notes the
/// time and the deadline.
fn begin<const N: usize, R: Clock, C: ?Sized + Cleanup, S: Storage>(
    stack: &mut Teardown<'_, N, R, C, S>,
    within: Option<Duration>,
) -> Begun {
    stack.cells.forget_records();
    stack.elapsed = None;
    let at = stack.timer.now();
    let deadline = at.zip(within).map(|(at, within)| at.saturating_add(within));
    Begun { at, deadline }
}

impl Current {
    /// The stage of cell `at`, whose members run together.
    fn around<R: Clock, C: ?Sized, S: Storage>(
        cells: &[Cell<'_, R, C, S>],
        at: usize,
        first: u32,
    ) -> Self {
        let mut base = at;
        while base > 0 && cells[base].is_joined() {
            base -= 1;
        }
        let mut end = at + 1;
        while end < cells.len() && cells[end].is_joined() {
            end += 1;
        }
        let members = &cells[base..end];
        let running = members.iter().filter(|c| c.is_pending()).count();
        // Each member gets its own waker only in a stage that already
        // allocates (one of its callbacks is boxed): a stage of borrowed or
        // inline callbacks allocates nothing, and is polled whole on a wake.
        let owned = members.iter().any(Cell::is_boxed);
        Current {
            base,
            end,
            running,
            first,
            wakers: (running > 1 && owned).then(|| StageWakers::new(members.len())),
        }
    }

    /// Starts the members not started yet, top first, each with its budget;
    /// once the run's deadline has passed, skips them instead.
    fn start<R: Clock, C: ?Sized, S: Storage>(
        &mut self,
        members: &mut [Cell<'_, R, C, S>],
        finished: &mut u32,
        timer: &R,
        deadline: Option<Duration>,
    ) {
        let now = timer.now();
        let left = now.zip(deadline).map(|(now, d)| d.saturating_sub(now));
        for cell in members.iter_mut().rev() {
            if cell.is_started() || !cell.is_pending() {
                continue;
            }
            if left.is_some_and(|left| left.is_zero()) {
                warn!("teardown deadline passed: callback {:?} skipped", cell.name);
                cell.finish(End::Skipped, *finished, None);
                *finished += 1;
                self.running -= 1;
                continue;
            }
            // Only its own timeout goes with it: the run's deadline is this
            // run's, applied in `expire`, and binds no later run that
            // resumes it.
            cell.start(timer.stamp());
            debug!("running teardown callback {:?}", cell.name);
        }
    }

    /// Polls the members that may make progress: with per-member wakers,
    /// only those woken since their last poll.
    fn poll<R: Clock, C: ?Sized + Cleanup, S: Storage>(
        &mut self,
        members: &mut [Cell<'_, R, C, S>],
        finished: &mut u32,
        texts: &mut Texts<'_>,
        timer: &R,
        cx: &mut Context<'_>,
    ) {
        if let Some(wakers) = &self.wakers {
            wakers.register(cx);
        }
        for (index, cell) in members.iter_mut().enumerate().rev() {
            if !cell.is_pending() {
                continue;
            }
            let polled = match &self.wakers {
                None => Some(poll_cell(cell, texts, cx)),
                Some(wakers) => wakers.poll_member(index, cx, |cx| poll_cell(cell, texts, cx)),
            };
            if let Some(Poll::Ready(end)) = polled {
                cell.finish(end, *finished, timer.now());
                *finished += 1;
                self.running -= 1;
            }
        }
    }

    /// Cancels the members past their own timeout (counted from their first
    /// poll, in this run or an earlier one given up) or past this run's
    /// deadline; returns the earliest cutoff of those still running.
    fn expire<R: Clock, C: ?Sized, S: Storage>(
        &mut self,
        members: &mut [Cell<'_, R, C, S>],
        finished: &mut u32,
        now: Option<Duration>,
        run_deadline: Option<Duration>,
    ) -> Option<Duration> {
        let now = now?;
        let mut earliest: Option<Duration> = None;
        for cell in members.iter_mut().rev() {
            if !cell.is_pending() || !cell.is_started() {
                continue;
            }
            let deadline = match (cell.deadline(), run_deadline) {
                (Some(own), Some(run)) => own.min(run),
                (own, run) => match own.or(run) {
                    Some(deadline) => deadline,
                    None => continue,
                },
            };
            if now < deadline {
                earliest = Some(earliest.map_or(deadline, |e| e.min(deadline)));
                continue;
            }
            let budget = cell
                .started_at()
                .map_or(Duration::ZERO, |at| deadline.saturating_sub(at));
            warn!(
                "teardown callback {:?} timed out after {:?}; cancelled",
                cell.name,
                Span(budget)
            );
            cell.finish(End::TimedOut(R::span(Some(budget))), *finished, Some(now));
            *finished += 1;
            self.running -= 1;
        }
        earliest
    }
}

/// Polls one pending callback once, turning an error or a panic into how
/// it ended.
fn poll_cell<R: Clock, C: ?Sized + Cleanup, S: Storage>(
    cell: &mut Cell<'_, R, C, S>,
    texts: &mut Texts<'_>,
    cx: &mut Context<'_>,
) -> Poll<End<R::Timeout>> {
    let Cell { name, state, .. } = cell;
    let State::Pending { slot, .. } = state else {
        unreachable!("only pending callbacks are polled");
    };
    let Some(future) = slot.get_mut().as_mut() else {
        unreachable!("a pending callback has its future");
    };
    let mut failure = Failure::new(name, texts);
    let polled = isolate::catch(|| future.poll_cleanup(cx, &mut failure));
    match polled {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(())) => Poll::Ready(match failure.into_kept() {
            None => End::Completed,
            Some(kept) => End::Failed(kept),
        }),
        Err(panic) => {
            error!("teardown callback {:?} panicked: {}", name, panic);
            Poll::Ready(panicked(panic))
        }
    }
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
