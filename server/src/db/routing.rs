//! A number's routing (stored on its `phone_number` row, owner-scoped) and the route each call
//! took (on its `call` row).

use serde_json::{Value, json};

use super::{Db, DbError, rows};
use crate::users::Owner;

/// Replaces (or, with `None`, removes) the routing of `owner`'s number `id`, with the agents it
/// names; false when `owner` has no such number.
pub async fn set(db: &Db, owner: &Owner, id: &str, routing_json: Option<&str>, agents: &[String], now: &str) -> Result<bool, DbError> {
    let before: Vec<Value> = rows(
        db,
        "UPDATE phone_number SET routing_json = $routing ?? NONE, routing_agents = IF $routing THEN $agents ELSE NONE END,
            updated_at = <datetime>$now
         WHERE id = type::record('phone_number', $id) AND owner = type::record('user', $owner) RETURN BEFORE",
        json!({ "id": id, "owner": owner.id(), "routing": routing_json, "agents": agents, "now": now }),
    )
    .await?;
    Ok(!before.is_empty())
}

/// The numbers (E.164) of `owner` whose routing names agent `agent_id`.
pub async fn numbers_routing_to(db: &Db, owner: &Owner, agent_id: &str) -> Result<Vec<String>, DbError> {
    rows(
        db,
        "SELECT VALUE phone_number FROM phone_number
         WHERE owner = type::record('user', $owner) AND routing_agents CONTAINS $agent ORDER BY phone_number",
        json!({ "owner": owner.id(), "agent": agent_id }),
    )
    .await
}

/// Stores the route call `key` took and the agent that answers it (none for a message).
pub async fn set_route(db: &Db, key: &str, route: &str, agent_id: Option<&str>) -> Result<(), DbError> {
    rows::<Value>(
        db,
        "UPDATE type::record('call', $key) SET route = $route, agent_id = $agent ?? NONE RETURN NONE",
        json!({ "key": key, "route": route, "agent": agent_id }),
    )
    .await
    .map(|_| ())
}
