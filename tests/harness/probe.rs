//! The callbacks a script registers: futures that do what their behaviour
//! says and log what happens to them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use teardown_stack::{Timer, VirtualClock, VirtualSleep};

use super::Behaviour;

/// What happened to a probe, in the order it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// First poll.
    Started(usize),
    /// Returned `Ready`.
    Finished(usize),
    /// About to panic.
    Panicking(usize),
    /// Dropped.
    Dropped(usize),
    /// Polled or dropped at another address than its first poll: moved
    /// while pinned.
    Moved(usize),
    /// Its destructor would have panicked, but ran while another panic
    /// unwound (after its `Dropped`).
    DropPanicSpared(usize),
}

/// What every probe of a script shares.
#[derive(Clone)]
pub struct World {
    pub events: Rc<RefCell<Vec<Event>>>,
    pub clock: VirtualClock,
    /// Wakes promised by other threads and not yet delivered.
    pub outstanding: Arc<AtomicUsize>,
    /// The threads that wake probes, joined at the end of the script so that
    /// none outlives it (a leak checker would see its thread-locals).
    pub threads: Rc<RefCell<Vec<std::thread::JoinHandle<()>>>>,
    /// When each probe was first polled, on the virtual clock.
    pub started_at: Rc<RefCell<HashMap<usize, Duration>>>,
}

impl World {
    pub fn new() -> Self {
        World {
            events: Rc::default(),
            clock: VirtualClock::new(),
            outstanding: Arc::default(),
            threads: Rc::default(),
            started_at: Rc::default(),
        }
    }

    /// Waits for every waking thread to end.
    pub fn join_threads(&self) {
        for thread in self.threads.borrow_mut().drain(..) {
            thread.join().expect("a waking thread panicked");
        }
    }

    pub fn log(&self, event: Event) {
        self.events.borrow_mut().push(event);
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.borrow().clone()
    }

    /// When probe `id` was first polled, if it was.
    pub fn started_at(&self, id: usize) -> Option<Duration> {
        self.started_at.borrow().get(&id).copied()
    }
}

/// The error of a probe that fails.
#[derive(Debug)]
pub struct ProbeError(pub usize);

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fail {}", self.0)
    }
}

/// The panic message of a probe that panics.
pub fn panic_message(id: usize) -> String {
    format!("probe panic {id}")
}

/// The panic message of a probe whose destructor panics.
pub fn drop_panic_message(id: usize) -> String {
    format!("probe drop panic {id}")
}

pub fn millis(ms: u8) -> Duration {
    Duration::from_millis(u64::from(ms))
}

/// A callback of a script.
pub struct Probe {
    pub id: usize,
    behaviour: Behaviour,
    world: World,
    started: bool,
    pendings: u8,
    sleep: Option<VirtualSleep>,
    /// Set by the other thread, with the waker of the latest poll.
    woken_by_thread: Option<Arc<Mutex<(bool, Waker)>>>,
    /// Where it was first polled: a pinned future stays there until dropped.
    at: Option<usize>,
    /// Its destructor panics, unless a panic is unwinding already (a
    /// second panic would abort the process, as the crate documents).
    drop_panics: bool,
}

impl Probe {
    pub fn new(id: usize, behaviour: Behaviour, world: &World) -> Self {
        let pendings = match behaviour {
            Behaviour::Yield(k) | Behaviour::WakeTwice(k) => k % 8,
            _ => 0,
        };
        Probe {
            id,
            behaviour,
            world: world.clone(),
            started: false,
            pendings,
            sleep: None,
            woken_by_thread: None,
            at: None,
            drop_panics: false,
        }
    }

    /// A probe whose destructor panics (with `drop_panics`).
    pub fn panicking_on_drop(mut self, drop_panics: bool) -> Self {
        self.drop_panics = drop_panics;
        self
    }

    /// A probe the stack handed back: the script drops it quietly.
    pub fn disarm(&mut self) {
        self.drop_panics = false;
    }

    /// Logs a move since the first poll (logged, not asserted: a panic in
    /// `poll` would be caught as the probe's own).
    fn check_place(&mut self) {
        let here = std::ptr::from_mut(self) as usize;
        if *self.at.get_or_insert(here) != here {
            self.world.log(Event::Moved(self.id));
        }
    }

    fn finish(&self, result: Result<(), ProbeError>) -> Poll<Result<(), ProbeError>> {
        self.world.log(Event::Finished(self.id));
        Poll::Ready(result)
    }
}

impl Future for Probe {
    type Output = Result<(), ProbeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.check_place();
        if !this.started {
            this.started = true;
            this.world.log(Event::Started(this.id));
            let now = this.world.clock.now();
            this.world.started_at.borrow_mut().insert(this.id, now);
        }
        match this.behaviour {
            Behaviour::Complete => this.finish(Ok(())),
            Behaviour::Fail => this.finish(Err(ProbeError(this.id))),
            Behaviour::Panic => {
                this.world.log(Event::Panicking(this.id));
                std::panic::panic_any(panic_message(this.id))
            }
            Behaviour::Yield(_) | Behaviour::WakeTwice(_) => {
                if this.pendings == 0 {
                    return this.finish(Ok(()));
                }
                this.pendings -= 1;
                cx.waker().wake_by_ref();
                if matches!(this.behaviour, Behaviour::WakeTwice(_)) {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            Behaviour::WakeFromThread => match &this.woken_by_thread {
                Some(state) => {
                    let mut state = state.lock().unwrap();
                    if state.0 {
                        drop(state);
                        return this.finish(Ok(()));
                    }
                    // Whoever polls now is whom the thread must wake.
                    state.1 = cx.waker().clone();
                    Poll::Pending
                }
                None => {
                    let state = Arc::new(Mutex::new((false, cx.waker().clone())));
                    this.woken_by_thread = Some(Arc::clone(&state));
                    let outstanding = Arc::clone(&this.world.outstanding);
                    outstanding.fetch_add(1, Ordering::AcqRel);
                    let thread = std::thread::spawn(move || {
                        let waker = {
                            let mut state = state.lock().unwrap();
                            state.0 = true;
                            state.1.clone()
                        };
                        waker.wake();
                        outstanding.fetch_sub(1, Ordering::AcqRel);
                    });
                    this.world.threads.borrow_mut().push(thread);
                    Poll::Pending
                }
            },
            Behaviour::Sleep(ms) => {
                let clock = &this.world.clock;
                let sleep = this.sleep.get_or_insert_with(|| clock.sleep(millis(ms)));
                match Pin::new(sleep).poll(cx) {
                    Poll::Ready(()) => this.finish(Ok(())),
                    Poll::Pending => Poll::Pending,
                }
            }
            Behaviour::Hang => Poll::Pending,
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if self.at.is_some() {
            self.check_place();
        }
        self.world.log(Event::Dropped(self.id));
        if self.drop_panics {
            if std::thread::panicking() {
                self.world.log(Event::DropPanicSpared(self.id));
            } else {
                std::panic::panic_any(drop_panic_message(self.id));
            }
        }
    }
}

/// The inline slot size of the harness's inline stacks: a probe fits.
pub const SLOT: usize = std::mem::size_of::<Probe>();

/// A probe with more state than an inline slot holds: `try_push_inline`
/// must hand it back as `DoesNotFit`.
pub struct Big {
    pub probe: Probe,
    _state: [u8; SLOT],
}

impl Big {
    pub fn new(probe: Probe) -> Self {
        Big {
            probe,
            _state: [0; SLOT],
        }
    }
}

impl Future for Big {
    type Output = Result<(), ProbeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.probe).poll(cx)
    }
}
