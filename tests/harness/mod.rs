//! The property harness: runs a generated script against the real stack and
//! checks every step against a model of what the stack promises.
//!
//! One body, used three ways: by the cargo-fuzz targets in `fuzz/`, by the
//! proptest properties in `tests/properties.rs`, and by the replay of
//! committed inputs in `tests/fuzz_regressions.rs`.
#![allow(dead_code)]

mod driver;
mod model;
mod probe;

use arbitrary::{Arbitrary, Unstructured};

pub use driver::run_script;

/// Stack capacity: small, so scripts often fill it.
pub const CAPACITY: usize = 6;
/// Longest script accepted; longer inputs are rejected, not truncated.
pub const MAX_OPS: usize = 48;
/// Names for named callbacks (`&'static str` without leaking).
pub const NAMES: [&str; 64] = [
    "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11", "p12", "p13", "p14",
    "p15", "p16", "p17", "p18", "p19", "p20", "p21", "p22", "p23", "p24", "p25", "p26", "p27",
    "p28", "p29", "p30", "p31", "p32", "p33", "p34", "p35", "p36", "p37", "p38", "p39", "p40",
    "p41", "p42", "p43", "p44", "p45", "p46", "p47", "p48", "p49", "p50", "p51", "p52", "p53",
    "p54", "p55", "p56", "p57", "p58", "p59", "p60", "p61", "p62", "p63",
];

/// What a script may exercise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No timeouts and no deadlines: ordering and failure isolation.
    OrderAndIsolation,
    /// Everything, with per-callback timeouts and run deadlines.
    Deadlines,
}

/// A script: the operations, in order.
#[derive(Clone, Debug)]
pub struct Script {
    pub ops: Vec<Op>,
}

/// One step of a script.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// Register a callback.
    Register(Registration),
    /// Run the stack, maybe with a deadline, maybe dropping the run after
    /// some polls.
    Run {
        deadline_ms: Option<u8>,
        drop_after_polls: Option<u8>,
    },
    /// Drop the stack (unfinished callbacks are dropped with a warning) and
    /// start a new one.
    DropStack,
}

/// How a callback is registered and what it does.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Registration {
    pub how: How,
    pub named: bool,
    pub behaviour: Behaviour,
    pub timeout_ms: Option<u8>,
    /// Join the stage of the registration just before, if it is still open.
    pub join_stage: bool,
}

/// Registration method.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    Boxed,
    Closure,
    Borrowed,
}

/// What a callback does when run.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Complete,
    Fail,
    Panic,
    /// Pending this many times (mod 8), waking itself, then completes.
    Yield(u8),
    /// Pending this many times (mod 8), waking itself twice each time.
    WakeTwice(u8),
    /// Pending once; another thread sets a flag and wakes it.
    WakeFromThread,
    /// Sleeps this many virtual milliseconds on the stack's clock.
    Sleep(u8),
    /// Never completes.
    Hang,
}

impl Script {
    /// Decodes a script from fuzzer bytes: operations until the bytes run
    /// out. `None` for an input that decodes to more than [`MAX_OPS`]
    /// operations: it is rejected, not truncated.
    pub fn from_bytes(bytes: &[u8]) -> Option<Script> {
        let mut u = Unstructured::new(bytes);
        let mut ops = Vec::new();
        while !u.is_empty() {
            if ops.len() == MAX_OPS {
                return None;
            }
            ops.push(Op::arbitrary(&mut u).ok()?);
        }
        Some(Script { ops })
    }
}
