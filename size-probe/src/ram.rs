//! The RAM budget of a stack on this target (thumbv7em, 32-bit), checked
//! when the probe is compiled: a stack that grows past it fails the build.
//!
//! The figures are `size_of` with no default features and no timer, as a
//! firmware uses the crate: the whole of a `Teardown<'static, 8>`, and what
//! each slot costs, from the difference between capacities 32 and 8.

use core::mem::size_of;

use teardown_stack::Teardown;

/// `size_of::<Teardown<'static, 8>>()`, in bytes: measured 1,064.
pub const TEARDOWN_8_BUDGET: usize = 1064;
/// Bytes per slot: measured 128.
pub const PER_SLOT_BUDGET: usize = 128;

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
