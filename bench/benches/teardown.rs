//! Register + run + report, per callback, for this crate and the alternatives,
//! side by side; then eight 50 ms cleanups as one stage versus one by one.
//!
//! ```text
//! cargo bench -p teardown-stack-bench
//! ```
//!
//! Writes `target/bench-summary.json`: ns per callback for each case and N,
//! and each case's ratio to the hand-written loop of its storage kind.

use std::future::Future;
use std::hint::black_box;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use async_safe_defer::LocalAsyncScope;
use async_safe_defer::fixed::FixedAsyncScope;
use criterion::{BenchmarkId, Criterion};
use futures_lite::future::block_on;
use teardown_stack::{AsyncIoTimer, InlineTeardown, Teardown, Timer};
use teardown_stack_bench::{MaybeFail, Ready, ten_percent_failing};

const GROUP: &str = "register_run_report";
const SIZES: [usize; 3] = [16, 1_024, 100_000];

/// The cases, and the hand-written loop each is compared with.
const CASES: [(&str, &str); 9] = [
    ("floor_concrete_loop", "floor_concrete_loop"),
    ("floor_boxed_loop", "floor_boxed_loop"),
    ("floor_borrowed_loop", "floor_borrowed_loop"),
    ("teardown_borrowed", "floor_borrowed_loop"),
    ("teardown_boxed", "floor_boxed_loop"),
    ("teardown_inline", "floor_concrete_loop"),
    ("teardown_borrowed_10pct_failing", "floor_borrowed_loop"),
    ("async_safe_defer_fixed", "floor_borrowed_loop"),
    ("async_safe_defer_boxed", "floor_boxed_loop"),
];

fn futures(n: usize) -> Vec<Ready> {
    (0..n as u64).map(Ready).collect()
}

fn register_run_report<const N: usize>(c: &mut Criterion) {
    let mut group = c.benchmark_group(GROUP);
    if N >= 100_000 {
        group.sample_size(20);
    }

    group.bench_function(BenchmarkId::new("floor_concrete_loop", N), |b| {
        b.iter(|| {
            let mut futures = futures(N);
            block_on(async {
                for future in futures.iter_mut().rev() {
                    future.await;
                }
            });
            black_box(futures.len())
        })
    });

    group.bench_function(BenchmarkId::new("floor_boxed_loop", N), |b| {
        b.iter(|| {
            let mut stack: Vec<Pin<Box<dyn Future<Output = ()> + Send>>> = Vec::with_capacity(N);
            for i in 0..N as u64 {
                stack.push(Box::pin(Ready(i)));
            }
            block_on(async {
                while let Some(future) = stack.pop() {
                    future.await;
                }
            });
            black_box(stack.len())
        })
    });

    group.bench_function(BenchmarkId::new("floor_borrowed_loop", N), |b| {
        b.iter(|| {
            let mut futures = futures(N);
            let mut stack: Vec<Pin<&mut (dyn Future<Output = ()> + Send + Unpin)>> =
                Vec::with_capacity(N);
            for future in &mut futures {
                stack.push(Pin::new(
                    future as &mut (dyn Future<Output = ()> + Send + Unpin),
                ));
            }
            block_on(async {
                while let Some(future) = stack.pop() {
                    future.await;
                }
            });
            black_box(stack.len())
        })
    });

    group.bench_function(BenchmarkId::new("teardown_borrowed", N), |b| {
        b.iter(|| {
            let mut futures = futures(N);
            let mut teardown = Teardown::<N>::new();
            for future in &mut futures {
                teardown.push_pinned("cleanup", Pin::new(future)).unwrap();
            }
            let report = block_on(teardown.run());
            black_box(report.completed())
        })
    });

    group.bench_function(BenchmarkId::new("teardown_boxed", N), |b| {
        b.iter(|| {
            let mut teardown = Teardown::<N>::new();
            for i in 0..N as u64 {
                teardown.push("cleanup", Ready(i)).unwrap();
            }
            let report = block_on(teardown.run());
            black_box(report.completed())
        })
    });

    group.bench_function(BenchmarkId::new("teardown_inline", N), |b| {
        b.iter(|| {
            // Owned without a heap, like the concrete loop's futures: each
            // future in its entry's slot. Boxed only so that a stack of
            // 100,000 entries need not fit the thread's stack twice.
            let mut teardown =
                Box::pin(InlineTeardown::<N, { std::mem::size_of::<Ready>() }>::new());
            for i in 0..N as u64 {
                teardown.as_mut().push_inline("cleanup", Ready(i)).unwrap();
            }
            let report = block_on(teardown.as_mut().run());
            black_box(report.completed())
        })
    });

    group.bench_function(
        BenchmarkId::new("teardown_borrowed_10pct_failing", N),
        |b| {
            b.iter(|| {
                let mut futures: Vec<MaybeFail> = ten_percent_failing(N);
                let mut teardown = Teardown::<N>::new();
                for future in &mut futures {
                    teardown.push_pinned("cleanup", Pin::new(future)).unwrap();
                }
                let report = block_on(teardown.run());
                black_box(report.failed())
            })
        },
    );

    group.bench_function(BenchmarkId::new("async_safe_defer_fixed", N), |b| {
        b.iter(|| {
            let mut futures = futures(N);
            let mut scope = FixedAsyncScope::<N>::new();
            for future in &mut futures {
                scope.try_defer(Pin::new(future)).unwrap();
            }
            block_on(scope.run());
            black_box(scope.len())
        })
    });

    group.bench_function(BenchmarkId::new("async_safe_defer_boxed", N), |b| {
        b.iter(|| {
            let mut scope = LocalAsyncScope::with_capacity(N);
            for i in 0..N as u64 {
                scope.defer(move || Ready(i));
            }
            block_on(scope.run());
            black_box(scope.len())
        })
    });

    group.finish();
}

