//! A fixed workload for instruction-count profiles (`valgrind --tool=callgrind`):
//! 1,024 borrowed callbacks registered, run and reported, 200 times.

use std::hint::black_box;
use std::pin::Pin;

use teardown_stack::Teardown;
use teardown_stack_bench::Ready;

const N: usize = 1_024;

fn main() {
    for _ in 0..200 {
        let mut futures: Vec<Ready> = (0..N as u64).map(Ready).collect();
        let mut teardown = Teardown::<N>::new();
        for future in &mut futures {
            teardown.push_pinned("cleanup", Pin::new(future)).unwrap();
        }
        let report = futures_lite::future::block_on(teardown.run());
        black_box(report.completed());
    }
}
