//! The teardown stack: where callbacks are registered.

use core::fmt;

use crate::report::name::Name;
use crate::report::view::{Report, Source};
use crate::run::stage::Driver;
use crate::storage::cell::Cell;
use crate::storage::cells::Cells;
use crate::storage::cleanup::Cleanup;
use crate::storage::inline::{NoInline, Storage};
use crate::storage::names::NameList;
use crate::timer::{Clock, NoTimer};

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
/// get a [`timeout`](crate::Registered::timeout), a run an overall deadline
/// ([`Run::within`](crate::Run::within)), and the report gets timings. Code generic over the
/// timer bounds `R` with [`Clock`](crate::Clock), which both implement.
///
/// `C` says which callbacks the stack holds. The default,
/// `dyn Cleanup + Send`, takes `Send` callbacks only, which makes the stack
/// and its run `Send` (runnable on a multi-threaded executor).
/// [`LocalTeardown`] takes any callback and is `!Send`.
///
/// `S` says how owned callbacks may be stored in the stack's cells, and is
/// always [`NoInline`] here: a stack that owns callbacks without a heap is an
/// [`InlineTeardown`](crate::InlineTeardown), which wraps a `Teardown` with
/// [`InlineSlots`](crate::InlineSlots) and keeps it pinned. Defaulted and
/// last, the parameter changes nothing for code that names
/// `Teardown<'a, N, R, C>`.
///
/// Callbacks registered through one [`Stage`](crate::Stage) run concurrently; stages (and
/// callbacks registered on their own) run one after another, last first.
///
/// Dropping the stack drops the callbacks it still holds, last registered
/// first, after a warning that names them. If one of their destructors
/// panics, the others are still dropped, each once and in that order, and
/// then that panic goes on; a second panic while the first unwinds aborts
/// the process, as it does in std's collections. (During a run, with `std`,
/// a destructor's panic is caught and reported instead: see
/// [`Outcome::Panicked`](crate::Outcome::Panicked).)
///
/// Storage is a [`heapless::Vec`] of `N` cells: no allocation, and
/// [`new`](Self::new) is a `const fn`, so a stack can live in a `static`.
/// Each cell holds a callback and then, once it has run, its record: the
/// [`Report`](crate::Report) of a run is a view of the cells, so a stack
/// costs the same with or without its report.
///
/// A stack is `Sync` whatever its callbacks: they are reached only through
/// `&mut` (with `sync_wrapper`), so sharing a stack shares its names and
/// records only. Registering and running take `&mut`, so a `static` stack
/// goes in a `Mutex` (`std::sync::Mutex::new` is `const`) or, without `std`,
/// in a cell that hands out one `&'static mut`, such as
/// `static_cell::StaticCell`:
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
/// A bare `static` can be read, but not registered on:
///
/// ```compile_fail
/// use teardown_stack::Teardown;
///
/// static TEARDOWN: Teardown<'static, 8> = Teardown::new();
/// assert!(TEARDOWN.is_empty());
/// TEARDOWN.push("db", async {}).unwrap(); // needs `&mut`
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
#[repr(C)]
pub struct Teardown<
    'a,
    const N: usize,
    R: Clock = NoTimer,
    C = dyn Cleanup + Send + 'a,
    S: Storage = NoInline,
