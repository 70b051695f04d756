//! What both probes share: eight small cleanups of eight different types, and
//! a poll loop with a no-op waker.
#![no_std]
#![forbid(unsafe_code)]

pub mod ram;

use core::future::Future;
use core::hint::black_box;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

/// Polls `future` to completion with a no-op waker.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Pending once, then ready: a cleanup that has to wait.
pub async fn yield_once() {
    let mut yielded = false;
    core::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// A device register stand-in: cleanups write to it.
pub fn write(value: u32) {
    black_box(value);
}

/// Declares the eight cleanups, each an `async` block of its own type, as
/// pinned locals named by the given identifiers.
#[macro_export]
macro_rules! eight_cleanups {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident) => {
        let $a = core::pin::pin!(async { $crate::write(1) });
        let $b = core::pin::pin!(async {
            $crate::yield_once().await;
            $crate::write(2)
        });
        let $c = core::pin::pin!(async { $crate::write(3) });
        let $d = core::pin::pin!(async {
            $crate::write(4);
            Err::<(), &str>("radio did not ack")
        });
        let $e = core::pin::pin!(async {
            $crate::write(5);
            $crate::yield_once().await
        });
        let $f = core::pin::pin!(async { $crate::write(6) });
        let $g = core::pin::pin!(async {
            $crate::write(7);
            Ok::<(), &str>(())
        });
        let $h = core::pin::pin!(async {
            $crate::yield_once().await;
            $crate::yield_once().await;
            $crate::write(8)
        });
    };
}
