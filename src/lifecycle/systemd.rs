//! The service manager told (with the `systemd` feature, on Unix): an
//! [`Observer`] that speaks systemd's notification protocol. A run says it
//! is stopping, what it waits on and how many cleanups are done, and
//! extends the manager's stop timeout to its own deadline each time a
//! cleanup finishes: systemd then waits as long as the teardown makes
//! progress within its grace, and no longer.
//!
//! `sd-notify` gives the protocol's assignments (`NotifyState`, written as
//! `KEY=VALUE` lines); the datagrams go out here, on one socket kept for
//! the process, because `sd_notify::notify` sends on a new blocking socket
//! each time: a manager that stopped reading (its queue holds a few
//! datagrams) would stall the teardown. Here a send waits at most
//! [`PATIENCE`] once; after that, the rest go out without waiting, and any
//! the queue has no room for are dropped.
//!
//! Where `NOTIFY_SOCKET` is unset (not started by systemd), nothing is
//! sent: nothing to configure.

use std::fmt::Write as _;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::string::String;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use std::vec::Vec;

use sd_notify::NotifyState;

use crate::{Event, Observer};

/// Tells systemd what a run does: register it with
/// [`Teardown::observe`](crate::Teardown::observe) (with the `systemd`
/// feature, on Unix).
///
/// - when a run starts: `STOPPING=1`, and `STATUS=stopping (0/9)`;
/// - when a cleanup starts or ends: `STATUS=stopping: "sandboxes" (3/9)`,
///   the cleanups running (a stage's members together) and how many of
///   the run's are done;
/// - when a cleanup ends, in a run with a deadline: `EXTEND_TIMEOUT_USEC`
///   set to the time left before the deadline, so that the manager's stop
///   timeout covers the rest of the grace period;
/// - when the run ends: `STATUS=stopped: ` and the report's summary.
///
/// [`Systemd::ready`] sends `READY=1`, for a service to say once it is up.
/// A message that cannot be sent is logged at debug level and dropped: a
/// teardown never waits on the service manager.
///
/// # Examples
///
/// ```
/// use teardown_stack::{Systemd, Teardown};
///
/// static SYSTEMD: Systemd = Systemd::new();
///
/// let mut teardown = Teardown::<4>::new();
/// teardown.observe(&SYSTEMD);
/// teardown.push("store", async {}).unwrap();
/// SYSTEMD.ready(); // once the service is up
/// // Outside systemd (no NOTIFY_SOCKET) nothing is sent.
/// futures_lite::future::block_on(teardown.run());
/// ```
#[derive(Debug, Default)]
pub struct Systemd {
    running: Mutex<Running>,
    socket: Mutex<Link>,
}

/// How long a send may wait for room in the manager's queue, once: past
/// it, the manager is taken as not reading, and sends no longer wait.
pub(crate) const PATIENCE: Duration = Duration::from_millis(500);

/// The socket to the manager, connected at the first send.
#[derive(Debug, Default)]
struct Link {
    socket: Option<UnixDatagram>,
    /// A send ran out of patience: the rest do not wait.
    stalled: bool,
}

/// The cleanups running, and the counts of the run.
#[derive(Debug, Default)]
struct Running {
    names: Vec<String>,
    done: usize,
    pending: usize,
}

impl Running {
    /// `stopping: "a", "b" (3/9)`.
    fn status(&self) -> String {
        let mut status = String::from("stopping");
        for (i, name) in self.names.iter().enumerate() {
            status.push_str(if i == 0 { ": " } else { ", " });
            status.push_str(name);
        }
        let _ = write!(status, " ({}/{})", self.done, self.pending);
        status
    }
}

impl Systemd {
    /// An observer that tells systemd, through `NOTIFY_SOCKET`.
    #[must_use]
    pub const fn new() -> Self {
        Systemd {
            running: Mutex::new(Running {
                names: Vec::new(),
                done: 0,
                pending: 0,
            }),
            socket: Mutex::new(Link {
                socket: None,
                stalled: false,
            }),
        }
    }

