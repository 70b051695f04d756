//! The errors of a registration: the callback handed back, or dropped for
//! `?`.

use core::fmt;

#[cfg(feature = "alloc")]
use alloc::boxed::Box;

/// The stack was full: the callback was not registered and is handed back,
/// never run and never dropped by the stack.
///
/// Returned by [`Teardown::push`](crate::Teardown::push) and its siblings.
/// Take the callback back with [`Full::into_inner`] (or the public field).
///
/// `Full` is not itself an [`Error`](core::error::Error), since it holds
/// the callback, which may borrow locals and need not be `Send` or `Sync`.
/// Instead `?` converts it, dropping the callback unpolled, into a
/// [`Refused`] boxed as a `Box<dyn Error>` (with or without `+ Send` and
/// `+ Sync`), or with the `anyhow` feature into an `anyhow::Error`;
/// [`into_error`](Self::into_error) does the same by hand.
///
/// # Examples
///
/// ```
/// use teardown_stack::Teardown;
///
/// let mut teardown = Teardown::<1>::new();
/// teardown.push("first", async {}).unwrap();
/// let full = teardown.push("second", async {}).unwrap_err();
/// assert_eq!(full.to_string(), "teardown stack is full (capacity 1)");
/// let _callback = full.into_inner(); // still ours, not run
/// ```
///
/// `?` in a function returning `Box<dyn Error>`, for a future that borrows a
/// local and is neither `'static` nor `Sync`:
///
/// ```
/// use std::cell::Cell;
/// use std::error::Error;
/// use teardown_stack::LocalTeardown;
///
/// struct Store {
///     writes: Cell<u32>, // `Cell`: the store is not `Sync`
/// }
///
/// impl Store {
///     async fn close(&self) {
///         self.writes.set(0);
///     }
/// }
///
/// fn serve(store: &Store) -> Result<(), Box<dyn Error>> {
///     let mut teardown = LocalTeardown::<4>::new();
///     teardown.push("store", store.close())?; // borrows `store`
///     futures_lite::future::block_on(teardown.run());
///     Ok(())
/// }
///
/// serve(&Store { writes: Cell::new(3) }).unwrap();
/// ```
pub struct Full<T> {
    /// The callback that was not registered.
    pub callback: T,
    capacity: usize,
}

impl<T> Full<T> {
    pub(crate) const fn new(callback: T, capacity: usize) -> Self {
        Full { callback, capacity }
    }

    /// The callback that was not registered.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.callback
    }

    /// The capacity of the stack that was full.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// The error without the callback, which is dropped unpolled: what `?`
    /// makes of a `Full` on its way into a `Box<dyn Error>`.
    ///
    /// # Examples
    ///
    /// ```
    /// use teardown_stack::{Refused, Teardown};
    ///
    /// let full = Teardown::<0>::new().push("db", async {}).unwrap_err();
    /// assert_eq!(full.into_error(), Refused::Full { capacity: 0 });
    /// ```
    #[must_use]
    pub fn into_error(self) -> Refused {
        self.refused()
    }

    const fn refused(&self) -> Refused {
        Refused::Full {
            capacity: self.capacity,
        }
    }
}

impl<T> fmt::Debug for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Full")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.refused(), f)
    }
}

// `?` into a boxed error: the callback is dropped unpolled, the box holds a
// `Refused`. Coherent beside std's `impl<E: Error> From<E> for Box<dyn Error>`
// because `Full` and `InlineError` are not errors themselves.
macro_rules! into_boxed_error {
    ($from:ident: $($to:tt)*) => {
        #[cfg(feature = "alloc")]
        #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
        impl<'a, T> From<$from<T>> for Box<dyn core::error::Error $($to)* + 'a> {
            fn from(refused: $from<T>) -> Self {
                Box::new(refused.into_error())
            }
        }
    };
}

into_boxed_error!(Full:);
into_boxed_error!(Full: + Send);
into_boxed_error!(Full: + Send + Sync);

/// `?` into an `anyhow::Result`, for any callback: the callback is dropped
/// unpolled and the error is a [`Refused`].
///
/// ```
/// use std::cell::Cell;
/// use teardown_stack::LocalTeardown;
///
/// let closed = Cell::new(false); // not `Sync`
/// let close = async { closed.set(true) }; // borrows `closed`
/// let result = (|| -> anyhow::Result<()> {
///     let mut teardown = LocalTeardown::<0>::new(); // no room
///     teardown.push("store", close)?;
///     Ok(())
/// })();
/// assert_eq!(result.unwrap_err().to_string(), "teardown stack is full (capacity 0)");
/// assert!(!closed.get()); // dropped, never polled
/// ```
#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
impl<T> From<Full<T>> for anyhow::Error {
    fn from(full: Full<T>) -> Self {
        anyhow::Error::new(full.into_error())
    }
}

