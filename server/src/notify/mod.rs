//! End-of-call notifications: a signed JSON summary to the user's webhook (and the call's
//! agent's, when set), and e-mail alerts for chosen events, all through one queue in the
//! database that a background worker drains with back-off (crate::notify::worker).
//!
//! - `signing`: the `Voxgate-Signature` header (HMAC-SHA256 over `<t>.<body>`).
//! - `payload`: the JSON summary of a call.
//! - `webhook`, `email`: one try of each channel.
//! - `settings`: the user's choices, the signing secret, the delivery log, "Send test".
//! - `worker`: leases due deliveries, sends them, schedules retries.
//!
//! The hooks here ([`call_ended`], [`caller_turn`], [`transfer_requested`]) are called where
//! calls end or turns are stored; they never slow or fail a call: they queue in the
//! background and only log what goes wrong.

pub mod email;
pub mod payload;
pub mod settings;
pub mod signing;
pub mod webhook;
pub mod worker;

use domain::call::{CallStatus, Role, TurnKind};
use domain::notify::{AlertEvent, Channel, EventKind};
use domain::outbound::CallOutcome;
use sha2::{Digest, Sha256};

use crate::db::notify_events::{self as events, Inserted, NewEvent};
use crate::db::{Db, DbError, notify_settings};
use crate::state::AppState;
use crate::users::Owner;

/// Most deliveries one user may have waiting; past it new ones are dropped (and logged).
pub const MAX_PENDING_PER_USER: usize = 1000;
/// An end-of-call delivery waits this long before its first try, so a provider's callback that
/// ends a call just before its stream stores the last turn still sends the whole transcript.
pub const SETTLE: chrono::Duration = chrono::Duration::seconds(2);

/// The event id of one delivery: derived from what it is about, so the same event queued twice
/// (a call ended by its stream and by its provider's callback) is one row.
pub fn event_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    format!("evt_{}", &hex::encode(h.finalize())[..32])
}

/// A call reached its end (completed, failed or rejected): queue its webhooks and, for a
/// failed call, its e-mail alert. Returns at once.
pub fn call_ended(state: &AppState, call_key: &str) {
    let (state, key) = (state.clone(), call_key.to_string());
    tokio::spawn(async move {
        if let Err(e) = queue_call_end(&state, &key).await {
            tracing::warn!(call = %key, error = %e, "cannot queue the call's notifications");
        }
    });
}

/// Whether a call's end is a failure worth an alert: failed or turned away, but not an
/// outbound call its callee did not pick up (busy, no answer, canceled: a campaign's daily bread).
fn failed(status: CallStatus, outcome: Option<CallOutcome>) -> bool {
    matches!(status, CallStatus::Failed | CallStatus::Rejected)
        && !matches!(outcome, Some(CallOutcome::Busy | CallOutcome::NoAnswer | CallOutcome::Canceled | CallOutcome::Machine))
}

/// Queues the deliveries of a call's end; the queued count (0 when nothing is configured).
pub async fn queue_call_end(state: &AppState, call_key: &str) -> Result<usize, DbError> {
    let Some(call) = crate::db::calls::get_by_key(&state.db, call_key).await? else { return Ok(0) };
    if call.status.is_live() {
        return Ok(0);
    }
    let owner = Owner::of_row(call.owner_id.clone());
    let Some(s) = notify_settings::get(&state.db, &owner).await? else { return Ok(0) };
    let now = state.clock.now();
    let at = crate::clock::rfc3339(now + SETTLE);
    let mut targets: Vec<String> = s.webhook_url.iter().cloned().collect();
    if let Some(agent) = &call.agent_id {
        for w in settings::agent_webhooks(&s.agent_webhooks_json) {
            if &w.agent_id == agent && !targets.contains(&w.url) {
                targets.push(w.url);
            }
        }
    }
    let mut queued = 0;
    for url in &targets {
        let key = event_key(&["webhook", EventKind::CallEnded.as_str(), call_key, url]);
        let e = NewEvent {
            key: &key,
            owner_id: owner.id(),
            channel: Channel::Webhook,
            event: EventKind::CallEnded,
            call_id: Some(call_key),
            target: url,
            detail: None,
            next_at: &at,
        };
        queued += usize::from(enqueue(state, &e).await? == Inserted::Queued);
    }
    if failed(call.status, call.outcome)
        && let Some(to) = wants(state, &s, AlertEvent::CallFailed)
    {
        let key = event_key(&["email", EventKind::CallFailed.as_str(), call_key]);
        let e = NewEvent { key: &key, target: &to, ..email(&owner, call_key, &at) };
        queued += usize::from(enqueue(state, &e).await? == Inserted::Queued);
    }
    Ok(queued)
}

/// The address an alert for `event` goes to, when the user chose it and SMTP is configured.
fn wants(state: &AppState, s: &notify_settings::SettingsRow, event: AlertEvent) -> Option<String> {
    let chosen = s.email_events.iter().any(|e| e == event.as_str());
    if chosen && state.settings.notify.smtp.is_none() {
        tracing::debug!(event = event.as_str(), "e-mail alert chosen but no SMTP server is configured");
    }
    s.email_to.clone().filter(|_| chosen && state.settings.notify.smtp.is_some())
}

