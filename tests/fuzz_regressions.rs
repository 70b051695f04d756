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

#[test]
fn stack_budgets_inputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/stack_budgets");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if let Some(script) = BudgetScript::from_bytes(&std::fs::read(&path).unwrap()) {
            eprintln!("replaying {}", path.display());
            run_budget_script(&script);
            replayed += 1;
        }
    }
    assert!(replayed > 0);
}

#[test]
fn lifecycle_inputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/lifecycle");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if let Some(script) = LifecycleScript::from_bytes(&std::fs::read(&path).unwrap()) {
            eprintln!("replaying {}", path.display());
            run_lifecycle(&script);
            replayed += 1;
        }
    }
    assert!(replayed > 0);
}
