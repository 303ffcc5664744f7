//! Outbound calls' rows: made before the provider is asked (keyed by our dial id), then given
//! the provider's id and, from its callbacks, an outcome.

use domain::call::CallStatus;
use domain::outbound::CallOutcome;
use domain::phone_number::Provider;
use serde_json::json;

use super::{Db, DbError, row, rows};

/// What an outbound call's row starts with.
#[derive(Debug, Clone)]
pub struct NewDial<'a> {
    pub owner_id: &'a str,
    pub phone_id: &'a str,
    /// Our number (the caller).
    pub phone_number: &'a str,
    pub agent_id: &'a str,
    pub provider: Provider,
    /// Our id of the call: the row's session id.
    pub dial_id: &'a str,
    /// Whom we call.
    pub callee: &'a str,
    pub variables_json: &'a str,
    pub campaign_id: Option<&'a str>,
    pub contact_id: Option<&'a str>,
    pub node: &'a str,
}

/// Creates the row of an outbound call about to be dialed (ringing); returns its key. Concurrent
/// dials may conflict on the call indexes: a write conflict is tried again by [`rows`].
pub async fn insert(db: &Db, d: &NewDial<'_>, now: &str) -> Result<String, DbError> {
    let key = super::calls::key(d.provider, d.dial_id);
    rows::<serde_json::Value>(
        db,
        "CREATE type::record('call', $key) SET owner = type::record('user', $owner), phone_id = $phone_id,
            phone_number = $phone_number, agent_id = $agent_id, provider = $provider, session_id = $dial_id,
            status = $ringing, caller = $phone_number, callee = $callee, direction = 'outbound', params_json = '{}',
            variables_json = $variables, campaign_id = $campaign ?? NONE, contact_id = $contact ?? NONE,
            started_at = <datetime>$now, node = $node RETURN NONE",
        json!({
            "key": key, "owner": d.owner_id, "phone_id": d.phone_id, "phone_number": d.phone_number, "agent_id": d.agent_id,
            "provider": d.provider, "dial_id": d.dial_id, "ringing": CallStatus::Ringing, "callee": d.callee,
            "variables": d.variables_json, "campaign": d.campaign_id, "contact": d.contact_id, "now": now, "node": d.node,
        }),
    )
    .await?;
    Ok(key)
}

/// The provider did not take the call: it failed with `reason` (and the outcome `failed`).
pub async fn fail(db: &Db, key: &str, reason: &str, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET status = $failed, reason = $reason, outcome = $outcome, ended_at = <datetime>$now,
            duration_ms = 0 RETURN NONE",
        json!({ "key": key, "failed": CallStatus::Failed, "reason": reason, "outcome": CallOutcome::Failed, "now": now }),
    )
    .await
    .map(|_| ())
}

/// Stores the provider's id of an outbound call.
pub async fn set_provider_call_id(db: &Db, key: &str, provider_call_id: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET provider_call_id = $id RETURN NONE",
        json!({ "key": key, "id": provider_call_id }),
    )
    .await
    .map(|_| ())
}

/// Stores how an outbound call ended (inbound calls keep none). A machine verdict is not undone
/// by the `completed` that follows it, nor an answer by a later failure word, nor a transfer
/// by anything.
pub async fn set_outcome(db: &Db, key: &str, outcome: CallOutcome) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET outcome = $outcome
         WHERE direction = 'outbound' AND outcome != $transferred
            AND (outcome = NONE OR (outcome != $machine AND ($outcome = $machine OR outcome != $answered)))
         RETURN NONE",
        json!({
            "key": key, "outcome": outcome, "machine": CallOutcome::Machine, "answered": CallOutcome::Answered,
            "transferred": CallOutcome::Transferred,
        }),
    )
    .await
    .map(|_| ())
}

/// The session id (our dial id) of the outbound call the provider knows as `provider_call_id`.
pub async fn session_of(db: &Db, provider: Provider, provider_call_id: &str) -> Result<Option<String>, DbError> {
    row(
        db,
        "SELECT VALUE session_id FROM call WHERE provider = $provider AND provider_call_id = $id LIMIT 1",
        json!({ "provider": provider, "id": provider_call_id }),
    )
    .await
}

/// Forgets the row of a call the provider did not take and that is not worth a log line (a
/// campaign's dial refused with 429 is tried again later).
pub async fn discard(db: &Db, key: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(db, "DELETE type::record('call', $key) RETURN NONE", json!({ "key": key })).await.map(|_| ())
}
