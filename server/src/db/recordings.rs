//! `recording` rows: one per recorded call, keyed like the call, naming its WAV file under the
//! data directory; written when the recording starts (so a crash leaves no file unaccounted
//! for) and completed with its length when the call ends.

use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, row, rows};
use crate::users::Owner;

/// A recording as stored.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RecordingRow {
    pub call_key: String,
    /// Relative to the data directory: `recordings/<owner>/<random>.wav`.
    pub file: String,
    pub rate: i64,
    pub duration_ms: Option<i64>,
    pub bytes: Option<i64>,
    pub expires_at: Option<String>,
}

const PROJECTION: &str =
    "record::id(id) AS call_key, file, rate, duration_ms, bytes, (IF expires_at THEN <string>expires_at ELSE NONE END) AS expires_at";

/// Records that `call_key` (of `owner_id`) is being recorded into `file`.
pub async fn start(db: &Db, owner_id: &str, call_key: &str, file: &str, rate: u32, expires_at: Option<&str>) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPSERT type::record('recording', $call) SET owner = type::record('user', $owner), call = type::record('call', $call),
            file = $file, rate = $rate, started_at = time::now(),
            expires_at = IF $expires THEN <datetime>$expires ELSE NONE END
         RETURN NONE",
        json!({ "call": call_key, "owner": owner_id, "file": file, "rate": rate, "expires": expires_at }),
    )
    .await
    .map(|_| ())
}

/// The recording's final length.
pub async fn finish(db: &Db, call_key: &str, duration_ms: i64, bytes: i64) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('recording', $call) SET duration_ms = $ms, bytes = $bytes RETURN NONE",
        json!({ "call": call_key, "ms": duration_ms, "bytes": bytes }),
    )
    .await
    .map(|_| ())
}

/// `owner`'s recording of call `call_key`, if any.
pub async fn get(db: &Db, owner: &Owner, call_key: &str) -> Result<Option<RecordingRow>, DbError> {
    row(
        db,
        &format!("SELECT {PROJECTION} FROM type::record('recording', $call) WHERE owner = type::record('user', $owner)"),
        json!({ "call": call_key, "owner": owner.id() }),
    )
    .await
}

/// Up to `limit` recordings whose retention ended before `now`.
pub async fn expired(db: &Db, now: &str, limit: u32) -> Result<Vec<RecordingRow>, DbError> {
    rows(
        db,
        &format!("SELECT {PROJECTION} FROM recording WHERE expires_at != NONE AND expires_at < <datetime>$now LIMIT $limit"),
        json!({ "now": now, "limit": limit }),
    )
    .await
}

/// Forgets the recording of `call_key` (its file is deleted by the caller first).
pub async fn delete(db: &Db, call_key: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(db, "DELETE type::record('recording', $call) RETURN NONE", json!({ "call": call_key })).await.map(|_| ())
}
