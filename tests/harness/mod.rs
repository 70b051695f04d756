//! The property harness: runs a generated script against the real stack and
//! checks every step against a model of what the stack promises.
//!
//! One body, used three ways: by the cargo-fuzz targets in `fuzz/`, by the
//! proptest properties in `tests/properties.rs`, and by the replay of
//! committed inputs in `tests/fuzz_regressions.rs`.
#![allow(dead_code)]

pub mod budgets;
mod driver;
pub mod lifecycle;
mod model;
mod probe;

use arbitrary::{Arbitrary, Unstructured};

#[allow(unused_imports)] // not by the lifecycle target
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

/// Which stack a script runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackKind {
    /// A `LocalTeardown`: boxed, closure and borrowed callbacks only. Inline
    /// registrations fall back to the kind they decode as without inline
    /// kinds (see [`How::fallback`]).
    Plain,
    /// A pinned `LocalInlineTeardown` whose slots fit a probe: every kind of
    /// registration, mixed on one stack.
    Inline,
}

impl StackKind {
    pub fn other(self) -> StackKind {
        match self {
            StackKind::Plain => StackKind::Inline,
            StackKind::Inline => StackKind::Plain,
        }
    }
}

/// A script: the operations, in order, and the stack they run on.
#[derive(Clone, Debug)]
pub struct Script {
    pub ops: Vec<Op>,
    pub stack: StackKind,
}

/// One step of a script.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// Register a callback.
    Register(Registration),
    /// Run the stack, maybe with a deadline, maybe giving the run up after
    /// some polls. A later run then resumes it with its own deadline, looser,
    /// tighter or absent.
    Run {
        deadline_ms: Option<u8>,
        /// Give up after `k % 8` polls: `mem::forget` the run when bit 3 of
        /// `k` is set, else drop it.
        drop_after_polls: Option<u8>,
    },
    /// Drop the stack (unfinished callbacks are dropped with a warning) and
    /// start a new one.
    DropStack,
}

/// How a callback is registered and what it does.
#[derive(Clone, Copy, Debug)]
pub struct Registration {
    pub how: How,
    pub named: bool,
    pub behaviour: Behaviour,
    /// Its destructor panics (once it has logged its drop). Only an owned
    /// callback's: a borrowed probe is the script's to drop, and a probe
    /// the stack hands back is disarmed before the script drops it.
    pub drop_panics: bool,
    pub timeout_ms: Option<u8>,
    /// Join the stage of the registration just before, if it is still open.
    pub join_stage: bool,
}

/// Decodes the fields in the order `#[derive(Arbitrary)]` did, with
/// `drop_panics` taken from the top eighth of the behaviour's range (see
/// [`Behaviour::decode`]): an input committed before it existed keeps most
/// of its meaning.
impl<'a> Arbitrary<'a> for Registration {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let how = How::arbitrary(u)?;
        let named = bool::arbitrary(u)?;
        let (behaviour, drop_panics) = Behaviour::decode(u)?;
        Ok(Registration {
            how,
            named,
            behaviour,
            drop_panics,
            timeout_ms: Option::arbitrary(u)?,
            join_stage: bool::arbitrary(u)?,
        })
    }
}

/// Registration method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// `push` (boxed).
    Boxed,
    /// `push_fn` (boxed closure).
    Closure,
    /// `push_pinned` (a borrow of a probe pinned by the script).
    Borrowed,
    /// `push_inline`: the stack owns the probe in an inline slot.
    Inline,
    /// `try_push_inline` of a probe that fits: registered inline, or handed
    /// back as `Full` by a full stack.
    TryInline,
    /// `try_push_inline` of a probe larger than a slot: handed back as
    /// `DoesNotFit`, then boxed with `push` instead.
    TooBig,
}

impl How {
    /// What an inline registration does on a plain stack: what its bytes
    /// decoded to before the inline kinds existed.
    pub fn fallback(self) -> How {
        match self {
            How::Inline => How::Boxed,
            How::TryInline => How::Closure,
            How::TooBig => How::Borrowed,
            plain => plain,
        }
    }

    /// Whether this registers (or tries to register) in an inline slot.
    pub fn is_inline(self) -> bool {
        self.fallback() != self
    }
}

/// Decodes like `#[derive(Arbitrary)]` did for `Boxed`, `Closure` and
/// `Borrowed` (a `u32` scaled to the variant count), except that the top
/// quarter of each of the three ranges now decodes to an inline kind:
/// `Inline`, `TryInline` or `TooBig`, whose [`fallback`](How::fallback) is the
/// old decoding. Deriving with the new variants appended would have remapped
/// about half of all bytes; this remaps a quarter, and on a plain stack none.
impl<'a> Arbitrary<'a> for How {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let scaled = u64::from(u32::arbitrary(u)?) * 3;
        let old = [How::Boxed, How::Closure, How::Borrowed][(scaled >> 32) as usize];
        let within = scaled & u64::from(u32::MAX);
        if within < 3 << 30 {
            return Ok(old);
        }
        Ok(match old {
            How::Boxed => How::Inline,
            How::Closure => How::TryInline,
            _ => How::TooBig,
        })
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        u32::size_hint(depth)
    }
}

/// What a callback does when run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

impl Behaviour {
    /// Decodes like `#[derive(Arbitrary)]` did (a `u32` scaled to the eight
    /// variants, then the variant's fields), and whether the callback's
    /// destructor panics: the top eighth of each variant's range.
    fn decode(u: &mut Unstructured<'_>) -> arbitrary::Result<(Behaviour, bool)> {
        let scaled = u64::from(u32::arbitrary(u)?) * 8;
        let drop_panics = scaled & u64::from(u32::MAX) >= 7 << 29;
        let behaviour = match scaled >> 32 {
            0 => Behaviour::Complete,
            1 => Behaviour::Fail,
            2 => Behaviour::Panic,
            3 => Behaviour::Yield(u8::arbitrary(u)?),
            4 => Behaviour::WakeTwice(u8::arbitrary(u)?),
            5 => Behaviour::WakeFromThread,
            6 => Behaviour::Sleep(u8::arbitrary(u)?),
            _ => Behaviour::Hang,
        };
        Ok((behaviour, drop_panics))
    }
}

impl Script {
    /// Decodes a script from fuzzer bytes: operations until the bytes run
    /// out. `None` for an input that decodes to more than [`MAX_OPS`]
    /// operations: it is rejected, not truncated.
    ///
    /// It runs on an inline stack when its first registration is an inline
    /// one, else on a plain stack: so both are fuzzed, and an input whose
    /// first registration decoded the same before inline kinds existed still
    /// means exactly what it meant.
    pub fn from_bytes(bytes: &[u8]) -> Option<Script> {
        let mut u = Unstructured::new(bytes);
        let mut ops = Vec::new();
        while !u.is_empty() {
            if ops.len() == MAX_OPS {
                return None;
            }
            ops.push(Op::arbitrary(&mut u).ok()?);
        }
        let first = ops.iter().find_map(|op| match op {
            Op::Register(r) => Some(r.how),
            _ => None,
        });
        let stack = match first {
            Some(how) if how.is_inline() => StackKind::Inline,
            _ => StackKind::Plain,
        };
        Some(Script { ops, stack })
    }

    /// The same operations on the other kind of stack.
    pub fn on(&self, stack: StackKind) -> Script {
        Script {
            ops: self.ops.clone(),
            stack,
        }
    }
}