/// An e-mail delivery's common fields.
fn email<'a>(owner: &'a Owner, call_key: &'a str, at: &'a str) -> NewEvent<'a> {
    NewEvent {
        key: "",
        owner_id: owner.id(),
        channel: Channel::Email,
        event: EventKind::CallFailed,
        call_id: Some(call_key),
        target: "",
        detail: None,
        next_at: at,
    }
}

async fn enqueue(state: &AppState, e: &NewEvent<'_>) -> Result<Inserted, DbError> {
    let inserted = events::insert(&state.db, e, MAX_PENDING_PER_USER, &state.clock.now_rfc3339()).await?;
    if inserted == Inserted::Full {
        tracing::warn!(user_id = %e.owner_id, event = e.event.as_str(), "too many notifications waiting; this one is dropped");
    }
    Ok(inserted)
}

/// The caller asked for a person: e-mails the alert when the user chose it. For the transfer
/// work to call; `destination` is where the call is handed (shown in the e-mail).
pub async fn transfer_requested(state: &AppState, owner: &Owner, call_key: &str, destination: &str) -> Result<bool, DbError> {
    let Some(s) = notify_settings::get(&state.db, owner).await? else { return Ok(false) };
    let Some(to) = wants(state, &s, AlertEvent::TransferRequested) else { return Ok(false) };
    let key = event_key(&["email", EventKind::TransferRequested.as_str(), call_key]);
    let at = state.clock.now_rfc3339();
    let detail: String = destination.chars().take(100).collect();
    let e = NewEvent { key: &key, event: EventKind::TransferRequested, target: &to, detail: Some(&detail), ..email(owner, call_key, &at) };
    Ok(enqueue(state, &e).await? == Inserted::Queued)
}

/// A caller turn was stored: e-mails an alert for each of the user's key words it holds (once
/// per key word and call). Runs in the background; `db` is all the voice pipeline has, so the
/// alert is queued whenever chosen (saving the choice needs SMTP configured).
pub fn caller_turn(db: &Db, turn: &crate::db::turns::NewTurn) {
    if turn.role != Role::Caller || turn.kind != TurnKind::Speech {
        return;
    }
    let (db, call_key, owner, text) = (db.clone(), turn.call_key.clone(), turn.owner_id.clone(), turn.text.clone());
    tokio::spawn(async move {
        if let Err(e) = queue_keywords(&db, &Owner::of_row(owner), &call_key, &text).await {
            tracing::warn!(call = %call_key, error = %e, "cannot check the turn for key words");
        }
    });
}

/// Queues the alerts of the key words `text` holds; how many were queued.
pub async fn queue_keywords(db: &Db, owner: &Owner, call_key: &str, text: &str) -> Result<usize, DbError> {
    let Some(s) = notify_settings::get(db, owner).await? else { return Ok(0) };
    let Some(to) = s.email_to.clone().filter(|_| s.email_events.iter().any(|e| e == AlertEvent::Keyword.as_str())) else { return Ok(0) };
    let now = crate::clock::rfc3339(chrono::Utc::now());
    let mut queued = 0;
    for word in s.keywords.iter().filter(|k| said(text, k)) {
        let key = event_key(&["email", EventKind::KeywordSaid.as_str(), call_key, word]);
        let e = NewEvent { key: &key, event: EventKind::KeywordSaid, target: &to, detail: Some(word), ..email(owner, call_key, &now) };
        let inserted = events::insert(db, &e, MAX_PENDING_PER_USER, &now).await?;
        queued += usize::from(inserted == Inserted::Queued);
    }
    Ok(queued)
}

/// Whether `text` holds `keyword` as whole words (case and punctuation ignored).
pub fn said(text: &str, keyword: &str) -> bool {
    let words = |s: &str| {
        let w: Vec<String> = s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        format!(" {} ", w.join(" "))
    };
    let k = words(keyword);
    !k.trim().is_empty() && words(text).contains(&k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_words_match_whole_words_only() {
        assert!(said("I want a REFUND, now!", "refund"));
        assert!(said("Get me your manager please", "your manager"));
        assert!(!said("refunded already", "refund"));
        assert!(!said("anything", ""));
    }

    #[test]
    fn event_keys_are_stable_and_distinct() {
        assert_eq!(event_key(&["a", "b"]), event_key(&["a", "b"]));
        assert_ne!(event_key(&["a", "b"]), event_key(&["ab", ""]));
        assert!(event_key(&["x"]).starts_with("evt_"));
    }

    #[test]
    fn unanswered_outbound_calls_are_not_failures_to_alert() {
        assert!(failed(CallStatus::Failed, None));
        assert!(failed(CallStatus::Rejected, None));
        assert!(failed(CallStatus::Failed, Some(CallOutcome::Failed)));
        assert!(!failed(CallStatus::Failed, Some(CallOutcome::NoAnswer)));
        assert!(!failed(CallStatus::Completed, None));
    }
}