/// Why [`InlineTeardown::try_push_inline`](crate::InlineTeardown::try_push_inline)
/// did not register a callback; either way the callback is handed back,
/// never run and never dropped by the stack.
///
/// Like [`Full`], not an [`Error`](core::error::Error) itself: `?` turns it
/// into a boxed [`Refused`] (or an `anyhow::Error`), dropping the callback
/// unpolled.
///
/// # Examples
///
/// ```
/// use core::pin::pin;
/// use teardown_stack::{InlineError, InlineTeardown};
///
/// let mut teardown = pin!(InlineTeardown::<1, 16>::new());
/// let big = [0_u8; 64];
/// let error = teardown
///     .as_mut()
///     .try_push_inline("big", async move { drop(big) })
///     .unwrap_err();
/// assert!(matches!(error, InlineError::DoesNotFit { slot: 16, .. }));
/// let _callback = error.into_inner(); // still ours, not run
/// ```
pub enum InlineError<T> {
    /// The future is larger than an inline slot, or needs a stricter
    /// alignment than [`INLINE_ALIGN`](crate::INLINE_ALIGN).
    DoesNotFit {
        /// The callback that was not registered.
        callback: T,
        /// The size of its future, in bytes.
        size: usize,
        /// The alignment of its future, in bytes.
        align: usize,
        /// The size of the stack's inline slot, in bytes.
        slot: usize,
    },
    /// The stack was full.
    Full(Full<T>),
}

impl<T> InlineError<T> {
    pub(crate) const fn does_not_fit<F>(callback: T, slot: usize) -> Self {
        InlineError::DoesNotFit {
            callback,
            size: size_of::<F>(),
            align: align_of::<F>(),
            slot,
        }
    }

    /// The callback that was not registered.
    #[must_use]
    pub fn into_inner(self) -> T {
        match self {
            InlineError::DoesNotFit { callback, .. } => callback,
            InlineError::Full(full) => full.into_inner(),
        }
    }

    /// The error without the callback, which is dropped unpolled: what `?`
    /// makes of an `InlineError` on its way into a `Box<dyn Error>`.
    #[must_use]
    pub fn into_error(self) -> Refused {
        self.refused()
    }

    const fn refused(&self) -> Refused {
        match *self {
            InlineError::DoesNotFit {
                size, align, slot, ..
            } => Refused::DoesNotFit { size, align, slot },
            InlineError::Full(ref full) => full.refused(),
        }
    }
}

impl<T> fmt::Debug for InlineError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InlineError::DoesNotFit {
                size, align, slot, ..
            } => f
                .debug_struct("DoesNotFit")
                .field("size", size)
                .field("align", align)
                .field("slot", slot)
                .finish_non_exhaustive(),
            InlineError::Full(full) => f.debug_tuple("Full").field(full).finish(),
        }
    }
}

impl<T> fmt::Display for InlineError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.refused(), f)
    }
}

into_boxed_error!(InlineError:);
into_boxed_error!(InlineError: + Send);
into_boxed_error!(InlineError: + Send + Sync);

#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
impl<T> From<InlineError<T>> for anyhow::Error {
    fn from(error: InlineError<T>) -> Self {
        anyhow::Error::new(error.into_error())
    }
}

/// A registration that was refused, its callback dropped: the error `?`
/// gives for a [`Full`] or an [`InlineError`].
///
/// Unlike them it holds no callback, so it is `'static`, `Send` and `Sync`,
/// and an [`Error`](core::error::Error): it goes into a `Box<dyn Error>` or
/// an `anyhow::Error`. Its text is the same as theirs.
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use teardown_stack::{Refused, Teardown};
///
/// fn register(teardown: &mut Teardown<'_, 1>) -> Result<(), Box<dyn Error + Send + Sync>> {
///     teardown.push("db", async {})?;
///     teardown.push("server", async {})?; // no room left
///     Ok(())
/// }
///
/// let error = register(&mut Teardown::new()).unwrap_err();
/// assert_eq!(error.to_string(), "teardown stack is full (capacity 1)");
/// assert_eq!(error.downcast_ref(), Some(&Refused::Full { capacity: 1 }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Refused {
    /// The stack was full (from [`Full`], or [`InlineError::Full`]).
    Full {
        /// The capacity of the stack.
        capacity: usize,
    },
    /// The future did not fit an inline slot (from
    /// [`InlineError::DoesNotFit`]).
    DoesNotFit {
        /// The size of the future, in bytes.
        size: usize,
        /// The alignment of the future, in bytes.
        align: usize,
        /// The size of the stack's inline slot, in bytes.
        slot: usize,
    },
}

impl<T> From<Full<T>> for Refused {
    fn from(full: Full<T>) -> Self {
        full.into_error()
    }
}

impl<T> From<InlineError<T>> for Refused {
    fn from(error: InlineError<T>) -> Self {
        error.into_error()
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refused::Full { capacity } => {
                write!(f, "teardown stack is full (capacity {capacity})")
            }
            Refused::DoesNotFit { size, align, slot } => write!(
                f,
                "callback does not fit an inline slot: its future takes {size} bytes \
                 aligned to {align}, a slot {slot} bytes aligned to {}",
                crate::INLINE_ALIGN
            ),
        }
    }
}

impl core::error::Error for Refused {}
