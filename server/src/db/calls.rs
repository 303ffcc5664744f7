//! `call` rows: one per provider call, keyed by provider + call id so retries find the same row.

use domain::call::{CallStatus, Role, TurnKind};
use domain::outbound::CallOutcome;
use domain::phone_number::Provider;
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
    pub provider: Provider,
    pub session_id: String,
    pub status: CallStatus,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub direction: Option<String>,
    pub params_json: String,
    pub reason: Option<String>,
    pub started_at: String,
    /// The provider's id of an outbound call (whose row is keyed by our dial id).
    #[serde(default)]
    pub provider_call_id: Option<String>,
    /// An outbound call's variables for its agent (a JSON object of strings).
    #[serde(default)]
    pub variables_json: Option<String>,
    #[serde(default)]
    pub outcome: Option<CallOutcome>,
    /// The route an inbound call took through its number's routing (crate::numbers::routing).
    #[serde(default)]
    pub route: Option<String>,
}

const PROJECTION: &str = "record::id(id) AS id, record::id(owner) AS owner_id, phone_id, phone_number, agent_id,
    provider, session_id, status, caller, callee, direction, params_json, reason, started_at, provider_call_id,
    variables_json, outcome, route";

/// What the first webhook for a call records.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    pub owner_id: &'a str,
    pub phone_id: &'a str,
    pub phone_number: &'a str,
    pub agent_id: Option<&'a str>,
    pub provider: Provider,
    pub session_id: &'a str,
    /// `Ringing`, or `Rejected` (with a reason) for a number that is not active.
    pub status: CallStatus,
    pub caller: Option<&'a str>,
    pub callee: Option<&'a str>,
    pub direction: Option<&'a str>,
    pub params_json: &'a str,
    pub reason: Option<&'a str>,
    /// The node that answered (crate::node).
    pub node: &'a str,
}

/// The record key of a provider call, `<provider>_<session id>` (call ids are checked to be
/// `[A-Za-z0-9_-]`).
pub fn key(provider: Provider, session_id: &str) -> String {
    format!("{}_{session_id}", provider.as_str())
}

/// The CREATE of one call whose values are the object `$<var>` (see [`create_vars`]).
pub(super) fn create_sql(var: &str) -> String {
    format!(
        "CREATE type::record('call', ${var}.key) SET owner = type::record('user', ${var}.owner), phone_id = ${var}.phone_id,
            phone_number = ${var}.phone_number, agent_id = ${var}.agent_id ?? NONE, provider = ${var}.provider,
            session_id = ${var}.session_id, status = ${var}.status, caller = ${var}.caller ?? NONE, callee = ${var}.callee ?? NONE,
            direction = ${var}.direction ?? NONE, params_json = ${var}.params_json, reason = ${var}.reason ?? NONE,
            started_at = <datetime>${var}.now, node = ${var}.node RETURN NONE"
    )
}

/// The values of [`create_sql`] for `c` at `now`.
pub(super) fn create_vars(c: &NewCall<'_>, now: &str) -> serde_json::Value {
    json!({
        "key": key(c.provider, c.session_id), "owner": c.owner_id, "phone_id": c.phone_id, "phone_number": c.phone_number,
        "agent_id": c.agent_id, "provider": c.provider, "session_id": c.session_id, "status": c.status,
        "caller": c.caller, "callee": c.callee, "direction": c.direction, "params_json": c.params_json,
        "reason": c.reason, "now": now, "node": c.node,
    })
}

/// The row [`create_sql`] writes for `c`, without reading it back.
pub(crate) fn created_row(c: &NewCall<'_>, now: &str) -> CallRow {
    CallRow {
        id: key(c.provider, c.session_id),
        owner_id: c.owner_id.to_string(),
        phone_id: c.phone_id.to_string(),
        phone_number: c.phone_number.to_string(),
        agent_id: c.agent_id.map(str::to_string),
        provider: c.provider,
        session_id: c.session_id.to_string(),
        status: c.status,
        caller: c.caller.map(str::to_string),
        callee: c.callee.map(str::to_string),
        direction: c.direction.map(str::to_string),
        params_json: c.params_json.to_string(),
        reason: c.reason.map(str::to_string),
        started_at: now.to_string(),
        provider_call_id: None,
        variables_json: None,
        outcome: None,
        route: None,
    }
}

/// Whether `e` says the call's row was there first (a concurrent or retried webhook).
pub(super) fn already_there(e: &DbError) -> bool {
    e.to_string().contains("already exists") || e.is_unique_violation("call_session")
}

