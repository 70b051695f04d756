//! A stack that owns its callbacks without a heap, each in an inline slot.

#![warn(clippy::undocumented_unsafe_blocks)]

use core::fmt;
use core::marker::PhantomPinned;
use core::pin::Pin;

use crate::report::name::Name;
use crate::report::view::Report;
use crate::stack::teardown::Teardown;
use crate::storage::cleanup::Cleanup;
use crate::storage::inline::InlineSlots;
use crate::storage::names::NameList;
use crate::timer::{Clock, NoTimer};

/// A LIFO stack of at most `N` callbacks that owns them without a heap: each
/// future is stored in its cell, in a slot of `SLOT` bytes aligned to
/// [`INLINE_ALIGN`](crate::INLINE_ALIGN).
///
/// It is a [`Teardown`] with the same behaviour (order, stages, isolation,
/// timeouts, report), plus [`push_inline`](Self::push_inline). The futures
/// are polled where they lie, so the stack must not move once a run has
/// begun: it is `!Unpin`, and is registered on and run through
/// `Pin<&mut Self>`. Pin it with [`core::pin::pin!`] on the stack, or with
/// `Box::pin`, and reborrow with `.as_mut()`.
///
/// Registering a future that is larger than `SLOT` bytes or more aligned
/// than `INLINE_ALIGN` fails to compile; [`try_push_inline`](Self::try_push_inline)
/// hands it back instead. A stack takes about `N * SLOT` bytes more than a
/// [`Teardown`]: size `SLOT` for your largest cleanup future
/// (`core::mem::size_of_val(&future)`).
///
/// `C` is `dyn Cleanup + Send` (the default: `Send` callbacks only, and the
/// stack is `Send`) or `dyn Cleanup` ([`LocalInlineTeardown`]).
///
/// A run dropped part-way leaves its unfinished callbacks registered, and a
/// later run resumes them, as for a [`Teardown`]. Dropping the stack drops
/// the callbacks it still holds, in place, last registered first; a
/// destructor that panics there does not stop the others, as on a
/// [`Teardown`]: every future is dropped where it lies before its memory
/// goes, which is what `Pin` promises.
///
/// # Examples
///
/// ```
/// use core::pin::pin;
/// use teardown_stack::InlineTeardown;
///
/// async fn close(what: &'static str) -> Result<(), &'static str> {
///     let _ = what;
///     Ok(())
/// }
///
/// // Four callbacks of up to 64 bytes each, no allocator needed.
/// let mut teardown = pin!(InlineTeardown::<4, 64>::new());
/// teardown.as_mut().push_inline("store", close("store")).unwrap();
/// teardown.as_mut().push_inline("radio", async { Err::<(), _>("no ack") }).unwrap();
///
/// let report = futures_lite::future::block_on(teardown.as_mut().run());
/// assert_eq!(report.get(0).unwrap().name(), "radio");
/// assert_eq!(report.failed(), 1);
/// ```
///
/// A future larger than the slot does not compile:
///
/// ```compile_fail,E0080
/// use core::pin::pin;
/// use teardown_stack::InlineTeardown;
///
/// let mut teardown = pin!(InlineTeardown::<4, 64>::new());
/// let buffer = [0_u8; 128];
/// teardown.as_mut().push_inline("big", async move { drop(buffer) });
/// ```
///
/// nor does one that needs more alignment than `INLINE_ALIGN`:
///
/// ```compile_fail,E0080
/// use core::pin::pin;
/// use teardown_stack::InlineTeardown;
///
/// #[repr(align(16))]
/// struct Aligned(u8);
///
/// let mut teardown = pin!(InlineTeardown::<4, 64>::new());
/// let aligned = Aligned(0);
/// teardown.as_mut().push_inline("aligned", async move { drop(aligned) });
/// ```
///
/// and neither does a stack without room for any (`SLOT == 0`):
///
/// ```compile_fail,E0080
/// let teardown = teardown_stack::InlineTeardown::<4, 0>::new();
/// ```
pub struct InlineTeardown<
    'a,
    const N: usize,
    const SLOT: usize,
    R: Clock = NoTimer,
    C = dyn Cleanup + Send + 'a,
> where
    C: ?Sized + Cleanup,
{
    /// Never moved once pinned; reached only through `Pin<&mut Self>`.
    pub(crate) stack: Teardown<'a, N, R, C, InlineSlots<SLOT>>,
    _pinned: PhantomPinned,
}

/// An [`InlineTeardown`] that also holds callbacks that are not `Send`; it
/// and its run are then `!Send`.
///
/// # Examples
///
/// ```
/// use core::pin::pin;
/// use std::rc::Rc;
/// use teardown_stack::LocalInlineTeardown;
///
/// let shared = Rc::new(());
/// let held = Rc::clone(&shared);
/// let mut teardown = pin!(LocalInlineTeardown::<2, 32>::new());
/// teardown.as_mut().push_inline("rc", async move { drop(held) }).unwrap();
/// futures_lite::future::block_on(teardown.run());
/// assert_eq!(Rc::strong_count(&shared), 1);
/// ```
pub type LocalInlineTeardown<'a, const N: usize, const SLOT: usize, R = NoTimer> =
    InlineTeardown<'a, N, SLOT, R, dyn Cleanup + 'a>;

