//! The data directory (`--data-dir`): the store, the scratch directory and
//! the lock file `service.lock`. One instance uses it at a time, and each
//! start first clears what a killed run left in it.
//!
//! The lock is `flock(LOCK_EX | LOCK_NB)` on the lock file, held through
//! the open file for the life of the process. The kernel releases it when
//! the process ends, however it ends, so a SIGKILLed instance never blocks
//! the next start and no pid has to be judged stale. An instance started
//! while another holds it exits at once with [`IN_USE`] (see `main.rs`),
//! touching nothing. The file holds the holder's pid, for that refusal's
//! message; the holder empties it as it exits, so a pid the next holder
//! finds there was left by a killed run. The file itself stays: removing a
//! lock file is racy (a start that had just opened it would lock a file
//! that the next start no longer finds).
//!
//! Once it holds the lock, a start removes what a killed run left, before
//! building anything, one `recovered: ...` log line each: the pid in the
//! lock file, the run's scratch directory, and the torn tail of the store.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::BoxError;
use crate::{scratch, store};

/// The lock file's name in the data directory.
const LOCK_FILE: &str = "service.lock";

/// The exit code of an instance refused because another holds the data
/// directory (`EX_TEMPFAIL`: it can start once the other has exited).
pub const IN_USE: u8 = 75;

/// The data directory, locked for this process until it is dropped (or the
/// process dies).
pub struct Lock {
    file: File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // This run leaves nothing behind: no pid for the next one to clear.
        let _ = self.file.set_len(0);
    }
}

/// The error of a start refused because another instance holds the lock.
#[derive(Debug)]
pub struct InUse {
    dir: PathBuf,
    pid: Option<String>,
}

impl fmt::Display for InUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pid = self.pid.as_deref().unwrap_or("unknown");
        let dir = self.dir.display();
        write!(
            f,
            "the data directory {dir} is in use by another instance (pid {pid})"
        )
    }
}

impl std::error::Error for InUse {}

/// Creates `dir` if need be, locks it for this process (or fails with
/// [`InUse`]), and clears what a killed run left in it.
pub fn open(dir: &Path) -> Result<Lock, BoxError> {
    std::fs::create_dir_all(dir)?;
    let lock_path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)?;
    if !try_lock(&file)? {
        let pid = holder(&mut file).ok().flatten();
        let dir = dir.to_owned();
        return Err(InUse { dir, pid }.into());
    }
    let stale = holder(&mut file)?;
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{}", std::process::id())?;
    let lock = Lock { file };

    let mut recovered = 0;
    if let Some(pid) = stale {
        let path = lock_path.display();
        log::warn!("recovered: cleared stale lock file {path} left by pid {pid}");
        recovered += 1;
    }
    recovered += scratch::remove_stale(dir)?;
    let store_path = dir.join(store::FILE);
    let torn = store::repair(&store_path)?;
    if torn > 0 {
        let path = store_path.display();
        log::warn!("recovered: dropped torn tail of {torn} bytes from the store {path}");
        recovered += 1;
    }
    if recovered == 0 {
        log::info!(
            "data directory {}: nothing left behind to recover",
            dir.display()
        );
    }
    Ok(lock)
}

/// The pid written in the lock file, if any.
fn holder(file: &mut File) -> io::Result<Option<String>> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_string(&mut text)?;
    let pid = text.trim();
    Ok((!pid.is_empty()).then(|| pid.to_owned()))
}

/// Takes the lock without waiting; false if another process holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// No lock where there is no `flock` (the example is for Unix-like systems).
#[cfg(not(unix))]
fn try_lock(_: &File) -> io::Result<bool> {
    Ok(true)
}
