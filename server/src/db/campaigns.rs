//! `campaign` rows, scoped to their owner (the dialer's reads across owners are marked so).

use domain::campaign::{CampaignCounts, CampaignStatus, ContactState};
use domain::outbound::CallOutcome;
use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, row, rows};
use crate::users::Owner;

/// A stored campaign.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CampaignRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub agent_id: String,
    pub agent_name: Option<String>,
    pub phone_ids: Vec<String>,
    pub status: CampaignStatus,
    pub status_reason: Option<String>,
    pub start_at: String,
    pub hours_from: String,
    pub hours_to: String,
    pub timezone: String,
    pub max_concurrent: u32,
    pub calls_per_second: f64,
    pub max_attempts: u32,
    pub retry_delay_secs: u32,
    pub created_at: String,
    pub updated_at: String,
}

const PROJECTION: &str = "record::id(id) AS id, record::id(owner) AS owner_id, name, agent_id,
    type::record('agent', agent_id).name AS agent_name, phone_ids, status, status_reason, start_at, hours_from, hours_to,
    timezone, max_concurrent, calls_per_second, max_attempts, retry_delay_secs, created_at, updated_at";

/// What a new campaign stores (validated).
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub name: &'a str,
    pub agent_id: &'a str,
    pub phone_ids: &'a [String],
    pub status: CampaignStatus,
    pub start_at: &'a str,
    pub hours_from: &'a str,
    pub hours_to: &'a str,
    pub timezone: &'a str,
    pub max_concurrent: u32,
    pub calls_per_second: f64,
    pub max_attempts: u32,
    pub retry_delay_secs: u32,
}

/// One contact to store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewContact {
    pub line: u32,
    pub phone: String,
    pub timezone: Option<String>,
    pub variables_json: String,
}

/// Contacts written per statement.
const CONTACT_BATCH: usize = 1000;

/// Creates the campaign and its contacts: the contacts a batch at a time, then the campaign (a
/// failure removes what was written); returns its id.
pub async fn insert(db: &Db, owner: &Owner, c: &NewCampaign<'_>, contacts: &[NewContact], now: &str) -> Result<String, DbError> {
    let id = crate::secrets::random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", 20);
    let queue = format!("{id}:{}", ContactState::Pending.as_str());
    for batch in contacts.chunks(CONTACT_BATCH) {
        let written = rows::<serde_json::Value>(
            db,
            "FOR $c IN $contacts {
                CREATE contact SET campaign = type::record('campaign', $id), owner = type::record('user', $owner), line = $c.line,
                    phone = $c.phone, timezone = $c.timezone ?? NONE, variables_json = $c.variables_json, state = $pending,
                    queue = $queue, attempts = 0, next_at = <datetime>$start_at, updated_at = <datetime>$now;
            };",
            json!({
                "contacts": batch, "id": id, "owner": owner.id(), "pending": ContactState::Pending, "queue": queue,
                "start_at": c.start_at, "now": now,
            }),
        )
        .await;
        if let Err(e) = written {
            // Nothing half-written stays: the campaign and the contacts written so far go.
            let _ = rows::<serde_json::Value>(
                db,
                "DELETE contact WHERE campaign = type::record('campaign', $id); DELETE type::record('campaign', $id);",
                json!({ "id": id }),
            )
            .await;
            return Err(e);
        }
    }
    // The campaign last: the dialer never sees it before all its contacts are written.
    let created = rows::<serde_json::Value>(
        db,
        "CREATE type::record('campaign', $id) SET owner = type::record('user', $owner), name = $name, agent_id = $agent_id,
            phone_ids = $phone_ids, status = $status, start_at = <datetime>$start_at, hours_from = $hours_from,
            hours_to = $hours_to, timezone = $timezone, max_concurrent = $max_concurrent,
            calls_per_second = <float>$cps, max_attempts = $max_attempts, retry_delay_secs = $retry_delay,
            created_at = <datetime>$now, updated_at = <datetime>$now RETURN NONE",
        json!({
            "id": id, "owner": owner.id(), "name": c.name, "agent_id": c.agent_id, "phone_ids": c.phone_ids, "status": c.status,
            "start_at": c.start_at, "hours_from": c.hours_from, "hours_to": c.hours_to, "timezone": c.timezone,
            "max_concurrent": c.max_concurrent, "cps": c.calls_per_second, "max_attempts": c.max_attempts,
            "retry_delay": c.retry_delay_secs, "now": now,
        }),
    )
    .await;
    if let Err(e) = created {
        let _ = rows::<serde_json::Value>(db, "DELETE contact WHERE campaign = type::record('campaign', $id)", json!({ "id": id })).await;
        return Err(e);
    }
    Ok(id)
}

