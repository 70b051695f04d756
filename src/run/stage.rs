//! Running a stage: callbacks that run together, each with its own
//! isolation and (with a timer) its own deadline. On a stack with a timer
//! every callback goes through here, as a stage of one, so that it can time
//! out; without, only the members of a stage of several.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use crate::fmt::Span;
use crate::report::counts::{Counts, End};
use crate::report::event::{Watch, watched};
use crate::report::message::Texts;
use crate::run::alone::{Alone, poll_cell, run_alone};
use crate::run::limits::{Limits, soft_passed};
use crate::run::progress::{Current, Progress};
use crate::run::wake::StageWakers;
use crate::run::watch::{self, Sight};
use crate::storage::cell::Cell;
use crate::storage::cleanup::Cleanup;
use crate::storage::inline::Storage;
use crate::storage::order::order_stage;
use crate::timer::Clock;
use crate::timer::budget::Deadlines;

/// What drives the rest of a run with stages or a timer; see
/// [`drive_run`]. A stack without a timer keeps one only once it opened a
/// stage, so that a program that never does links none of this module.
pub(crate) type Driver<'a, R, C, S> = for<'p, 'c, 'n, 't, 'x, 'y> fn(
    &'p mut Progress<R>,
    &'c mut [Cell<'a, R, C, S>],
    &'n mut Counts,
    &'t mut Texts<'a>,
    &'x R,
    &mut Context<'y>,
    Watch<'a>,
) -> Poll<()>;

/// Runs the rest of a run with stages, or with a timer: callbacks alone
/// in their stages one after another (without a timer, through
/// [`run_alone`]; with one, each as a stage of one, so that it can time
/// out), and each stage of several with [`drive_stage`]. `Ready` once every
/// callback has finished.
pub(crate) fn drive_run<'a, R: Clock, C: ?Sized + Cleanup, S: Storage>(
    progress: &mut Progress<R>,
    cells: &mut [Cell<'a, R, C, S>],
    finished: &mut Counts,
    texts: &mut Texts<'a>,
    timer: &R,
    cx: &mut Context<'_>,
    watch: Watch<'a>,
) -> Poll<()> {
    loop {
        if progress.stage.is_none() {
            if !R::TIMED {
                match run_alone::<true, _, _, _>(
                    progress, cells, finished, texts, timer, cx, true, watch,
                ) {
                    Alone::Done => return Poll::Ready(()),
                    Alone::Pending => return Poll::Pending,
                    Alone::Stage => {}
                }
            } else if !progress.next_pending(cells) {
                return Poll::Ready(());
            }
        }
        futures_lite::ready!(drive_stage(
            progress, cells, finished, texts, timer, cx, watch
        ));
    }
}

