//! teardown-stack on bare metal: four cleanups of different types (one
//! failing, two that wait before they finish) registered on a stack without
//! an allocator, run by a minimal executor, and checked on the device; then
//! a stack that owns its callbacks in inline slots, still without a heap.
//! An observer counts the first run's events as they happen, as firmware
//! would to feed a watchdog or keep a last-shutdown summary.
//! QEMU exits with success only if the order and the reports are right.
//!
//! Everything is printed with defmt over semihosting, the crate's own lines
//! included (its `defmt` feature): decode with
//! `cargo run --release | defmt-print -e target/thumbv7m-none-eabi/release/teardown-stack-cortex-m`.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::cell::RefCell;
use core::future::Future;
use core::pin::{Pin, pin};
use core::sync::atomic::{AtomicU32, Ordering};
use core::task::{Context, Poll, Waker};

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use defmt_semihosting as _;
use teardown_stack::{Event, InlineError, LocalInlineTeardown, LocalTeardown, Observer, Outcome};

/// The order the cleanups ran in.
type Journal = RefCell<heapless::Vec<&'static str, 8>>;

fn note(journal: &Journal, name: &'static str) {
    // Eight slots for four cleanups: cannot be full.
    let _ = journal.borrow_mut().push(name);
}

/// Pending `times` times, waking itself: a cleanup that has to wait.
struct Wait {
    times: u8,
}

impl Future for Wait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.times == 0 {
            return Poll::Ready(());
        }
        self.times -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A cleanup written by hand rather than as an `async` block.
struct PowerDown<'j> {
    journal: &'j Journal,
}

impl Future for PowerDown<'_> {
    type Output = Result<(), &'static str>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        note(self.journal, "power");
        Poll::Ready(Ok(()))
    }
}

/// What the observer saw: a count per event kind, and what the last end
/// and the run's end said. Atomics, as an observer is `Sync`.
#[derive(Default)]
struct Seen {
    runs_started: AtomicU32,
    /// The cleanups the run said it had to run.
    pending: AtomicU32,
    started: AtomicU32,
    ended: AtomicU32,
    /// The `done` count of the last end.
    last_done: AtomicU32,
    /// Ends told as failed.
    failed: AtomicU32,
    runs_ended: AtomicU32,
    /// Failures in the report of the run's end.
    reported_failed: AtomicU32,
}

