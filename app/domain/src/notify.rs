//! End-of-call notifications: a signed webhook per user (and optionally per agent) and e-mail
//! alerts for chosen events, with the delivery log the Settings page shows.

use serde::{Deserialize, Serialize};

use crate::FieldError;

choice_enum! {
    /// An event a user can be e-mailed about.
    pub enum AlertEvent {
        CallFailed = ("call_failed", "Failed call"),
        TransferRequested = ("transfer_requested", "Transfer requested"),
        Keyword = ("keyword", "Key word said"),
    }
}

choice_enum! {
    /// What a delivery is about (the webhook's `type`).
    pub enum EventKind {
        CallEnded = ("call.ended", "Call ended"),
        CallFailed = ("call.failed", "Call failed"),
        TransferRequested = ("transfer.requested", "Transfer requested"),
        KeywordSaid = ("keyword.said", "Key word said"),
        Test = ("test", "Test"),
    }
}

choice_enum! {
    /// How a delivery travels.
    pub enum Channel {
        Webhook = ("webhook", "Webhook"),
        Email = ("email", "E-mail"),
    }
}

choice_enum! {
    /// Where a delivery is: waiting (first try or a retry), being sent, or done either way.
    pub enum DeliveryState {
        Pending = ("pending", "Pending"),
        Sending = ("sending", "Sending"),
        Delivered = ("delivered", "Delivered"),
        Failed = ("failed", "Failed"),
    }
}

/// Longest webhook URL.
pub const MAX_URL: usize = 2000;
/// Most key words a user can watch for.
pub const MAX_KEYWORDS: usize = 50;
/// Longest key word.
pub const MAX_KEYWORD: usize = 60;

/// What a user saves: an empty URL or address turns that channel off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NotificationInput {
    pub webhook_url: String,
    pub email_to: String,
    /// [`AlertEvent`] strings (kept strings so an unknown one is a field error).
    pub email_events: Vec<String>,
    pub keywords: Vec<String>,
    /// Webhook URLs for single agents' calls (sent in addition to `webhookUrl`).
    pub agent_webhooks: Vec<AgentWebhook>,
}

/// Most per-agent webhook URLs.
pub const MAX_AGENT_WEBHOOKS: usize = 20;

impl NotificationInput {
    /// Trims every value, lower-cases the key words and drops empty ones and repeats.
    pub fn normalized(mut self) -> Self {
        self.webhook_url = self.webhook_url.trim().to_string();
        self.email_to = self.email_to.trim().to_string();
        self.email_events = self.email_events.iter().map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).collect();
        let mut seen = Vec::new();
        for k in self.keywords.iter().map(|k| k.trim().to_lowercase()).filter(|k| !k.is_empty()) {
            if !seen.contains(&k) {
                seen.push(k);
            }
        }
        self.keywords = seen;
        for w in &mut self.agent_webhooks {
            w.agent_id = w.agent_id.trim().to_string();
            w.url = w.url.trim().to_string();
            w.agent_name = None;
        }
        self.agent_webhooks.retain(|w| !w.agent_id.is_empty() || !w.url.is_empty());
        self
    }

    /// Every problem with this (normalized) input; empty when it may be saved.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if let Err(m) = check_webhook_url(&self.webhook_url) {
            e.push(FieldError::new("webhookUrl", m));
        }
        if !self.email_to.is_empty() && !looks_like_email(&self.email_to) {
            e.push(FieldError::new("emailTo", "Enter an e-mail address such as ops@example.com."));
        }
        if self.email_events.iter().any(|v| v.parse::<AlertEvent>().is_err()) {
            e.push(FieldError::new("emailEvents", crate::choose_message::<AlertEvent>()));
        }
        if !self.email_events.is_empty() && self.email_to.is_empty() {
            e.push(FieldError::new("emailTo", "Enter the address the alerts go to."));
        }
        if self.keywords.len() > MAX_KEYWORDS {
            e.push(FieldError::new("keywords", format!("Use at most {MAX_KEYWORDS} key words.")));
        } else if self.keywords.iter().any(|k| k.chars().count() > MAX_KEYWORD) {
            e.push(FieldError::new("keywords", format!("Use key words of at most {MAX_KEYWORD} characters.")));
        }
        if self.email_events.iter().any(|v| v == AlertEvent::Keyword.as_str()) && self.keywords.is_empty() {
            e.push(FieldError::new("keywords", "Enter the key words to watch for."));
        }
        if self.agent_webhooks.len() > MAX_AGENT_WEBHOOKS {
            e.push(FieldError::new("agentWebhooks", format!("Use at most {MAX_AGENT_WEBHOOKS} agent webhooks.")));
        }
        for (i, w) in self.agent_webhooks.iter().enumerate() {
            if w.agent_id.is_empty() {
                e.push(FieldError::new(&format!("agentWebhooks.{i}.agentId"), "Choose the agent."));
            }
            match check_webhook_url(&w.url) {
                Err(m) => e.push(FieldError::new(&format!("agentWebhooks.{i}.url"), m)),
                Ok(()) if w.url.is_empty() => e.push(FieldError::new(&format!("agentWebhooks.{i}.url"), "Enter the agent's webhook URL.")),
                Ok(()) => {}
            }
        }
        e
    }
}