/// One of `owner`'s campaigns.
pub async fn get(db: &Db, owner: &Owner, id: &str) -> Result<Option<CampaignRow>, DbError> {
    row(
        db,
        &format!("SELECT {PROJECTION} FROM type::record('campaign', $id) WHERE owner = type::record('user', $owner)"),
        json!({ "id": id, "owner": owner.id() }),
    )
    .await
}

/// Every campaign of `owner`, newest first.
pub async fn list(db: &Db, owner: &Owner) -> Result<Vec<CampaignRow>, DbError> {
    rows(
        db,
        &format!("SELECT {PROJECTION} FROM campaign WHERE owner = type::record('user', $owner) ORDER BY created_at DESC LIMIT 500"),
        json!({ "owner": owner.id() }),
    )
    .await
}

/// Campaigns the dialer may work on now (every owner's): running, or scheduled and due.
pub async fn due(db: &Db, now: &str) -> Result<Vec<CampaignRow>, DbError> {
    rows(
        db,
        &format!(
            "LET $now_at = <datetime>$now;
             SELECT {PROJECTION} FROM campaign WHERE status = $running OR (status = $scheduled AND start_at <= $now_at) LIMIT 1000"
        ),
        json!({ "now": now, "running": CampaignStatus::Running, "scheduled": CampaignStatus::Scheduled }),
    )
    .await
}

/// Moves `owner`'s campaign to `to` when it is in one of `from`; `false` when it was not.
pub async fn set_status(
    db: &Db,
    owner: &Owner,
    id: &str,
    from: &[CampaignStatus],
    to: CampaignStatus,
    reason: Option<&str>,
    now: &str,
) -> Result<bool, DbError> {
    // The dialer writes the campaign's lease on every pass: a pause or cancel may meet it.
    let changed: Vec<serde_json::Value> = rows(
        db,
        "UPDATE type::record('campaign', $id) SET status = $to, status_reason = $reason ?? NONE, updated_at = <datetime>$now
             WHERE owner = type::record('user', $owner) AND status IN $from RETURN record::id(id) AS id",
        json!({ "id": id, "owner": owner.id(), "from": from, "to": to, "reason": reason, "now": now }),
    )
    .await?;
    Ok(!changed.is_empty())
}

/// Takes (or keeps) the right to dial campaign `id` on `node` until `until`: one node dials a
/// campaign at a time. `false` when another node holds it.
pub async fn lease(db: &Db, id: &str, node: &str, now: &str, until: &str) -> Result<bool, DbError> {
    let taken: Vec<serde_json::Value> = rows(
        db,
        "UPDATE type::record('campaign', $id) SET dialer_node = $node, dialer_until = <datetime>$until
         WHERE dialer_node = $node OR dialer_until = NONE OR dialer_until < <datetime>$now RETURN record::id(id) AS id",
        json!({ "id": id, "node": node, "now": now, "until": until }),
    )
    .await?;
    Ok(!taken.is_empty())
}

/// How campaign `id`'s contacts stand.
pub async fn counts(db: &Db, id: &str) -> Result<CampaignCounts, DbError> {
    #[derive(Deserialize)]
    struct Group {
        state: ContactState,
        outcome: Option<CallOutcome>,
        n: i64,
        attempts: i64,
    }
    let groups: Vec<Group> = rows(
        db,
        "SELECT state, outcome, count() AS n, math::sum(attempts) AS attempts FROM contact
         WHERE campaign = type::record('campaign', $id) GROUP BY state, outcome",
        json!({ "id": id }),
    )
    .await?;
    let mut c = CampaignCounts::default();
    for g in groups {
        c.total += g.n;
        c.dialed += g.attempts;
        match g.state {
            ContactState::Pending => c.remaining += g.n,
            ContactState::Dialing => c.in_progress += g.n,
            ContactState::Canceled => c.canceled += g.n,
            ContactState::Done | ContactState::Failed => match g.outcome {
                Some(CallOutcome::Answered | CallOutcome::Transferred) => c.answered += g.n,
                Some(CallOutcome::Machine) => c.machine += g.n,
                Some(CallOutcome::NoAnswer) => c.no_answer += g.n,
                Some(CallOutcome::Busy) => c.busy += g.n,
                _ => c.failed += g.n,
            },
        }
    }
    Ok(c)
}
