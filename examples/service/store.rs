//! The store: an append-only file of records, one line each. A write is
//! acknowledged only once it has reached the file; closing fsyncs it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use smol::fs::{File, OpenOptions};
use smol::io::AsyncWriteExt;
use smol::lock::Mutex;

use crate::BoxError;

/// An append-only file shared by the request handlers and background tasks.
pub struct Store {
    path: PathBuf,
    /// `None` once closed: later writes fail instead of being lost.
    file: Mutex<Option<(File, u64)>>,
}

impl Store {
    /// Opens (or creates) the file at `path` for appending.
    pub async fn open(path: &Path) -> Result<Arc<Store>, BoxError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await?;
        Ok(Arc::new(Store {
            path: path.to_owned(),
            file: Mutex::new(Some((file, 0))),
        }))
    }

    /// Appends one line; returns once it has been handed to the file.
    pub async fn append(&self, line: &str) -> Result<(), BoxError> {
        debug_assert!(!line.contains('\n'));
        let mut file = self.file.lock().await;
        let (file, records) = file.as_mut().ok_or("the store is closed")?;
        file.write_all(format!("{line}\n").as_bytes()).await?;
        file.flush().await?;
        *records += 1;
        Ok(())
    }

    /// Refuses further writes, then flushes and fsyncs the file.
    pub async fn close(&self) -> Result<(), BoxError> {
        let taken = self.file.lock().await.take();
        let Some((mut file, records)) = taken else {
            return Ok(()); // already closed
        };
        file.flush().await?;
        file.sync_all().await?;
        log::info!(
            "store closed: {records} lines appended and fsynced to {}",
            self.path.display()
        );
        Ok(())
    }
}