/// Runs the stage of the highest pending cell (below `progress.top`) until
/// it completes (`Ready`) or must wait.
fn drive_stage<'a, R: Clock, C: ?Sized + Cleanup, S: Storage>(
    progress: &mut Progress<R>,
    cells: &mut [Cell<'a, R, C, S>],
    finished: &mut Counts,
    texts: &mut Texts<'a>,
    timer: &R,
    cx: &mut Context<'_>,
    watch: Watch<'a>,
) -> Poll<()> {
    let sight = progress.sight(watch);
    loop {
        let now = timer.now();
        let stage = match &mut *progress.stage {
            Some(stage) => stage,
            slot => {
                progress.notice.restart(now);
                slot.insert(Current::around(cells, progress.top - 1, finished.recorded))
            }
        };
        let members = &mut cells[stage.base..stage.end];

        let mut limits = Limits::default();
        if R::TIMED {
            limits = Limits {
                deadline: sight.deadline,
                reserve: R::budget_of(progress.reserve).unwrap_or_default(),
                margin: R::budget_of(progress.margin),
            };
        }
        stage.start(members, finished, timer, sight, texts, &mut limits);
        if R::TIMED {
            progress.reserve = R::span(Some(limits.reserve));
        }
        stage.poll(members, finished, texts, timer, cx, sight, &limits);
        let earliest = stage.expire(members, finished, now, sight, texts, &limits);

        if stage.running == 0 {
            let (base, end, first) = (stage.base, stage.end, stage.first);
            *progress.stage = None;
            order_stage(cells, base, end, first);
            progress.top = base;
            return Poll::Ready(());
        }
        // Wait for a member's wake, or for the earliest deadline (or the
        // next line saying what the run waits on).
        let earliest = progress.notice.check(
            &cells[stage.base..stage.end],
            now,
            earliest,
            R::budget_of(progress.deadline),
        );
        let Some(deadline) = earliest else {
            return Poll::Pending;
        };
        let left = deadline.saturating_sub(now.unwrap_or_default());
        let sleep = match &mut progress.sleep {
            Some((armed, sleep)) => {
                if R::budget_of(*armed) != Some(deadline) {
                    timer.reset(sleep, left);
                    *armed = R::span(Some(deadline));
                }
                sleep
            }
            slot => match timer.sleep(left) {
                Some(sleep) => &mut slot.insert((R::span(Some(deadline)), sleep)).1,
                None => return Poll::Pending,
            },
        };
        futures_lite::ready!(Pin::new(sleep).poll(cx));
        if let Some((armed, _)) = &mut progress.sleep {
            *armed = R::NO_SPAN;
        }
    }
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
        finished: &mut Counts,
        timer: &R,
        sight: Sight<'_, R>,
        texts: &Texts<'_>,
        limits: &mut Limits,
    ) {
        let concurrent = members.len() > 1;
        let now = timer.now();
        // The critical members about to start keep their time from here
        // on by running: the reserve is for those still to come.
        if R::TIMED && limits.deadline.is_some() {
            for cell in members.iter() {
                if cell.is_pending() && !cell.is_started() && cell.is_critical() {
                    let timeout = cell.timeout().unwrap_or_default();
                    limits.reserve = limits.reserve.saturating_sub(timeout);
                }
            }
        }
        for cell in members.iter_mut().rev() {
            if cell.is_started() || !cell.is_pending() {
                continue;
            }
            let limit = limits.run_deadline(cell.is_critical());
            if now.zip(limit).is_some_and(|(now, limit)| now >= limit) {
                // (The two are one empty block where diagnostics are
                // compiled out.)
                #[allow(clippy::if_same_then_else)]
                if limits.deadline.is_some_and(|deadline| now < Some(deadline)) {
                    warn!(
                        "teardown callback {:?} skipped: the time left is kept for critical callbacks",
                        cell.name
                    );
                } else {
                    warn!("teardown deadline passed: callback {:?} skipped", cell.name);
                }
                cell.finish(End::Skipped, finished, None);
                self.running -= 1;
                if watched(sight.watch) {
                    watch::ended(sight, cell, texts, concurrent, finished.recorded, now);
                }
                continue;
            }
            // Only its own timeout goes with it: the run's deadline is this
            // run's, applied in `expire`, and binds no later run that
            // resumes it.
            cell.start(timer.stamp());
            debug!("running teardown callback {:?}", cell.name);
            if watched(sight.watch) {
                watch::started(sight.watch, cell, concurrent);
            }
        }
    }

    /// Polls the members that may make progress: with per-member wakers,
    /// only those woken since their last poll.
    #[allow(clippy::too_many_arguments)]
    fn poll<R: Clock, C: ?Sized + Cleanup, S: Storage>(
        &mut self,
        members: &mut [Cell<'_, R, C, S>],
        finished: &mut Counts,
        texts: &mut Texts<'_>,
        timer: &R,
        cx: &mut Context<'_>,
        sight: Sight<'_, R>,
        limits: &Limits,
    ) {
        let concurrent = members.len() > 1;
        if let Some(wakers) = &self.wakers {
            wakers.register(cx);
        }
        for (index, cell) in members.iter_mut().enumerate().rev() {
            if !cell.is_pending() {
                continue;
            }
            // With a timer, the deadlines the run gives it: a `push_with`
            // callback reads them on its first poll.
            let deadlines = if R::TIMED {
                Some(limits.of(cell))
            } else {
                None
            };
            let polled = match &self.wakers {
                None => Some(poll_cell(cell, texts, cx, deadlines.as_ref())),
                Some(wakers) => wakers.poll_member(index, cx, |cx| {
                    poll_cell(cell, texts, cx, deadlines.as_ref())
                }),
            };
            if let Some(Poll::Ready(end)) = polled {
                let now = timer.now();
                if let Some((
                    now,
                    Deadlines {
                        hard,
                        soft: Some(soft),
                    },
                )) = now.zip(deadlines)
                {
                    if now >= soft {
                        soft_passed(cell, now, hard);
                    }
                }
                cell.finish(end, finished, now);
                self.running -= 1;
                if watched(sight.watch) {
                    watch::ended(sight, cell, texts, concurrent, finished.recorded, now);
                }
            }
        }
    }

    /// Cancels the members past their own timeout (counted from their first
    /// poll, in this run or an earlier one given up) or past this run's
    /// deadline; returns the earliest cutoff of those still running.
    fn expire<R: Clock, C: ?Sized, S: Storage>(
        &mut self,
        members: &mut [Cell<'_, R, C, S>],
        finished: &mut Counts,
        now: Option<Duration>,
        sight: Sight<'_, R>,
        texts: &Texts<'_>,
        limits: &Limits,
    ) -> Option<Duration> {
        let concurrent = members.len() > 1;
        let now = now?;
        let mut earliest: Option<Duration> = None;
        let mut wake_at = |at: Duration| {
            earliest = Some(earliest.map_or(at, |e: Duration| e.min(at)));
        };
        for cell in members.iter_mut().rev() {
            if !cell.is_pending() || !cell.is_started() {
                continue;
            }
            let Deadlines { hard, soft } = limits.of(cell);
            let Some(deadline) = hard else {
                continue;
            };
            if now < deadline {
                match soft {
                    Some(soft) if now >= soft => soft_passed(cell, now, hard),
                    Some(soft) => wake_at(soft),
                    None => {}
                }
                wake_at(deadline);
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
            cell.finish(End::TimedOut(R::span(Some(budget))), finished, Some(now));
            self.running -= 1;
            if watched(sight.watch) {
                watch::ended(sight, cell, texts, concurrent, finished.recorded, Some(now));
            }
        }
        earliest
    }
}
