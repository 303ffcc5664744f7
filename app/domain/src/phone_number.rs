//! Phone numbers: the old product's record, and the rules for importing one.

use serde::{Deserialize, Serialize};

use crate::call::CallStatus;
use crate::{FieldError, check_len, choose_message};

mod checks;
mod plivo;
mod twilio;
mod vonage;

pub use checks::{
    CheckStatus, DoctorCheck, DoctorReport, ImportProgress, ImportReport, ImportRowError, PreviewRow, VerificationView, VerifyStatus,
};
pub use plivo::{PLIVO_CONTENT_TYPES, PlivoConfig, PlivoConfigInput, PlivoConfigView, check_plivo_auth_id, check_plivo_auth_token};
pub use twilio::{TwilioConfig, TwilioConfigInput, TwilioConfigView, check_twilio_account_sid, check_twilio_auth_token};
pub use vonage::{
    VONAGE_SAMPLE_RATES, VonageConfig, VonageConfigInput, VonageConfigView, check_vonage_api_key, check_vonage_private_key_shape,
};

choice_enum! {
    /// The telephony provider a number (and its calls) comes from (serde: lowercase).
    pub enum Provider {
        Exotel = ("exotel", "Exotel"),
        Twilio = ("twilio", "Twilio"),
        Vonage = ("vonage", "Vonage"),
        Plivo = ("plivo", "Plivo"),
        Other = ("other", "Other"),
    }
}

choice_enum! {
    /// Whether a number answers calls: only an active one does (serde: lowercase).
    #[derive(Default)]
    pub enum NumberStatus {
        #[default]
        Active = ("active", "Active"),
        Inactive = ("inactive", "Inactive"),
        Error = ("error", "Error"),
    }
}

/// Exotel regions; `in` is served from Mumbai, the rest from Singapore.
pub const REGIONS: &[(&str, &str)] = &[("in", "India (Mumbai)"), ("sg", "Singapore"), ("us", "United States"), ("ae", "UAE")];

/// The API host Exotel documents for a region (shared/protocols/EXOTEL.md §3).
pub fn exotel_domain_for(region: &str) -> &'static str {
    if region == "in" { "api.in.exotel.com" } else { "api.exotel.com" }
}

/// Exotel settings as submitted; empty key/token on edit keep the stored ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct ExotelConfigInput {
    pub api_key: Option<String>,
    pub api_token: Option<String>,
    pub sid: String,
    pub app_id: Option<String>,
    pub domain: String,
    pub region: String,
}

/// What a user submits to import or edit a number (the old product's JSON field names).
/// `provider` and `status` are [`Provider`] and [`NumberStatus`] strings, kept as strings so a
/// bad one is a field error of [`PhoneNumberInput::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct PhoneNumberInput {
    pub phone_number: String,
    pub display_name: String,
    pub provider: String,
    pub exotel_config: Option<ExotelConfigInput>,
    pub twilio_config: Option<TwilioConfigInput>,
    pub vonage_config: Option<VonageConfigInput>,
    pub plivo_config: Option<PlivoConfigInput>,
    pub linked_agent_id: Option<String>,
    pub status: Option<String>,
}

/// Exotel settings after validation; `None` credentials mean "keep what is stored".
#[derive(Debug, Clone, PartialEq)]
pub struct ExotelConfig {
    pub api_key: Option<String>,
    pub api_token: Option<String>,
    pub sid: String,
    pub app_id: Option<String>,
    pub domain: String,
    pub region: String,
}

/// A validated, normalized number ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPhoneNumber {
    /// E.164, e.g. `+919876543210`.
    pub phone_number: String,
    pub display_name: String,
    pub provider: Provider,
    pub exotel: Option<ExotelConfig>,
    pub twilio: Option<TwilioConfig>,
    pub vonage: Option<VonageConfig>,
    pub plivo: Option<PlivoConfig>,
    pub linked_agent_id: Option<String>,
    pub status: NumberStatus,
}

