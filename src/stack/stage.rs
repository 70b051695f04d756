//! A stage: callbacks that run concurrently, as one layer of the stack.

use core::fmt;
use core::future::{Future, IntoFuture};
use core::pin::Pin;

use crate::report::name::IntoName;
use crate::run::stage::drive_run;
use crate::stack::error::{Full, InlineError};
use crate::stack::inline::InlineTeardown;
use crate::stack::registered::Registered;
use crate::stack::teardown::Teardown;
use crate::storage::cells::Cells;
use crate::storage::cleanup::{Accepts, Cleanup};
#[cfg(feature = "alloc")]
use crate::storage::deferred::Deferred;
use crate::storage::inline::{InlineSlots, NoInline, Storage};
use crate::storage::output::CleanupOutput;
use crate::storage::slot::Slot;
use crate::timer::{Clock, NoTimer};

/// Registers callbacks that run concurrently; see [`Teardown::stage`].
///
/// Its registration methods are those of [`Teardown`], and behave the same
/// but for joining this stage. Registrations made on the stack itself
/// afterwards are not members. `S` is the stack's [`Storage`]: [`NoInline`]
/// but on a stage of an [`InlineTeardown`], whose members may also be
/// inline ([`push_inline`](Self::push_inline)).
///
/// Name it with the lifetimes (the borrow of the stack, then the
/// callbacks'), `N` and, when there is one, the timer: `Stage<'t, 'a, N>`;
/// [`LocalStage`], [`InlineStage`] and [`LocalInlineStage`] name the stages
/// of the other stacks. A struct can hold one:
///
/// ```
/// use teardown_stack::{Stage, Teardown};
///
/// /// The clients of a service, closed together as one stage.
/// struct Clients<'t> {
///     stage: Stage<'t, 'static, 16>,
/// }
///
/// impl Clients<'_> {
///     fn add(&mut self, provider: &str) {
///         self.stage.push(format!("llm-{provider}"), async {}).unwrap();
///     }
/// }
///
/// let mut teardown = Teardown::<16>::new();
/// let mut clients = Clients { stage: teardown.stage() };
/// clients.add("a");
/// clients.add("b");
/// assert_eq!(futures_lite::future::block_on(teardown.run()).completed(), 2);
/// ```
pub struct Stage<
    't,
    'a,
    const N: usize,
    R: Clock = NoTimer,
    C: ?Sized + Cleanup = dyn Cleanup + Send + 'a,
    S: Storage = NoInline,
> {
    stack: &'t mut Teardown<'a, N, R, C, S>,
    members: usize,
}

/// A stage of a [`LocalTeardown`](crate::LocalTeardown).
pub type LocalStage<'t, 'a, const N: usize, R = NoTimer> = Stage<'t, 'a, N, R, dyn Cleanup + 'a>;

/// A stage of an [`InlineTeardown`].
pub type InlineStage<'t, 'a, const N: usize, const SLOT: usize, R = NoTimer> =
    Stage<'t, 'a, N, R, dyn Cleanup + Send + 'a, InlineSlots<SLOT>>;

/// A stage of a [`LocalInlineTeardown`](crate::LocalInlineTeardown).
pub type LocalInlineStage<'t, 'a, const N: usize, const SLOT: usize, R = NoTimer> =
    Stage<'t, 'a, N, R, dyn Cleanup + 'a, InlineSlots<SLOT>>;