/// Checks a webhook URL's form (empty is allowed: no webhook). Where it points is checked when
/// it is called (private and loopback addresses are refused then).
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Ok(());
    }
    let bad = || "Enter a URL starting with https:// (or http://), such as https://example.com/hooks/voxgate.".to_string();
    if url.chars().count() > MAX_URL {
        return Err(format!("Use at most {MAX_URL} characters."));
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or_else(bad)?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("Leave user names and passwords out of the URL.".to_string());
    }
    let host = authority.rsplit_once(':').filter(|(h, p)| !h.ends_with(']') || p.is_empty()).map_or(authority, |(h, _)| h);
    if host.is_empty() || host.starts_with('.') || host.ends_with('.') {
        return Err(bad());
    }
    Ok(())
}

/// A plausible address: `local@domain.tld`, no spaces.
pub fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && s.len() <= 254
                && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == '<' || c == '>')
        }
        None => false,
    }
}

/// A user's notification settings as read back (the signing secret masked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationSettings {
    pub webhook_url: Option<String>,
    /// `••••` + the secret's last 4; `None` until the first secret is made.
    pub signing_secret: Option<String>,
    pub email_to: Option<String>,
    pub email_events: Vec<AlertEvent>,
    pub keywords: Vec<String>,
    /// Per-agent webhook URLs (sent in addition to the user's).
    pub agent_webhooks: Vec<AgentWebhook>,
    /// Whether the operator configured SMTP (without it e-mail alerts are not sent).
    pub email_available: bool,
}

/// A webhook URL for one agent's calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentWebhook {
    pub agent_id: String,
    #[serde(default)]
    pub agent_name: Option<String>,
    pub url: String,
}

/// What a save returns: the settings, and the signing secret when this save made the first one
/// (the only time it is sent whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SavedNotifications {
    pub settings: NotificationSettings,
    pub new_secret: Option<String>,
}

/// A signing secret just made: the only time it is sent whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewSigningSecret {
    pub secret: String,
}

/// One delivery in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// Also the event id the receiver sees (`Voxgate-Event-Id`).
    pub id: String,
    pub channel: Channel,
    pub event: EventKind,
    pub call_id: Option<String>,
    /// The URL or address it goes to.
    pub target: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub next_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: &str) -> NotificationInput {
        NotificationInput { webhook_url: url.into(), ..Default::default() }.normalized()
    }

    #[test]
    fn webhook_urls_are_checked_for_form() {
        for ok in ["", "https://example.com/hook", "http://127.0.0.1:8080/x?a=1", "https://[::1]:9000/h"] {
            assert!(input(ok).validate().is_empty(), "{ok}");
        }
        for bad in ["example.com", "ftp://x.com", "https://", "https://user:pw@example.com/", "https://exa mple.com", "https://:80/"] {
            let errors = input(bad).validate();
            assert_eq!(errors.first().map(|e| e.field.as_str()), Some("webhookUrl"), "{bad}");
        }
    }

    #[test]
    fn alerts_need_an_address_known_events_and_key_words() {
        let i = NotificationInput { email_events: vec!["keyword".into()], ..Default::default() }.normalized();
        let fields: Vec<String> = i.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["emailTo", "keywords"]);
        let i = NotificationInput { email_to: "ops@example.com".into(), email_events: vec!["nope".into()], ..Default::default() };
        assert_eq!(i.normalized().validate()[0].field, "emailEvents");
        let i = NotificationInput { email_to: "not an address".into(), ..Default::default() }.normalized();
        assert_eq!(i.validate()[0].field, "emailTo");
        let i = NotificationInput {
            email_to: "ops@example.com".into(),
            email_events: vec!["call_failed".into(), " Keyword ".into()],
            keywords: vec![" Refund ".into(), "refund".into(), "".into()],
            ..Default::default()
        }
        .normalized();
        assert!(i.validate().is_empty());
        assert_eq!(i.keywords, ["refund"]);
    }
}
