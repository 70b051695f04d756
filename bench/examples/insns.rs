//! One case of "register N ready callbacks, run them, read the report", run
//! once, for instruction counts under callgrind (`bench/instructions.sh`).
//!
//! ```text
//! insns CASE N [COUNT]
//! ```
//!
//! Builds a stack of capacity `N` (16, 1024 or 100000), registers `COUNT`
//! ready callbacks on it (default `N`), runs them with
//! `futures_lite::future::block_on` and reads the report. The work happens
//! inside [`insns_measured`], the only function callgrind collects in
//! (`--toggle-collect='*insns_measured*'`), so process start, the thread,
//! the futures the borrowed cases point at, and the printing are not
//! counted. Just before, the same case runs once uncounted, so that one-time
//! costs (the allocator's arena for the thread, block_on's cached parker and
//! waker) are not counted either.
//!
//! The case runs on a thread with a 512 MiB stack: the teardown stacks keep
//! their entries and report inline, megabytes at N = 100,000, and are built
//! in place in their case's frame, not boxed, so no copy into the heap is
//! counted. The frame is probed a page at a time on entry, which is counted:
//! a few instructions per 4 KiB.

use std::future::Future;
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::process::ExitCode;

use async_safe_defer::LocalAsyncScope;
use async_safe_defer::fixed::FixedAsyncScope;
use futures_lite::future::block_on;
use teardown_stack::{InlineTeardown, Teardown};
use teardown_stack_bench::Ready;

const USAGE: &str = "usage: insns CASE N [COUNT]
  CASE:  floor_borrowed | floor_boxed | async_safe_defer_fixed |
         async_safe_defer_boxed | teardown_borrowed | teardown_boxed |
         teardown_inline
  N:     capacity, one of 16, 1024, 100000
  COUNT: callbacks registered, 0 to N (default N)";

/// The cases; see `bench/benches/teardown.rs` for the same code under criterion.
#[derive(Clone, Copy, Debug)]
enum Case {
    FloorBorrowed,
    FloorBoxed,
    AsyncSafeDeferFixed,
    AsyncSafeDeferBoxed,
    TeardownBorrowed,
    TeardownBoxed,
    TeardownInline,
}

impl Case {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "floor_borrowed" => Self::FloorBorrowed,
            "floor_boxed" => Self::FloorBoxed,
            "async_safe_defer_fixed" => Self::AsyncSafeDeferFixed,
            "async_safe_defer_boxed" => Self::AsyncSafeDeferBoxed,
            "teardown_borrowed" => Self::TeardownBorrowed,
            "teardown_boxed" => Self::TeardownBoxed,
            "teardown_inline" => Self::TeardownInline,
            _ => return None,
        })
    }
}

/// A hand-written `Vec<Pin<&mut dyn Future>>`, popped and awaited.
#[inline(never)]
fn floor_borrowed<const N: usize>(futures: &mut [Ready]) -> usize {
    let mut stack: Vec<Pin<&mut (dyn Future<Output = ()> + Send + Unpin)>> = Vec::with_capacity(N);
    for future in futures {
        stack.push(Pin::new(
            future as &mut (dyn Future<Output = ()> + Send + Unpin),
        ));
    }
    block_on(async {
        while let Some(future) = stack.pop() {
            future.await;
        }
    });
    stack.len()
}

/// A hand-written `Vec<Pin<Box<dyn Future>>>`, popped and awaited.
#[inline(never)]
fn floor_boxed<const N: usize>(count: usize) -> usize {
    let mut stack: Vec<Pin<Box<dyn Future<Output = ()> + Send>>> = Vec::with_capacity(N);
    for i in 0..count as u64 {
        stack.push(Box::pin(Ready(i)));
    }
    block_on(async {
        while let Some(future) = stack.pop() {
            future.await;
        }
    });
    stack.len()
}

