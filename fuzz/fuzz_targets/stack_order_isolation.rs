//! Scripts without timeouts: LIFO order, exactly-once, failure and panic
//! isolation, full-stack hand-back, resumption, drop warnings.
#![no_main]

#[path = "../../tests/harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Some(script) = harness::Script::from_bytes(bytes) {
        harness::run_script(&script, harness::Mode::OrderAndIsolation);
    }
});
