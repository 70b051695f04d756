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
