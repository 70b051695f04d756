//! The stacks users hold: [`Teardown`], [`InlineTeardown`], their
//! [`Stage`]s and [`Run`]s, and the one path every registration takes.

// In-place heap constructors: `unsafe` code, argued in the module.
#[cfg(feature = "alloc")]
#[allow(unsafe_code)]
pub(crate) mod boxed;
pub(crate) mod error;
// Reaching the stack inside a pinned `InlineTeardown`: one `unsafe` block,
// argued where it is.
#[allow(unsafe_code)]
pub(crate) mod inline;
// `registration!`, the registration methods written once, used by `stage`.
#[macro_use]
pub(crate) mod register;
pub(crate) mod registered;
pub(crate) mod run;
pub(crate) mod stage;
pub(crate) mod teardown;

pub use error::{Full, InlineError, Refused};
pub use inline::{InlineTeardown, LocalInlineTeardown};
pub use registered::Registered;
pub use run::{InlineRun, LocalInlineRun, LocalRun, Run};
pub use stage::{InlineStage, LocalInlineStage, LocalStage, Stage};
pub use teardown::{LocalTeardown, Teardown};
