//! The sandbox pool: real child processes standing in for containers, each
//! with a config file in the scratch directory.
//!
//! A sandbox must not outlive the service, however the service ends. The
//! teardown kills and reaps them, and `kill_on_drop` kills them when their
//! cleanup is dropped unfinished (a second signal, a timeout); but neither
//! runs when the service is killed with SIGKILL, or crashes without
//! unwinding. So on Linux each sandbox is started with the kernel's
//! parent-death signal (`PR_SET_PDEATHSIG`) set to SIGKILL, in a `pre_exec`
//! hook between fork and exec: when the service dies, for any reason, the
//! kernel kills its sandboxes. It survives the exec of `sleep` (it is reset
//! only for set-user-ID programs).
//!
//! Two details make that hold:
//!
//! - The signal is tied to the parent *thread*, not the process: it fires
//!   when the thread that forked the child ends. `smol::process` (that is,
//!   `async-process`) forks on the thread that calls `spawn`, here the
//!   thread polling the build. That is the main thread, which runs the
//!   executor from `main` and ends only with the process: `start` checks it,
//!   and refuses to start sandboxes from any other thread (one of a pool
//!   could end while the service runs, killing them early).
//! - The service may die between the fork and the `prctl`: the child would
//!   then have been reparented already and never get the signal. So after
//!   setting it, the child checks that its parent is still the service and
//!   fails the spawn (the child exits before exec) if not.
//!
//! Elsewhere than Linux there is no parent-death signal: the sandboxes are
//! started without the hook, and a SIGKILLed service leaves them running.

use std::path::Path;

use smol::process::{Child, Command, Stdio};

use crate::BoxError;

/// Running sandboxes; shutting down kills and reaps every one.
pub struct Sandboxes {
    children: Vec<Child>,
}

impl Sandboxes {
    /// Starts `count` sandboxes, writing each one's config to `scratch`.
    ///
    /// Must be called on the main thread (see the module docs).
    pub async fn start(count: usize, scratch: &Path) -> Result<Sandboxes, BoxError> {
        #[cfg(target_os = "linux")]
        if rustix::thread::gettid() != rustix::process::getpid() {
            return Err("sandboxes are started from the main thread only: \
                 their parent-death signal fires when the thread that forked them ends"
                .into());
        }
        let mut sandboxes = Sandboxes {
            children: Vec::with_capacity(count),
        };
        for index in 0..count {
            let config = scratch.join(format!("sandbox-{index}.json"));
            smol::fs::write(&config, format!("{{\"sandbox\": {index}}}\n")).await?;
            let mut command = std::process::Command::new("sleep");
            command.arg("3600");
            #[cfg(target_os = "linux")]
            die_with_parent(&mut command);
            let child = Command::from(command)
                .stdin(Stdio::null())
                // Dropped unfinished, the shutdown kills the sandboxes.
                .kill_on_drop(true)
                .spawn()?;
            sandboxes.children.push(child);
        }
        log::info!("sandbox pids: {}", sandboxes.pids().join(" "));
        Ok(sandboxes)
    }

    fn pids(&self) -> Vec<String> {
        self.children.iter().map(|c| c.id().to_string()).collect()
    }

    /// Kills every sandbox and waits for it to exit, so none is left behind.
    pub async fn shutdown(mut self) -> Result<(), BoxError> {
        let pids = self.pids();
        for child in &mut self.children {
            // Already exited is fine: it is reaped below either way.
            let _ = child.kill();
        }
        for child in &mut self.children {
            child.status().await?;
        }
        log::info!("sandboxes killed and reaped: {}", pids.join(" "));
        Ok(())
    }
}

/// Has the kernel send SIGKILL to the child `command` starts when the
/// thread starting it (the service's main thread) ends.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;

    use rustix::process::{Signal, getpid, getppid, set_parent_process_death_signal};

    let service = getpid();
    // SAFETY: the hook runs in the forked child of a multithreaded process,
    // where only async-signal-safe work is allowed: it makes two system
    // calls and, on failure, builds an `io::Error` from an errno, which
    // does not allocate. It touches no lock and no memory shared with the
    // parent.
    unsafe {
        command.pre_exec(move || {
            set_parent_process_death_signal(Some(Signal::KILL))?;
            // The service died before the signal was set: it will never
            // come, so the child goes now (the spawn fails, it never execs).
            if getppid() != Some(service) {
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
}
