//! The teardown stack: where callbacks are registered.

use core::fmt;
use core::future::{Future, IntoFuture};
use core::pin::Pin;

use crate::callback::{Accepts, Cleanup};
#[cfg(feature = "alloc")]
use crate::deferred::Deferred;
use crate::entry::Entry;
use crate::inline::{NoInline, Storage};
use crate::name::IntoName;
use crate::register;
use crate::timer::Clock;
use crate::{CleanupOutput, Full, Name, NoTimer, Registered, Run, Stage};

/// A LIFO stack of at most `N` async cleanup callbacks.
///
/// Register a callback as each resource comes up; [`run`](Self::run) awaits
/// them in reverse order, one at a time, isolating failures, and returns a
/// [`Report`](crate::Report). See the [crate documentation](crate) for the
/// whole story.
///
/// `R` is the runtime's [`Timer`](crate::Timer). The default, [`NoTimer`],
/// has none: the stack then has no timeout API and its report no timings.
/// With a timer (from [`with_timer`](Self::with_timer)), each callback may
/// get a [`timeout`](Registered::timeout), a run an overall deadline
/// ([`Run::within`]), and the report gets timings. Code generic over the
/// timer bounds `R` with [`Clock`](crate::Clock), which both implement.
///
/// `C` says which callbacks the stack holds. The default,
/// `dyn Cleanup + Send`, takes `Send` callbacks only, which makes the stack
/// and its run `Send` (runnable on a multi-threaded executor).
/// [`LocalTeardown`] takes any callback and is `!Send`.
///
/// `S` says how owned callbacks may be stored in the stack's entries, and is
/// always [`NoInline`] here: a stack that owns callbacks without a heap is an
/// [`InlineTeardown`](crate::InlineTeardown), which wraps a `Teardown` with
/// [`InlineSlots`](crate::InlineSlots) and keeps it pinned. Defaulted and
/// last, the parameter changes nothing for code that names
/// `Teardown<'a, N, R, C>`.
///
/// Callbacks registered through one [`Stage`] run concurrently; stages (and
/// callbacks registered on their own) run one after another, last first.
///
/// Storage is a [`heapless::Vec`]: no allocation, and [`new`](Self::new) is a
/// `const fn`, so a stack can live in a `static`. A stack is never `Sync`
/// (its callbacks need not be), so a `static` one goes in a `Mutex`
/// (`std::sync::Mutex::new` is `const`) or, without `std`, in a cell that
/// hands out one `&'static mut`, such as `static_cell::StaticCell`:
///
/// ```
/// use std::sync::Mutex;
/// use teardown_stack::Teardown;
///
/// static TEARDOWN: Mutex<Teardown<'static, 8>> = Mutex::new(Teardown::new());
///
/// TEARDOWN.lock().unwrap().push("db", async {}).unwrap();
/// let mut teardown = TEARDOWN.lock().unwrap();
/// assert!(futures_lite::future::block_on(teardown.run()).is_clean());
/// ```
///
/// A bare `static` does not compile:
///
/// ```compile_fail
/// use teardown_stack::Teardown;
///
/// static TEARDOWN: Teardown<'static, 8> = Teardown::new(); // not `Sync`
/// ```
///
/// # Examples
///
/// ```
/// use teardown_stack::Teardown;
///
/// let mut teardown = Teardown::<4>::new();
/// teardown.push("db", async { /* close the pool */ }).unwrap();
/// teardown
///     .push("server", async { Err::<(), _>("address in use") })
///     .unwrap();
///
/// let report = futures_lite::future::block_on(teardown.run());
/// let order: Vec<_> = report.iter().map(|r| r.name().to_string()).collect();
/// assert_eq!(order, ["server", "db"]);
/// assert_eq!(report.failed(), 1);
/// ```
pub struct Teardown<
    'a,
    const N: usize,
    R: Clock = NoTimer,
    C = dyn Cleanup + Send + 'a,
    S: Storage = NoInline,
> where
    C: ?Sized + Cleanup,
{
    pub(crate) entries: heapless::Vec<Entry<'a, R, C, S>, N>,
    /// How many callbacks were ever registered: numbers unnamed callbacks.
    pub(crate) registered: u32,
    /// How many stages were ever opened: numbers stages.
    stages: u32,
    pub(crate) timer: R,
    /// What the last run did. Kept here, not in the run, so that a run never
    /// copies it: `run()` resolves to a borrow of it.
    pub(crate) report: crate::Report<N>,
}

