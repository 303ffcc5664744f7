//! The campaign dialer: one loop per node. Each tick, for every campaign due, it takes the
//! campaign's lease (one node dials a campaign at a time), settles the attempts whose calls
//! ended (a retry scheduled with back-off, or an end), then claims due contacts up to the
//! campaign's concurrency and places their calls at its pace.
//!
//! Exact and durable: a contact is claimed by a conditional update before its call row is
//! written, and its call row before the provider is asked; after a crash, a claimed contact
//! without a call row goes back to pending (the provider was never asked), and one with a call
//! waits for that call's end. Retries wait longer than a call can ring, so no contact is ever
//! dialed twice at once. A provider's 429 puts the contact back untouched and slows the pace.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use domain::call::CallStatus;
use domain::campaign::{CampaignStatus, ContactState};
use domain::outbound::{CallOutcome, ValidPlaceCall};
use tokio::sync::mpsc;

use super::hours::{Window, next_opening, zone_of};
use crate::calls::outbound::{Origin, PlaceError, dial_valid};
use crate::db::campaigns::{self as repo, CampaignRow};
use crate::db::contacts::{self, ContactRow, Dialing};
use crate::state::AppState;
use crate::telephony::dial::DialError;
use crate::users::Owner;

/// How often the dialer looks at its campaigns.
pub const TICK: Duration = Duration::from_millis(200);
/// How long a node holds a campaign it dials without renewing.
pub const LEASE: Duration = Duration::from_secs(15);
/// A claimed contact whose call row is still missing after this long was never dialed.
pub const ORPHAN_AFTER: chrono::Duration = chrono::Duration::seconds(30);
/// A call's line is counted busy this long after its end: the provider is still hanging it up (and
/// after a restart, its last callbacks were still on their way to a server that was down).
pub const HANG_UP_GRACE: chrono::Duration = chrono::Duration::seconds(2);
/// Slowest pace a campaign falls to after 429s, in calls a second.
const MIN_RATE: f64 = 0.2;

/// What a dial told the loop.
enum Feedback {
    /// The provider asked us to wait: slow the campaign down.
    RateLimited { campaign: String, retry_after: Duration },
    /// The campaign cannot go on (credentials refused, number or agent gone): pause it.
    Pause { campaign: String, owner: String, reason: String },
}

/// A campaign's pace on this node.
struct Pace {
    /// Calls a second now (the campaign's, lowered after 429s, recovering slowly).
    rate: f64,
    next_dial: Instant,
    blocked_until: Instant,
    /// The caller numbers and their providers (refreshed now and then), and the next to use.
    pool: Vec<(String, domain::phone_number::Provider)>,
    pool_read: Option<Instant>,
    turn: usize,
}

/// Starts the dialer for as long as the server runs.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let (tx, mut rx) = mpsc::channel::<Feedback>(1024);
        let mut paces: HashMap<String, Pace> = HashMap::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = state.shutdown.begun() => return,
            }
            while let Ok(f) = rx.try_recv() {
                feedback(&state, &mut paces, f).await;
            }
            if let Err(e) = run_once(&state, &mut paces, &tx).await {
                tracing::warn!(error = %e, "campaign dialer pass failed");
            }
        }
    });
}

async fn feedback(state: &AppState, paces: &mut HashMap<String, Pace>, f: Feedback) {
    match f {
        Feedback::RateLimited { campaign, retry_after } => {
            if let Some(p) = paces.get_mut(&campaign) {
                // One slow-down per wait: the other dials of the same burst met the same limit.
                if Instant::now() >= p.blocked_until {
                    p.rate = (p.rate / 2.0).max(MIN_RATE);
                }
                p.blocked_until = p.blocked_until.max(Instant::now() + retry_after);
            }
        }
        Feedback::Pause { campaign, owner, reason } => {
            let owner = Owner::of_row(owner);
            let now = state.clock.now_rfc3339();
            let from = [CampaignStatus::Running, CampaignStatus::Scheduled];
            if let Err(e) = repo::set_status(&state.db, &owner, &campaign, &from, CampaignStatus::Paused, Some(&reason), &now).await {
                tracing::warn!(campaign = %campaign, error = %e, "cannot pause the campaign");
            }
            tracing::warn!(campaign = %campaign, %reason, "campaign paused");
        }
    }
}