/// Creates the call, or returns the existing one for a retried webhook; `true` when created.
/// (Webhooks go through [`super::call_writer::CallWriter`], which groups concurrent creates
/// into one transaction; this is its one-call path.)
pub async fn insert_or_get(db: &Db, c: &NewCall<'_>, now: &str) -> Result<(CallRow, bool), DbError> {
    let created = rows::<serde_json::Value>(db, &create_sql("c"), json!({ "c": create_vars(c, now) })).await;
    match created {
        Ok(_) => Ok((created_row(c, now), true)),
        Err(e) if already_there(&e) => {
            let key = key(c.provider, c.session_id);
            let row = get_by_key(db, &key).await?.ok_or_else(|| DbError::Decode(serde::de::Error::custom("call vanished")))?;
            Ok((row, false))
        }
        Err(e) => Err(e),
    }
}

/// The call with this record key (telephony lookups; not owner-scoped).
pub async fn get_by_key(db: &Db, key: &str) -> Result<Option<CallRow>, DbError> {
    row(db, &format!("SELECT {PROJECTION} FROM ONLY type::record('call', $key)"), json!({ "key": key })).await
}

/// Number of `owner`'s calls on one of their numbers.
pub async fn count_for_phone(db: &Db, owner: &crate::users::Owner, phone_id: &str) -> Result<i64, DbError> {
    Ok(row(
        db,
        "RETURN count(SELECT id FROM call WHERE phone_id = $phone_id AND owner = type::record('user', $owner))",
        json!({ "phone_id": phone_id, "owner": owner.id() }),
    )
    .await?
    .unwrap_or(0))
}

/// The stream of a call began on `node`: it is in progress and counts as answered (an outbound
/// call without an outcome yet was answered).
pub async fn mark_answered(db: &Db, key: &str, node: &str, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET status = $in_progress, answered_at = answered_at ?? <datetime>$now, node = $node,
            outcome = IF direction = 'outbound' AND outcome = NONE THEN $answered ELSE outcome END
         WHERE status != $rejected RETURN NONE",
        json!({
            "key": key, "now": now, "node": node, "in_progress": CallStatus::InProgress, "rejected": CallStatus::Rejected,
            "answered": CallOutcome::Answered,
        }),
    )
    .await
    .map(|_| ())
}

/// Counts one turn of the call that could not be stored.
pub async fn count_lost_turn(db: &Db, key: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET lost_turns = (lost_turns ?? 0) + 1 RETURN NONE",
        json!({ "key": key }),
    )
    .await
    .map(|_| ())
}

/// The highest turn number stored for the call (0 when none).
pub async fn last_seq(db: &Db, key: &str) -> Result<i64, DbError> {
    Ok(row::<Option<i64>>(
        db,
        "RETURN math::max(SELECT VALUE seq FROM turn WHERE call = type::record('call', $key))",
        json!({ "key": key }),
    )
    .await?
    .flatten()
    .unwrap_or(0))
}

/// Fails the calls `node` left ringing or in progress when it stopped (and those of versions that
/// recorded no node): run at start, before this process answers anything. Returns their keys. An
/// outbound call its provider took and is still ringing is left to its callbacks (or, silent,
/// to the stale sweep): the callee may yet answer, and its stream reach any node.
pub async fn fail_interrupted(db: &Db, node: &str, now: &str) -> Result<Vec<String>, DbError> {
    rows(
        db,
        "UPDATE call SET status = $failed, reason = 'server restarted', ended_at = <datetime>$now
            WHERE status IN [$ringing, $in_progress] AND (node = $node OR node = NONE)
                AND NOT (status = $ringing AND direction = 'outbound' AND provider_call_id != NONE) RETURN VALUE record::id(id)",
        json!({
            "node": node, "now": now, "failed": CallStatus::Failed, "ringing": CallStatus::Ringing, "in_progress": CallStatus::InProgress,
        }),
    )
    .await
}