/// Parses any common way of writing an international number into E.164.
pub fn normalize_e164(raw: &str) -> Result<String, String> {
    let cleaned: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    let cleaned = match cleaned.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => cleaned,
    };
    if cleaned.is_empty() {
        return Err("Enter the phone number.".into());
    }
    if !cleaned.starts_with('+') {
        return Err("Use the international format with the country code, e.g. +919876543210.".into());
    }
    let parsed = phonenumber::parse(None, &cleaned).map_err(|_| "This is not a phone number.".to_string())?;
    if !phonenumber::is_valid(&parsed) {
        return Err("This number is not valid for its country.".into());
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

pub(crate) fn present(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl PhoneNumberInput {
    /// Checks and normalizes; `stored_credentials` says whether an edit may leave key/token empty.
    pub fn validate(&self, stored_credentials: bool) -> Result<ValidPhoneNumber, Vec<FieldError>> {
        let mut e = Vec::new();
        let phone_number = normalize_e164(&self.phone_number).unwrap_or_else(|m| {
            e.push(FieldError::new("phoneNumber", m));
            String::new()
        });
        check_len(&mut e, "displayName", &self.display_name, 0, 80, "");
        let provider = self.provider.parse::<Provider>().ok();
        if provider.is_none() {
            e.push(FieldError::new("provider", choose_message::<Provider>()));
        }
        let status = match self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(NumberStatus::default()),
            Some(s) => s.parse::<NumberStatus>().ok(),
        };
        if status.is_none() {
            e.push(FieldError::new("status", choose_message::<NumberStatus>()));
        }
        let exotel = if provider == Some(Provider::Exotel) { self.validate_exotel(stored_credentials, &mut e) } else { None };
        let twilio = if provider == Some(Provider::Twilio) { self.validate_twilio(stored_credentials, &mut e) } else { None };
        let vonage = if provider == Some(Provider::Vonage) { self.validate_vonage(stored_credentials, &mut e) } else { None };
        let plivo = if provider == Some(Provider::Plivo) { self.validate_plivo(stored_credentials, &mut e) } else { None };
        match (provider, status) {
            (Some(provider), Some(status)) if e.is_empty() => Ok(ValidPhoneNumber {
                phone_number,
                display_name: self.display_name.trim().to_string(),
                provider,
                exotel,
                twilio,
                vonage,
                plivo,
                linked_agent_id: present(&self.linked_agent_id),
                status,
            }),
            _ => Err(e),
        }
    }

    fn validate_exotel(&self, stored_credentials: bool, e: &mut Vec<FieldError>) -> Option<ExotelConfig> {
        let Some(c) = &self.exotel_config else {
            e.push(FieldError::new("exotelConfig", "Enter the Exotel settings: API key, API token and account SID."));
            return None;
        };
        let api_key = present(&c.api_key);
        let api_token = present(&c.api_token);
        for (field, value, what) in [("exotelConfig.apiKey", &api_key, "API key"), ("exotelConfig.apiToken", &api_token, "API token")] {
            match value {
                None if !stored_credentials => e.push(FieldError::new(field, format!("Enter the {what} from Exotel's API settings."))),
                Some(v) if v.len() > 200 || v.chars().any(char::is_whitespace) => {
                    e.push(FieldError::new(field, format!("The {what} has no spaces and at most 200 characters.")))
                }
                _ => {}
            }
        }
        let sid = c.sid.trim().to_string();
        if sid.is_empty() {
            e.push(FieldError::new("exotelConfig.sid", "Enter your Exotel account SID."));
        } else if sid.len() > 64 || !sid.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
            e.push(FieldError::new("exotelConfig.sid", "An account SID has only letters, digits, - and _."));
        }
        let region = c.region.trim().to_lowercase();
        if !REGIONS.iter().any(|(k, _)| *k == region) {
            e.push(FieldError::new("exotelConfig.region", "Choose in, sg, us or ae."));
        }
        let expected = exotel_domain_for(&region);
        let domain = c.domain.trim().trim_start_matches("https://").trim_end_matches('/').to_lowercase();
        let domain = if domain.is_empty() { expected.to_string() } else { domain };
        if REGIONS.iter().any(|(k, _)| *k == region) && domain != expected {
            e.push(FieldError::new("exotelConfig.domain", format!("Region {region} uses {expected}.")));
        }
        let app_id = present(&c.app_id);
        if app_id.as_ref().is_some_and(|a| a.len() > 64 || !a.chars().all(|ch| ch.is_ascii_alphanumeric())) {
            e.push(FieldError::new("exotelConfig.appId", "An app id has only letters and digits."));
        }
        Some(ExotelConfig { api_key, api_token, sid, app_id, domain, region })
    }
}

#[cfg(test)]
mod tests;

/// Exotel settings as every read shows them: credentials masked to their last 4 characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExotelConfigView {
    pub api_key: String,
    pub api_token: String,
    pub sid: String,
    pub app_id: Option<String>,
    pub domain: String,
    pub region: String,
}

/// A phone number as every read shows it (the old product's field names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumberView {
    pub id: String,
    pub phone_number: String,
    pub display_name: String,
    pub provider: Provider,
    pub exotel_config: Option<ExotelConfigView>,
    #[serde(default)]
    pub twilio_config: Option<TwilioConfigView>,
    #[serde(default)]
    pub vonage_config: Option<VonageConfigView>,
    #[serde(default)]
    pub plivo_config: Option<PlivoConfigView>,
    pub linked_agent_id: Option<String>,
    pub linked_agent_name: Option<String>,
    /// HTTPS answer URL for the provider's webhook (Twilio: the number's Voice URL, HTTP POST;
    /// Vonage and Plivo: the application's answer URL).
    pub webhook_url: String,
    /// Where the provider reports the call's progress: Vonage's event URL, Plivo's hangup URL
    /// (empty for other providers).
    #[serde(default)]
    pub event_url: String,
    /// WebSocket URL for Exotel's Voicebot applet.
    pub websocket_url: String,
    /// HTTPS URL for the Voicebot applet's dynamic-URL mode (answers `{"url": "wss://…"}`).
    pub voicebot_url: String,
    pub status: NumberStatus,
    pub last_used: Option<String>,
    /// The newest call to this number.
    #[serde(default)]
    pub last_call: Option<LastCall>,
    /// The last ownership check (none before the first).
    #[serde(default)]
    pub verification: Option<VerificationView>,
    /// When the provider last confirmed the account owns the number.
    #[serde(default)]
    pub last_verified: Option<String>,
    /// The credentials are the operator's defaults (never shown).
    #[serde(default)]
    pub credentials_from_env: bool,
    /// How calls are routed (hours, menu); none: the linked agent answers every call.
    #[serde(default)]
    pub routing: Option<crate::routing::Routing>,
    pub created_at: String,
    pub updated_at: String,
}

/// A number's newest call, as its card shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LastCall {
    pub id: String,
    pub caller: Option<String>,
    pub status: CallStatus,
    pub started_at: String,
}

/// One page of a phone number listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumberPage {
    pub phone_numbers: Vec<PhoneNumberView>,
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
}

/// Filters for a listing; every one is optional. `status` and `provider` are [`NumberStatus`]
/// and [`Provider`] strings, kept as strings so a bad one is a field error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase", default)]
pub struct PhoneNumberQuery {
    /// Matches the number's digits or its display name.
    pub q: Option<String>,
    pub status: Option<String>,
    pub agent_id: Option<String>,
    pub provider: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}
