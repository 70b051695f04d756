//! Temporary files: a scratch directory made at start and removed last.

use std::path::Path;

use tempfile::TempDir;

use crate::BoxError;

/// Makes the scratch directory inside `data_dir`, with the service's
/// generated config in it.
pub fn create(data_dir: &Path) -> Result<TempDir, BoxError> {
    let dir = tempfile::Builder::new()
        .prefix("scratch-")
        .tempdir_in(data_dir)?;
    std::fs::write(dir.path().join("service.json"), "{\"generated\": true}\n")?;
    log::info!("scratch directory: {}", dir.path().display());
    Ok(dir)
}

/// Removes the scratch directory and everything in it.
pub async fn remove(dir: TempDir) -> Result<(), BoxError> {
    let path = dir.path().to_owned();
    smol::unblock(move || dir.close()).await?;
    log::info!("temp files removed: {}", path.display());
    Ok(())
}
