//! Shutdown signals: SIGINT and SIGTERM on Unix, Ctrl-C on Windows.

use std::fmt;
use std::io;

use futures_lite::StreamExt;

/// A request to stop, as the operating system sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGINT` (Ctrl-C in a terminal; on Windows, Ctrl-C).
    Interrupt,
    /// `SIGTERM` (`kill`, an orchestrator stopping the process). Unix only.
    Terminate,
}

/// `SIGINT`, `SIGTERM`; `Ctrl-C` for an interrupt on Windows.
impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt if cfg!(windows) => "Ctrl-C",
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

/// The shutdown signals, caught from the moment this is made until it is
/// dropped: SIGINT and SIGTERM on Unix, Ctrl-C on Windows.
///
/// Make it first, before building anything, so that a signal that arrives
/// during the build is not lost (it is then waiting for the first
/// [`recv`](Self::recv)). While it lives, these signals no longer end the
/// process: [`recv`](Self::recv) receives them. Once dropped, they end the
/// process again.
///
/// Runs on any executor: the signals are read through the async-io reactor,
/// which drives itself on its own thread when the executor is not smol's
/// (tokio's, say), so it needs no runtime of the caller's.
///
/// # Examples
///
/// The lifecycle of a service: build with rollback, serve until the first
/// signal, tear down within a grace period unless a second signal comes.
///
/// ```no_run
/// use std::process::ExitCode;
/// use std::time::Duration;
/// use teardown_stack::{AsyncIoTimer, Shutdown, Signals, Teardown};
///
/// # async fn serve() -> Result<(), std::io::Error> { Ok(()) }
/// async fn service() -> std::io::Result<ExitCode> {
///     let mut signals = Signals::new()?;
///     let grace = Duration::from_secs(25);
///     let mut teardown = Teardown::<16, _>::with_timer(AsyncIoTimer::new());
///     let built = teardown.build_within(grace, async |t| {
///         t.push("store", async { /* close */ }).unwrap();
///         Ok::<_, std::io::Error>(())
///     });
///     if let Err(released) = built.await {
///         return Err(released.into_error());
///     }
///     signals.recv().await?;
///     Ok(match teardown.shutdown_within(grace, signals.recv()).await {
///         Shutdown::Finished(report) => ExitCode::from(&report),
///         Shutdown::Interrupted { .. } => ExitCode::from(3), // logged with the names
///     })
/// }
/// # let _ = service();
/// ```
#[derive(Debug)]
pub struct Signals {
    inner: async_signal::Signals,
}

impl Signals {
    /// Starts catching the shutdown signals.
    ///
    /// # Errors
    ///
    /// The error of registering a handler or of making the pipe that
    /// carries the signals to the reactor.
    pub fn new() -> io::Result<Signals> {
        #[cfg(unix)]
        let caught = [async_signal::Signal::Int, async_signal::Signal::Term];
        // async-signal takes only Ctrl-C on Windows.
        #[cfg(not(unix))]
        let caught = [async_signal::Signal::Int];
        Ok(Signals {
            inner: async_signal::Signals::new(caught)?,
        })
    }

    /// Waits for the next signal (or takes one already caught).
    ///
    /// # Errors
    ///
    /// An error reading the signal pipe: it should not happen, but is
    /// passed on rather than mistaken for a signal.
    pub async fn recv(&mut self) -> io::Result<Signal> {
        loop {
            let received = self.inner.next().await.ok_or_else(|| {
                io::Error::new(io::ErrorKind::UnexpectedEof, "the signal stream ended")
            })??;
            let signal = match received {
                async_signal::Signal::Int => Signal::Interrupt,
                async_signal::Signal::Term => Signal::Terminate,
                // Only the two above are registered.
                _ => continue,
            };
            warn!("{} received", signal);
            return Ok(signal);
        }
    }
}

/// `&mut signals` as a shutdown's interrupts: each signal is one, so that
/// the second escalates and the third gives up (see
/// [`Run::or_interrupt`](crate::Run::or_interrupt)).
///
/// ```no_run
/// # async fn f(teardown: &mut teardown_stack::Teardown<'static, 8>) -> std::io::Result<()> {
/// use teardown_stack::Signals;
///
/// let mut signals = Signals::new()?;
/// signals.recv().await?; // the first: shut down
/// let shutdown = teardown.shutdown(&mut signals).await;
/// # let _ = shutdown;
/// # Ok(())
/// # }
/// ```
impl<'s> crate::IntoInterrupts for &'s mut Signals {
    type Interrupts = Caught<'s>;

    fn into_interrupts(self) -> Caught<'s> {
        Caught { signals: self }
    }
}

/// The interrupts of [`Signals`]: each SIGINT or SIGTERM caught.
#[derive(Debug)]
pub struct Caught<'s> {
    signals: &'s mut Signals,
}

impl crate::Interrupts for Caught<'_> {
    fn poll_interrupt(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<bool> {
        use core::task::Poll;
        loop {
            let inner = &mut self.signals.inner;
            let received = match futures_lite::ready!(inner.poll_next(cx)) {
                Some(Ok(received)) => received,
                // The pipe failed or the stream ended: no more will come.
                Some(Err(error)) => {
                    warn!("reading the signals failed: {}", error);
                    return Poll::Ready(false);
                }
                None => return Poll::Ready(false),
            };
            let signal = match received {
                async_signal::Signal::Int => Signal::Interrupt,
                async_signal::Signal::Term => Signal::Terminate,
                _ => continue,
            };
            warn!("{} received", signal);
            return Poll::Ready(true);
        }
    }
}
