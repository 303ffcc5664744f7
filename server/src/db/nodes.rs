//! The `node` and `sweep` tables: heartbeats of the nodes sharing this database, and the leases
//! that keep each background sweep on one node at a time.

use domain::call::CallStatus;
use serde_json::json;

use super::{Db, DbError, rows};

/// Records that `node` is alive at `now`.
pub async fn beat(db: &Db, node: &str, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPSERT type::record('node', $node) SET seen_at = <datetime>$now, started_at = started_at ?? <datetime>$now RETURN NONE",
        json!({ "node": node, "now": now }),
    )
    .await
    .map(|_| ())
}

/// The nodes last seen before `before` (at most `limit`).
pub async fn silent_since(db: &Db, before: &str, limit: usize) -> Result<Vec<String>, DbError> {
    rows(
        db,
        "SELECT VALUE record::id(id) FROM node WHERE seen_at < <datetime>$before LIMIT $limit",
        json!({ "before": before, "limit": limit }),
    )
    .await
}

/// Fails the live calls that ran on `node` with `reason`; returns their keys. An outbound call
/// still ringing at its provider is left alone: its provider calls back whichever node answers.
pub async fn fail_calls_of(db: &Db, node: &str, reason: &str, now: &str) -> Result<Vec<String>, DbError> {
    rows(
        db,
        "UPDATE call SET status = $failed, reason = $reason, ended_at = <datetime>$now
            WHERE node = $node AND status IN [$ringing, $in_progress]
                AND NOT (status = $ringing AND direction = 'outbound' AND provider_call_id != NONE) RETURN VALUE record::id(id)",
        json!({
            "node": node, "reason": reason, "now": now,
            "failed": CallStatus::Failed, "ringing": CallStatus::Ringing, "in_progress": CallStatus::InProgress,
        }),
    )
    .await
}

/// Removes `node`'s row if it is still silent since `before` (a node that beat again stays).
pub async fn forget(db: &Db, node: &str, before: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "DELETE type::record('node', $node) WHERE seen_at < <datetime>$before RETURN NONE",
        json!({ "node": node, "before": before }),
    )
    .await
    .map(|_| ())
}

/// Takes the lease of sweep `job` for `node` until `until` if nobody holds it at `now`; whether
/// it was taken. Two nodes asking at once: one gets it, the other's write conflicts or finds it held.
pub async fn take_lease(db: &Db, job: &str, node: &str, now: &str, until: &str) -> Result<bool, DbError> {
    let vars = json!({ "job": job, "node": node, "now": now, "until": until });
    let updated = rows::<serde_json::Value>(
        db,
        "UPDATE type::record('sweep', $job) SET node = $node, held_until = <datetime>$until
            WHERE held_until <= <datetime>$now RETURN VALUE record::id(id)",
        vars.clone(),
    )
    .await;
    match updated {
        Ok(taken) if !taken.is_empty() => return Ok(true),
        Ok(_) => {}
        Err(e) if e.is_write_conflict() => return Ok(false),
        Err(e) => return Err(e),
    }
    // Held, or never taken: the first lease of a job creates its row.
    let created = rows::<serde_json::Value>(
        db,
        "CREATE type::record('sweep', $job) SET node = $node, held_until = <datetime>$until RETURN NONE",
        vars,
    )
    .await;
    match created {
        Ok(_) => Ok(true),
        Err(e) if e.is_write_conflict() || e.to_string().contains("already exists") => Ok(false),
        Err(e) => Err(e),
    }
}
