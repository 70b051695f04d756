//! What a run says of its callbacks: names, outcomes, failure texts, the
//! counts a run keeps as it goes, and the [`Report`] that reads them.
//!
//! The lowest layer but the timer: it knows nothing of how callbacks are
//! stored or run, only what is said of them.

pub(crate) mod counts;
pub(crate) mod event;
pub(crate) mod message;
pub(crate) mod name;
pub(crate) mod records;
pub(crate) mod show;
pub(crate) mod unfinished;
pub(crate) mod view;

#[cfg(feature = "observer")]
pub use event::{Event, Observer};
pub use message::Message;
pub use name::{IntoName, Name};
pub use records::Records;
pub use unfinished::{Interruption, Unfinished};
pub use view::{Outcome, Record, Report};