/// One pass over every campaign due.
async fn run_once(state: &AppState, paces: &mut HashMap<String, Pace>, tx: &mpsc::Sender<Feedback>) -> Result<(), crate::db::DbError> {
    let now = state.clock.now();
    let now_s = crate::clock::rfc3339(now);
    let until = crate::clock::rfc3339(now + chrono::Duration::from_std(LEASE).unwrap_or_default());
    let campaigns = repo::due(&state.db, &now_s).await?;
    paces.retain(|id, _| campaigns.iter().any(|c| &c.id == id));
    for c in campaigns {
        if !repo::lease(&state.db, &c.id, &state.node, &now_s, &until).await? {
            continue;
        }
        let owner = Owner::of_row(c.owner_id.clone());
        if c.status == CampaignStatus::Scheduled {
            repo::set_status(&state.db, &owner, &c.id, &[CampaignStatus::Scheduled], CampaignStatus::Running, None, &now_s).await?;
        }
        let dialing = contacts::dialing(&state.db, &c.id).await?;
        let mut busy = 0usize;
        for d in &dialing {
            if !settle(state, &c, d).await? {
                busy += 1;
            }
        }
        let pace = paces.entry(c.id.clone()).or_insert_with(|| Pace {
            rate: c.calls_per_second,
            next_dial: Instant::now(),
            blocked_until: Instant::now(),
            pool: Vec::new(),
            pool_read: None,
            turn: 0,
        });
        // A slowed pace creeps back up (a fiftieth of the campaign's rate a second) while no 429 comes.
        pace.rate = (pace.rate + c.calls_per_second / 250.0).min(c.calls_per_second);
        let free = (c.max_concurrent as usize).saturating_sub(busy);
        if free > 0 && Instant::now() >= pace.blocked_until {
            fill(state, &c, &owner, pace, free, tx).await?;
        }
        if busy == 0 && !contacts::open(&state.db, &c.id).await? {
            repo::set_status(&state.db, &owner, &c.id, &[CampaignStatus::Running], CampaignStatus::Completed, None, &now_s).await?;
            tracing::info!(campaign = %c.id, "campaign completed");
        }
    }
    Ok(())
}

/// Ends the attempt of a contact whose call is over; `true` when it no longer occupies a slot.
async fn settle(state: &AppState, c: &CampaignRow, d: &Dialing) -> Result<bool, crate::db::DbError> {
    let now = state.clock.now();
    let now_s = crate::clock::rfc3339(now);
    if !d.call_exists {
        // Claimed, but the call's row never written: the provider was never asked.
        let claimed = chrono::DateTime::parse_from_rfc3339(&d.updated_at).map(|t| t.with_timezone(&chrono::Utc)).unwrap_or(now);
        if now - claimed < ORPHAN_AFTER {
            return Ok(false);
        }
        contacts::settle(&state.db, &c.id, &d.id, d.call_id.as_deref(), ContactState::Pending, None, None, &now_s, true, &now_s).await?;
        return Ok(true);
    }
    let Some(status) = d.call_status.filter(|s| !s.is_live()) else { return Ok(false) };
    let ended =
        d.call_ended_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&chrono::Utc));
    if ended.is_some_and(|t| now - t < HANG_UP_GRACE) {
        return Ok(false);
    }
    let outcome = d.call_outcome.unwrap_or(match status {
        CallStatus::Completed => CallOutcome::Answered,
        _ => CallOutcome::Failed,
    });
    let again = (outcome.retryable() || status == CallStatus::Rejected) && d.attempts < c.max_attempts;
    let (state_to, next_at) = if again {
        let wait = u64::from(c.retry_delay_secs).saturating_mul(1 << d.attempts.saturating_sub(1).min(10));
        (ContactState::Pending, now + chrono::Duration::seconds(wait.min(30 * 86_400) as i64))
    } else if matches!(outcome, CallOutcome::Answered | CallOutcome::Machine | CallOutcome::Transferred) {
        (ContactState::Done, now)
    } else {
        (ContactState::Failed, now)
    };
    let reason =
        d.call_reason.as_deref().filter(|_| !matches!(outcome, CallOutcome::Answered | CallOutcome::Machine | CallOutcome::Transferred));
    let next = crate::clock::rfc3339(next_at);
    contacts::settle(&state.db, &c.id, &d.id, d.call_id.as_deref(), state_to, Some(outcome), reason, &next, false, &now_s).await?;
    Ok(true)
}

