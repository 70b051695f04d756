//! The sandbox pool: real child processes standing in for containers, each
//! with a config file in the scratch directory.

use std::path::Path;

use smol::process::{Child, Command, Stdio};

use crate::BoxError;

/// Running sandboxes; shutting down kills and reaps every one.
pub struct Sandboxes {
    children: Vec<Child>,
}

impl Sandboxes {
    /// Starts `count` sandboxes, writing each one's config to `scratch`.
    pub async fn start(count: usize, scratch: &Path) -> Result<Sandboxes, BoxError> {
        let mut sandboxes = Sandboxes {
            children: Vec::with_capacity(count),
        };
        for index in 0..count {
            let config = scratch.join(format!("sandbox-{index}.json"));
            smol::fs::write(&config, format!("{{\"sandbox\": {index}}}\n")).await?;
            let child = Command::new("sleep")
                .arg("3600")
                .stdin(Stdio::null())
                // Should this process die before shutdown, the sandboxes die too.
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
