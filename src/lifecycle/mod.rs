//! A service's life around its stack: building with rollback, scopes,
//! nesting, an interruptible shutdown, signals and exit codes. Each is
//! built on the stack's public surface.

#[cfg(feature = "std")]
pub(crate) mod exit;
pub(crate) mod interrupts;
pub(crate) mod nest;
pub(crate) mod released;
pub(crate) mod rollback;
pub(crate) mod scope;
pub(crate) mod shutdown;
#[cfg(feature = "signal")]
pub(crate) mod signal;
#[cfg(all(feature = "systemd", unix))]
pub(crate) mod systemd;
#[cfg(feature = "trace-file")]
pub(crate) mod trace_file;
#[cfg(feature = "tracing")]
pub(crate) mod traces;
pub(crate) mod unwind;

pub use interrupts::{Each, Interrupts, IntoInterrupts, Once, each};
pub use nest::NestedFailure;
pub use released::Released;
pub use shutdown::Shutdown;
#[cfg(feature = "signal")]
pub use signal::{Caught, Signal, Signals};
#[cfg(all(feature = "systemd", unix))]
pub use systemd::Systemd;
#[cfg(feature = "tracing")]
pub use traces::Tracing;