/// Ends calls that can no longer be live: ringing since before `ringing_before` (the stream
/// never opened) or in progress since before `live_before` (past the longest stream). Returns
/// the keys of the calls ended.
pub async fn end_stale(db: &Db, ringing_before: &str, live_before: &str, now: &str) -> Result<Vec<String>, DbError> {
    let mut response = super::query(
        db,
        "UPDATE call SET status = $failed, reason = 'the stream never opened', ended_at = <datetime>$now
            WHERE status = $ringing_status AND started_at < <datetime>$ringing RETURN VALUE record::id(id);
         UPDATE call SET status = $failed, reason = 'the stream ended without a stop', ended_at = <datetime>$now
            WHERE status = $in_progress AND started_at < <datetime>$live RETURN VALUE record::id(id);",
        json!({
            "ringing": ringing_before, "live": live_before, "now": now, "failed": CallStatus::Failed,
            "ringing_status": CallStatus::Ringing, "in_progress": CallStatus::InProgress,
        }),
    )
    .await?;
    let mut ended: Vec<String> = super::take(&mut response, 0)?;
    ended.extend(super::take::<String>(&mut response, 1)?);
    Ok(ended)
}

/// Replaces the provider parameters of a call. `stream_end` is the status the provider says the
/// stream ended with: `Completed` or `Failed` ends the call (a rejected call stays rejected);
/// any other value, or `None`, changes only the parameters and duration.
pub async fn merge_params(
    db: &Db,
    key: &str,
    params_json: &str,
    stream_end: Option<CallStatus>,
    duration_ms: Option<i64>,
    now: &str,
) -> Result<CallRow, DbError> {
    let end = stream_end.filter(|s| matches!(s, CallStatus::Completed | CallStatus::Failed));
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET params_json = $params,
            status = IF $end AND status != $rejected THEN $end ELSE status END,
            ended_at = IF $end THEN (ended_at ?? <datetime>$now) ELSE ended_at END,
            duration_ms = IF $duration != NONE AND $duration != NULL THEN $duration ELSE duration_ms END
         RETURN NONE",
        json!({
            "key": key, "params": params_json, "end": end, "duration": duration_ms, "now": now, "rejected": CallStatus::Rejected,
        }),
    )
    .await?;
    get_by_key(db, key).await?.ok_or_else(|| DbError::Decode(serde::de::Error::custom("call vanished")))
}

/// Sets a call's status (never that of a rejected call); `ended` and `duration_ms` are stored
/// when given.
pub async fn set_status(
    db: &Db,
    key: &str,
    status: CallStatus,
    reason: Option<&str>,
    ended: Option<&str>,
    duration_ms: Option<i64>,
) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPDATE type::record('call', $key) SET status = $status, reason = $reason ?? reason,
            ended_at = IF $ended THEN <datetime>$ended ELSE ended_at END,
            duration_ms = $duration ?? duration_ms
         WHERE status != $rejected RETURN NONE",
        json!({
            "key": key, "status": status, "reason": reason, "ended": ended, "duration": duration_ms, "rejected": CallStatus::Rejected,
        }),
    )
    .await
    .map(|_| ())
}

/// Filters for [`list`]; already validated. Dates are RFC 3339.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub phone_id: Option<String>,
    pub agent_id: Option<String>,
    pub status: Option<CallStatus>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: u32,
    pub start: u32,
}

/// A call row with its times and agent name, for listings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CallListRow {
    #[serde(flatten)]
    pub call: CallRow,
    pub ended_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub agent_name: Option<String>,
    #[serde(default)]
    pub turns: i64,
    #[serde(default)]
    pub lost_turns: Option<i64>,
}

const LIST_PROJECTION: &str = "record::id(id) AS id, record::id(owner) AS owner_id, phone_id, phone_number, agent_id,
    provider, session_id, status, caller, callee, direction, params_json, reason, started_at, ended_at, duration_ms, lost_turns,
    provider_call_id, variables_json, outcome, route,
    (IF agent_id THEN type::record('agent', agent_id).name ELSE NONE END) AS agent_name,
    count(SELECT id FROM turn WHERE call = $parent.id) AS turns";

/// `$from_at` and `$to_at`: the listing's date bounds as datetimes (two statements).
const DATE_BOUNDS: &str = "LET $from_at = IF $from THEN <datetime>$from ELSE NONE END;
    LET $to_at = IF $to THEN <datetime>$to ELSE NONE END;";

fn owner_cond(f: &ListFilter) -> String {
    let mut cond = String::from("owner = type::record('user', $owner)");
    for (present, clause) in [
        (f.phone_id.is_some(), " AND phone_id = $phone_id"),
        (f.agent_id.is_some(), " AND agent_id = $agent_id"),
        (f.status.is_some(), " AND status = $status"),
        (f.from.is_some(), " AND started_at >= $from_at"),
        (f.to.is_some(), " AND started_at < $to_at"),
    ] {
        if present {
            cond.push_str(clause);
        }
    }
    cond
}

