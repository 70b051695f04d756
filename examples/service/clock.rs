//! The teardown's timer: the crate's `AsyncIoTimer`, on the reactor smol
//! and async-executor share.
//!
//! It needs the crate's `async-io` feature, which `cargo run --example
//! service` cannot turn on (and `required-features` would make that command
//! refuse to run): without the feature, the same timer is written out here.

#[cfg(feature = "async-io")]
pub use teardown_stack::AsyncIoTimer as Clock;

#[cfg(not(feature = "async-io"))]
pub use fallback::Clock;

#[cfg(not(feature = "async-io"))]
mod fallback {
    use std::time::{Duration, Instant};

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
            Box::pin(async move {
                smol::Timer::after(duration).await;
            })
        }
    }
}
