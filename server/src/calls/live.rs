//! Live call events for one user: SurrealDB live queries on `call` and `turn`, filtered by
//! owner in the database, so a subscriber can only ever hear of its own user's calls.

use domain::call::{CallStatus, Role};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use surrealdb::Notification;

use crate::db::DbError;
use crate::state::AppState;
use crate::users::Owner;

/// Something changed in one of the user's calls; the browser re-reads what it shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum LiveEvent {
    /// A call was created or its status changed.
    Call { call_id: String, status: CallStatus },
    /// A turn was stored.
    Turn { call_id: String, seq: i64, role: Role },
}

/// The key of a record link however the SDK renders it ("call:abc", {"tb","id"}, {"id":{"String"}}).
pub(crate) fn record_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            Some(s.split_once(':').map(|(_, k)| k).unwrap_or(s).trim_matches(|c| c == '⟨' || c == '⟩' || c == '`').to_string())
        }
        Value::Object(o) => o.get("id").or_else(|| o.get("key")).or_else(|| o.get("String")).and_then(record_key),
        _ => None,
    }
}

/// Live streams one user may hold open at once (each holds two live queries; a dashboard tab
/// holds one). A closed tab frees its slot when the server next writes to it (keep-alive).
pub const MAX_STREAMS_PER_USER: usize = 20;
/// Live streams the whole node holds open at once.
pub const MAX_STREAMS: usize = 1000;

/// Why a subscription was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("too many live connections: {0}")]
    TooMany(#[from] crate::slots::Full),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Events for `owner`'s calls from now on. Dropping the stream kills the live queries.
pub async fn subscribe(state: &AppState, owner: &Owner) -> Result<impl Stream<Item = LiveEvent> + Send + use<>, SubscribeError> {
    let slot = state.live_streams.take(owner.id())?;
    // Live queries belong to the session of the handle that started them and end when it is
    // dropped: a session of its own (a clone of the handle, not of the shared `Db`) lives as
    // long as the stream.
    let db: surrealdb::Surreal<surrealdb::engine::any::Any> = (*state.db).clone();
    let mut response = db
        .query(
            "LIVE SELECT id, status FROM call WHERE owner = type::record('user', $owner);
             LIVE SELECT call, seq, role FROM turn WHERE owner = type::record('user', $owner);",
        )
        .bind(serde_json::json!({ "owner": owner.id() }))
        .await
        .map_err(DbError::from)?;
    let calls = response.stream::<Notification<Value>>(0).map_err(DbError::from)?;
    let turns = response.stream::<Notification<Value>>(1).map_err(DbError::from)?;
    let calls = calls.filter_map(|n| async move {
        let data = n.ok()?.data;
        Some(LiveEvent::Call { call_id: record_key(data.get("id")?)?, status: CallStatus::deserialize(data.get("status")?).ok()? })
    });
    let turns = turns.filter_map(|n| async move {
        let data = n.ok()?.data;
        Some(LiveEvent::Turn {
            call_id: record_key(data.get("call")?)?,
            seq: data.get("seq")?.as_i64()?,
            role: Role::deserialize(data.get("role")?).ok()?,
        })
    });
    Ok(futures_util::stream::select(calls, turns).map(move |e| {
        let _held = (&db, &slot);
        e
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_links_read_in_every_shape() {
        assert_eq!(record_key(&Value::String("call:exotel_CA1".into())).as_deref(), Some("exotel_CA1"));
        assert_eq!(record_key(&Value::String("call:⟨exotel-CA1⟩".into())).as_deref(), Some("exotel-CA1"));
        assert_eq!(record_key(&serde_json::json!({"tb": "call", "id": {"String": "abc"}})).as_deref(), Some("abc"));
        assert_eq!(record_key(&serde_json::json!({"table": "call", "key": "abc"})).as_deref(), Some("abc"));
    }

    #[test]
    fn events_keep_the_wire_strings() {
        let call = LiveEvent::Call { call_id: "exotel_CA1".into(), status: CallStatus::InProgress };
        assert_eq!(
            serde_json::to_value(&call).unwrap(),
            serde_json::json!({"type": "call", "callId": "exotel_CA1", "status": "in_progress"})
        );
        let turn = LiveEvent::Turn { call_id: "exotel_CA1".into(), seq: 2, role: Role::Agent };
        assert_eq!(
            serde_json::to_value(&turn).unwrap(),
            serde_json::json!({"type": "turn", "callId": "exotel_CA1", "seq": 2, "role": "agent"})
        );
    }
}
