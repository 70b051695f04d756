//! Budgets, soft deadlines, critical callbacks and escalation on the
//! virtual clock: what a callback is told, when it is cut, what is kept.
#![no_main]

#[path = "../../tests/harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Some(script) = harness::budgets::BudgetScript::from_bytes(bytes) {
        harness::budgets::run_budget_script(&script);
    }
});