> where
    C: ?Sized + Cleanup,
{
    // In declaration order (`repr(C)`), the cells' buffer last: nothing that
    // is zeroed on creation lies after it, so creating a stack stores its
    // few header words and never clears the buffer (which LLVM would do,
    // merging the zero stores on both sides of an uninitialised gap into one
    // `memset` of the whole).
    pub(crate) timer: R,
    /// The callbacks, and the records of the last run in the cells they
    /// left: `run()` resolves to a view of them.
    pub(crate) cells: Cells<'a, N, R, C, S, Driver<'a, R, C, S>>,
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
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Teardown<'a, N, R, C, S> {
    /// An empty stack; with inline slots only inside an
    /// [`InlineTeardown`](crate::InlineTeardown).
    pub(crate) const fn empty(timer: R) -> Self {
        Teardown {
            timer,
            cells: Cells::new(),
        }
    }

    /// The stack's timer.
    pub fn timer(&self) -> &R {
        &self.timer
    }

    /// With the `texts` feature, without `alloc`: keeps the text of each
    /// failure (what an error or a panic said) in `buffer`, so that the
    /// report can show it.
    ///
    /// A stack keeps no text unless it is given a buffer, and then as much
    /// as the buffer holds: the texts of a run go one after another, and
    /// one that does not fit is cut at a character boundary and ends with
    /// `…` ([`Message::is_truncated`](crate::Message::is_truncated)). Each
    /// run starts at the buffer's beginning again; giving a buffer ends the
    /// last run's report, as a registration does. The log line written
    /// when a callback fails always carries the whole text. Up to 65,535
    /// bytes of the buffer are used.
    ///
    /// With `alloc`, the report keeps every text whole, each in one
    /// allocation, and the buffer is not used.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::Teardown;
    ///
    /// let mut texts = [0; 128];
    /// let mut teardown = Teardown::<4>::new();
    /// teardown.keep_texts(&mut texts);
    /// teardown.push("db", async { Err::<(), _>("connection reset") }).unwrap();
    /// let report = futures_lite::future::block_on(teardown.run());
    /// assert_eq!(report.get(0).unwrap().outcome().message().unwrap(), "connection reset");
    /// ```
    #[cfg(feature = "texts")]
    #[cfg_attr(docsrs, doc(cfg(feature = "texts")))]
    pub fn keep_texts(&mut self, buffer: &'a mut [u8]) -> &mut Self {
        // The records of a run before keep their texts in the old buffer:
        // they end here, as at a registration.
        self.cells.forget_records();
        self.cells.texts = crate::report::message::Texts::with_buffer(buffer);
        self
    }

    /// Tells `observer` what each run of this stack does as it happens: the
    /// run's start, each callback's start and end, the run's end (see
    /// [`Event`](crate::Event)). One observer per stack; a later call
    /// replaces it. Without one, a run tests for none per callback: the
    /// loops that tell an observer are those that log at debug level.
    ///
    /// # Examples
    ///
    /// See [`Observer`](crate::Observer).
    #[cfg(feature = "observer")]
    #[cfg_attr(docsrs, doc(cfg(feature = "observer")))]
    pub fn observe(&mut self, observer: &'a dyn crate::Observer) -> &mut Self {
        self.cells.observer = Some(observer);
        self
    }

    /// How many callbacks are registered and not yet finished.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pending().count()
    }

    /// Whether no callback is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pending().next().is_none()
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
        self.cells.is_full()
    }

    /// The most callbacks the stack holds: `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The names of the registered callbacks, in the order they will run
    /// (last registered first).
    pub fn names(&self) -> impl Iterator<Item = &Name> + '_ {
        self.pending().map(|cell| &cell.name)
    }

    /// The cells of callbacks not finished, top first.
    fn pending(&self) -> impl Iterator<Item = &Cell<'a, R, C, S>> + '_ {
        self.cells
            .cells
            .iter()
            .rev()
            .filter(|cell| cell.is_pending())
    }

    /// The report of the last run, which [`run`](Self::run) also resolved
    /// to: the stack keeps its records until the next run or registration.
    ///
    /// Empty before any run, and from the next registration on (a refused
    /// one too: making room may remove records). A run given up part-way
    /// (dropped or forgotten) leaves the records of what it finished, in the
    /// order they finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::Teardown;
    ///
    /// let mut teardown = Teardown::<2>::new();
    /// teardown.push("db", async {}).unwrap();
    /// let teardown = std::thread::spawn(move || {
    ///     futures_lite::future::block_on(teardown.run());
    ///     teardown
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(teardown.report().completed(), 1);
    /// ```
    #[must_use]
    pub fn report(&self) -> Report<'_> {
        Report::new(&self.cells, self.cells.counts())
    }
}

impl<'a, const N: usize, R: Clock + Default, C: ?Sized + Cleanup + 'a> Default
    for Teardown<'a, N, R, C>
{
    fn default() -> Self {
        Self::with_timer(R::default())
    }
}

impl<'a, const N: usize, R: Clock + fmt::Debug, C: ?Sized + Cleanup + 'a, S: Storage> fmt::Debug
    for Teardown<'a, N, R, C, S>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Teardown")
            .field("capacity", &N)
            .field("pending", &NameList(&self.cells.cells))
            .field("timer", &self.timer)
            .finish()
    }
}
