//! `contact` rows of campaigns: what the dialer claims, and how each attempt ends. Every state
//! change is a conditional update on the state it expects, so two dialers (or a dialer and a
//! cancel) never both win: a contact is dialed by at most one attempt at a time.

use domain::call::CallStatus;
use domain::campaign::ContactState;
use domain::outbound::CallOutcome;
use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, row, rows};
use crate::users::Owner;

/// A stored contact.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ContactRow {
    pub id: String,
    pub line: u32,
    pub phone: String,
    pub timezone: Option<String>,
    pub variables_json: String,
    pub state: ContactState,
    pub attempts: u32,
    pub outcome: Option<CallOutcome>,
    pub call_id: Option<String>,
    pub reason: Option<String>,
    pub next_at: String,
}

const PROJECTION: &str = "record::id(id) AS id, line, phone, timezone, variables_json, state, attempts, outcome, call_id, reason, next_at";

fn queue(campaign: &str, state: ContactState) -> String {
    format!("{campaign}:{}", state.as_str())
}

/// Up to `limit` contacts of `campaign` due by `now` (pending, `next_at` passed), oldest first.
pub async fn due(db: &Db, campaign: &str, now: &str, limit: usize) -> Result<Vec<ContactRow>, DbError> {
    rows(
        db,
        &format!(
            "LET $now_at = <datetime>$now;
             SELECT {PROJECTION} FROM contact WHERE queue = $queue AND next_at <= $now_at ORDER BY next_at, line LIMIT $limit"
        ),
        json!({ "queue": queue(campaign, ContactState::Pending), "now": now, "limit": limit }),
    )
    .await
}

/// Moves a pending contact's next attempt to `next_at` (outside its calling hours now).
pub async fn defer(db: &Db, id: &str, next_at: &str, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('contact', $id) SET next_at = <datetime>$next_at, updated_at = <datetime>$now WHERE state = $pending RETURN NONE",
        json!({ "id": id, "next_at": next_at, "now": now, "pending": ContactState::Pending }),
    )
    .await
    .map(|_| ())
}

/// Claims a pending contact for an attempt whose call will be `call_id`: `false` when it is no
/// longer pending (claimed elsewhere, canceled).
pub async fn claim(db: &Db, campaign: &str, id: &str, call_id: &str, now: &str) -> Result<bool, DbError> {
    let claimed: Vec<serde_json::Value> = rows(
        db,
        "UPDATE type::record('contact', $id) SET state = $dialing, queue = $queue, attempts += 1, call_id = $call,
            reason = NONE, updated_at = <datetime>$now
         WHERE state = $pending RETURN record::id(id) AS id",
        json!({
            "id": id, "dialing": ContactState::Dialing, "pending": ContactState::Pending, "queue": queue(campaign, ContactState::Dialing),
            "call": call_id, "now": now,
        }),
    )
    .await?;
    Ok(!claimed.is_empty())
}

/// A contact being dialed, with its call's state (`None` when the call row was never written:
/// the provider was never asked).
#[derive(Debug, Clone, Deserialize)]
pub struct Dialing {
    pub id: String,
    pub attempts: u32,
    pub call_id: Option<String>,
    pub call_status: Option<CallStatus>,
    pub call_outcome: Option<CallOutcome>,
    pub call_reason: Option<String>,
    #[serde(default)]
    pub call_ended_at: Option<String>,
    /// The call's row was made (so the provider may have been asked).
    pub call_exists: bool,
    pub updated_at: String,
}

/// Every contact of `campaign` being dialed, with its call.
pub async fn dialing(db: &Db, campaign: &str) -> Result<Vec<Dialing>, DbError> {
    rows(
        db,
        "SELECT record::id(id) AS id, attempts, call_id, updated_at,
            (IF call_id THEN type::record('call', call_id).status ELSE NONE END) AS call_status,
            (IF call_id THEN type::record('call', call_id).outcome ELSE NONE END) AS call_outcome,
            (IF call_id THEN type::record('call', call_id).reason ELSE NONE END) AS call_reason,
            (IF call_id THEN type::record('call', call_id).ended_at ELSE NONE END) AS call_ended_at,
            (IF call_id THEN type::record('call', call_id).id != NONE ELSE false END) AS call_exists
         FROM contact WHERE queue = $queue",
        json!({ "queue": queue(campaign, ContactState::Dialing) }),
    )
    .await
}

