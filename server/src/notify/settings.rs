//! The user's side of notifications: their choices, the signing secret (sealed at rest, shown
//! once), the delivery log and "Send test".

use domain::notify::{
    AgentWebhook, AlertEvent, Channel, DeliveryState, DeliveryView, EventKind, NewSigningSecret, NotificationInput, NotificationSettings,
    SavedNotifications,
};

use super::signing;
use crate::db::notify_events::{self as events, EventRow, Inserted, NewEvent};
use crate::db::notify_settings::{self as repo, Choices};
use crate::errors::DomainError;
use crate::state::AppState;
use crate::users::Owner;

/// The sealing context of signing secrets.
const SEAL: &str = "notify.signing_secret";
/// Deliveries the log shows.
pub const LOG_SIZE: usize = 50;

/// The per-agent webhooks stored as JSON (an unreadable value reads as none).
pub fn agent_webhooks(json: &str) -> Vec<AgentWebhook> {
    serde_json::from_str(json).unwrap_or_default()
}

/// `owner`'s settings, the secret masked.
pub async fn get(state: &AppState, owner: &Owner) -> Result<NotificationSettings, DomainError> {
    let row = repo::get(&state.db, owner).await?.unwrap_or_default();
    let mut agent_webhooks = agent_webhooks(&row.agent_webhooks_json);
    for w in &mut agent_webhooks {
        w.agent_name = crate::db::agents::get(&state.db, owner, &w.agent_id).await?.map(|a| a.name);
    }
    Ok(NotificationSettings {
        webhook_url: row.webhook_url,
        signing_secret: row.secret_last4.as_deref().map(crate::secrets::mask_last4),
        email_to: row.email_to,
        email_events: row.email_events.iter().filter_map(|e| e.parse::<AlertEvent>().ok()).collect(),
        keywords: row.keywords,
        agent_webhooks,
        email_available: state.settings.notify.smtp.is_some(),
    })
}