/// A stack that also holds callbacks that are not `Send`, for local
/// executors (`smol::LocalExecutor`, `block_on`, a firmware main loop).
///
/// The stack and its run are then `!Send`.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use teardown_stack::LocalTeardown;
///
/// let shared = Rc::new(());
/// let mut teardown = LocalTeardown::<2>::new();
/// let held = Rc::clone(&shared);
/// teardown.push("rc", async move { drop(held) }).unwrap();
/// futures_lite::future::block_on(teardown.run());
/// assert_eq!(Rc::strong_count(&shared), 1);
/// ```
pub type LocalTeardown<'a, const N: usize, R = NoTimer> = Teardown<'a, N, R, dyn Cleanup + 'a>;

impl<'a, const N: usize, C: ?Sized + Cleanup + 'a> Teardown<'a, N, NoTimer, C> {
    /// An empty stack without a timer.
    #[must_use]
    pub const fn new() -> Self {
        Self::with_timer(NoTimer)
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    /// An empty stack whose timeouts, deadlines and timings use `timer`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use core::time::Duration;
    /// use teardown_stack::{Teardown, VirtualClock};
    ///
    /// let clock = VirtualClock::new();
    /// let mut teardown = Teardown::<4, _>::with_timer(clock.clone());
    /// teardown.push("db", async {}).unwrap().timeout(Duration::from_secs(5));
    /// let report = clock.block_on(teardown.run().within(Duration::from_secs(30)));
    /// assert!(report.is_clean());
    /// # }
    /// ```
    #[must_use]
    pub const fn with_timer(timer: R) -> Self {
        Self::empty(timer)
    }

    /// Opens a stage: the callbacks registered through it run concurrently,
    /// as one layer of independent resources (eight HTTP clients, say).
    ///
    /// A stage starts only when everything registered after it has finished,
    /// and what was registered before it starts only when every member has
    /// finished. Each member keeps its own isolation: a failure, panic or
    /// timeout of one neither cancels nor delays its siblings. Each member
    /// counts toward `N`.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::Teardown;
    ///
    /// let mut teardown = Teardown::<8>::new();
    /// teardown.push("store", async {}).unwrap();
    /// let mut clients = teardown.stage();
    /// for name in ["llm-a", "llm-b", "llm-c"] {
    ///     clients.push(name, async {}).unwrap();
    /// }
    /// let report = futures_lite::future::block_on(teardown.run());
    /// assert_eq!(report.records().last().unwrap().name(), "store");
    /// ```
    pub fn stage(&mut self) -> Stage<'_, 'a, N, R, C> {
        let stage = self.next_stage();
        Stage::new(self, stage)
    }

    /// Registers a future the caller has pinned; the stack borrows it and
    /// allocates nothing.
    ///
    /// Pin it with [`core::pin::pin!`] (declared before the stack, since it
    /// must outlive it) or keep it in a `static`. Works without `alloc`.
    /// `name` is a `&'static str`, or `None` for the default name (see
    /// [`Name`]).
    ///
    /// # Errors
    ///
    /// [`Full`] with the future, unpolled, when the stack holds `N` callbacks.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::pin::pin;
    /// use teardown_stack::Teardown;
    ///
    /// let flush = pin!(async { /* flush the log */ });
    /// let mut teardown = Teardown::<2>::new();
    /// teardown.push_pinned("log", flush).unwrap();
    /// assert_eq!(futures_lite::future::block_on(teardown.run()).completed(), 1);
    /// ```
    pub fn push_pinned<F>(
        &mut self,
        name: impl IntoName,
        future: Pin<&'a mut F>,
    ) -> Result<Registered<'_, R>, Full<Pin<&'a mut F>>>
    where
        F: Future,
        F::Output: CleanupOutput,
        C: Accepts<'a, F>,
    {
        self.register(None, name, future, register::pinned)
    }

    /// Registers a future (an `async` block, the future of an `async fn`, or
    /// anything [`IntoFuture`]); the stack boxes and owns it.
    ///
    /// Nothing of it runs before [`run`](Self::run) reaches it. `name` is a
    /// `&'static str`, or `None` for the default name (see [`Name`]).
    ///
    /// # Errors
    ///
    /// [`Full`] with `future`, untouched, when the stack holds `N` callbacks.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn push<F>(&mut self, name: impl IntoName, future: F) -> Result<Registered<'_, R>, Full<F>>
    where
        F: IntoFuture,
        F::Output: CleanupOutput,
        C: Accepts<'a, F::IntoFuture>,
    {
        self.register(None, name, future, register::boxed)
    }

    /// Registers a closure that returns the cleanup future; it is called when
    /// its turn comes in [`run`](Self::run), not before.
    ///
    /// The counterpart of registering a coroutine function: pass
    /// `move || client.close()`.
    ///
    /// # Errors
    ///
    /// [`Full`] with the closure, uncalled, when the stack holds `N`
    /// callbacks.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::Teardown;
    ///
    /// async fn close(pool: &'static str) -> Result<(), std::io::Error> {
    ///     let _ = pool;
    ///     Ok(())
    /// }
    ///
    /// let mut teardown = Teardown::<2>::new();
    /// teardown.push_fn("pool", || close("main")).unwrap();
    /// assert!(futures_lite::future::block_on(teardown.run()).is_clean());
    /// ```
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn push_fn<G, F>(
        &mut self,
        name: impl IntoName,
        callback: G,
    ) -> Result<Registered<'_, R>, Full<G>>
    where
        G: FnOnce() -> F,
        F: Future,
        F::Output: CleanupOutput,
        C: Accepts<'a, Deferred<G, F>>,
    {
        self.register(None, name, callback, register::deferred)
    }

    /// Runs every registered callback, last registered first, and reports
    /// what happened.
    ///
    /// The returned future drives the callbacks one at a time on whatever
    /// executor polls it; it spawns nothing. Each callback leaves the stack
    /// once it has finished, so it runs at most once:
    ///
    /// - a callback that returns `Err` is logged at warn level with its name
    ///   and the error, recorded as failed, and the next one runs;
    /// - with the `std` feature, a callback that panics is caught, logged at
    ///   error level with its name and the panic message, recorded as
    ///   panicked, and the next one runs. Without `std`, a panic cannot be
    ///   caught: it goes to the panic handler as usual.
    ///
    /// The stack is borrowed for the whole run, so no callback can be
    /// registered while it runs.
    ///
    /// The future resolves to a borrow of the [`Report`](crate::Report), which
    /// the stack keeps (so a run of thousands of callbacks never copies its
    /// report); `.clone()` it to keep it past the next use of the stack. Each
    /// run starts a fresh report: running an empty stack (for instance a
    /// second time) runs nothing and reports nothing.
    ///
    /// # Cancellation
    ///
    /// If the returned future is dropped part-way (the caller's own timeout
    /// fired, say), the callbacks that have not finished stay registered, the
    /// interrupted one on top and not restarted: a later `run` resumes it
    /// where it stopped, then runs the rest. The next run's report starts
    /// afresh; the callbacks that finished in the dropped run were logged.
    /// Forgetting the run (`core::mem::forget`) has the same effect.
    ///
    /// The abandoned run's intent goes with it: its deadline
    /// ([`Run::within`]) binds nothing after it. A resumed callback answers
    /// to its own timeout, still counted from its first poll, and to the
    /// deadline of the run that resumes it, if that run has one. The room of
    /// the callbacks that finished comes back: a registration succeeds
    /// whenever fewer than `N` callbacks are pending (on an
    /// [`InlineTeardown`](crate::InlineTeardown), see its `is_full`).
    pub fn run(&mut self) -> Run<'_, 'a, N, R, C> {
        Run::new(self)
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Teardown<'a, N, R, C, S> {
    /// An empty stack; with inline slots only inside an
    /// [`InlineTeardown`](crate::InlineTeardown).
    pub(crate) const fn empty(timer: R) -> Self {
        Teardown {
            entries: heapless::Vec::new(),
            registered: 0,
            stages: 0,
            timer,
            report: crate::Report::new(),
        }
    }

    /// The stack's timer.
    pub fn timer(&self) -> &R {
        &self.timer
    }

    /// How many callbacks are registered and not yet finished.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pending().count()
    }

    /// Whether no callback is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(Entry::is_finished)
    }

    /// Whether the next registration fails: `N` callbacks are pending.
    ///
    /// A stack without inline slots is full exactly when [`len`](Self::len)
    /// is `N`. On an [`InlineTeardown`](crate::InlineTeardown) the members of
    /// a stage that finished in a run given up part-way (dropped or
    /// forgotten) may still take room: see
    /// [`InlineTeardown::is_full`](crate::InlineTeardown::is_full).
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.entries.is_full() && !self.compactable()
    }

    /// The most callbacks the stack holds: `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The names of the registered callbacks, in the order they will run
    /// (last registered first).
    pub fn names(&self) -> impl Iterator<Item = &Name> + '_ {
        self.pending().map(|entry| &entry.name)
    }

    /// The entries not finished, top first.
    fn pending(&self) -> impl Iterator<Item = &Entry<'a, R, C, S>> + '_ {
        self.entries
            .iter()
            .rev()
            .filter(|entry| !entry.is_finished())
    }

    /// Whether the finished entries can be removed: some are left (by a run
    /// given up in the middle of a stage) and removing them moves no live
    /// inline future, which must stay where it was polled.
    fn compactable(&self) -> bool {
        match self.entries.iter().position(Entry::is_finished) {
            Some(first) => !self.entries[first..].iter().any(|e| e.slot.is_inline()),
            None => false,
        }
    }

    /// Whether there is room for one more callback, removing the finished
    /// entries a given-up run left if that is what it takes. Done here, at
    /// the registration that needs it, rather than when the run is dropped:
    /// a run may be forgotten (`mem::forget` is safe), and its destructor
    /// then never runs.
    pub(crate) fn make_room(&mut self) -> bool {
        if !self.entries.is_full() {
            return true;
        }
        if !self.compactable() {
            return false;
        }
        self.entries.retain(|entry| !entry.is_finished());
        true
    }

    pub(crate) fn next_stage(&mut self) -> u32 {
        let stage = self.stages;
        self.stages = self.stages.wrapping_add(1);
        stage
    }
}

