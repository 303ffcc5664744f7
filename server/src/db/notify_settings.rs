//! `notify_settings` rows: one per user (keyed by the user's key), holding the webhook URL, the
//! sealed signing secret and the e-mail alert choices.

use serde::Deserialize;
use serde_json::json;

use super::{Db, DbError, row, rows};
use crate::users::Owner;

/// A user's stored settings (the secret still sealed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsRow {
    pub webhook_url: Option<String>,
    pub secret_sealed: Option<String>,
    pub secret_last4: Option<String>,
    pub email_to: Option<String>,
    #[serde(default)]
    pub email_events: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub agent_webhooks_json: String,
}

const PROJECTION: &str = "webhook_url, secret_sealed, secret_last4, email_to, email_events, keywords, agent_webhooks_json";

/// What a save writes.
#[derive(Debug, Clone)]
pub struct Choices<'a> {
    pub webhook_url: Option<&'a str>,
    pub email_to: Option<&'a str>,
    pub email_events: &'a [String],
    pub keywords: &'a [String],
    pub agent_webhooks_json: &'a str,
    /// A first signing secret, sealed, and its last 4 (written with the choices, in one statement).
    pub new_secret: Option<(&'a str, &'a str)>,
}

/// `owner`'s settings, if saved once.
pub async fn get(db: &Db, owner: &Owner) -> Result<Option<SettingsRow>, DbError> {
    row(db, &format!("SELECT {PROJECTION} FROM type::record('notify_settings', $owner)"), json!({ "owner": owner.id() })).await
}

/// Saves `owner`'s choices, keeping the signing secret unless `new_secret` is given.
pub async fn save(db: &Db, owner: &Owner, c: &Choices<'_>, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPSERT type::record('notify_settings', $owner) SET owner = type::record('user', $owner), webhook_url = $url ?? NONE,
            email_to = $email ?? NONE, email_events = $events, keywords = $keywords, agent_webhooks_json = $agents,
            secret_sealed = $sealed ?? secret_sealed, secret_last4 = $last4 ?? secret_last4, updated_at = <datetime>$now RETURN NONE",
        json!({
            "owner": owner.id(), "url": c.webhook_url, "email": c.email_to, "events": c.email_events, "keywords": c.keywords,
            "agents": c.agent_webhooks_json, "sealed": c.new_secret.map(|s| s.0), "last4": c.new_secret.map(|s| s.1), "now": now,
        }),
    )
    .await
    .map(|_| ())
}

/// Stores a new sealed signing secret (the old one stops being used at once).
pub async fn set_secret(db: &Db, owner: &Owner, sealed: &str, last4: &str, now: &str) -> Result<(), DbError> {
    rows::<serde_json::Value>(
        db,
        "UPSERT type::record('notify_settings', $owner) SET owner = type::record('user', $owner), secret_sealed = $sealed,
            secret_last4 = $last4, email_events = email_events ?? [], keywords = keywords ?? [],
            agent_webhooks_json = agent_webhooks_json ?? '[]', updated_at = <datetime>$now RETURN NONE",
        json!({ "owner": owner.id(), "sealed": sealed, "last4": last4, "now": now }),
    )
    .await
    .map(|_| ())
}
