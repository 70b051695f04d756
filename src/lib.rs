//! Release a program's resources in the reverse order they were acquired.
//!
//! A program that runs for long acquires resources in order: a database pool,
//! then clients, child processes, a server, background tasks. When it stops
//! they must be released in the *reverse* order, so nothing is destroyed while
//! something still uses it; a cleanup that fails must not stop the others.
//!
//! A [`Teardown`] is that stack. Register an async cleanup as each component
//! comes up; [`Teardown::run`] awaits them last-registered-first, one at a
//! time, logs and records every failure (and, with `std`, every panic), keeps
//! going, and resolves to a [`Report`] (a borrow of the one the stack keeps).
//!
//! ```
//! use teardown_stack::Teardown;
//!
//! # futures_lite::future::block_on(async {
//! let mut teardown = Teardown::<8>::new();
//!
//! // Acquire, and register the release right away.
//! teardown.push("store", async { /* store.close().await */ }).unwrap();
//! teardown.push("clients", async {
//!     // clients.close().await
//!     Err::<(), _>("connection reset")
//! }).unwrap();
//! teardown.push("server", async { /* server.stop().await */ }).unwrap();
//!
//! // ... serve until asked to stop, then:
//! let report = teardown.run().await;
//! let order: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
//! assert_eq!(order, ["server", "clients", "store"]);
//! assert!(!report.is_clean());
//! println!("{report}");
//! # });
//! ```
//!
//! # `?` and generic helpers
//!
//! A full stack hands the callback back in a [`Full`]; `?` turns that into a
//! `Box<dyn Error>` (or, with the `anyhow` feature, an `anyhow::Error`),
//! whatever the callback borrows. Code that registers on any stack bounds
//! the timer parameter with [`Clock`], which [`NoTimer`] and every [`Timer`]
//! implement:
//!
//! ```
//! use std::error::Error;
//! use teardown_stack::{Clock, Teardown};
//!
//! struct Store;
//! impl Store {
//!     async fn close(&self) -> std::io::Result<()> {
//!         Ok(())
//!     }
//! }
//!
//! fn register<'a, const N: usize, R: Clock>(
//!     teardown: &mut Teardown<'a, N, R>,
//!     store: &'a Store,
//! ) -> Result<(), Box<dyn Error>> {
//!     teardown.push("store", store.close())?; // borrows `store`
//!     Ok(())
//! }
//!
//! # fn main() -> Result<(), Box<dyn Error>> {
//! let store = Store;
//! let mut teardown = Teardown::<8>::new();
//! register(&mut teardown, &store)?;
//! assert!(futures_lite::future::block_on(teardown.run()).is_clean());
//! # Ok(())
//! # }
//! ```
//!
//! # Deadlines and stages
//!
//! A stack may be given a [`Timer`] ([`Teardown::with_timer`]): then a
//! callback can get a timeout ([`Registered::timeout`]), a run an overall
//! deadline ([`Run::within`]), and the report timings. Without a timer
//! ([`NoTimer`], the default) that API does not exist. Callbacks registered
//! through a [`Stage`] ([`Teardown::stage`]) run concurrently; stages run in
//! LIFO order.
//!
//! # The lifecycle around the stack
//!
//! [`Teardown::build`] runs a fallible build that registers as it goes and,
//! if it fails, releases what it built, returning the error *and* the report
//! ([`Released`]). [`Teardown::scope`] runs a body with the stack and always
//! runs the stack afterwards, on `Ok`, on `Err` and (with `std`) on a panic.
//! [`Teardown::shutdown_within`] races the run against a second request to
//! stop and names the unfinished callbacks ([`Shutdown`]); with the `signal`
//! feature, `Signals` supplies the requests (SIGINT, SIGTERM, Ctrl-C).
//! [`Teardown::into_cleanup`] nests a whole stack in another as one step
//! ([`NestedFailure`] names what failed in it), and with `std` a [`Report`]
//! converts to a `std::process::ExitCode`, 0 only when clean.
//!
//! # Any executor, or none
//!
//! [`Run`] is a plain future: `smol::block_on(teardown.run())`,
//! `futures_lite::future::block_on`, an `async_executor::Executor`, tokio,
//! embassy, or a loop polling it with [`core::task::Waker::noop`] on bare
//! metal. Nothing is spawned and no runtime is assumed.
//!
//! # No allocator needed
//!
//! Callbacks live in a [`heapless::Vec`] of capacity `N`, and the report too.
//! With the `alloc` feature the stack can own boxed callbacks
//! ([`Teardown::push`], [`Teardown::push_fn`]); without it, register futures
//! you pinned yourself ([`Teardown::push_pinned`]) and nothing is allocated at
//! all. [`Teardown::new`] is a `const fn`, so a stack can live in a `static`
//! (in a `Mutex` or a `StaticCell`: it is not `Sync`).
//!
//! An [`InlineTeardown`] owns its callbacks without a heap: each future is
//! stored in its cell, in a slot of a fixed size (a const parameter), and
//! one that does not fit fails to compile
//! ([`InlineTeardown::push_inline`]) or is handed back
//! ([`InlineTeardown::try_push_inline`]):
//!
//! ```
//! use core::pin::pin;
//! use teardown_stack::InlineTeardown;
//!
//! # futures_lite::future::block_on(async {
//! // Up to 8 callbacks of up to 128 bytes each.
//! let mut teardown = pin!(InlineTeardown::<8, 128>::new());
//! teardown.as_mut().push_inline("store", async { /* ... */ }).unwrap();
//! teardown.as_mut().push_inline("server", async { /* ... */ }).unwrap();
//! assert!(teardown.as_mut().run().await.is_clean());
//! # });
//! ```
//!
//! # Unsafe code
//!
//! The crate denies `unsafe` code (`#![deny(unsafe_code)]`) except in two
//! private modules: `inline`, which stores and pins the futures of an
//! [`InlineTeardown`], and `boxed` (with `alloc`), which builds a stack in
//! place on the heap ([`Teardown::boxed`]). Every `unsafe` block there
//! states why it is sound, and the test suite runs under Miri. Everything
//! else is safe code.
//!
//! # `Send` or not
//!
//! [`Teardown`] holds `Send` callbacks and is `Send`; [`LocalTeardown`] holds
//! any callback and is not. Both are `Sync` whatever their callbacks: a run
//! polls the callbacks through `&mut` only, so a shared stack shares its
//! names and records, and a [`Report`] can cross threads.
//!
//! ```compile_fail
//! use std::rc::Rc;
//! let rc = Rc::new(());
//! let mut teardown = teardown_stack::Teardown::<1>::new();
//! teardown.push("rc", async move { drop(rc) }); // `Rc` is not `Send`
//! ```
//!
//! # Features
//!
//! - `std` (default): catch panics of callbacks and report them. Implies
//!   `alloc`.
//! - `alloc`: boxed, owned callbacks; names built at run time; each
//!   failure's whole text in the report; a waker per stage member.
//! - `async-io`, `tokio`, `embassy-time`: a [`Timer`] for that runtime
//!   (`AsyncIoTimer`, `TokioTimer`, `EmbassyTimer`).
//! - `signal`: `Signals`, the shutdown signals on any executor. Implies
//!   `std`.
//! - `test-util`: `VirtualClock`, a deterministic [`Timer`] for tests (turn
//!   it on in `[dev-dependencies]`). Implies `std`.
//! - `anyhow`: `?` from a full stack into an `anyhow::Error` (see [`Full`]).
//!   Implies `alloc`.
//! - `log` (default): diagnostics through the `log` facade.
//! - `defmt`: diagnostics through `defmt` on bare-metal targets, and
//!   `defmt::Format` for [`Name`], [`Message`], [`Outcome`], [`Record`] and
//!   [`Report`] (see [Logging](#logging)).
//!
//! With `--no-default-features` the crate is `#![no_std]` and allocates
//! nothing. A panic then cannot be caught: it reaches your panic handler.
//!
//! # Logging
//!
//! The crate logs a failed callback at warn level (`teardown callback "db"
//! failed: connection reset`), a panicked one at error level, a timed-out or
//! skipped one and a stack dropped with callbacks it never ran at warn level,
//! and each callback's start and the final report at debug level. Where the
//! lines go depends on the features and the target:
//!
//! | features | bare metal (`target_os = "none"`) | any other target |
//! | --- | --- | --- |
//! | `log` (default) | [`log`](https://docs.rs/log), target `teardown_stack` | `log` |
//! | `defmt` | [`defmt`](https://docs.rs/defmt) | nowhere |
//! | `log` and `defmt` | `defmt` only | `log` |
//! | neither | nowhere: compiled out | nowhere |
//!
//! `defmt` wins on bare metal because `log` is a default feature: a firmware
//! that asks for `defmt` should not also format every line with `core::fmt`
//! for a `log` it may have got without asking. The firmware provides the
//! `#[defmt::global_logger]` and links `defmt.x`, as for any `defmt` user.
//! Elsewhere `defmt` routes nothing, because a hosted binary has neither a
//! `defmt` logger nor its linker script: so `--all-features` builds and tests
//! keep logging through `log`.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[macro_use]
mod fmt;