impl<'a, const N: usize, R: Clock + Default, C: ?Sized + Cleanup + 'a> Default
    for Teardown<'a, N, R, C>
{
    fn default() -> Self {
        Self::with_timer(R::default())
    }
}

/// `(&mut teardown).await` is the same as `teardown.run().await`.
impl<'s, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> IntoFuture
    for &'s mut Teardown<'a, N, R, C>
{
    type Output = &'s crate::Report<N>;
    type IntoFuture = Run<'s, 'a, N, R, C>;

    fn into_future(self) -> Self::IntoFuture {
        self.run()
    }
}

/// Lists the names of unfinished callbacks, top of the stack first, as
/// `"a", #1, "b"`.
pub(crate) struct NameList<'e, 'a, R: Clock, C: ?Sized, S: Storage>(
    pub(crate) &'e [Entry<'a, R, C, S>],
);

impl<R: Clock, C: ?Sized, S: Storage> fmt::Display for NameList<'_, '_, R, C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.0.iter().rev().filter(|entry| !entry.is_finished());
        for (i, entry) in pending.enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{:?}", entry.name)?;
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl<R: Clock, C: ?Sized, S: Storage> defmt::Format for NameList<'_, '_, R, C, S> {
    fn format(&self, f: defmt::Formatter<'_>) {
        let pending = self.0.iter().rev().filter(|entry| !entry.is_finished());
        for (i, entry) in pending.enumerate() {
            if i > 0 {
                defmt::write!(f, ", ");
            }
            defmt::write!(f, "{:?}", entry.name);
        }
    }
}

