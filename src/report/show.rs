//! How a report reads: `Display` (and, with `defmt`, `defmt::Format`) for
//! a record, and for a report in its two forms, the summary with what went
//! wrong and the timeline (`{:#}`).

use core::fmt;

#[cfg(feature = "defmt")]
use crate::fmt::Span;
use crate::report::view::{Outcome, Record, Report};

/// `"db" completed`, `"db" failed: connection reset`, `#2 panicked: boom`.
impl fmt::Display for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome() {
            Outcome::Completed => write!(f, "{:?} completed", self.name()),
            Outcome::Failed(message) => write!(f, "{:?} failed: {message}", self.name()),
            Outcome::Panicked(message) => write!(f, "{:?} panicked: {message}", self.name()),
            Outcome::TimedOut { .. } if self.is_escalated() => {
                write!(f, "{:?} dropped by escalation while it ran", self.name())
            }
            Outcome::TimedOut { budget } => {
                write!(f, "{:?} timed out after {budget:?}", self.name())
            }
            Outcome::Skipped if self.is_escalated() => {
                write!(f, "{:?} skipped: dropped by escalation", self.name())
            }
            Outcome::Skipped => write!(f, "{:?} skipped: the deadline had passed", self.name()),
        }?;
        if let Some(elapsed) = self.elapsed() {
            write!(f, " ({elapsed:?})")?;
        }
        if self.after_soft() {
            f.write_str(", after its soft deadline")?;
        }
        if self.is_critical() {
            f.write_str(", critical")?;
        }
        Ok(())
    }
}

/// With the `defmt` feature: what `Display` writes, durations in seconds.
#[cfg(feature = "defmt")]
impl defmt::Format for Record<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        let name = self.name();
        match &self.outcome() {
            Outcome::Completed => defmt::write!(f, "{:?} completed", name),
            Outcome::Failed(message) => defmt::write!(f, "{:?} failed: {}", name, message),
            Outcome::Panicked(message) => defmt::write!(f, "{:?} panicked: {}", name, message),
            Outcome::TimedOut { .. } if self.is_escalated() => {
                defmt::write!(f, "{:?} dropped by escalation while it ran", name);
            }
            Outcome::TimedOut { budget } => {
                defmt::write!(f, "{:?} timed out after {}", name, Span(*budget));
            }
            Outcome::Skipped if self.is_escalated() => {
                defmt::write!(f, "{:?} skipped: dropped by escalation", name);
            }
            Outcome::Skipped => defmt::write!(f, "{:?} skipped: the deadline had passed", name),
        }
        if let Some(elapsed) = self.elapsed() {
            defmt::write!(f, " ({})", Span(elapsed));
        }
        if self.after_soft() {
            defmt::write!(f, ", after its soft deadline");
        }
        if self.is_critical() {
            defmt::write!(f, ", critical");
        }
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.summary(f)?;
        if f.alternate() {
            return self.timeline(f);
        }
        self.failure_lines(f)
    }
}

impl Report<'_> {
    /// The first line: how many callbacks, how each ended, in what time.
    pub(crate) fn summary(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.len();
        let plural = if total == 1 { "" } else { "s" };
        if total == 0 {
            f.write_str("teardown: no callbacks")?;
        } else if self.is_clean() {
            write!(f, "teardown: {total} callback{plural}, all completed")?;
        } else {
            write!(
                f,
                "teardown: {total} callback{plural}: {} completed",
                self.completed()
            )?;
            for (count, kind) in self.unclean_counts() {
                if count > 0 {
                    write!(f, ", {count} {kind}")?;
                }
            }
        }
        if let Some(elapsed) = self.elapsed() {
            write!(f, ", in {elapsed:?}")?;
        }
        Ok(())
    }

    /// A line for each callback that did not complete.
    pub(crate) fn failure_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for record in self.failures() {
            write!(f, "\n  {record}")?;
        }
        Ok(())
    }

    /// Every record in run order, each with its start (from the run's) and
    /// its time: the alternate form, `{:#}`.
    pub(crate) fn timeline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for record in self {
            f.write_str("\n  ")?;
            match record.started() {
                Some(started) => write!(f, "+{started:?} ")?,
                None if record.outcome() == Outcome::Skipped => f.write_str("unstarted ")?,
                None => {}
            }
            write!(f, "{record}")?;
            if record.is_concurrent() {
                f.write_str(", in a stage")?;
            }
        }
        Ok(())
    }
}

/// With the `defmt` feature: what `Display` writes, durations in seconds.
#[cfg(feature = "defmt")]
impl defmt::Format for Report<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        let total = self.len();
        let plural = if total == 1 { "" } else { "s" };
        if total == 0 {
            defmt::write!(f, "teardown: no callbacks");
        } else if self.is_clean() {
            defmt::write!(
                f,
                "teardown: {=usize} callback{=str}, all completed",
                total,
                plural
            );
        } else {
            defmt::write!(
                f,
                "teardown: {=usize} callback{=str}: {=usize} completed",
                total,
                plural,
                self.completed()
            );
            for (count, kind) in self.unclean_counts() {
                if count > 0 {
                    defmt::write!(f, ", {=usize} {=str}", count, kind);
                }
            }
        }
        if let Some(elapsed) = self.elapsed() {
            defmt::write!(f, ", in {}", Span(elapsed));
        }
        for record in self.failures() {
            defmt::write!(f, "\n  {}", record);
        }
    }
}
