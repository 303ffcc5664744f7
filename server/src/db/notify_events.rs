//! `notify_event` rows: the delivery queue and its log. Every state change is a conditional
//! update on the state (and lease) it expects, so a delivery is sent by one node at a time.

use domain::notify::{Channel, DeliveryState, EventKind};
use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, row, rows};
use crate::users::Owner;

/// A stored delivery.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct EventRow {
    pub id: String,
    pub owner_id: String,
    pub channel: Channel,
    pub event: EventKind,
    pub call_id: Option<String>,
    pub target: String,
    pub detail: Option<String>,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_at: String,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const PROJECTION: &str = "record::id(id) AS id, record::id(owner) AS owner_id, channel, event, call_id, target, detail, state,
    attempts, next_at, last_status, last_error, created_at, updated_at";

/// A delivery to enqueue.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The row key and the receiver's event id.
    pub key: &'a str,
    pub owner_id: &'a str,
    pub channel: Channel,
    pub event: EventKind,
    pub call_id: Option<&'a str>,
    pub target: &'a str,
    pub detail: Option<&'a str>,
    pub next_at: &'a str,
}

/// What [`insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Queued,
    /// A delivery with this key exists already (another path ended the same call first).
    Duplicate,
    /// The owner has too many deliveries waiting; nothing was written.
    Full,
}

/// Enqueues a delivery unless one with its key exists or its owner has `cap` waiting already.
pub async fn insert(db: &Db, e: &NewEvent<'_>, cap: usize, now: &str) -> Result<Inserted, DbError> {
    let waiting: Option<i64> = row(
        db,
        "SELECT VALUE count() FROM notify_event WHERE owner = type::record('user', $owner) AND state IN ['pending', 'sending'] GROUP ALL",
        json!({ "owner": e.owner_id }),
    )
    .await?;
    if waiting.unwrap_or(0) >= cap as i64 {
        return Ok(Inserted::Full);
    }
    let result = rows::<serde_json::Value>(
        db,
        "CREATE type::record('notify_event', $key) SET owner = type::record('user', $owner), channel = $channel, event = $event,
            call_id = $call ?? NONE, target = $target, detail = $detail ?? NONE, state = 'pending', attempts = 0,
            next_at = <datetime>$next, created_at = <datetime>$now, updated_at = <datetime>$now RETURN NONE",
        json!({
            "key": e.key, "owner": e.owner_id, "channel": e.channel, "event": e.event, "call": e.call_id, "target": e.target,
            "detail": e.detail, "next": e.next_at, "now": now,
        }),
    )
    .await;
    match result {
        Ok(_) => Ok(Inserted::Queued),
        Err(err) if err.to_string().contains("already exists") || err.is_write_conflict() => Ok(Inserted::Duplicate),
        Err(err) => Err(err),
    }
}

/// Up to `limit` deliveries due by `now`: pending ones whose time came, and ones whose sender's
/// lease ran out (a node stopped while sending). Each is read by an indexed equality on `state`,
/// so the finished rows of the log are never scanned.
pub async fn due(db: &Db, now: &str, limit: usize) -> Result<Vec<EventRow>, DbError> {
    let mut response = super::query(
        db,
        &format!(
            "LET $at = <datetime>$now;
             SELECT {PROJECTION} FROM notify_event WHERE state = 'pending' AND next_at <= $at ORDER BY next_at LIMIT $limit;
             SELECT {PROJECTION} FROM notify_event WHERE state = 'sending' AND lease_until < $at LIMIT $limit;"
        ),
        json!({ "now": now, "limit": limit }),
    )
    .await?;
    let mut due: Vec<EventRow> = super::take(&mut response, 2)?;
    due.extend(super::take::<EventRow>(&mut response, 1)?);
    due.truncate(limit);
    Ok(due)
}

/// Takes a due delivery for one try under `lease` until `until`; `None` when another node took
/// it first (or it is no longer due). The try is counted now, so a node dying mid-send still
/// uses one up.
pub async fn claim(db: &Db, id: &str, lease: &str, until: &str, now: &str) -> Result<Option<EventRow>, DbError> {
    row(
        db,
        &format!(
            "LET $at = <datetime>$now;
             UPDATE type::record('notify_event', $id) SET state = 'sending', lease = $lease, lease_until = <datetime>$until,
                attempts += 1, updated_at = $at
             WHERE (state = 'pending' AND next_at <= $at) OR (state = 'sending' AND lease_until < $at)
             RETURN {PROJECTION}"
        ),
        json!({ "id": id, "lease": lease, "until": until, "now": now }),
    )
    .await
    .or_else(|e| if e.is_write_conflict() { Ok(None) } else { Err(e) })
}

/// How a try ended.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub state: DeliveryState,
    /// The next try's time when `state` is pending.
    pub next_at: &'a str,
    pub status: Option<u16>,
    pub error: Option<&'a str>,
}

/// Records a try's end, if `lease` still holds the delivery.
pub async fn settle(db: &Db, id: &str, lease: &str, o: &Outcome<'_>, now: &str) -> Result<bool, DbError> {
    let done: Vec<serde_json::Value> = rows(
        db,
        "UPDATE type::record('notify_event', $id) SET state = $state, next_at = <datetime>$next, last_status = $status ?? NONE,
            last_error = $error ?? NONE, lease = NONE, lease_until = NONE, updated_at = <datetime>$now
         WHERE state = 'sending' AND lease = $lease RETURN record::id(id) AS id",
        json!({ "id": id, "lease": lease, "state": o.state, "next": o.next_at, "status": o.status, "error": o.error, "now": now }),
    )
    .await?;
    Ok(!done.is_empty())
}

/// `owner`'s latest deliveries, newest first.
pub async fn recent(db: &Db, owner: &Owner, limit: usize) -> Result<Vec<EventRow>, DbError> {
    rows(
        db,
        &format!("SELECT {PROJECTION} FROM notify_event WHERE owner = type::record('user', $owner) ORDER BY created_at DESC LIMIT $limit"),
        json!({ "owner": owner.id(), "limit": limit }),
    )
    .await
}

/// One of `owner`'s deliveries.
pub async fn get(db: &Db, owner: &Owner, id: &str) -> Result<Option<EventRow>, DbError> {
    row(
        db,
        &format!("SELECT {PROJECTION} FROM type::record('notify_event', $id) WHERE owner = type::record('user', $owner)"),
        json!({ "id": id, "owner": owner.id() }),
    )
    .await
}

/// Deletes finished deliveries last changed before `before`; returns how many.
pub async fn prune(db: &Db, before: &str) -> Result<usize, DbError> {
    let gone: Vec<serde_json::Value> = rows(
        db,
        "LET $at = <datetime>$before;
         DELETE notify_event WHERE updated_at < $at AND state IN ['delivered', 'failed'] RETURN BEFORE",
        json!({ "before": before }),
    )
    .await?;
    Ok(gone.len())
}
