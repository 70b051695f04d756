//! Scripts of the lifecycle layer: scopes, builds failing at any step,
//! nested stacks, shutdowns interrupted at any poll, stack drops, with
//! destructors that panic.
#![no_main]

#[path = "../../tests/harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Some(script) = harness::lifecycle::LifecycleScript::from_bytes(bytes) {
        harness::lifecycle::run_lifecycle(&script);
    }
});
