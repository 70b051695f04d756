//! Replays the inputs committed under `tests/regressions/<target>/`: every
//! crash the fuzzer ever found stays a test.
//!
//! Each input runs on the stack it decodes to and on the other kind: on the
//! plain stack, an input committed before inline registrations existed still
//! decodes to the script it was found as.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod harness;

use std::path::Path;

use harness::budgets::{BudgetScript, run_budget_script};
use harness::lifecycle::{LifecycleScript, run_lifecycle};
use harness::{Mode, Script, run_script};

fn replay(target: &str, mode: Mode) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(target);
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if let Some(script) = Script::from_bytes(&bytes) {
            for stack in [script.stack, script.stack.other()] {
                eprintln!("replaying {} on a {stack:?} stack", path.display());
                run_script(&script.on(stack), mode);
            }
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn stack_order_isolation_inputs() {
    assert!(replay("stack_order_isolation", Mode::OrderAndIsolation) > 0);
}

#[test]
fn stack_deadlines_inputs() {
    assert!(replay("stack_deadlines", Mode::Deadlines) > 0);
}

/// Runs `run` on each input committed for `target` that decodes to a
/// script (it says whether one did); how many did.
fn replay_each(target: &str, mut run: impl FnMut(&[u8]) -> bool) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(target);
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        eprintln!("replaying {}", path.display());
        if run(&std::fs::read(&path).unwrap()) {
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn stack_budgets_inputs() {
    let replayed = replay_each("stack_budgets", |bytes| {
        BudgetScript::from_bytes(bytes)
            .map(|script| run_budget_script(&script))
            .is_some()
    });
    assert!(replayed > 0);
}

#[test]
fn lifecycle_inputs() {
    let replayed = replay_each("lifecycle", |bytes| {
        LifecycleScript::from_bytes(bytes)
            .map(|script| run_lifecycle(&script))
            .is_some()
    });
    assert!(replayed > 0);
}
