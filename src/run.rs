//! The future that runs a stack's callbacks.

use core::fmt::{self, Display};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use crate::callback::{Cleanup, Slot};
use crate::entry::Entry;
use crate::fmt::{Shown, Span};
use crate::inline::{InlineSlot, InlineSlots, NoInline, Storage};
use crate::isolate;
use crate::timer::Clock;
use crate::wake::StageWakers;
use crate::{Message, Name, NoTimer, Outcome, Record, Report, Teardown, Timer};

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
    /// Given back, as a borrow of its report, when the run completes.
    stack: Option<&'s mut Teardown<'a, N, R, C, S>>,
    /// The overall budget asked for with `within`.
    within: Option<Duration>,
    /// Set on the first poll.
    begun: Option<Begun>,
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

/// The stage on top of the stack: entries `base..` of the stack.
struct Current {
    base: usize,
    /// Members not finished yet.
    running: usize,
    /// Per-member wakers, for stages of more than one member.
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
    type Output = &'s Report<N>;

    /// # Panics
    ///
    /// If polled again after it completed.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'s Report<N>> {
        let this = &mut *self;
        let stack = this
            .stack
            .as_deref_mut()
            .expect("teardown run polled after it completed");
        let begun = *this.begun.get_or_insert_with(|| {
            stack.report.clear();
            let at = stack.timer.now();
            let deadline = at
                .zip(this.within)
                .map(|(at, within)| at.saturating_add(within));
            Begun { at, deadline }
        });
        while !stack.entries.is_empty() {
            // Without a timer there is nothing to time out: a callback alone
            // in its stage is started, polled and popped, with none of a
            // stage's bookkeeping.
            if this.stage.is_none() && begun.at.is_none() {
                match run_lone(&mut stack.entries, &mut stack.report, &stack.timer, cx) {
                    Some(Poll::Ready(())) => continue,
                    Some(Poll::Pending) => return Poll::Pending,
                    None => {}
                }
            }
            let stage = this
                .stage
                .get_or_insert_with(|| Current::top_of(&stack.entries));
            let now = stack.timer.now();
            let members = &mut stack.entries[stage.base..];
            let report = &mut stack.report;
            let timer = &stack.timer;

            stage.start(members, report, timer, begun.deadline);
            stage.poll(members, report, timer, cx);
            let earliest = stage.expire(members, report, now, begun.deadline);

            if stage.running == 0 {
                let base = stage.base;
                this.stage = None;
                stack.entries.truncate(base);
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
        let end = stack.timer.now();
        let elapsed = end.zip(begun.at).map(|(end, at)| end.saturating_sub(at));
        stack.report.set_elapsed(elapsed);
        this.sleep = None;
        let stack = this.stack.take().expect("checked above");
        debug!("{}", stack.report);
        Poll::Ready(&stack.report)
    }
}

impl Current {
    /// The stage on top of `entries` (not empty).
    fn top_of<R: Clock, C: ?Sized, S: Storage>(entries: &[Entry<'_, R, C, S>]) -> Self {
        let id = entries[entries.len() - 1].stage;
        let members = entries.iter().rev().take_while(|e| e.stage == id).count();
        let base = entries.len() - members;
        Current {
            base,
            running: entries[base..].iter().filter(|e| !e.is_finished()).count(),
            wakers: (members > 1).then(|| StageWakers::new(members)),
        }
    }

    /// Starts the members not started yet, top first, each with its budget;
    /// once the run's deadline has passed, skips them instead.
    fn start<const N: usize, R: Clock, C: ?Sized, S: Storage>(
        &mut self,
        members: &mut [Entry<'_, R, C, S>],
        report: &mut Report<N>,
        timer: &R,
        deadline: Option<Duration>,
    ) {
        let now = timer.now();
        let left = now.zip(deadline).map(|(now, d)| d.saturating_sub(now));
        for entry in members.iter_mut().rev() {
            if entry.started.is_some() || entry.is_finished() {
                continue;
            }
            if left.is_some_and(|left| left.is_zero()) {
                warn!(
                    "teardown deadline passed: callback {:?} skipped",
                    entry.name
                );
                finish(entry, report, Outcome::Skipped, None);
                self.running -= 1;
                continue;
            }
            // Only its own timeout goes with it: the run's deadline is this
            // run's, applied in `expire`, and binds no later run that
            // resumes it.
            entry.started = Some(timer.stamp());
            debug!("running teardown callback {:?}", entry.name);
        }
    }

    /// Polls the members that may make progress: with per-member wakers,
    /// only those woken since their last poll.
    fn poll<const N: usize, R: Clock, C: ?Sized + Cleanup, S: Storage>(
        &mut self,
        members: &mut [Entry<'_, R, C, S>],
        report: &mut Report<N>,
        timer: &R,
        cx: &mut Context<'_>,
    ) {
        if let Some(wakers) = &self.wakers {
            wakers.register(cx);
        }
        for (index, entry) in members.iter_mut().enumerate().rev() {
            let Some(future) = entry.slot.as_mut() else {
                continue;
            };
            let name = &entry.name;
            let polled = match &self.wakers {
                None => Some(poll_isolated(future, name, cx)),
                Some(wakers) => wakers.poll_member(index, cx, |cx| poll_isolated(future, name, cx)),
            };
            if let Some(Poll::Ready(outcome)) = polled {
                finish(entry, report, outcome, timer.now());
                self.running -= 1;
            }
        }
    }

    /// Cancels the members past their own timeout (counted from their first
    /// poll, in this run or an earlier one given up) or past this run's
    /// deadline; returns the earliest cutoff of those still running.
    fn expire<const N: usize, R: Clock, C: ?Sized, S: Storage>(
        &mut self,
        members: &mut [Entry<'_, R, C, S>],
        report: &mut Report<N>,
        now: Option<Duration>,
        run_deadline: Option<Duration>,
    ) -> Option<Duration> {
        let now = now?;
        let mut earliest: Option<Duration> = None;
        for entry in members.iter_mut().rev() {
            if entry.is_finished() {
                continue;
            }
            let Some(started) = entry.started else {
                continue;
            };
            let deadline = match (entry.deadline(), run_deadline) {
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
            let budget =
                R::time_of(started).map_or(Duration::ZERO, |at| deadline.saturating_sub(at));
            warn!(
                "teardown callback {:?} timed out after {:?}; cancelled",
                entry.name,
                Span(budget)
            );
            finish(entry, report, Outcome::TimedOut { budget }, Some(now));
            self.running -= 1;
        }
        earliest
    }
}

/// Runs the top entry if it is a stage of its own: starts it, polls it once,
/// and pops it if it finished. `None` if the top is a member of a larger
/// stage, which [`Current`] runs.
fn run_lone<const N: usize, R: Clock, C: ?Sized + Cleanup, S: Storage>(
    entries: &mut heapless::Vec<Entry<'_, R, C, S>, N>,
    report: &mut Report<N>,
    timer: &R,
    cx: &mut Context<'_>,
) -> Option<Poll<()>> {
    let (top, below) = entries.split_last_mut()?;
    if below.last().is_some_and(|under| under.stage == top.stage) {
        return None;
    }
    let future = top.slot.as_mut()?;
    if top.started.is_none() {
        top.started = Some(timer.stamp());
        debug!("running teardown callback {:?}", top.name);
    }
    let Poll::Ready(outcome) = poll_isolated(future, &top.name, cx) else {
        return Some(Poll::Pending);
    };
    finish(top, report, outcome, None);
    entries.pop();
    Some(Poll::Ready(()))
}

/// Polls one callback once, turning an error or a panic into its outcome.
fn poll_isolated<C: ?Sized + Cleanup>(
    future: Pin<&mut C>,
    name: &Name,
    cx: &mut Context<'_>,
) -> Poll<Outcome> {
    let mut failure = None;
    let polled = isolate::catch(|| {
        future.poll_cleanup(cx, &mut |error: &dyn Display| {
            warn!("teardown callback {:?} failed: {}", name, Shown(error));
            failure = Some(Message::render(error));
        })
    });
    match polled {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(())) => Poll::Ready(match failure {
            None => Outcome::Completed,
            Some(message) => Outcome::Failed(message),
        }),
        Err(panic) => {
            error!("teardown callback {:?} panicked: {}", name, panic);
            Poll::Ready(Outcome::Panicked(panic))
        }
    }
}

/// Ends a callback: drops its future (a panic in its destructor is caught
/// with `std`, and makes a completed callback count as panicked) and records
/// it.
fn finish<const N: usize, R: Clock, C: ?Sized, S: Storage>(
    entry: &mut Entry<'_, R, C, S>,
    report: &mut Report<N>,
    outcome: Outcome,
    now: Option<Duration>,
) {
    // The record takes the name; a finished entry is never listed by name.
    let name = core::mem::replace(&mut entry.name, Name::unnamed(0));
    // Dropping an owned future runs its destructor, which may panic; a
    // borrowed one is its owner's to drop, so there is nothing to guard. An
    // inline one is dropped where it lies, before its slot is moved.
    let dropped = match &mut entry.slot {
        Slot::Inline(future) => isolate::catch(|| future.clear()),
        _ => Ok(()),
    };
    let slot = core::mem::replace(&mut entry.slot, Slot::Finished);
    let dropped = dropped.and(match slot {
        Slot::Borrowed(_) | Slot::Inline(_) | Slot::Finished => Ok(()),
        #[cfg(feature = "alloc")]
        owned @ Slot::Boxed(_) => isolate::catch(move || {
            let _dropped = owned;
        }),
    });
    let outcome = match dropped {
        Ok(()) => outcome,
        Err(panic) => {
            error!(
                "teardown callback {:?} panicked while dropped: {}",
                name, panic
            );
            match outcome {
                Outcome::Completed => Outcome::Panicked(panic),
                other => other,
            }
        }
    };
    let elapsed = entry
        .started
        .and_then(|started| Some(now?.saturating_sub(R::time_of(started)?)));
    report.push(Record::new(name, outcome, elapsed));
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
