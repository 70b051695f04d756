//! The hand-written floor: the same eight cleanups awaited in reverse order,
//! counting failures; no names, no report, no isolation.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use teardown_stack_size_probe::{block_on, eight_cleanups};

#[entry]
fn main() -> ! {
    eight_cleanups!(a, b, c, d, e, f, g, h);
    let counts = block_on(async {
        let mut failed = 0;
        h.await;
        failed += usize::from(g.await.is_err());
        f.await;
        e.await;
        failed += usize::from(d.await.is_err());
        c.await;
        b.await;
        a.await;
        (8 - failed, failed)
    });
    black_box(counts);
    loop {
        cortex_m::asm::wfi();
    }
}