impl<'t, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage>
    Stage<'t, 'a, N, R, C, S>
{
    pub(crate) fn new(stack: &'t mut Teardown<'a, N, R, C, S>) -> Self {
        // The stage driver and the removal of a stage's holes are linked
        // only into programs that open a stage: see `Cells::stages`.
        stack.cells.stages = Some(drive_run);
        stack.cells.holes = Some(Cells::remove_holes);
        Stage { stack, members: 0 }
    }

    /// How many callbacks joined this stage.
    #[must_use]
    pub fn len(&self) -> usize {
        self.members
    }

    /// Whether no callback joined this stage yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members == 0
    }

    /// Registers `callback` as a member of this stage.
    fn join<T>(
        &mut self,
        name: impl IntoName,
        callback: T,
        store: impl FnOnce(T) -> Slot<'a, C, S>,
    ) -> Result<Registered<'_, R>, Full<T>> {
        let registered = self
            .stack
            .register(self.members > 0, name, callback, store)?;
        self.members += 1;
        Ok(registered)
    }

    registration! {
        self (&mut self) join;
        /// Like [`Teardown::push_pinned`], joining this stage.
        ///
        /// # Errors
        ///
        /// [`Full`] with the future when the stack is full.
        push_pinned
    }

    registration! {
        self (&mut self) join;
        /// Like [`Teardown::push`], joining this stage.
        ///
        /// # Errors
        ///
        /// [`Full`] with the future when the stack is full.
        push
    }

    registration! {
        self (&mut self) join;
        /// Like [`Teardown::push_fn`], joining this stage.
        ///
        /// # Errors
        ///
        /// [`Full`] with the closure when the stack is full.
        push_fn
    }

    registration! {
        self (&mut self) join;
        /// Like [`Teardown::push_with`], joining this stage.
        ///
        /// # Errors
        ///
        /// [`Full`] with the closure when the stack is full.
        push_with
    }

    registration! {
        self (&mut self) join;
        /// Like [`Teardown::push_pinned_with`], joining this stage.
        ///
        /// # Errors
        ///
        /// [`Full`] with the borrow when the stack is full.
        push_pinned_with
    }
}

impl<'t, 'a, const N: usize, R: Clock + Clone, C: ?Sized + Cleanup + 'a, S: Storage>
    Stage<'t, 'a, N, R, C, S>
{
    /// A clone of the stack's timer, for a callback's budget.
    pub(crate) fn budget_timer(&self) -> R {
        self.stack.budget_timer()
    }
}

impl<'t, 'a, const N: usize, const SLOT: usize, R: Clock, C: ?Sized + Cleanup + 'a>
    Stage<'t, 'a, N, R, C, InlineSlots<SLOT>>
{
    registration! {
        self (&mut self) join;
        /// Like [`InlineTeardown::push_inline`], joining this stage (of an
        /// [`InlineTeardown`]).
        ///
        /// # Errors
        ///
        /// [`Full`] with the future when the stack is full.
        ///
        /// # Examples
        ///
        /// ```
        /// use core::pin::pin;
        /// use teardown_stack::InlineTeardown;
        ///
        /// let mut teardown = pin!(InlineTeardown::<4, 64>::new());
        /// let mut clients = teardown.as_mut().stage();
        /// clients.push_inline("a", async {}).unwrap();
        /// clients.push_inline("b", async {}).unwrap();
        /// let report = futures_lite::future::block_on(teardown.run());
        /// assert_eq!(report.completed(), 2);
        /// ```
        push_inline
    }

    registration! {
        self (&mut self) join;
        /// Like [`InlineTeardown::push_inline_with`], joining this stage.
        ///
        /// # Errors
        ///
        /// [`Full`] with the closure when the stack is full.
        push_inline_with
    }

    registration! {
        self (&mut self) join;
        /// Like [`InlineTeardown::try_push_inline`], joining this stage.
        ///
        /// # Errors
        ///
        /// [`InlineError::DoesNotFit`] with the future when it does not fit an
        /// inline slot, [`InlineError::Full`] when the stack is full.
        try_push_inline
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> fmt::Debug
    for Stage<'_, 'a, N, R, C, S>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stage")
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
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
        Stage::new(self)
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock, C: ?Sized + Cleanup + 'a>
    InlineTeardown<'a, N, SLOT, R, C>
{
    /// Opens a stage, as [`Teardown::stage`]; its members may be inline
    /// ([`Stage::push_inline`]).
    pub fn stage(self: Pin<&mut Self>) -> Stage<'_, 'a, N, R, C, InlineSlots<SLOT>> {
        Stage::new(self.stack())
    }
}
