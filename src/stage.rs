//! A stage: callbacks that run concurrently, as one layer of the stack.

use core::fmt;
use core::future::Future;
#[cfg(feature = "alloc")]
use core::future::IntoFuture;
use core::pin::Pin;

use crate::callback::{Accepts, Cleanup};
#[cfg(feature = "alloc")]
use crate::deferred::Deferred;
use crate::timer::Clock;
use crate::{CleanupOutput, Full, Registered, Teardown};

/// Registers callbacks that run concurrently; see [`Teardown::stage`].
///
/// Its registration methods are those of [`Teardown`], and behave the same
/// but for joining this stage. Registrations made on the stack itself
/// afterwards are not members.
pub struct Stage<'t, 'a, const N: usize, R, C: ?Sized + Cleanup> {
    stack: &'t mut Teardown<'a, N, R, C>,
    id: u32,
    members: usize,
}

impl<'t, 'a, const N: usize, R: Clock, C: ?Sized + Cleanup + 'a> Stage<'t, 'a, N, R, C> {
    pub(crate) fn new(stack: &'t mut Teardown<'a, N, R, C>, id: u32) -> Self {
        Stage {
            stack,
            id,
            members: 0,
        }
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

    /// Like [`Teardown::push_pinned`], joining this stage.
    ///
    /// # Errors
    ///
    /// [`Full`] with the future when the stack is full.
    pub fn push_pinned<F>(
        &mut self,
        name: impl Into<Option<&'static str>>,
        future: Pin<&'a mut F>,
    ) -> Result<Registered<'_, R>, Full<Pin<&'a mut F>>>
    where
        F: Future,
        F::Output: CleanupOutput,
        C: Accepts<'a, F>,
    {
        let registered = self.stack.push_pinned_in(self.id, name.into(), future)?;
        self.members += 1;
        Ok(registered)
    }

    /// Like [`Teardown::push`], joining this stage.
    ///
    /// # Errors
    ///
    /// [`Full`] with the future when the stack is full.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn push<F>(
        &mut self,
        name: impl Into<Option<&'static str>>,
        future: F,
    ) -> Result<Registered<'_, R>, Full<F>>
    where
        F: IntoFuture,
        F::Output: CleanupOutput,
        C: Accepts<'a, F::IntoFuture>,
    {
        let registered = self.stack.push_in(self.id, name.into(), future)?;
        self.members += 1;
        Ok(registered)
    }

    /// Like [`Teardown::push_fn`], joining this stage.
    ///
    /// # Errors
    ///
    /// [`Full`] with the closure when the stack is full.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn push_fn<G, F>(
        &mut self,
        name: impl Into<Option<&'static str>>,
        callback: G,
    ) -> Result<Registered<'_, R>, Full<G>>
    where
        G: FnOnce() -> F,
        F: Future,
        F::Output: CleanupOutput,
        C: Accepts<'a, Deferred<G, F>>,
    {
        let registered = self.stack.push_fn_in(self.id, name.into(), callback)?;
        self.members += 1;
        Ok(registered)
    }
}

impl<'a, const N: usize, R, C: ?Sized + Cleanup + 'a> fmt::Debug for Stage<'_, 'a, N, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stage")
            .field("id", &self.id)
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}
