//! `system_check` rows: proof that the dashboard can write to and read from the database.

use serde::Deserialize;

use super::{Db, DbError, row};

/// The result of one check as stored.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CheckRow {
    pub id: String,
    pub checked_at: String,
    pub total: i64,
}

/// Writes one check, then reads it back with the running total.
pub async fn record(db: &Db, source: &str) -> Result<CheckRow, DbError> {
    let sql = "
        LET $row = CREATE ONLY type::record('system_check', $key) SET checked_at = time::now(), source = $source;
        RETURN { id: record::id($row.id), checked_at: $row.checked_at, total: count(SELECT id FROM system_check) };
    ";
    row(db, sql, serde_json::json!({ "key": super::new_key(), "source": source }))
        .await?
        .ok_or_else(|| DbError::Decode(serde::de::Error::custom("system check returned nothing")))
}

/// How many checks are stored.
pub async fn count(db: &Db) -> Result<i64, DbError> {
    Ok(row(db, "RETURN count(SELECT id FROM system_check)", serde_json::json!({})).await?.unwrap_or(0))
}