/// async-safe-defer's fixed scope: borrowed futures, inline array.
#[inline(never)]
fn async_safe_defer_fixed<const N: usize>(futures: &mut [Ready]) -> usize {
    let mut scope = FixedAsyncScope::<N>::new();
    for future in futures {
        scope.try_defer(Pin::new(future)).unwrap();
    }
    block_on(scope.run());
    scope.len()
}

/// async-safe-defer's local scope: boxed factories.
#[inline(never)]
fn async_safe_defer_boxed<const N: usize>(count: usize) -> usize {
    let mut scope = LocalAsyncScope::with_capacity(N);
    for i in 0..count as u64 {
        scope.defer(move || Ready(i));
    }
    block_on(scope.run());
    scope.len()
}

/// This crate, borrowed futures (`push_pinned`).
#[inline(never)]
fn teardown_borrowed<const N: usize>(futures: &mut [Ready]) -> usize {
    let mut teardown = Teardown::<N>::new();
    for future in futures {
        teardown.push_pinned("cleanup", Pin::new(future)).unwrap();
    }
    let report = block_on(teardown.run());
    report.completed()
}

/// This crate, boxed futures (`push`).
#[inline(never)]
fn teardown_boxed<const N: usize>(count: usize) -> usize {
    let mut teardown = Teardown::<N>::new();
    for i in 0..count as u64 {
        teardown.push("cleanup", Ready(i)).unwrap();
    }
    let report = block_on(teardown.run());
    report.completed()
}

/// This crate, futures owned in place (`InlineTeardown`, `push_inline`).
#[inline(never)]
fn teardown_inline<const N: usize>(count: usize) -> usize {
    let mut teardown = pin!(InlineTeardown::<N, { size_of::<Ready>() }>::new());
    for i in 0..count as u64 {
        teardown.as_mut().push_inline("cleanup", Ready(i)).unwrap();
    }
    let report = block_on(teardown.as_mut().run());
    report.completed()
}

/// Runs `case` once with `futures.len()` callbacks on a stack of capacity `N`.
#[inline(always)]
fn run<const N: usize>(case: Case, futures: &mut [Ready]) -> usize {
    let count = futures.len();
    match case {
        Case::FloorBorrowed => floor_borrowed::<N>(futures),
        Case::FloorBoxed => floor_boxed::<N>(count),
        Case::AsyncSafeDeferFixed => async_safe_defer_fixed::<N>(futures),
        Case::AsyncSafeDeferBoxed => async_safe_defer_boxed::<N>(count),
        Case::TeardownBorrowed => teardown_borrowed::<N>(futures),
        Case::TeardownBoxed => teardown_boxed::<N>(count),
        Case::TeardownInline => teardown_inline::<N>(count),
    }
}

/// The counted run: callgrind collects only inside this function.
#[inline(never)]
fn insns_measured<const N: usize>(case: Case, futures: &mut [Ready]) -> usize {
    run::<N>(case, black_box(futures))
}

fn warm_up_then_measure<const N: usize>(case: Case, count: usize) -> usize {
    // The futures the borrowed cases point at belong to the caller: made
    // here, outside the count. The owned cases only use their number.
    let mut futures: Vec<Ready> = (0..count as u64).map(Ready).collect();
    // The same case functions, called from outside the counted one.
    black_box(run::<N>(case, black_box(&mut futures)));
    black_box(insns_measured::<N>(case, &mut futures))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [case, n] => Case::parse(case).zip(n.parse::<usize>().ok().map(|n| (n, n))),
        [case, n, count] => Case::parse(case).zip(n.parse().ok().zip(count.parse().ok())),
        _ => None,
    };
    let Some((case, (n, count))) = parsed.filter(|(_, (n, count))| count <= n) else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let measure: fn(Case, usize) -> usize = match n {
        16 => warm_up_then_measure::<16>,
        1_024 => warm_up_then_measure::<1_024>,
        100_000 => warm_up_then_measure::<100_000>,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let result = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || measure(case, count))
        .unwrap()
        .join()
        .unwrap();
    println!("{case:?} N={n} count={count}: {result}");
    ExitCode::SUCCESS
}
