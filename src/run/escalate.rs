//! Escalation: an interrupt that drops the callbacks that are not
//! critical, so that only the critical ones still run.

use crate::report::counts::{Counts, End};
use crate::run::progress::Progress;
use crate::run::stage::drive_run;
use crate::run::watch;
use crate::storage::cell::ESCALATED;
use crate::storage::cells::Cells;
use crate::storage::cleanup::Cleanup;
use crate::storage::inline::Storage;
use crate::timer::Clock;

/// Drops every pending callback of a run that is not critical: one
/// running is cut off (reported timed out after the time it ran), one not
/// started is skipped; each is let go as such, marked dropped by
/// escalation and logged. `false`, with nothing changed, when no critical
/// callback is pending: escalation would keep nothing.
pub(crate) fn escalate<const N: usize, R: Clock, C: ?Sized + Cleanup, S: Storage>(
    progress: &mut Progress<R>,
    stack: &mut Cells<'_, N, R, C, S, crate::run::stage::Driver<'_, R, C, S>>,
    finished: &mut Counts,
    timer: &R,
) -> bool {
    let critical = stack
        .cells
        .iter()
        .filter(|cell| cell.is_pending() && cell.is_critical())
        .count();
    if critical == 0 {
        return false;
    }
    // What is left no longer runs in the order a lone loop assumes (every
    // cell below its place pending): the driver of stages goes on with it.
    stack.stages = Some(drive_run);
    stack.holes = Some(Cells::remove_holes);
    let now = timer.now();
    let sight = progress.sight(stack.observer);
    let mut dropped = 0;
    for at in (0..stack.cells.len()).rev() {
        let cell = &mut stack.cells[at];
        if !cell.is_pending() || cell.is_critical() {
            continue;
        }
        let end = if cell.is_started() {
            let ran = cell
                .started_at()
                .zip(now)
                .map(|(started, now)| now.saturating_sub(started));
            warn!(
                "teardown callback {:?} dropped by escalation while it ran",
                cell.name
            );
            End::TimedOut(R::span(ran))
        } else {
            warn!(
                "teardown callback {:?} dropped by escalation before it started",
                cell.name
            );
            End::Skipped
        };
        cell.meta.mark(ESCALATED);
        cell.finish(end, finished, now);
        dropped += 1;
        if let Some(stage) = &mut *progress.stage {
            if (stage.base..stage.end).contains(&at) {
                stage.running -= 1;
            }
        }
        if crate::report::event::watched(sight.watch) {
            let concurrent =
                cell.is_joined() || stack.cells.get(at + 1).is_some_and(|c| c.is_joined());
            let cell = &stack.cells[at];
            watch::ended(
                sight,
                cell,
                &stack.texts,
                concurrent,
                finished.recorded,
                now,
            );
        }
    }
    warn!(
        "teardown escalated: {} callback(s) dropped, {} critical still to run",
        dropped, critical
    );
    true
}