// The layers, lowest first: each names only itself and those above it in
// this list (ARCHITECTURE.md; `.ci/layers.py` reads the order from here and
// checks it).
// 1. Clocks and timers.
mod timer;
// 2. What is said of callbacks: names, outcomes, texts, counts, the report.
mod report;
// 3. Where callbacks live: slots, cells, and every move of a cell.
mod storage;
// 4. The loops that run cells.
mod run;
// 5. The stacks users hold, their stages, runs and registration.
mod stack;
// 6. A service's life around its stack.
mod lifecycle;

#[cfg(all(feature = "systemd", unix))]
pub use lifecycle::Systemd;
#[cfg(feature = "tracing")]
pub use lifecycle::Tracing;
#[cfg(feature = "signal")]
pub use lifecycle::{Caught, Signal, Signals};
pub use lifecycle::{
    Each, Interrupts, IntoInterrupts, NestedFailure, Once, Released, Shutdown, each,
};
#[cfg(feature = "observer")]
pub use report::{Event, Observer};
pub use report::{
    Interruption, IntoName, Message, Name, Outcome, Record, Records, Report, Unfinished,
};
pub use stack::{
    Full, InlineError, InlineRun, InlineStage, InlineTeardown, LocalInlineRun, LocalInlineStage,
    LocalInlineTeardown, LocalRun, LocalStage, LocalTeardown, Refused, Registered, Run, Stage,
    Teardown,
};
pub use storage::{
    Accepts, Cleanup, CleanupOutput, INLINE_ALIGN, InlineSlots, NoInline, Storage, WithBudget,
};
#[cfg(feature = "async-io")]
pub use timer::AsyncIoTimer;
#[cfg(feature = "embassy-time")]
pub use timer::EmbassyTimer;
#[cfg(feature = "tokio")]
pub use timer::TokioTimer;
pub use timer::{Budget, Clock, NoTimer, Soft, Timer};
#[cfg(feature = "test-util")]
pub use timer::{VirtualClock, VirtualSleep};

/// The README's examples, run as doc-tests so they stay true (with
/// `test-util`: one runs on the `VirtualClock`).
#[cfg(all(doctest, feature = "test-util"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