/// Eight independent 50 ms cleanups on the real async-io timer.
fn stage_latency(c: &mut Criterion) {
    async fn cleanup() {
        // An async-io timer's deadline is fixed when it is made: make it here.
        AsyncIoTimer::new().sleep(Duration::from_millis(50)).await;
    }
    let mut group = c.benchmark_group("stage_latency");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("eight_50ms_one_by_one", |b| {
        b.iter(|| {
            let mut teardown = Teardown::<8>::new();
            for _ in 0..8 {
                teardown.push(None, cleanup()).unwrap();
            }
            black_box(futures_lite::future::block_on(teardown.run()).completed())
        })
    });
    group.bench_function("eight_50ms_one_stage", |b| {
        b.iter(|| {
            let mut teardown = Teardown::<8>::new();
            let mut stage = teardown.stage();
            for _ in 0..8 {
                stage.push(None, cleanup()).unwrap();
            }
            black_box(futures_lite::future::block_on(teardown.run()).completed())
        })
    });
    group.finish();
}

/// The workspace's target directory, where criterion keeps its results.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Criterion's median estimate for one benchmark, in ns per iteration.
fn median_ns(id: &str) -> Option<f64> {
    let path = target_dir()
        .join("criterion")
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// Writes `target/bench-summary.json` from criterion's estimates.
fn write_summary() {
    let mut cases = serde_json::Map::new();
    for (case, floor) in CASES {
        let mut by_n = serde_json::Map::new();
        for n in SIZES {
            let per =
                |name: &str| median_ns(&format!("{GROUP}/{name}/{n}")).map(|ns| ns / n as f64);
            let (Some(ns), Some(floor_ns)) = (per(case), per(floor)) else {
                continue;
            };
            by_n.insert(
                n.to_string(),
                serde_json::json!({
                    "ns_per_callback": ns,
                    "vs": floor,
                    "ratio": ns / floor_ns,
                }),
            );
        }
        cases.insert(case.to_string(), by_n.into());
    }
    let stage = serde_json::json!({
        "eight_50ms_one_by_one_ms": median_ns("stage_latency/eight_50ms_one_by_one").map(|ns| ns / 1e6),
        "eight_50ms_one_stage_ms": median_ns("stage_latency/eight_50ms_one_stage").map(|ns| ns / 1e6),
    });
    let summary = serde_json::json!({ "register_run_report": cases, "stage_latency": stage });
    let path = target_dir().join("bench-summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary).unwrap()).unwrap();
    println!("summary written to {}", path.display());
}

fn main() {
    // A stack of 100,000 callbacks and its report are large values: give
    // them a thread with room.
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(|| {
            let mut c = Criterion::default()
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(3))
                .configure_from_args();
            register_run_report::<16>(&mut c);
            register_run_report::<1_024>(&mut c);
            register_run_report::<100_000>(&mut c);
            stage_latency(&mut c);
            c.final_summary();
        })
        .unwrap();
    worker.join().unwrap();
    write_summary();
}
