//! The future that runs a stack's callbacks.

use core::fmt::{self, Display};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::callback::Cleanup;
use crate::isolate;
use crate::stack::Entry;
use crate::{Message, Outcome, Record, Report, Teardown};

/// The future returned by [`Teardown::run`]: runs the callbacks, last
/// registered first, and resolves to the [`Report`].
///
/// Drive it with any executor, or poll it by hand. Dropping it part-way
/// leaves the unfinished callbacks registered (see [`Teardown::run`]).
#[must_use = "futures do nothing unless polled; the callbacks run only when this is awaited"]
pub struct Run<'s, 'a, const N: usize, C: ?Sized + Cleanup> {
    stack: &'s mut Teardown<'a, N, C>,
    report: Report<N>,
}

impl<'s, 'a, const N: usize, C: ?Sized + Cleanup + 'a> Run<'s, 'a, N, C> {
    pub(crate) fn new(stack: &'s mut Teardown<'a, N, C>) -> Self {
        Run {
            stack,
            report: Report::new(),
        }
    }
}

impl<'a, const N: usize, C: ?Sized + Cleanup + 'a> Future for Run<'_, 'a, N, C> {
    type Output = Report<N>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Report<N>> {
        let this = &mut *self;
        // The callback on top stays on the stack while it runs, so a run
        // dropped part-way leaves it there for the next run to resume.
        while let Some(top) = this.stack.entries.last_mut() {
            let outcome = futures_lite::ready!(poll_entry(top, cx));
            let name = top.name;
            let finished = this.stack.entries.pop();
            let outcome = drop_entry(finished, name, outcome);
            this.report.push(Record::new(name, outcome));
        }
        debug!("{}", this.report);
        Poll::Ready(core::mem::take(&mut this.report))
    }
}

/// Polls one callback once, turning an error or a panic into its outcome.
fn poll_entry<C: ?Sized + Cleanup>(
    entry: &mut Entry<'_, C>,
    cx: &mut Context<'_>,
) -> Poll<Outcome> {
    let name = entry.name;
    if !entry.started {
        entry.started = true;
        debug!("running teardown callback {name:?}");
    }
    let mut failure = None;
    let polled = isolate::catch(|| {
        entry
            .slot
            .as_mut()
            .poll_cleanup(cx, &mut |error: &dyn Display| {
                warn!("teardown callback {name:?} failed: {error}");
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
            error!("teardown callback {name:?} panicked: {panic}");
            Poll::Ready(Outcome::Panicked(panic))
        }
    }
}

/// Drops a finished callback; a panic in its destructor is caught (with
/// `std`) and makes a completed callback count as panicked.
fn drop_entry<C: ?Sized>(
    entry: Option<Entry<'_, C>>,
    name: crate::Name,
    outcome: Outcome,
) -> Outcome {
    match isolate::catch(move || drop(entry)) {
        Ok(()) => outcome,
        Err(panic) => {
            error!("teardown callback {name:?} panicked while dropped: {panic}");
            match outcome {
                Outcome::Completed => Outcome::Panicked(panic),
                other => other,
            }
        }
    }
}

impl<'a, const N: usize, C: ?Sized + Cleanup + 'a> fmt::Debug for Run<'_, 'a, N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("stack", &self.stack)
            .field("report", &self.report)
            .finish()
    }
}
