//! Eight different cleanups on a `Teardown`, run LIFO with a report.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use teardown_stack::Teardown;
use teardown_stack_size_probe::{block_on, eight_cleanups};

#[entry]
fn main() -> ! {
    eight_cleanups!(a, b, c, d, e, f, g, h);
    let mut teardown = Teardown::<8>::new();
    teardown.push_pinned("a", a).ok();
    teardown.push_pinned("b", b).ok();
    teardown.push_pinned("c", c).ok();
    teardown.push_pinned("d", d).ok();
    teardown.push_pinned("e", e).ok();
    teardown.push_pinned("f", f).ok();
    teardown.push_pinned("g", g).ok();
    teardown.push_pinned("h", h).ok();
    let report = block_on(teardown.run());
    black_box((report.completed(), report.failed()));
    loop {
        cortex_m::asm::wfi();
    }
}
