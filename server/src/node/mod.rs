//! Which Voxgate process runs a call: its node id, written on every call it answers or
//! streams. Several nodes may share one SurrealDB server; at start a node fails only the calls
//! it left live when it stopped (see crate::calls::recover), and while it runs it beats in the
//! database so that the others fail the calls of a node that died (see [`liveness`]).
//!
//! The id is `VOXGATE_NODE_ID` when set, else the one kept in `<data dir>/node.id` (created on
//! first run, so a restarted node knows its own calls). An in-memory database lives no longer
//! than its process: it gets a fresh id each time.

pub mod liveness;
pub mod sweeps;

use std::io::Write;
use std::path::PathBuf;

use crate::config::{DatabaseUrl, Settings, node_name_ok};

/// Why the node id could not be had.
#[derive(Debug, thiserror::Error)]
pub enum NodeIdError {
    #[error("cannot read or write {0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("{0} does not hold a node id (1 to 64 letters, digits, - or _); delete it or set VOXGATE_NODE_ID")]
    Invalid(PathBuf),
}

fn generated() -> String {
    format!("node-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// This process's node id under `settings`.
pub fn id(settings: &Settings) -> Result<String, NodeIdError> {
    if let Some(id) = &settings.node_id {
        return Ok(id.clone());
    }
    if settings.database_url == DatabaseUrl::Memory {
        return Ok(generated());
    }
    let path = settings.data_dir.join("node.id");
    let fail = |e| NodeIdError::File(path.clone(), e);
    match std::fs::read_to_string(&path) {
        Ok(text) if node_name_ok(text.trim()) => Ok(text.trim().to_string()),
        Ok(_) => Err(NodeIdError::Invalid(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&settings.data_dir).map_err(fail)?;
            let id = generated();
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(fail)?;
            file.write_all(id.as_bytes()).map_err(fail)?;
            Ok(id)
        }
        Err(e) => Err(fail(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_kept_in_the_data_dir_and_a_setting_wins() {
        let dir = std::env::temp_dir().join(format!("vg-node-{}", rand::random::<u64>()));
        let mut settings = Settings::for_tests();
        settings.database_url = DatabaseUrl::SurrealKv(dir.join("db"));
        settings.data_dir = dir.clone();
        let first = id(&settings).unwrap();
        assert!(node_name_ok(&first) && first.starts_with("node-"), "{first}");
        assert_eq!(id(&settings).unwrap(), first, "the same node after a restart");
        settings.node_id = Some("eu-1".into());
        assert_eq!(id(&settings).unwrap(), "eu-1");
        settings.node_id = None;
        std::fs::write(dir.join("node.id"), "not an id!").unwrap();
        assert!(matches!(id(&settings), Err(NodeIdError::Invalid(_))));
        std::fs::remove_dir_all(&dir).unwrap();
        // In memory: a new node each time.
        assert_ne!(id(&Settings::for_tests()).unwrap(), id(&Settings::for_tests()).unwrap());
    }
}
