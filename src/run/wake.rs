//! Wakers for the members of a stage, so that a wake re-polls only the
//! member it was meant for.
//!
//! With `alloc` (and pointer-sized atomics), each member gets its own waker
//! that marks it ready and wakes the run. Without, every member still running
//! is polled on each poll of the run: correct, but a stage of k members then
//! costs up to k polls per wake.

use core::task::Context;

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub(crate) use per_member::StageWakers;

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod per_member {
    use super::Context;
    use alloc::boxed::Box;
    use alloc::task::Wake;
    use alloc::vec::Vec;
    use core::task::Waker;

    // What the members share, and how they share it: the real atomics, or,
    // under `--cfg teardown_stack_loom`, loom's models of them, so that the
    // model checker (tests/loom.rs) explores every interleaving of a wake
    // from another thread with the run's polls. `Member` itself stays in a
    // std `Arc`, which `Wake` needs; only what it points to is modelled.
    #[cfg(not(teardown_stack_loom))]
    use {
        alloc::sync::Arc,
        atomic_waker::AtomicWaker,
        core::sync::atomic::{AtomicBool, Ordering},
    };
    #[cfg(teardown_stack_loom)]
    use {
        loom::future::AtomicWaker,
        loom::sync::Arc,
        loom::sync::atomic::{AtomicBool, Ordering},
    };

    /// One waker per member, and the flags they raise.
    pub(crate) struct StageWakers {
        shared: Arc<Shared>,
        members: Vec<Waker>,
    }

    struct Shared {
        /// The waker of the task polling the run.
        run: AtomicWaker,
        /// Member `i` was woken since it was last polled.
        ready: Box<[AtomicBool]>,
    }

    struct Member {
        shared: Arc<Shared>,
        index: usize,
    }

    impl Wake for Member {
        fn wake(self: alloc::sync::Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &alloc::sync::Arc<Self>) {
            // A swap, not a store: the same effect, and the form that loom
            // orders correctly against the run's swap in `poll_member` (its
            // model lets a plain store slip inside a concurrent swap,
            // tokio-rs/loom#254). One wake costs one more locked access.
            self.shared.ready[self.index].swap(true, Ordering::Release);
            self.shared.run.wake();
        }
    }

    impl StageWakers {
        /// Wakers for `count` members, every one of them ready to be polled.
        pub(crate) fn new(count: usize) -> Self {
            let shared = Arc::new(Shared {
                run: AtomicWaker::new(),
                ready: (0..count).map(|_| AtomicBool::new(true)).collect(),
            });
            let members = (0..count)
                .map(|index| {
                    Waker::from(alloc::sync::Arc::new(Member {
                        shared: Arc::clone(&shared),
                        index,
                    }))
                })
                .collect();
            StageWakers { shared, members }
        }

        /// Notes the waker of the task polling the run; call before polling
        /// members so that no wake is lost.
        pub(crate) fn register(&self, cx: &Context<'_>) {
            #[cfg(not(teardown_stack_loom))]
            self.shared.run.register(cx.waker());
            #[cfg(teardown_stack_loom)]
            self.shared.run.register_by_ref(cx.waker());
        }

        /// Polls member `index` with its own waker if it was woken since its
        /// last poll; `None` if it was not.
        pub(crate) fn poll_member<T>(
            &self,
            index: usize,
            _cx: &mut Context<'_>,
            poll: impl FnOnce(&mut Context<'_>) -> T,
        ) -> Option<T> {
            if !self.shared.ready[index].swap(false, Ordering::AcqRel) {
                return None;
            }
            Some(poll(&mut Context::from_waker(&self.members[index])))
        }
    }
}

#[cfg(not(all(feature = "alloc", target_has_atomic = "ptr")))]
pub(crate) use poll_all::StageWakers;

#[cfg(not(all(feature = "alloc", target_has_atomic = "ptr")))]
mod poll_all {
    use super::Context;

    /// Without allocation: every member is polled with the run's own waker.
    pub(crate) struct StageWakers;

    impl StageWakers {
        pub(crate) fn new(_count: usize) -> Self {
            StageWakers
        }

        pub(crate) fn register(&self, _cx: &Context<'_>) {}

        pub(crate) fn poll_member<T>(
            &self,
            _index: usize,
            cx: &mut Context<'_>,
            poll: impl FnOnce(&mut Context<'_>) -> T,
        ) -> Option<T> {
            Some(poll(cx))
        }
    }
}