impl Observer for Seen {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::RunStarted { pending, .. } => {
                self.runs_started.fetch_add(1, Ordering::Relaxed);
                self.pending.store(pending as u32, Ordering::Relaxed);
            }
            Event::Started { .. } => {
                self.started.fetch_add(1, Ordering::Relaxed);
            }
            Event::Ended { record, done, .. } => {
                self.ended.fetch_add(1, Ordering::Relaxed);
                self.last_done.store(done as u32, Ordering::Relaxed);
                if let Outcome::Failed(_) = record.outcome() {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            Event::RunEnded { report } => {
                self.runs_ended.fetch_add(1, Ordering::Relaxed);
                self.reported_failed
                    .store(report.failed() as u32, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

impl Seen {
    fn get(counter: &AtomicU32) -> u32 {
        counter.load(Ordering::Relaxed)
    }
}

/// The whole executor: poll until ready, with a waker that does nothing.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[entry]
fn main() -> ! {
    let journal: Journal = RefCell::new(heapless::Vec::new());

    // Brought up in this order; each registers its release.
    let power = pin!(PowerDown { journal: &journal });
    let flash = pin!(async {
        Wait { times: 3 }.await;
        note(&journal, "flash");
    });
    let radio = pin!(async {
        note(&journal, "radio");
        Err::<(), &str>("radio did not ack")
    });
    let display = pin!(async {
        Wait { times: 1 }.await;
        note(&journal, "display");
    });

    // Room for what failing cleanups say (the `texts` feature): the report
    // keeps it here, not in every cell.
    let mut texts = [0_u8; 64];
    let seen = Seen::default();
    let mut teardown = LocalTeardown::<4>::new();
    teardown.keep_texts(&mut texts).observe(&seen);
    let registered = [
        teardown.push_pinned("power", power).is_ok(),
        teardown.push_pinned("flash", flash).is_ok(),
        teardown.push_pinned("radio", radio).is_ok(),
        teardown.push_pinned("display", display).is_ok(),
    ];

    let report = block_on(teardown.run());
    defmt::println!("{}", report);

    let expected = ["display", "radio", "flash", "power"];
    let order_ok = journal.borrow().as_slice() == expected;
    let names_ok = report.len() == expected.len()
        && report
            .iter()
            .zip(expected)
            .all(|(record, name)| record.name() == name);
    let outcomes_ok = report.iter().all(|record| match record.outcome() {
        Outcome::Failed(message) => record.name() == "radio" && message == "radio did not ack",
        Outcome::Completed => record.name() != "radio",
        _ => false,
    });
    let counts_ok = report.completed() == 3 && report.failed() == 1 && !report.is_clean();
    let seen_ok = [
        (
            "observer: run started once, with 4 to run",
            Seen::get(&seen.runs_started) == 1 && Seen::get(&seen.pending) == 4,
        ),
        (
            "observer: 4 callbacks started",
            Seen::get(&seen.started) == 4,
        ),
        (
            "observer: 4 ended, the last 4/4, one failed",
            Seen::get(&seen.ended) == 4
                && Seen::get(&seen.last_done) == 4
                && Seen::get(&seen.failed) == 1,
        ),
        (
            "observer: run ended once, its report with one failure",
            Seen::get(&seen.runs_ended) == 1 && Seen::get(&seen.reported_failed) == 1,
        ),
    ];

    // The same job with the stack owning its callbacks, still without a
    // heap: each future lives in a 32-byte slot inside the stack.
    let owned: Journal = RefCell::new(heapless::Vec::new());
    let mut inline = pin!(LocalInlineTeardown::<3, 32>::new());
    let mut inline_registered = inline
        .as_mut()
        .push_inline("uart", async {
            Wait { times: 2 }.await;
            note(&owned, "uart");
        })
        .is_ok();
    inline_registered &= inline
        .as_mut()
        .push_inline("dma", PowerDown { journal: &owned })
        .is_ok();
    // Too big for a slot: handed back, not registered, not lost.
    let frame = [0_u8; 64];
    let oversized = inline.as_mut().try_push_inline("frame", async move {
        core::hint::black_box(frame);
    });
    let handed_back = matches!(oversized, Err(InlineError::DoesNotFit { .. }));
    let inline_report = block_on(inline.as_mut().run());
    defmt::println!("{}", inline_report);
    let inline_ok = inline_registered
        // `dma` (a `PowerDown`, which notes "power") first, then `uart`.
        && owned.borrow().as_slice() == ["power", "uart"]
        && inline_report.completed() == 2
        && inline.is_empty();

    let checks = seen_ok.into_iter().chain([
        ("all four registered", registered.iter().all(|ok| *ok)),
        ("ran in LIFO order", order_ok),
        ("report names in run order", names_ok),
        ("outcomes", outcomes_ok),
        ("counts", counts_ok),
        ("stack empty after the run", teardown.is_empty()),
        ("inline slots: owned callbacks ran in LIFO order", inline_ok),
        (
            "inline slots: an oversized callback handed back",
            handed_back,
        ),
    ]);
    let mut passed = true;
    for (what, ok) in checks {
        defmt::println!("{=str} {=str}", if ok { "ok  " } else { "FAIL" }, what);
        passed &= ok;
    }
    debug::exit(if passed {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

/// A panic fails the run: its message goes out as a defmt line, and QEMU
/// exits with failure.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    defmt::error!("{}", defmt::Display2Format(info));
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
