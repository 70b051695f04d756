//! Scripts with timeouts, run deadlines and stages on the virtual clock:
//! budgets, skips, timings, and no lost wake-ups.
#![no_main]

#[path = "../../tests/harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Some(script) = harness::Script::from_bytes(bytes) {
        harness::run_script(&script, harness::Mode::Deadlines);
    }
});
