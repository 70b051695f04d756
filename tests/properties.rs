//! The stack's promises as properties: random scripts, checked against the
//! model by the same harness the fuzzer uses.
// The virtual clock is a test utility, behind its feature.
#![cfg(feature = "test-util")]

mod harness;

use harness::{Mode, Script, run_script};

/// Runs the script on the stack it decodes to, then on the other kind: the
/// plain stack (inline registrations fall back to the older kinds) and the
/// inline one both see every script.
fn run_on_both(script: &Script, mode: Mode) {
    run_script(script, mode);
    run_script(&script.on(script.stack.other()), mode);
}
use proptest::prelude::*;

/// `PROPTEST_CASES` if set; else a few under Miri (slow) and 256 on the host.
fn cases() -> u32 {
    let default = if cfg!(miri) { 4 } else { 256 };
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn order_and_isolation_hold(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Some(script) = Script::from_bytes(&bytes) {
            run_on_both(&script, Mode::OrderAndIsolation);
        }
    }

    #[test]
    fn budgets_soft_deadlines_criticals_and_escalation_hold(
        bytes in proptest::collection::vec(any::<u8>(), 0..128)
    ) {
        if let Some(script) = harness::budgets::BudgetScript::from_bytes(&bytes) {
            harness::budgets::run_budget_script(&script);
        }
    }

    #[test]
    fn deadlines_hold(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Some(script) = Script::from_bytes(&bytes) {
            run_on_both(&script, Mode::Deadlines);
        }
    }
}
