//! Shared pieces of the benchmarks: the cleanup futures they register.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// A cleanup that is ready at once: what the benchmarks register, so they
/// measure the stack, not the cleanups. It holds a word, like a real handle,
/// so that boxing it allocates.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ready(pub u64);

impl Future for Ready {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

/// A cleanup that is ready at once and fails when `fail` is set.
#[derive(Clone, Copy, Debug, Default)]
pub struct MaybeFail {
    pub fail: bool,
}

impl Future for MaybeFail {
    type Output = Result<(), &'static str>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(if self.fail { Err("refused") } else { Ok(()) })
    }
}

/// Every tenth of `n` cleanups fails.
pub fn ten_percent_failing(n: usize) -> Vec<MaybeFail> {
    (0..n).map(|i| MaybeFail { fail: i % 10 == 0 }).collect()
}
