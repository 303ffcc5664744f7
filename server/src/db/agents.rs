//! `agent` rows, always scoped to their owner.

use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, query, row, rows};
use crate::users::Owner;

/// An agent row with how many numbers link to it.
#[derive(Debug, Clone, Deserialize)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub language: String,
    pub settings_json: String,
    /// Not read by the telephony path ([`get_for_call`]), which leaves it 0.
    #[serde(default)]
    pub linked_numbers: i64,
    pub created_at: String,
    pub updated_at: String,
}

// The owner condition lets the (owner, linked_agent) index serve the count.
const PROJECTION: &str = "record::id(id) AS id, name, language, settings_json, created_at, updated_at,
    count(SELECT id FROM phone_number WHERE owner = $parent.owner AND linked_agent = $parent.id) AS linked_numbers";

const CALL_PROJECTION: &str = "record::id(id) AS id, name, language, settings_json, created_at, updated_at";

/// An agent for answering a call: `id`, or else `owner`'s most recently changed one; no
/// linked-number count (it costs a scan and a call does not need it).
pub async fn get_for_call(db: &Db, owner: &Owner, id: Option<&str>) -> Result<Option<AgentRow>, DbError> {
    row(
        db,
        &format!(
            "LET $linked = IF $id THEN (SELECT {CALL_PROJECTION} FROM agent WHERE id = type::record('agent', $id) AND owner = type::record('user', $owner)) ELSE [] END;
             RETURN IF array::len($linked) > 0 THEN $linked
                 ELSE (SELECT {CALL_PROJECTION} FROM agent WHERE owner = type::record('user', $owner) ORDER BY updated_at DESC LIMIT 1) END;"
        ),
        json!({ "id": id, "owner": owner.id() }),
    )
    .await
}

/// Stores a new agent.
pub async fn insert(db: &Db, owner: &Owner, key: &str, name: &str, language: &str, settings_json: &str, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "CREATE type::record('agent', $key) SET owner = type::record('user', $owner), name = $name, language = $language,
            settings_json = $settings, created_at = <datetime>$now, updated_at = <datetime>$now RETURN NONE",
        json!({ "key": key, "owner": owner.id(), "name": name, "language": language, "settings": settings_json, "now": now }),
    )
    .await
    .map(|_| ())
}

/// Replaces an agent's settings; false when `owner` has no such agent.
pub async fn update(db: &Db, owner: &Owner, id: &str, name: &str, language: &str, settings_json: &str, now: &str) -> Result<bool, DbError> {
    let before: Vec<serde_json::Value> = rows(
        db,
        "UPDATE agent SET name = $name, language = $language, settings_json = $settings, updated_at = <datetime>$now
            WHERE id = type::record('agent', $id) AND owner = type::record('user', $owner) RETURN BEFORE",
        json!({ "id": id, "owner": owner.id(), "name": name, "language": language, "settings": settings_json, "now": now }),
    )
    .await?;
    Ok(!before.is_empty())
}

/// One of `owner`'s agents.
pub async fn get(db: &Db, owner: &Owner, id: &str) -> Result<Option<AgentRow>, DbError> {
    row(
        db,
        &format!("SELECT {PROJECTION} FROM agent WHERE id = type::record('agent', $id) AND owner = type::record('user', $owner)"),
        json!({ "id": id, "owner": owner.id() }),
    )
    .await
}

/// `owner`'s agents, most recently changed first.
pub async fn list(db: &Db, owner: &Owner) -> Result<Vec<AgentRow>, DbError> {
    rows(
        db,
        &format!("SELECT {PROJECTION} FROM agent WHERE owner = type::record('user', $owner) ORDER BY updated_at DESC"),
        json!({ "owner": owner.id() }),
    )
    .await
}

/// Settings of the most recently changed agents of every user (to render greetings at start).
pub async fn recent_settings(db: &Db, limit: u32) -> Result<Vec<String>, DbError> {
    let rows: Vec<serde_json::Value> =
        rows(db, "SELECT settings_json, updated_at FROM agent ORDER BY updated_at DESC LIMIT $limit", json!({ "limit": limit })).await?;
    Ok(rows.into_iter().filter_map(|r| r["settings_json"].as_str().map(str::to_string)).collect())
}

/// Deletes an agent and unlinks its numbers in one transaction; false when not `owner`'s.
pub async fn delete(db: &Db, owner: &Owner, id: &str, now: &str) -> Result<bool, DbError> {
    if get(db, owner, id).await?.is_none() {
        return Ok(false);
    }
    query(
        db,
        "BEGIN TRANSACTION;
         UPDATE phone_number SET linked_agent = NONE, updated_at = <datetime>$now
            WHERE owner = type::record('user', $owner) AND linked_agent = type::record('agent', $id);
         DELETE agent WHERE id = type::record('agent', $id) AND owner = type::record('user', $owner);
         COMMIT TRANSACTION;",
        json!({ "id": id, "owner": owner.id(), "now": now }),
    )
    .await?;
    Ok(true)
}
