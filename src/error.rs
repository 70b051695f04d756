//! The error of a registration on a full stack.

use core::fmt;

/// The stack was full: the callback was not registered and is handed back,
/// never run and never dropped by the stack.
///
/// Returned by [`Teardown::push`](crate::Teardown::push) and its siblings.
/// Take the callback back with [`Full::into_inner`] (or the public field).
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
        write!(f, "teardown stack is full (capacity {})", self.capacity)
    }
}

impl<T> core::error::Error for Full<T> {}

/// Why [`InlineTeardown::try_push_inline`](crate::InlineTeardown::try_push_inline)
/// did not register a callback; either way the callback is handed back,
/// never run and never dropped by the stack.
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
        match self {
            InlineError::DoesNotFit {
                size, align, slot, ..
            } => write!(
                f,
                "callback does not fit an inline slot: its future takes {size} bytes \
                 aligned to {align}, a slot {slot} bytes aligned to {}",
                crate::INLINE_ALIGN
            ),
            InlineError::Full(full) => fmt::Display::fmt(full, f),
        }
    }
}

impl<T> core::error::Error for InlineError<T> {}