/// One page of `owner`'s calls, newest first, and how many match.
pub async fn list(db: &Db, owner: &crate::users::Owner, f: &ListFilter, count: bool) -> Result<(Vec<CallListRow>, Option<i64>), DbError> {
    let cond = owner_cond(f);
    // The bounds are cast once (a cast in the condition runs for every row: 5x slower).
    // A date range is read through the time index (the range's calls of every owner, filtered
    // to this one), not through all of the owner's calls.
    let index = if f.from.is_some() || f.to.is_some() { " WITH INDEX call_started" } else { "" };
    let mut sql =
        format!("{DATE_BOUNDS} SELECT {LIST_PROJECTION} FROM call{index} WHERE {cond} ORDER BY started_at DESC LIMIT $limit START $start;");
    if count {
        sql.push_str(&format!("SELECT count() AS total FROM call{index} WHERE {cond} GROUP ALL;"));
    }
    let vars = json!({
        "owner": owner.id(), "phone_id": f.phone_id, "agent_id": f.agent_id, "status": f.status,
        "from": f.from, "to": f.to, "limit": f.limit, "start": f.start,
    });
    let mut response = super::query(db, &sql, vars).await?;
    let page: Vec<CallListRow> = super::take(&mut response, 2)?;
    if !count {
        return Ok((page, None));
    }
    let totals: Vec<serde_json::Value> = super::take(&mut response, 3)?;
    Ok((page, Some(totals.first().and_then(|t| t["total"].as_i64()).unwrap_or(0))))
}

/// One of `owner`'s calls.
pub async fn get(db: &Db, owner: &crate::users::Owner, id: &str) -> Result<Option<CallListRow>, DbError> {
    row(
        db,
        &format!("SELECT {LIST_PROJECTION} FROM call WHERE id = type::record('call', $id) AND owner = type::record('user', $owner)"),
        json!({ "id": id, "owner": owner.id() }),
    )
    .await
}

/// What the analytics page needs of one call: status, duration, number, agent, day, and the
/// voice-to-voice time of each agent reply (end-of-speech silence + detection to first byte).
#[derive(Debug, Clone, Deserialize)]
pub struct AnalyticsCall {
    pub answered_at: Option<String>,
    pub phone_id: String,
    pub phone_number: String,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub status: CallStatus,
    pub started_at: String,
    pub duration_ms: Option<i64>,
    pub turns: i64,
    #[serde(default)]
    pub voice_to_voice: Vec<Option<i64>>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub outcome: Option<CallOutcome>,
}

/// `owner`'s calls since `from` (RFC 3339), oldest first, with their reply latencies.
pub async fn for_analytics(db: &Db, owner: &crate::users::Owner, from: &str) -> Result<Vec<AnalyticsCall>, DbError> {
    rows(
        db,
        "LET $from_at = <datetime>$from;
         SELECT answered_at, phone_id, phone_number, agent_id, status, started_at, duration_ms, direction, outcome,
            (IF agent_id THEN type::record('agent', agent_id).name ELSE NONE END) AS agent_name,
            count(SELECT id FROM turn WHERE call = $parent.id) AS turns,
            (SELECT VALUE (endpointing_ms ?? 0) + first_byte_ms FROM turn
                WHERE call = $parent.id AND role = $agent AND kind = $speech AND first_byte_ms != NONE) AS voice_to_voice
         FROM call WITH INDEX call_started WHERE owner = type::record('user', $owner) AND started_at >= $from_at ORDER BY started_at",
        json!({ "owner": owner.id(), "from": from, "agent": Role::Agent, "speech": TurnKind::Speech }),
    )
    .await
}

/// Deletes `owner`'s call `id` with its turns and recording row in one transaction (the
/// caller has checked that the call has ended).
pub async fn delete(db: &Db, owner: &crate::users::Owner, id: &str) -> Result<(), DbError> {
    super::query(
        db,
        "BEGIN TRANSACTION;
         DELETE turn WHERE call = type::record('call', $id) AND owner = type::record('user', $owner);
         DELETE recording WHERE id = type::record('recording', $id) AND owner = type::record('user', $owner);
         DELETE call WHERE id = type::record('call', $id) AND owner = type::record('user', $owner);
         COMMIT TRANSACTION;",
        json!({ "id": id, "owner": owner.id() }),
    )
    .await
    .map(|_| ())
}
