//! What a lifecycle script says: the operations, decoded from fuzzer bytes.

use arbitrary::{Result, Unstructured};

use crate::harness::Behaviour;

/// Longest script accepted; longer inputs are rejected, not truncated.
pub const MAX_STEPS: usize = 16;
/// Parts in one group: a push, a scope's or a build's body, a nested stack.
const MAX_PARTS: u32 = 4;
/// Nesting depth: a nested stack inside a nested stack, no deeper.
const MAX_DEPTH: u32 = 2;

/// A callback to register.
#[derive(Clone, Copy, Debug)]
pub struct Leaf {
    pub behaviour: Behaviour,
    /// Its destructor panics.
    pub drop_panics: bool,
    /// Registered with `push_fn` rather than `push`.
    pub closure: bool,
}

/// What is registered: a callback, or a whole stack of parts registered as
/// one callback (`into_cleanup`, or `into_cleanup_within` a budget).
#[derive(Clone, Debug)]
pub enum Part {
    Leaf(Leaf),
    Nest {
        within_ms: Option<u8>,
        parts: Vec<Part>,
    },
}

/// How a scope's body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyEnd {
    Ok,
    Err,
    Panic,
}

/// The second request to stop that a shutdown races against.
#[derive(Clone, Copy, Debug)]
pub enum Interrupt {
    Never,
    /// Ready on this poll (counting from 1, mod 8), waking itself before.
    AtPoll(u8),
    /// Ready once the virtual clock has moved this many milliseconds.
    AtMillis(u8),
}

/// One operation on the top stack.
#[derive(Clone, Debug)]
pub enum Step {
    /// Register parts; nothing runs.
    Push(Vec<Part>),
    /// `scope` (or `scope_within` the grace) whose body registers the parts
    /// and ends as said.
    Scope {
        parts: Vec<Part>,
        end: BodyEnd,
        grace_ms: Option<u8>,
    },
    /// `build` (or `build_within`) whose body registers the parts, and,
    /// with `fail_after`, fails (or panics) once it registered that many
    /// (mod the count, plus one).
    Build {
        parts: Vec<Part>,
        fail_after: Option<u8>,
        panics: bool,
        grace_ms: Option<u8>,
    },
    /// `shutdown` (or `shutdown_within` the grace) against an interrupt.
    Shutdown {
        grace_ms: Option<u8>,
        interrupt: Interrupt,
    },
    /// Drop the stack and start a new one.
    Drop,
}

/// A decoded script.
#[derive(Clone, Debug)]
pub struct LifecycleScript {
    pub steps: Vec<Step>,
}

impl LifecycleScript {
    /// Decodes a script: steps until the bytes run out. `None` when they
    /// decode to more than [`MAX_STEPS`] steps.
    pub fn from_bytes(bytes: &[u8]) -> Option<LifecycleScript> {
        let mut u = Unstructured::new(bytes);
        let mut steps = Vec::new();
        while !u.is_empty() {
            if steps.len() == MAX_STEPS {
                return None;
            }
            steps.push(step(&mut u).ok()?);
        }
        Some(LifecycleScript { steps })
    }
}

fn step(u: &mut Unstructured<'_>) -> Result<Step> {
    Ok(match u.choose_index(5)? {
        0 => Step::Push(parts(u, 0)?),
        1 => Step::Scope {
            parts: parts(u, 0)?,
            end: *u.choose(&[BodyEnd::Ok, BodyEnd::Err, BodyEnd::Panic])?,
            grace_ms: u.arbitrary()?,
        },
        2 => Step::Build {
            parts: parts(u, 0)?,
            fail_after: u.arbitrary()?,
            panics: u.ratio(1, 3)?,
            grace_ms: u.arbitrary()?,
        },
        3 => Step::Shutdown {
            grace_ms: u.arbitrary()?,
            interrupt: match u.choose_index(3)? {
                0 => Interrupt::Never,
                1 => Interrupt::AtPoll(u.arbitrary()?),
                _ => Interrupt::AtMillis(u.arbitrary()?),
            },
        },
        _ => Step::Drop,
    })
}

/// Up to [`MAX_PARTS`] parts; a nested stack holds at least one.
fn parts(u: &mut Unstructured<'_>, depth: u32) -> Result<Vec<Part>> {
    let least = u32::from(depth > 0);
    let count = u.int_in_range(least..=MAX_PARTS)?;
    (0..count).map(|_| part(u, depth)).collect()
}

fn part(u: &mut Unstructured<'_>, depth: u32) -> Result<Part> {
    if depth < MAX_DEPTH && u.ratio(1, 4)? {
        return Ok(Part::Nest {
            within_ms: u.arbitrary()?,
            parts: parts(u, depth + 1)?,
        });
    }
    let behaviour = match u.choose_index(7)? {
        0 => Behaviour::Complete,
        1 => Behaviour::Fail,
        2 => Behaviour::Panic,
        3 => Behaviour::Yield(u.int_in_range(1..=3)?),
        4 => Behaviour::Sleep(u.arbitrary()?),
        5 => Behaviour::WakeFromThread,
        _ => Behaviour::Hang,
    };
    Ok(Part::Leaf(Leaf {
        behaviour,
        drop_panics: u.ratio(1, 6)?,
        closure: u.arbitrary()?,
    }))
}
