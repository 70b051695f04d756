//! The lifecycle layer's scripts: scopes, builds that fail at any step,
//! nested stacks, shutdowns interrupted at any poll, and stack drops, with
//! callbacks that fail, panic, hang or panic in their destructors. Checked
//! against a model of what the layer promises: every owned callback dropped
//! exactly once, last registered first across nesting, each report what
//! the callbacks did, and nothing run once an interrupt has won.
//!
//! Used by the `lifecycle` fuzz target and by the replay of its committed
//! inputs in `tests/fuzz_regressions.rs`.

mod driver;
mod model;
mod script;

// Used by the fuzz target and the replay, not by every test that includes
// the harness.
#[allow(unused_imports)]
pub use driver::run_lifecycle;
#[allow(unused_imports)]
pub use script::LifecycleScript;
