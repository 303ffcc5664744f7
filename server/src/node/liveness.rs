//! Heartbeats, and the sweep that fails the calls of a node whose heartbeat stopped (killed,
//! crashed, or cut off): their streams died with it, and it may never start again to
//! recover them itself.

use chrono::Duration;

use crate::clock::rfc3339;
use crate::db::nodes as repo;
use crate::errors::DomainError;
use crate::state::AppState;

/// How often a node records that it is alive.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(10);
/// A node silent this long is dead: three missed beats, so a busy or briefly cut-off node is
/// not taken for dead.
pub const DEAD_AFTER: Duration = Duration::seconds(30);
/// Dead nodes handled in one pass.
const NODES_PER_PASS: usize = 100;

/// Records that this node is alive now.
pub async fn beat(state: &AppState) -> Result<(), DomainError> {
    Ok(repo::beat(&state.db, &state.node, &state.clock.now_rfc3339()).await?)
}

/// Fails the live calls of every other node silent for [`DEAD_AFTER`], with the
/// reason "node <id> stopped", queues their end-of-call notifications and forgets those nodes.
/// Returns how many calls were failed.
pub async fn fail_dead(state: &AppState) -> Result<usize, DomainError> {
    let now = state.clock.now();
    let before = rfc3339(now - DEAD_AFTER);
    let mut failed = 0;
    for node in repo::silent_since(&state.db, &before, NODES_PER_PASS).await? {
        // This node runs the sweep, so it is alive whatever its row says (a late beat).
        if node == *state.node {
            continue;
        }
        let calls = repo::fail_calls_of(&state.db, &node, &format!("node {node} stopped"), &rfc3339(now)).await?;
        calls.iter().for_each(|call| crate::notify::call_ended(state, call));
        if !calls.is_empty() {
            tracing::warn!(node = %node, calls = calls.len(), "a node stopped beating: its live calls failed");
        }
        repo::forget(&state.db, &node, &before).await?;
        failed += calls.len();
    }
    Ok(failed)
}
