//! Temporary files: a scratch directory made at start and removed last.
//!
//! It is made inside the data directory, under a known prefix, so that
//! the directory a killed run could not remove is found and removed at the
//! next start ([`remove_stale`]).

use std::path::Path;

use tempfile::TempDir;

use crate::BoxError;

/// How every scratch directory's name begins.
const PREFIX: &str = "scratch-";

/// Makes the scratch directory inside `data_dir`, with the service's
/// generated config in it.
pub fn create(data_dir: &Path) -> Result<TempDir, BoxError> {
    let dir = tempfile::Builder::new()
        .prefix(PREFIX)
        .tempdir_in(data_dir)?;
    std::fs::write(dir.path().join("service.json"), "{\"generated\": true}\n")?;
    log::info!("scratch directory: {}", dir.path().display());
    Ok(dir)
}

/// Removes the scratch directories left in `data_dir` by runs that did not
/// remove their own (killed ones), logging each; returns how many. Called
/// with the data directory locked, so none of them belongs to a live run.
pub fn remove_stale(data_dir: &Path) -> Result<usize, BoxError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(data_dir)? {
        let entry = entry?;
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(PREFIX));
        if ours && entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
            let path = entry.path();
            log::warn!(
                "recovered: removed stale scratch directory {}",
                path.display()
            );
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes the scratch directory and everything in it.
pub async fn remove(dir: TempDir) -> Result<(), BoxError> {
    let path = dir.path().to_owned();
    smol::unblock(move || dir.close()).await?;
    log::info!("temp files removed: {}", path.display());
    Ok(())
}
