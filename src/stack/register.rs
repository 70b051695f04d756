//! How a callback joins a stack: the one place that decides whether there is
//! room, names the callback and builds its cell. Every public registration
//! method (on `Teardown`, `InlineTeardown` and `Stage`) forwards here with
//! one of the slot builders below, which say how the callback is stored.

use core::future::{Future, IntoFuture};
use core::pin::Pin;

use crate::report::name::{IntoName, Name};
use crate::stack::error::{Full, InlineError};
use crate::stack::inline::InlineTeardown;
use crate::stack::registered::Registered;
use crate::stack::teardown::Teardown;
use crate::storage::cell::{Cell, JOINED};
use crate::storage::cleanup::{Accepts, Cleanup};
#[cfg(feature = "alloc")]
use crate::storage::deferred::Deferred;
use crate::storage::inline::{InlineFuture, InlineSlots, Storage};
use crate::storage::output::CleanupOutput;
use crate::storage::slot::Slot;
use crate::timer::Clock;

/// The public registration methods, written once for the three receivers
/// that have them ([`Teardown`], [`InlineTeardown`] and
/// [`Stage`](crate::Stage)): each method's signature and bounds, and the slot
/// builder that says how it stores the callback. Each receiver brings its
/// own docs and the method that registers on its stack (`$via`: alone, or
/// joining a stage); `$self` and `$recv` are the receiver as the method
/// takes it (`&mut self`, or `self: Pin<&mut Self>`).
macro_rules! registration {
    ($self:ident ($($recv:tt)*) $via:ident; $(#[$m:meta])* push_pinned) => {
        $(#[$m])*
        pub fn push_pinned<F>(
            $($recv)*,
            name: impl IntoName,
            future: Pin<&'a mut F>,
        ) -> Result<Registered<'_, R>, Full<Pin<&'a mut F>>>
        where
            F: Future,
            F::Output: CleanupOutput,
            C: Accepts<'a, F>,
        {
            $self.$via(name, future, $crate::stack::register::pinned)
        }
    };
    ($self:ident ($($recv:tt)*) $via:ident; $(#[$m:meta])* push) => {
        $(#[$m])*
        #[cfg(feature = "alloc")]
        #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
        pub fn push<F>($($recv)*, name: impl IntoName, future: F) -> Result<Registered<'_, R>, Full<F>>
        where
            F: IntoFuture,
            F::Output: CleanupOutput,
            C: Accepts<'a, F::IntoFuture>,
        {
            $self.$via(name, future, $crate::stack::register::boxed)
        }
    };
    ($self:ident ($($recv:tt)*) $via:ident; $(#[$m:meta])* push_fn) => {
        $(#[$m])*
        #[cfg(feature = "alloc")]
        #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
        pub fn push_fn<G, F>($($recv)*, name: impl IntoName, callback: G) -> Result<Registered<'_, R>, Full<G>>
        where
            G: FnOnce() -> F,
            F: Future,
            F::Output: CleanupOutput,
            C: Accepts<'a, Deferred<G, F>>,
        {
            $self.$via(name, callback, $crate::stack::register::deferred)
        }
    };
    ($self:ident ($($recv:tt)*) $via:ident; $(#[$m:meta])* push_with) => {
        $(#[$m])*
        #[cfg(feature = "alloc")]
        #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
        pub fn push_with<G, F>($($recv)*, name: impl IntoName, callback: G) -> Result<Registered<'_, R>, Full<G>>
        where
            R: Clone,
            G: FnOnce($crate::Budget<R>) -> F,
            F: Future,
            F::Output: CleanupOutput,
            C: Accepts<'a, $crate::WithBudget<G, F, R>>,
        {
            let timer = $self.budget_timer();
            $self.$via(name, callback, move |callback| {
                $crate::stack::register::boxed_cleanup($crate::WithBudget::with_timer(callback, timer))
            })
        }
    };
    ($self:ident ($($recv:tt)*) $via:ident; $(#[$m:meta])* push_pinned_with) => {
        $(#[$m])*
        pub fn push_pinned_with<G, F>(
            $($recv)*,
            name: impl IntoName,
            callback: Pin<&'a mut $crate::WithBudget<G, F, R>>,
        ) -> Result<Registered<'_, R>, Full<Pin<&'a mut $crate::WithBudget<G, F, R>>>>
        where
            G: FnOnce($crate::Budget<R>) -> F,
            F: Future,
            F::Output: CleanupOutput,
            C: Accepts<'a, $crate::WithBudget<G, F, R>>,
        {
            $self.$via(name, callback, $crate::stack::register::pinned)
        }
    };
    ($self:ident ($($recv:tt)*) $via:ident; $(#[$m:meta])* push_inline_with) => {
        $(#[$m])*
        pub fn push_inline_with<G, F>($($recv)*, name: impl IntoName, callback: G) -> Result<Registered<'_, R>, Full<G>>
        where
            R: Clone,
            G: FnOnce($crate::Budget<R>) -> F,
            F: Future,
            F::Output: CleanupOutput,
            C: Accepts<'a, $crate::WithBudget<G, F, R>>,
        {
            let timer = $self.budget_timer();
            $self.$via(name, callback, move |callback| {
                $crate::stack::register::inline_cleanup($crate::WithBudget::with_timer(callback, timer))
            })
        }
    };
    ($self:ident ($($recv:tt)*) $via:ident; $(#[$m:meta])* push_inline) => {
        $(#[$m])*
        pub fn push_inline<F>($($recv)*, name: impl IntoName, future: F) -> Result<Registered<'_, R>, Full<F>>
        where
            F: IntoFuture,
            F::Output: CleanupOutput,
            C: Accepts<'a, F::IntoFuture>,
        {
            $self.$via(name, future, $crate::stack::register::inline)
        }
    };
    ($self:ident ($($recv:tt)*) $via:ident; $(#[$m:meta])* try_push_inline) => {
        $(#[$m])*
        pub fn try_push_inline<F>(
            $($recv)*,
            name: impl IntoName,
            future: F,
        ) -> Result<Registered<'_, R>, InlineError<F>>
        where
            F: IntoFuture,
            F::Output: CleanupOutput,
            C: Accepts<'a, F::IntoFuture>,
        {
            let future = $crate::stack::register::check_fits::<F, C, SLOT>(future)?;
            $self
                .$via(name, future, $crate::stack::register::fitting)
                .map_err(InlineError::Full)
        }
    };
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a, S: Storage> Teardown<'a, N, R, C, S> {
    /// Registers `callback`, stored by `store`, as a member of the stage of
    /// the callback below it when `joined` (else as a stage of its own);
    /// hands it back untouched, with `store` never called, when there is no
    /// room.
    #[inline]
    pub(crate) fn register<T>(
        &mut self,
        joined: bool,
        name: impl IntoName,
        callback: T,
        store: impl FnOnce(T) -> Slot<'a, C, S>,
    ) -> Result<Registered<'_, R>, Full<T>> {
        if !self.cells.make_room() {
            return Err(Full::new(callback, N));
        }
        let name = name.into_name(self.cells.registered());
        Ok(self.insert(joined, name, store(callback)))
    }

    /// Registers `callback` as a stage of its own (the registration methods'
    /// way onto the stack, see `registration!`).
    #[inline]
    fn alone<T>(
        &mut self,
        name: impl IntoName,
        callback: T,
        store: impl FnOnce(T) -> Slot<'a, C, S>,
    ) -> Result<Registered<'_, R>, Full<T>> {
        self.register(false, name, callback, store)
    }

    /// Pushes the cell, once there is room: not generic over the callback,
    /// so one copy serves every registration.
    fn insert(&mut self, joined: bool, name: Name, slot: Slot<'a, C, S>) -> Registered<'_, R> {
        let flags = if joined { JOINED } else { 0 };
        let cell = self
            .cells
            .push(Cell::new(name, slot, flags, R::Stamp::default()));
        let (name, meta) = cell.registered();
        Registered::new(name, meta)
    }
}

impl<'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Teardown<'a, N, R, C> {
    registration! {
        self (&mut self) alone;
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
        push_pinned
    }

    registration! {
        self (&mut self) alone;
        /// Registers a future (an `async` block, the future of an `async fn`, or
        /// anything [`IntoFuture`]); the stack boxes and owns it.
        ///
        /// Nothing of it runs before [`run`](Self::run) reaches it. `name` is a
        /// `&'static str`, or `None` for the default name (see [`Name`]).
        ///
        /// # Errors
        ///
        /// [`Full`] with `future`, untouched, when the stack holds `N` callbacks.
        push
    }

    registration! {
        self (&mut self) alone;
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
        push_fn
    }

    registration! {
        self (&mut self) alone;
        /// Registers a closure that receives the callback's [`Budget`] and
        /// returns the cleanup future: called when its turn comes, with the
        /// time the run gives it then (see [`Budget`]). The stack boxes it.
        ///
        /// For a cleanup that can do with less when time is short: a flush
        /// that writes a smaller checkpoint at the soft deadline
        /// ([`Run::soft_margin`](crate::Run::soft_margin)), an abort that
        /// sends a last message. On a stack without a timer the budget is
        /// unbounded.
        ///
        /// # Errors
        ///
        /// [`Full`] with the closure, uncalled, when the stack holds `N`
        /// callbacks.
        ///
        /// [`Budget`]: crate::Budget
        push_with
    }

    registration! {
        self (&mut self) alone;
        /// Registers a borrow of a [`WithBudget`](crate::WithBudget) the caller pinned: a
        /// closure given its [`Budget`](crate::Budget) when its turn comes,
        /// with no allocation (see [`push_with`](Self::push_with)).
        ///
        /// # Errors
        ///
        /// [`Full`] with the borrow, its closure uncalled, when the stack
        /// holds `N` callbacks.
        push_pinned_with
    }
}

impl<'a, const N: usize, R: Clock + Clone, C: ?Sized + Cleanup + 'a, S: Storage>
    Teardown<'a, N, R, C, S>
{
    /// A clone of the timer, for a callback's budget.
    pub(crate) fn budget_timer(&self) -> R {
        self.timer.clone()
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock, C: ?Sized + Cleanup + 'a>
    InlineTeardown<'a, N, SLOT, R, C>
{
    /// Registers `callback` on the stack inside, as a stage of its own.
    #[inline]
    fn alone<T>(
        self: Pin<&mut Self>,
        name: impl IntoName,
        callback: T,
        store: impl FnOnce(T) -> Slot<'a, C, InlineSlots<SLOT>>,
    ) -> Result<Registered<'_, R>, Full<T>> {
        self.stack().register(false, name, callback, store)
    }

    registration! {
        self (self: Pin<&mut Self>) alone;
        /// Registers a future (an `async` block, the future of an `async fn`, or
        /// anything [`IntoFuture`]); the stack owns it, in an inline slot, and
        /// allocates nothing.
        ///
        /// Nothing of it runs before [`run`](Self::run) reaches it. `name` is a
        /// `&'static str`, or `None` for the default name (see [`Name`]).
        /// Fails to compile if the future is larger than `SLOT` bytes or needs
        /// an alignment above [`INLINE_ALIGN`](crate::INLINE_ALIGN) (see the
        /// [type's documentation](Self)); use
        /// [`try_push_inline`](Self::try_push_inline) to get it back instead.
        ///
        /// # Errors
        ///
        /// [`Full`] with `future`, untouched, when the stack holds `N` callbacks.
        push_inline
    }

    registration! {
        self (self: Pin<&mut Self>) alone;
        /// Like [`push_inline`](Self::push_inline), but a future that does not
        /// fit an inline slot is handed back instead of failing to compile.
        ///
        /// # Errors
        ///
        /// [`InlineError::DoesNotFit`] with `future` when it is larger than
        /// `SLOT` bytes or more aligned than [`INLINE_ALIGN`](crate::INLINE_ALIGN);
        /// [`InlineError::Full`] with `future` when the stack holds `N`
        /// callbacks. Either way it is untouched.
        ///
        /// # Examples
        ///
        /// ```
        /// use core::pin::pin;
        /// use teardown_stack::InlineTeardown;
        ///
        /// let mut teardown = pin!(InlineTeardown::<2, 16>::new());
        /// let state = [1_u8; 100];
        /// let cleanup = async move { drop(state) };
        /// if let Err(error) = teardown.as_mut().try_push_inline("big", cleanup) {
        ///     // Too big for 16 bytes: box it instead.
        ///     teardown.as_mut().push("big", error.into_inner()).unwrap();
        /// }
        /// assert_eq!(teardown.len(), 1);
        /// ```
        try_push_inline
    }

    registration! {
        self (self: Pin<&mut Self>) alone;
        /// Like [`Teardown::push_pinned`]: registers a borrow of a future the
        /// caller pinned.
        ///
        /// # Errors
        ///
        /// [`Full`] with the future, unpolled, when the stack holds `N` callbacks.
        push_pinned
    }

    registration! {
        self (self: Pin<&mut Self>) alone;
        /// Like [`Teardown::push`]: boxes the future.
        ///
        /// # Errors
        ///
        /// [`Full`] with `future`, untouched, when the stack holds `N` callbacks.
        push
    }

    registration! {
        self (self: Pin<&mut Self>) alone;
        /// Like [`Teardown::push_fn`]: boxes the closure, called when its turn
        /// comes.
        ///
        /// # Errors
        ///
        /// [`Full`] with the closure, uncalled, when the stack holds `N`
        /// callbacks.
        push_fn
    }

    registration! {
        self (self: Pin<&mut Self>) alone;
        /// Like [`Teardown::push_with`], in an inline slot: a closure that
        /// receives the callback's [`Budget`](crate::Budget) when its turn
        /// comes, stored with the future it returns in place, with no
        /// allocation. Fails to compile if the two do not fit `SLOT` bytes
        /// (see [`push_inline`](Self::push_inline)).
        ///
        /// # Errors
        ///
        /// [`Full`] with the closure, uncalled, when the stack holds `N`
        /// callbacks.
        push_inline_with
    }

    registration! {
        self (self: Pin<&mut Self>) alone;
        /// Like [`Teardown::push_with`]: boxes the closure, given its
        /// budget when its turn comes.
        ///
        /// # Errors
        ///
        /// [`Full`] with the closure, uncalled, when the stack holds `N`
        /// callbacks.
        push_with
    }

    registration! {
        self (self: Pin<&mut Self>) alone;
        /// Like [`Teardown::push_pinned_with`].
        ///
        /// # Errors
        ///
        /// [`Full`] with the borrow when the stack holds `N` callbacks.
        push_pinned_with
    }
}

impl<'a, const N: usize, const SLOT: usize, R: Clock + Clone, C: ?Sized + Cleanup + 'a>
    InlineTeardown<'a, N, SLOT, R, C>
{
    /// A clone of the timer, for a callback's budget.
    pub(crate) fn budget_timer(&self) -> R {
        self.timer().clone()
    }
}

/// A future (or a [`WithBudget`](crate::WithBudget)) the caller pinned:
/// the stack borrows it.
pub(crate) fn pinned<'a, F, C, S>(cleanup: Pin<&'a mut F>) -> Slot<'a, C, S>
where
    F: Cleanup,
    C: ?Sized + Accepts<'a, F>,
    S: Storage,
{
    Slot::Borrowed(C::erase_pinned(cleanup))
}

/// A cleanup the stack boxes and owns: a future, a closure's
/// [`Deferred`], or a [`WithBudget`](crate::WithBudget).
#[cfg(feature = "alloc")]
pub(crate) fn boxed_cleanup<'a, F, C, S>(cleanup: F) -> Slot<'a, C, S>
where
    F: Cleanup,
    C: ?Sized + Accepts<'a, F>,
    S: Storage,
{
    Slot::Boxed(C::erase_boxed(cleanup))
}

/// A cleanup in the cell's inline slot; one that does not fit fails to
/// compile.
pub(crate) fn inline_cleanup<'a, F, C, const SLOT: usize>(
    cleanup: F,
) -> Slot<'a, C, InlineSlots<SLOT>>
where
    F: Cleanup,
    C: ?Sized + Accepts<'a, F>,
{
    Slot::Inline(InlineFuture::new_checked(cleanup))
}

/// A future the stack boxes and owns.
#[cfg(feature = "alloc")]
pub(crate) fn boxed<'a, F, C, S>(future: F) -> Slot<'a, C, S>
where
    F: IntoFuture,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, F::IntoFuture>,
    S: Storage,
{
    boxed_cleanup(future.into_future())
}

/// A closure the stack boxes, called when its turn comes.
#[cfg(feature = "alloc")]
pub(crate) fn deferred<'a, G, F, C, S>(callback: G) -> Slot<'a, C, S>
where
    G: FnOnce() -> F,
    F: Future,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, Deferred<G, F>>,
    S: Storage,
{
    boxed_cleanup(Deferred::new(callback))
}

/// A future stored in the cell's inline slot; one that does not fit fails
/// to compile.
pub(crate) fn inline<'a, F, C, const SLOT: usize>(future: F) -> Slot<'a, C, InlineSlots<SLOT>>
where
    F: IntoFuture,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, F::IntoFuture>,
{
    inline_cleanup(future.into_future())
}

/// Checks that `future` fits an inline slot, before any room is made for it.
pub(crate) fn check_fits<'a, F, C, const SLOT: usize>(future: F) -> Result<F, InlineError<F>>
where
    F: IntoFuture,
    C: ?Sized + Accepts<'a, F::IntoFuture>,
{
    if InlineFuture::<C, SLOT>::fits::<F::IntoFuture>() {
        Ok(future)
    } else {
        Err(InlineError::does_not_fit::<F::IntoFuture>(future, SLOT))
    }
}

/// A future already checked with [`check_fits`], stored inline.
pub(crate) fn fitting<'a, F, C, const SLOT: usize>(future: F) -> Slot<'a, C, InlineSlots<SLOT>>
where
    F: IntoFuture,
    F::Output: CleanupOutput,
    C: ?Sized + Accepts<'a, F::IntoFuture>,
{
    match InlineFuture::new(future.into_future()) {
        Ok(stored) => Slot::Inline(stored),
        Err(_) => unreachable!("checked that it fits"),
    }
}
