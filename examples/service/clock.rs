//! The teardown's timer: the crate's `AsyncIoTimer`, on the reactor smol
//! and async-executor share.
//!
//! It comes with the crate's `async-io` feature, which `cargo run --example
//! service` does not turn on: cargo cannot turn on a package's features for
//! its own examples, and `required-features` would make that command refuse
//! to run. So without the feature (the demo command) the example uses the
//! same timer written out here; with it (CI and `cargo test
//! --all-features`, which runs the example in tests/service.rs) the crate's.

#[cfg(feature = "async-io")]
pub use teardown_stack::AsyncIoTimer as Clock;

#[cfg(not(feature = "async-io"))]
pub use fallback::Clock;

#[cfg(not(feature = "async-io"))]
mod fallback {
    use std::time::{Duration, Instant};

    use futures_lite::FutureExt;

    /// Monotonic time since the service started, and smol's sleep.
    #[derive(Clone, Copy, Debug)]
    pub struct Clock(Instant);

    impl Clock {
        pub fn new() -> Clock {
            Clock(Instant::now())
        }
    }

    impl teardown_stack::Timer for Clock {
        type Sleep = futures_lite::future::Boxed<()>;

        fn now(&self) -> Duration {
            self.0.elapsed()
        }

        fn sleep(&self, duration: Duration) -> Self::Sleep {
            async move {
                smol::Timer::after(duration).await;
            }
            .boxed()
        }
    }
}