/// Ends an attempt: the contact goes to `state` (pending again at `next_at`, or an end) with the
/// outcome and reason; only while it is still being dialed by this attempt's call.
#[allow(clippy::too_many_arguments)]
pub async fn settle(
    db: &Db,
    campaign: &str,
    id: &str,
    call_id: Option<&str>,
    state: ContactState,
    outcome: Option<CallOutcome>,
    reason: Option<&str>,
    next_at: &str,
    undo_attempt: bool,
    now: &str,
) -> Result<bool, DbError> {
    let done: Vec<serde_json::Value> = rows(
        db,
        "UPDATE type::record('contact', $id) SET state = $state, queue = $queue, outcome = $outcome ?? outcome,
            reason = $reason ?? NONE, next_at = <datetime>$next_at, updated_at = <datetime>$now,
            attempts = IF $undo THEN math::max([attempts - 1, 0]) ELSE attempts END
         WHERE state = $dialing AND call_id = $call RETURN record::id(id) AS id",
        json!({
            "id": id, "state": state, "queue": queue(campaign, state), "outcome": outcome, "reason": reason, "next_at": next_at,
            "now": now, "dialing": ContactState::Dialing, "call": call_id, "undo": undo_attempt,
        }),
    )
    .await?;
    Ok(!done.is_empty())
}

/// Cancels every contact of `campaign` not yet reached or being dialed; returns how many.
pub async fn cancel_pending(db: &Db, campaign: &str, now: &str) -> Result<usize, DbError> {
    // The dialer may be taking a contact at the same moment.
    let canceled: Vec<serde_json::Value> = rows(
        db,
        "UPDATE contact SET state = $canceled, queue = $queue, updated_at = <datetime>$now
             WHERE queue = $pending_queue RETURN record::id(id) AS id",
        json!({
            "canceled": ContactState::Canceled, "queue": queue(campaign, ContactState::Canceled),
            "pending_queue": queue(campaign, ContactState::Pending), "now": now,
        }),
    )
    .await?;
    Ok(canceled.len())
}

/// Whether `campaign` has contacts still to dial or being dialed.
pub async fn open(db: &Db, campaign: &str) -> Result<bool, DbError> {
    let n: Option<i64> = row(
        db,
        "RETURN count(SELECT id FROM contact WHERE queue IN $queues LIMIT 1)",
        json!({ "queues": [queue(campaign, ContactState::Pending), queue(campaign, ContactState::Dialing)] }),
    )
    .await?;
    Ok(n.unwrap_or(0) > 0)
}

/// One page of `owner`'s campaign's contacts in file order (of one state when given), and the total.
pub async fn page(
    db: &Db,
    owner: &Owner,
    campaign: &str,
    state: Option<ContactState>,
    limit: u32,
    start: u32,
) -> Result<(Vec<ContactRow>, i64), DbError> {
    let mut cond = String::from("campaign = type::record('campaign', $campaign) AND owner = type::record('user', $owner)");
    if state.is_some() {
        cond.push_str(" AND state = $state");
    }
    let mut response = super::query(
        db,
        &format!(
            "SELECT {PROJECTION} FROM contact WHERE {cond} ORDER BY line LIMIT $limit START $start;
             SELECT count() AS total FROM contact WHERE {cond} GROUP ALL;"
        ),
        json!({ "campaign": campaign, "owner": owner.id(), "state": state, "limit": limit, "start": start }),
    )
    .await?;
    let contacts: Vec<ContactRow> = super::take(&mut response, 0)?;
    let totals: Vec<serde_json::Value> = super::take(&mut response, 1)?;
    Ok((contacts, totals.first().and_then(|t| t["total"].as_i64()).unwrap_or(0)))
}