    /// Sends `READY=1`: the service is up (for `Type=notify` units).
    pub fn ready(&self) {
        self.send(&[NotifyState::Ready]);
    }

    /// One datagram to the service manager, if there is one; dropped,
    /// with a debug line, if it cannot go.
    fn send(&self, states: &[NotifyState<'_>]) {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
            return;
        };
        let mut message = String::new();
        for state in states {
            let _ = writeln!(message, "{state}");
        }
        let mut link = self.socket.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = link.send(&path, message.as_bytes()) {
            debug!("teardown: could not notify the service manager: {}", error);
        }
    }
}

impl Link {
    fn send(&mut self, path: &std::ffi::OsStr, message: &[u8]) -> io::Result<()> {
        let socket = match &mut self.socket {
            Some(socket) => socket,
            socket @ None => socket.insert(connect(path, self.stalled)?),
        };
        match socket.send(message) {
            Ok(_) => Ok(()),
            Err(error) if is_full(&error) && !self.stalled => {
                warn!(
                    "teardown: the service manager did not read its notifications for {:?}; \
                     the rest are sent without waiting",
                    PATIENCE
                );
                self.stalled = true;
                socket.set_nonblocking(true)?;
                Err(error)
            }
            Err(error) => {
                if !is_full(&error) {
                    // Connected to a manager that went: the next send
                    // connects again.
                    self.socket = None;
                }
                Err(error)
            }
        }
    }
}

/// A socket connected to `path` (`@name` an abstract one, on Linux),
/// sending with `PATIENCE`, or without waiting once `stalled`.
fn connect(path: &std::ffi::OsStr, stalled: bool) -> io::Result<UnixDatagram> {
    let socket = UnixDatagram::unbound()?;
    match path.as_encoded_bytes().strip_prefix(b"@") {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Some(name) => {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.connect_addr(&address)?;
        }
        _ => socket.connect(path)?,
    }
    if stalled {
        socket.set_nonblocking(true)?;
    } else {
        socket.set_write_timeout(Some(PATIENCE))?;
    }
    Ok(socket)
}

/// Whether a send failed for want of room in the manager's queue.
fn is_full(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Observer for Systemd {
    fn event(&self, event: Event<'_>) {
        // A panic elsewhere while the lock was held leaves the names as
        // they were: still the best account there is.
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::RunStarted { pending, .. } => {
                *running = Running {
                    names: Vec::new(),
                    done: 0,
                    pending,
                };
                self.send(&[
                    NotifyState::Stopping,
                    NotifyState::Status(&running.status()),
                ]);
            }
            Event::Started { name, .. } => {
                running.names.push(std::format!("{name:?}"));
                self.send(&[NotifyState::Status(&running.status())]);
            }
            Event::Ended {
                record, done, left, ..
            } => {
                let name = std::format!("{:?}", record.name());
                if let Some(at) = running.names.iter().position(|n| *n == name) {
                    running.names.remove(at);
                }
                running.done = done;
                let status = running.status();
                match left {
                    Some(left) => self.send(&[
                        NotifyState::Status(&status),
                        // sd-notify's field is 32 bits of microseconds
                        // (71 minutes): a longer grace is said as that.
                        NotifyState::ExtendTimeoutUsec(
                            u32::try_from(left.as_micros()).unwrap_or(u32::MAX),
                        ),
                    ]),
                    None => self.send(&[NotifyState::Status(&status)]),
                }
            }
            Event::RunEnded { report } => {
                running.names.clear();
                let summary = std::format!("{report}");
                let first = summary.lines().next().unwrap_or_default();
                let first = first.strip_prefix("teardown: ").unwrap_or(first);
                self.send(&[NotifyState::Status(&std::format!("stopped: {first}"))]);
            }
        }
    }
}
