//! `call` rows: one per provider call, keyed by provider + call id so retries find the same row.

use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, row, rows};

/// A stored call.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CallRow {
    pub id: String,
    pub owner_id: String,
    pub phone_id: String,
    pub phone_number: String,
    pub agent_id: Option<String>,
    pub provider: String,
    pub session_id: String,
    pub status: String,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub direction: Option<String>,
    pub params_json: String,
    pub reason: Option<String>,
    pub started_at: String,
}

const PROJECTION: &str = "record::id(id) AS id, record::id(owner) AS owner_id, phone_id, phone_number, agent_id,
    provider, session_id, status, caller, callee, direction, params_json, reason, started_at";

/// What the first webhook for a call records.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    pub owner_id: &'a str,
    pub phone_id: &'a str,
    pub phone_number: &'a str,
    pub agent_id: Option<&'a str>,
    pub provider: &'a str,
    pub session_id: &'a str,
    pub status: &'a str,
    pub caller: Option<&'a str>,
    pub callee: Option<&'a str>,
    pub direction: Option<&'a str>,
    pub params_json: &'a str,
    pub reason: Option<&'a str>,
}

/// The record key of a provider call (call ids are checked to be `[A-Za-z0-9_-]`).
pub fn key(provider: &str, session_id: &str) -> String {
    format!("{provider}_{session_id}")
}

/// Creates the call, or returns the existing one for a retried webhook; `true` when created.
pub async fn insert_or_get(db: &Db, c: &NewCall<'_>, now: &str) -> Result<(CallRow, bool), DbError> {
    let key = key(c.provider, c.session_id);
    let created = rows::<serde_json::Value>(
        db,
        "CREATE type::record('call', $key) SET owner = type::record('user', $owner), phone_id = $phone_id,
            phone_number = $phone_number, agent_id = $agent_id ?? NONE, provider = $provider, session_id = $session_id,
            status = $status, caller = $caller ?? NONE, callee = $callee ?? NONE, direction = $direction ?? NONE,
            params_json = $params_json, reason = $reason ?? NONE, started_at = <datetime>$now RETURN NONE",
        json!({
            "key": key, "owner": c.owner_id, "phone_id": c.phone_id, "phone_number": c.phone_number,
            "agent_id": c.agent_id, "provider": c.provider, "session_id": c.session_id, "status": c.status,
            "caller": c.caller, "callee": c.callee, "direction": c.direction, "params_json": c.params_json,
            "reason": c.reason, "now": now,
        }),
    )
    .await;
    let was_created = match created {
        Ok(_) => true,
        // A concurrent or retried webhook got there first: same record id or unique index.
        Err(e) if e.to_string().contains("already exists") || e.is_unique_violation("call_session") => false,
        Err(e) => return Err(e),
    };
    let row = get_by_key(db, &key).await?.ok_or_else(|| DbError::Decode(serde::de::Error::custom("call vanished")))?;
    Ok((row, was_created))
}

/// The call with this record key (telephony lookups; not owner-scoped).
pub async fn get_by_key(db: &Db, key: &str) -> Result<Option<CallRow>, DbError> {
    row(db, &format!("SELECT {PROJECTION} FROM ONLY type::record('call', $key)"), json!({ "key": key })).await
}

/// Number of calls recorded for a phone number (tests and the number card).
pub async fn count_for_phone(db: &Db, phone_id: &str) -> Result<i64, DbError> {
    Ok(row(db, "RETURN count(SELECT id FROM call WHERE phone_id = $phone_id)", json!({ "phone_id": phone_id })).await?.unwrap_or(0))
}

/// Replaces the provider parameters of a call; a `completed`/`failed` stream status ends it.
pub async fn merge_params(db: &Db, key: &str, params_json: &str, stream_status: Option<&str>, duration_ms: Option<i64>, now: &str) -> Result<CallRow, DbError> {
    let end = match stream_status {
        Some("completed") => Some("completed"),
        Some("failed") => Some("failed"),
        _ => None,
    };
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET params_json = $params,
            status = IF $end AND status != 'rejected' THEN $end ELSE status END,
            ended_at = IF $end THEN (ended_at ?? <datetime>$now) ELSE ended_at END,
            duration_ms = IF $duration != NONE AND $duration != NULL THEN $duration ELSE duration_ms END
         RETURN NONE",
        json!({ "key": key, "params": params_json, "end": end, "duration": duration_ms, "now": now }),
    )
    .await?;
    get_by_key(db, key).await?.ok_or_else(|| DbError::Decode(serde::de::Error::custom("call vanished")))
}

/// Sets a call's status; `ended` and `duration_ms` are stored when given.
pub async fn set_status(db: &Db, key: &str, status: &str, reason: Option<&str>, ended: Option<&str>, duration_ms: Option<i64>) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET status = $status, reason = $reason ?? reason,
            ended_at = IF $ended THEN <datetime>$ended ELSE ended_at END,
            duration_ms = $duration ?? duration_ms
         WHERE status != 'rejected' RETURN NONE",
        json!({ "key": key, "status": status, "reason": reason, "ended": ended, "duration": duration_ms }),
    )
    .await
    .map(|_| ())
}