impl<R: Clock, C: ?Sized, S: Storage> fmt::Debug for NameList<'_, '_, R, C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.0
                    .iter()
                    .rev()
                    .filter(|e| !e.is_finished())
                    .map(|e| &e.name),
            )
            .finish()
    }
}

impl<'a, const N: usize, R: Clock + fmt::Debug, C: ?Sized + Cleanup + 'a, S: Storage> fmt::Debug
    for Teardown<'a, N, R, C, S>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Teardown")
            .field("capacity", &N)
            .field("pending", &NameList(&self.entries))
            .field("timer", &self.timer)
            .finish()
    }
}

/// A stack dropped with callbacks never run says so, then drops them last
/// registered first, the order `run` would have used.
impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Drop
    for Teardown<'a, N, R, C, S>
{
    fn drop(&mut self) {
        let pending = self.entries.iter().filter(|e| !e.is_finished()).count();
        if pending == 0 {
            return;
        }
        warn!(
            "teardown stack dropped with {} callback(s) never finished: {}",
            pending,
            NameList(&self.entries)
        );
        // An inline future is dropped where it lies before its entry moves
        // out of the vector.
        while let Some(entry) = self.entries.last_mut() {
            entry.slot.clear_inline();
            self.entries.pop();
        }
    }
}