/// Saves `owner`'s choices; the first save with a webhook makes the signing secret and returns
/// it once. Bad input changes nothing.
pub async fn save(state: &AppState, owner: &Owner, input: NotificationInput) -> Result<SavedNotifications, DomainError> {
    let input = input.normalized();
    let mut errors = input.validate();
    if !input.email_events.is_empty() && state.settings.notify.smtp.is_none() {
        errors.push(domain::FieldError::new("emailEvents", "E-mail alerts are off on this server: its operator has not configured SMTP."));
    }
    let urls = std::iter::once(("webhookUrl".to_string(), &input.webhook_url))
        .chain(input.agent_webhooks.iter().enumerate().map(|(i, w)| (format!("agentWebhooks.{i}.url"), &w.url)));
    for (field, url) in urls {
        if !url.is_empty() && errors.iter().all(|e| e.field != field) && url::Url::parse(url).map_or(true, |u| u.host_str().is_none()) {
            errors.push(domain::FieldError::new(&field, "This is not a valid URL."));
        }
    }
    for (i, w) in input.agent_webhooks.iter().enumerate() {
        if !w.agent_id.is_empty() && crate::db::agents::get(&state.db, owner, &w.agent_id).await?.is_none() {
            errors.push(domain::FieldError::new(&format!("agentWebhooks.{i}.agentId"), "No such agent."));
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let agents_json = serde_json::to_string(&input.agent_webhooks).map_err(crate::db::DbError::from)?;
    let had_secret = repo::get(&state.db, owner).await?.and_then(|r| r.secret_sealed).is_some();
    let wants_secret = !input.webhook_url.is_empty() || !input.agent_webhooks.is_empty();
    let new_secret = (wants_secret && !had_secret).then(signing::new_secret);
    let sealed = new_secret.as_ref().map(|s| (state.secret_key().seal(SEAL, s), crate::secrets::last4(s)));
    let choices = Choices {
        webhook_url: Some(input.webhook_url.as_str()).filter(|u| !u.is_empty()),
        email_to: Some(input.email_to.as_str()).filter(|u| !u.is_empty()),
        email_events: &input.email_events,
        keywords: &input.keywords,
        agent_webhooks_json: &agents_json,
        new_secret: sealed.as_ref().map(|(s, l)| (s.as_str(), l.as_str())),
    };
    repo::save(&state.db, owner, &choices, &state.clock.now_rfc3339()).await?;
    tracing::info!(user_id = %owner.id(), webhook = choices.webhook_url.is_some(), alerts = input.email_events.len(), "notification settings saved");
    Ok(SavedNotifications { settings: get(state, owner).await?, new_secret })
}

/// Makes a new signing secret (the old one stops signing at once) and returns it once.
pub async fn rotate_secret(state: &AppState, owner: &Owner) -> Result<NewSigningSecret, DomainError> {
    let secret = signing::new_secret();
    let sealed = state.secret_key().seal(SEAL, &secret);
    repo::set_secret(&state.db, owner, &sealed, &crate::secrets::last4(&secret), &state.clock.now_rfc3339()).await?;
    tracing::info!(user_id = %owner.id(), "webhook signing secret made");
    Ok(NewSigningSecret { secret })
}

/// `owner`'s signing secret, opened; `None` when there is none (or it cannot be opened).
pub(crate) async fn secret(state: &AppState, owner: &Owner) -> Result<Option<String>, DomainError> {
    let Some(sealed) = repo::get(&state.db, owner).await?.and_then(|r| r.secret_sealed) else { return Ok(None) };
    match state.secret_key().open(SEAL, &sealed) {
        Ok(s) => Ok(Some(s)),
        Err(_) => {
            tracing::error!(user_id = %owner.id(), "the webhook signing secret cannot be opened (was the secret key changed?)");
            Ok(None)
        }
    }
}

/// How a delivery row reads in the log.
pub fn view(r: EventRow) -> DeliveryView {
    let waiting = matches!(r.state, DeliveryState::Pending);
    DeliveryView {
        id: r.id,
        channel: r.channel,
        event: r.event,
        call_id: r.call_id,
        target: r.target,
        state: r.state,
        attempts: r.attempts,
        last_status: r.last_status,
        last_error: r.last_error,
        next_at: waiting.then_some(r.next_at),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// `owner`'s latest deliveries, newest first.
pub async fn deliveries(state: &AppState, owner: &Owner) -> Result<Vec<DeliveryView>, DomainError> {
    Ok(events::recent(&state.db, owner, LOG_SIZE).await?.into_iter().map(view).collect())
}

/// Queues a test event to `owner`'s webhook and tries it at once; returns the delivery as it
/// stands after that try (delivered, or pending a retry with the reason).
pub async fn send_test(state: &AppState, owner: &Owner) -> Result<DeliveryView, DomainError> {
    let row = repo::get(&state.db, owner).await?;
    let Some(url) = row.and_then(|r| r.webhook_url) else {
        return Err(DomainError::field("webhookUrl", "Save a webhook URL first."));
    };
    let key = format!("evt_test_{}", crate::db::new_key());
    let now = state.clock.now_rfc3339();
    let e = NewEvent {
        key: &key,
        owner_id: owner.id(),
        channel: Channel::Webhook,
        event: EventKind::Test,
        call_id: None,
        target: &url,
        detail: None,
        next_at: &now,
    };
    match events::insert(&state.db, &e, super::MAX_PENDING_PER_USER, &now).await? {
        Inserted::Queued => {}
        Inserted::Duplicate => return Err(DomainError::field("webhookUrl", "A test is already on its way.")),
        Inserted::Full => return Err(DomainError::field("webhookUrl", "Too many notifications are waiting; try again later.")),
    }
    super::worker::try_now(state, &key).await;
    events::get(&state.db, owner, &key).await?.map(view).ok_or(DomainError::NotFound("delivery"))
}