/// Claims up to `free` due contacts of `c` and places their calls at the campaign's pace.
async fn fill(
    state: &AppState,
    c: &CampaignRow,
    owner: &Owner,
    pace: &mut Pace,
    free: usize,
    tx: &mpsc::Sender<Feedback>,
) -> Result<(), crate::db::DbError> {
    if pace.pool_read.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
        let mut pool = Vec::new();
        for id in &c.phone_ids {
            if let Some(n) = crate::db::phone_numbers::get(&state.db, owner, id).await? {
                pool.push((n.id, n.provider));
            }
        }
        pace.pool = pool;
        pace.pool_read = Some(Instant::now());
    }
    if pace.pool.is_empty() {
        let _ = tx.try_send(Feedback::Pause {
            campaign: c.id.clone(),
            owner: owner.id().to_string(),
            reason: "none of its numbers exists any more".into(),
        });
        return Ok(());
    }
    let now = state.clock.now();
    let now_s = crate::clock::rfc3339(now);
    let window = match (domain::campaign::parse_hhmm(&c.hours_from), domain::campaign::parse_hhmm(&c.hours_to)) {
        (Some(from), Some(to)) => Some(Window { from, to }),
        _ => None,
    };
    let campaign_tz = c.timezone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC);
    let mut left = free;
    for contact in contacts::due(&state.db, &c.id, &now_s, free * 2).await? {
        if left == 0 || Instant::now() < pace.next_dial {
            break;
        }
        let tz = zone_of(contact.timezone.as_deref(), &contact.phone, campaign_tz);
        if let Some(opens) = next_opening(window, tz, now) {
            contacts::defer(&state.db, &contact.id, &crate::clock::rfc3339(opens), &now_s).await?;
            continue;
        }
        let (phone_id, provider) = pace.pool[pace.turn % pace.pool.len()].clone();
        pace.turn = pace.turn.wrapping_add(1);
        let dial_id = format!("og{}", crate::secrets::random_string(b"0123456789abcdef", 30));
        let call_key = crate::db::calls::key(provider, &dial_id);
        if !contacts::claim(&state.db, &c.id, &contact.id, &call_key, &now_s).await? {
            continue;
        }
        left -= 1;
        pace.next_dial =
            pace.next_dial.max(Instant::now() - Duration::from_secs(1)) + Duration::from_secs_f64(1.0 / pace.rate.max(MIN_RATE));
        tokio::spawn(dial(state.clone(), c.clone(), owner.clone(), contact, phone_id, dial_id, call_key, tx.clone()));
    }
    Ok(())
}

/// Places one contact's call and reports what the loop must act on.
#[allow(clippy::too_many_arguments)]
async fn dial(
    state: AppState,
    c: CampaignRow,
    owner: Owner,
    contact: ContactRow,
    phone_id: String,
    dial_id: String,
    call_key: String,
    tx: mpsc::Sender<Feedback>,
) {
    let call = ValidPlaceCall {
        phone_id,
        to: contact.phone.clone(),
        agent_id: Some(c.agent_id.clone()),
        variables: serde_json::from_str(&contact.variables_json).unwrap_or_default(),
    };
    let origin = Origin { campaign_id: Some(c.id.clone()), contact_id: Some(contact.id.clone()), dial_id: Some(dial_id) };
    let back = |reason: Option<String>| {
        let (state, c, contact, key) = (state.clone(), c.clone(), contact.id.clone(), call_key.clone());
        async move {
            let now = state.clock.now_rfc3339();
            let r =
                contacts::settle(&state.db, &c.id, &contact, Some(&key), ContactState::Pending, None, reason.as_deref(), &now, true, &now);
            if let Err(e) = r.await {
                tracing::warn!(campaign = %c.id, error = %e, "cannot put the contact back");
            }
        }
    };
    match dial_valid(&state, &owner, &call, &origin, true).await {
        Ok(_) => {}
        Err(PlaceError::Provider { error: DialError::RateLimited { retry_after }, discarded: true, .. }) => {
            back(None).await;
            let retry_after = retry_after.unwrap_or(Duration::from_secs(1));
            let _ = tx.send(Feedback::RateLimited { campaign: c.id.clone(), retry_after }).await;
        }
        Err(PlaceError::Provider { error: DialError::Credentials, .. }) => {
            // The failed call row stays as the record of the refusal; the contact waits.
            back(Some("the provider refused the credentials".into())).await;
            let reason = "the provider refused a number's credentials".to_string();
            let _ = tx.send(Feedback::Pause { campaign: c.id.clone(), owner: owner.id().to_string(), reason }).await;
        }
        // Refused for this contact: its failed call row settles it (retried or failed).
        Err(PlaceError::Provider { .. }) => {}
        // A database hiccup (a write conflict between concurrent dials): the contact waits for the next pass.
        Err(PlaceError::Rejected(crate::errors::DomainError::Db(e))) => {
            tracing::debug!(campaign = %c.id, error = %e, "dial not written; the contact is tried again");
            back(None).await;
        }
        Err(PlaceError::Rejected(e)) => {
            back(None).await;
            let reason = e.to_string().chars().take(200).collect();
            let _ = tx.send(Feedback::Pause { campaign: c.id.clone(), owner: owner.id().to_string(), reason }).await;
        }
    }
}