impl<'a, const N: usize, const SLOT: usize, C: ?Sized + Cleanup + 'a>
    InlineTeardown<'a, N, SLOT, NoTimer, C>
{
    /// An empty stack without a timer.
    ///
    /// Fails to compile if `SLOT` is `0`.
    #[must_use]
    pub const fn new() -> Self {
        Self::with_timer(NoTimer)
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock, C: ?Sized + Cleanup + 'a>
    InlineTeardown<'a, N, SLOT, R, C>
{
    /// An empty stack whose timeouts, deadlines and timings use `timer`;
    /// see [`Teardown::with_timer`].
    ///
    /// Fails to compile if `SLOT` is `0`.
    #[must_use]
    pub const fn with_timer(timer: R) -> Self {
        const {
            assert!(
                SLOT > 0,
                "an `InlineTeardown` needs `SLOT > 0` bytes per slot"
            );
        }
        InlineTeardown {
            stack: Teardown::empty(timer),
            _pinned: PhantomPinned,
        }
    }

    /// The stack's timer.
    pub fn timer(&self) -> &R {
        self.stack.timer()
    }

    /// How many callbacks are registered and not yet finished.
    #[must_use]
    pub fn len(&self) -> usize {
        self.stack.len()
    }

    /// Keeps the text of each failure in `buffer`, without `alloc`; see
    /// [`Teardown::keep_texts`].
    #[cfg(feature = "texts")]
    #[cfg_attr(docsrs, doc(cfg(feature = "texts")))]
    pub fn keep_texts(self: Pin<&mut Self>, buffer: &'a mut [u8]) -> Pin<&mut Self> {
        let mut this = self;
        this.as_mut().stack().keep_texts(buffer);
        this
    }

    /// Tells `observer` what each run does; see [`Teardown::observe`].
    #[cfg(feature = "observer")]
    #[cfg_attr(docsrs, doc(cfg(feature = "observer")))]
    pub fn observe(self: Pin<&mut Self>, observer: &'a dyn crate::Observer) -> Pin<&mut Self> {
        let mut this = self;
        this.as_mut().stack().observe(observer);
        this
    }

    /// The report of the last run; see [`Teardown::report`].
    #[must_use]
    pub fn report(&self) -> Report<'_> {
        self.stack.report()
    }

    /// Whether no callback is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }

    /// Whether the next registration fails.
    ///
    /// Exactly when `N` callbacks are pending ([`len`](Self::len)), but for
    /// one case. A run given up (dropped or forgotten) in the middle of a
    /// stage leaves the cells of the members that had finished, and the
    /// stack removes them at the next registration or run, by moving the
    /// cells above them down. If one of those cells holds an inline future,
    /// the stack cannot move it (it may have been polled), so the finished
    /// members keep their room until the inline futures above them finish
    /// (in a later run, which runs them before that stage) and the stack
    /// removes the finished cells at the next registration or run.
    ///
    /// Until then the stack may be full with fewer than `N` callbacks left
    /// to run. Boxed and borrowed callbacks never hold room this way.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.stack.is_full()
    }

    /// The most callbacks the stack holds: `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The size of an inline slot in bytes: `SLOT`.
    #[must_use]
    pub const fn slot_size(&self) -> usize {
        SLOT
    }

    /// The names of the registered callbacks, in the order they will run
    /// (last registered first).
    pub fn names(&self) -> impl Iterator<Item = &Name> + '_ {
        self.stack.names()
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock + Default, C: ?Sized + Cleanup + 'a> Default
    for InlineTeardown<'a, N, SLOT, R, C>
{
    fn default() -> Self {
        Self::with_timer(R::default())
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock + fmt::Debug, C: ?Sized + Cleanup + 'a>
    fmt::Debug for InlineTeardown<'a, N, SLOT, R, C>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineTeardown")
            .field("capacity", &N)
            .field("slot", &SLOT)
            .field("pending", &NameList(&self.stack.cells.cells))
            .field("timer", &self.stack.timer)
            .finish()
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock, C> InlineTeardown<'a, N, SLOT, R, C>
where
    C: ?Sized + Cleanup + 'a,
{
    /// The stack inside, for registering and running.
    pub(crate) fn stack(self: Pin<&mut Self>) -> &mut Teardown<'a, N, R, C, InlineSlots<SLOT>> {
        // SAFETY: the `InlineTeardown` is pinned and `!Unpin` (it holds
        // `PhantomPinned`s), so it stays where it is until dropped. The stack
        // inside is handed only to crate code (registration, `Stage`, `Run`),
        // which never moves the stack out nor moves an entry that holds an
        // inline future (module docs, invariant 2); the reference never
        // reaches the user.
        unsafe { &mut self.get_unchecked_mut().stack }
    }
}
