//! The RAM budget of a stack on this target (thumbv7em, 32-bit), checked
//! when the probe is compiled: a stack that grows past it fails the build.
//!
//! The figures are `size_of` with no default features and no timer, as a
//! firmware uses the crate: the whole of a `Teardown<'static, 8>`, and what
//! each slot costs, from the difference between capacities 32 and 8.

use core::mem::size_of;

use teardown_stack::Teardown;

/// `size_of::<Teardown<'static, 8>>()`, in bytes: measured 212 (the goal
/// was at most 224).
pub const TEARDOWN_8_BUDGET: usize = 212;
/// Bytes per slot: measured 24 (the goal was at most 24; a fat pointer to
/// the callback and its name alone take 16).
pub const PER_SLOT_BUDGET: usize = 24;

const TEARDOWN_8: usize = size_of::<Teardown<'static, 8>>();
const PER_SLOT: usize = (size_of::<Teardown<'static, 32>>() - TEARDOWN_8) / 24;

const _: () = assert!(
    TEARDOWN_8 <= TEARDOWN_8_BUDGET,
    "Teardown<'static, 8> is over its RAM budget (size-probe/src/ram.rs)"
);
const _: () = assert!(
    PER_SLOT <= PER_SLOT_BUDGET,
    "a slot is over its RAM budget (size-probe/src/ram.rs)"
);
