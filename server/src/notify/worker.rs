//! The delivery worker: one loop per node. Each tick it reads the due deliveries, takes each by
//! a conditional update under its own lease (another node, or this one after a restart, cannot
//! take it while the lease runs), sends it, and records the outcome: delivered, failed, or
//! pending again after the next wait of the retry schedule (`VOXGATE_NOTIFY_RETRY_SECONDS`).
//! A node that dies mid-send leaves its lease to run out; the delivery is then taken again
//! (and counted as a try), so every delivery is sent at least once and receivers dedupe by
//! the `Voxgate-Event-Id` header.

use std::time::Duration;

use domain::notify::{Channel, DeliveryState, EventKind};

use super::webhook::Sent;
use crate::clock::rfc3339;
use crate::db::notify_events::{self as events, EventRow, Outcome};
use crate::state::AppState;
use crate::users::Owner;

/// How often the worker looks for due deliveries.
pub const TICK: Duration = Duration::from_millis(500);
/// How long a node holds a delivery it is sending (longer than any one try takes).
pub const LEASE: chrono::Duration = chrono::Duration::seconds(90);
/// Most deliveries taken in one tick (they are sent concurrently).
pub const BATCH: usize = 16;
/// How often finished deliveries past the retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Starts the worker for as long as the server runs (until `state.shutdown`).
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pruned = tokio::time::Instant::now() - PRUNE_EVERY;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = state.shutdown.begun() => return,
            }
            if let Err(e) = run_once(&state).await {
                tracing::warn!(error = %e, "notification delivery pass failed");
            }
            if pruned.elapsed() >= PRUNE_EVERY {
                pruned = tokio::time::Instant::now();
                prune(&state).await;
            }
        }
    })
}

/// One pass: takes and sends every due delivery (up to [`BATCH`]); how many were tried.
pub async fn run_once(state: &AppState) -> Result<usize, crate::db::DbError> {
    let due = events::due(&state.db, &state.clock.now_rfc3339(), BATCH).await?;
    let mut tries = tokio::task::JoinSet::new();
    for row in due {
        let state = state.clone();
        tries.spawn(async move { try_now(&state, &row.id).await });
    }
    let mut tried = 0;
    while let Some(done) = tries.join_next().await {
        tried += usize::from(done.unwrap_or(false));
    }
    Ok(tried)
}

/// Takes delivery `id` if it is due and sends it once; `false` when another node has it or it
/// is not due.
pub async fn try_now(state: &AppState, id: &str) -> bool {
    let lease = crate::db::new_key();
    let now = state.clock.now();
    let claimed = events::claim(&state.db, id, &lease, &rfc3339(now + LEASE), &rfc3339(now)).await;
    let row = match claimed {
        Ok(Some(row)) => row,
        Ok(None) => return false,
        Err(e) => {
            tracing::warn!(delivery = %id, error = %e, "cannot take a delivery");
            return false;
        }
    };
    let sent = send(state, &row).await;
    let tries = state.settings.notify.retries.len() as u32 + 1;
    let now = state.clock.now();
    let (state_after, next_at, status, error) = match &sent {
        Sent::Delivered(status) => (DeliveryState::Delivered, now, Some(*status), None),
        Sent::Give { status, error } => (DeliveryState::Failed, now, *status, Some(error.clone())),
        Sent::Retry { status, error } if row.attempts >= tries => {
            (DeliveryState::Failed, now, *status, Some(format!("{error} (gave up after {} tries)", row.attempts)))
        }
        Sent::Retry { status, error } => {
            let wait =
                state.settings.notify.retries.get(row.attempts.saturating_sub(1) as usize).copied().unwrap_or(Duration::from_secs(3600));
            let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
            (DeliveryState::Pending, now + wait, *status, Some(error.clone()))
        }
    };
    let outcome = Outcome { state: state_after, next_at: &rfc3339(next_at), status, error: error.as_deref() };
    match events::settle(&state.db, &row.id, &lease, &outcome, &rfc3339(now)).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(delivery = %row.id, "a delivery's lease ran out while it was being sent"),
        Err(e) => tracing::warn!(delivery = %row.id, error = %e, "cannot record a delivery's try"),
    }
    tracing::info!(delivery = %row.id, user_id = %row.owner_id, channel = row.channel.as_str(), event = row.event.as_str(),
        attempt = row.attempts, state = state_after.as_str(), status = ?status, error = ?error, "notification tried");
    true
}

/// One try of `row` through its channel.
async fn send(state: &AppState, row: &EventRow) -> Sent {
    match row.channel {
        Channel::Webhook => send_webhook(state, row).await,
        Channel::Email => send_email(state, row).await,
    }
}

async fn send_webhook(state: &AppState, row: &EventRow) -> Sent {
    let owner = Owner::of_row(row.owner_id.clone());
    let secret = match super::settings::secret(state, &owner).await {
        Ok(Some(s)) => s,
        Ok(None) => return Sent::Give { status: None, error: "no signing secret: rotate it in Settings".to_string() },
        Err(e) => return Sent::Retry { status: None, error: format!("cannot read the settings: {e}") },
    };
    let created = row.created_at.clone();
    let body = match (row.event, &row.call_id) {
        (EventKind::Test, _) | (_, None) => super::payload::test_event(&row.id, &created),
        (kind, Some(call)) => match crate::calls::get(state, &owner, call).await {
            Ok(detail) => {
                let recording = detail.recording_url.as_deref().map(|path| state.settings.public_link(path));
                super::payload::call_summary(&row.id, kind, &created, &detail, recording.as_deref())
            }
            Err(crate::errors::DomainError::NotFound(_)) => {
                return Sent::Give { status: None, error: "the call no longer exists".to_string() };
            }
            Err(e) => return Sent::Retry { status: None, error: format!("cannot read the call: {e}") },
        },
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let timestamp = state.clock.now().timestamp();
    super::webhook::send(&state.outbound, &row.target, &secret, &row.id, row.event.as_str(), body, timestamp).await
}

async fn send_email(state: &AppState, row: &EventRow) -> Sent {
    let Some(smtp) = &state.settings.notify.smtp else {
        return Sent::Give { status: None, error: "no SMTP server is configured".to_string() };
    };
    let owner = Owner::of_row(row.owner_id.clone());
    let call = match &row.call_id {
        None => None,
        Some(id) => match crate::calls::get(state, &owner, id).await {
            Ok(c) => Some(c.call),
            Err(crate::errors::DomainError::NotFound(_)) => None,
            Err(e) => return Sent::Retry { status: None, error: format!("cannot read the call: {e}") },
        },
    };
    let (subject, body) = super::email::compose(row.event, call.as_ref(), row.detail.as_deref(), &state.settings.public_link("/calls"));
    let hello = state.settings.public_url.host_str().unwrap_or("voxgate").to_string();
    super::email::send(smtp, &hello, &row.target, &subject, body).await
}

/// Deletes finished deliveries older than the retention.
async fn prune(state: &AppState) {
    let keep = chrono::Duration::from_std(state.settings.notify.retention).unwrap_or(chrono::Duration::days(30));
    match events::prune(&state.db, &rfc3339(state.clock.now() - keep)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deliveries = n, "old deliveries removed from the log"),
        Err(e) => tracing::warn!(error = %e, "cannot prune the delivery log"),
    }
}
