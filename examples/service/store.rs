//! The store: an append-only file of records, written by the request
//! handlers and the background tasks.
//!
//! Each record is one line: its text's CRC-32 in eight hex digits, a space,
//! the text, a newline. A record is appended with one write of the whole
//! line, and acknowledged only once that write has returned: it is then in
//! the file, and a killed process loses none of it (closing also fsyncs the
//! file, against a crash of the machine).
//!
//! A process killed in the middle of an append can leave the start of a
//! line at the end of the file: a torn tail. It has no newline, or a
//! checksum that does not match, so it is never read as a record ([`scan`]
//! stops before it), and the next start cuts it off ([`repair`]) before
//! appending after it.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::BoxError;

/// The store's file name in the data directory.
pub const FILE: &str = "store.log";

/// An append-only file shared by the request handlers and background tasks.
pub struct Store {
    path: PathBuf,
    /// Locked by the blocking thread doing the write, not by the task
    /// awaiting it: an append whose caller goes away (a client hung up)
    /// still finishes, and still records a failure, before the next begins.
    state: Arc<Mutex<State>>,
}

enum State {
    Open {
        file: File,
        records: u64,
    },
    /// Later writes fail instead of being lost.
    Closed,
    /// A write failed, perhaps part-way: later writes fail too, so that
    /// what it left stays the file's tail, for the next start to cut off.
    Failed(String),
}

impl Store {
    /// Opens (or creates) the file at `path` for appending. The file must
    /// end with a whole record: [`repair`] it first.
    pub async fn open(path: &Path) -> Result<Arc<Store>, BoxError> {
        let opening = path.to_owned();
        let file =
            smol::unblock(move || OpenOptions::new().create(true).append(true).open(opening))
                .await?;
        Ok(Arc::new(Store {
            path: path.to_owned(),
            state: Arc::new(Mutex::new(State::Open { file, records: 0 })),
        }))
    }

    /// Appends one record; returns once its line has been written to the file.
    pub async fn append(&self, text: &str) -> Result<(), BoxError> {
        debug_assert!(!text.contains('\n'));
        let line = encode(text);
        let state = self.state.clone();
        smol::unblock(move || {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            let (file, records) = match &mut *state {
                State::Open { file, records } => (file, records),
                State::Closed => return Err("the store is closed".into()),
                State::Failed(error) => return Err(format!("the store failed: {error}").into()),
            };
            if let Err(error) = file.write_all(line.as_bytes()) {
                *state = State::Failed(error.to_string());
                return Err(error.into());
            }
            *records += 1;
            Ok(())
        })
        .await
    }

    /// Refuses further writes, then fsyncs the file.
    pub async fn close(&self) -> Result<(), BoxError> {
        let state = self.state.clone();
        let closed = smol::unblock(move || {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            match std::mem::replace(&mut *state, State::Closed) {
                State::Open { file, records } => file.sync_all().map(|()| Some(records)),
                State::Closed | State::Failed(_) => Ok(None),
            }
        })
        .await?;
        if let Some(records) = closed {
            log::info!(
                "store closed: {records} records appended and fsynced to {}",
                self.path.display()
            );
        }
        Ok(())
    }
}

/// A record's line.
fn encode(text: &str) -> String {
    format!("{:08x} {text}\n", crc32(text.as_bytes()))
}

/// A line's record, without its newline, if its checksum matches.
fn decode(line: &[u8]) -> Option<&str> {
    let (sum, text) = (line.get(..8)?, line.get(9..)?);
    if line[8] != b' ' || !sum.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let sum = u32::from_str_radix(std::str::from_utf8(sum).ok()?, 16).ok()?;
    let text = std::str::from_utf8(text).ok()?;
    (crc32(text.as_bytes()) == sum).then_some(text)
}

/// The records at the start of a store file's `bytes`, in order, and the
/// length of the part they fill: bytes past it are not records.
pub fn scan(bytes: &[u8]) -> (Vec<&str>, usize) {
    let mut records = Vec::new();
    let mut end = 0;
    while let Some(len) = bytes[end..].iter().position(|&byte| byte == b'\n') {
        let Some(text) = decode(&bytes[end..end + len]) else {
            break;
        };
        records.push(text);
        end += len + 1;
    }
    (records, end)
}

/// Every record in the store file at `path`, which must hold nothing else.
pub fn read(path: &Path) -> Result<Vec<String>, BoxError> {
    let bytes = std::fs::read(path)?;
    let (records, end) = scan(&bytes);
    if end < bytes.len() {
        let bad = bytes.len() - end;
        return Err(format!(
            "{}: {bad} bytes after byte {end} are not records",
            path.display()
        )
        .into());
    }
    Ok(records.into_iter().map(str::to_owned).collect())
}

/// Cuts off the torn tail a killed run left at the end of the store file
/// at `path`, if any; returns how many bytes it had (0 if none, or if there
/// is no file yet).
///
/// Only a tail is cut: if a whole, valid record follows the damage, or
/// the file holds no record at all but whole lines, it is not what an
/// append cut short leaves, and cutting could lose acknowledged records:
/// that is an error, and the file is left as it is.
pub fn repair(path: &Path) -> Result<u64, BoxError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error.into()),
    };
    let (records, end) = scan(&bytes);
    let tail = &bytes[end..];
    if tail.is_empty() {
        return Ok(0);
    }
    let mut lines = tail.split_inclusive(|&byte| byte == b'\n');
    let whole = |line: &&[u8]| line.ends_with(b"\n");
    if lines
        .clone()
        .filter(whole)
        .any(|line| decode(&line[..line.len() - 1]).is_some())
    {
        let message = "damaged, with records after the damage: not a torn tail, left as it is";
        return Err(format!("{} at byte {end}: {message}", path.display()).into());
    }
    if records.is_empty() && lines.any(|line| whole(&line)) {
        let message = "not a store file (no record in it), left as it is";
        return Err(format!("{}: {message}", path.display()).into());
    }
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(end as u64)?;
    file.sync_all()?;
    Ok(tail.len() as u64)
}

/// CRC-32 (IEEE, as zlib's), bit by bit: records are short.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
