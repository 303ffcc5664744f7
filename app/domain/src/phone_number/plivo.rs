//! Plivo numbers (shared/protocols/PLIVO.md): the auth id and auth token (REST calls and the
//! `X-Plivo-Signature-V3` of every webhook), and the stream's audio format.

use serde::{Deserialize, Serialize};

use super::{PhoneNumberInput, present};
use crate::FieldError;

/// The `<Stream contentType>` values Plivo takes; the first is the default (the phone network's
/// own μ-law, nothing to convert on Plivo's side).
pub const PLIVO_CONTENT_TYPES: &[&str] = &["audio/x-mulaw;rate=8000", "audio/x-l16;rate=8000", "audio/x-l16;rate=16000"];

/// Plivo settings as submitted; an empty auth token on edit keeps the stored one (unless the
/// auth id changes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct PlivoConfigInput {
    pub auth_id: String,
    pub auth_token: Option<String>,
    /// One of [`PLIVO_CONTENT_TYPES`] (default μ-law at 8 kHz).
    pub content_type: Option<String>,
}

/// Plivo settings after validation; `None` token means "keep what is stored".
#[derive(Debug, Clone, PartialEq)]
pub struct PlivoConfig {
    /// `MA` or `SA` and 18 letters and digits, uppercase.
    pub auth_id: String,
    pub auth_token: Option<String>,
    pub content_type: String,
}

/// Plivo settings as every read shows them: the auth token masked to its last 4 characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlivoConfigView {
    pub auth_id: String,
    pub auth_token: String,
    pub content_type: String,
}

/// Checks a Plivo auth id: `MA` (main account) or `SA` (subaccount) and 18 letters and digits.
pub fn check_plivo_auth_id(raw: &str) -> Result<String, String> {
    let id = raw.trim().to_ascii_uppercase();
    if id.is_empty() {
        return Err("Enter your Plivo auth id (Console, Overview).".into());
    }
    if id.len() != 20 || !(id.starts_with("MA") || id.starts_with("SA")) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("An auth id is MA or SA followed by 18 letters and digits.".into());
    }
    Ok(id)
}

/// Checks a Plivo auth token: 20 to 64 letters, digits, `-` and `_`.
pub fn check_plivo_auth_token(raw: &str) -> Result<String, String> {
    let token = raw.trim();
    if token.is_empty() {
        return Err("Enter the auth token (Console, Overview).".into());
    }
    if !(20..=64).contains(&token.len()) || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err("An auth token is 20 to 64 letters and digits.".into());
    }
    Ok(token.to_string())
}

impl PhoneNumberInput {
    pub(super) fn validate_plivo(&self, stored_credentials: bool, e: &mut Vec<FieldError>) -> Option<PlivoConfig> {
        let Some(c) = &self.plivo_config else {
            e.push(FieldError::new("plivoConfig", "Enter the Plivo settings: auth id and auth token."));
            return None;
        };
        let auth_id = check_plivo_auth_id(&c.auth_id).unwrap_or_else(|m| {
            e.push(FieldError::new("plivoConfig.authId", m));
            String::new()
        });
        let auth_token = match present(&c.auth_token) {
            None if stored_credentials => None,
            raw => check_plivo_auth_token(raw.as_deref().unwrap_or_default()).map(Some).unwrap_or_else(|m| {
                e.push(FieldError::new("plivoConfig.authToken", m));
                None
            }),
        };
        let content_type = present(&c.content_type).map(|t| t.replace(' ', "").to_ascii_lowercase());
        let content_type = content_type.as_deref().unwrap_or(PLIVO_CONTENT_TYPES[0]);
        if !PLIVO_CONTENT_TYPES.contains(&content_type) {
            e.push(FieldError::new("plivoConfig.contentType", format!("Choose {}.", PLIVO_CONTENT_TYPES.join(", "))));
        }
        Some(PlivoConfig { auth_id, auth_token, content_type: content_type.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fields;
    use super::*;

    fn plivo(id: &str, token: Option<&str>, content_type: Option<&str>) -> PhoneNumberInput {
        PhoneNumberInput {
            phone_number: "+1 415 555 2671".into(),
            provider: "plivo".into(),
            plivo_config: Some(PlivoConfigInput {
                auth_id: id.into(),
                auth_token: token.map(Into::into),
                content_type: content_type.map(Into::into),
            }),
            ..Default::default()
        }
    }

    const TOKEN: &str = "ZmM4YjY0ZTc3NzQ2YjI0ODhkYTE4";

    #[test]
    fn a_plivo_number_needs_an_auth_id_and_token() {
        let v = plivo("ma0123456789abcdefgh", Some(TOKEN), None).validate(false).unwrap().plivo.unwrap();
        assert_eq!(v.auth_id, "MA0123456789ABCDEFGH");
        assert_eq!(v.content_type, "audio/x-mulaw;rate=8000");
        let l16 = plivo("SA0123456789ABCDEFGH", Some(TOKEN), Some("audio/x-l16; rate=16000")).validate(false).unwrap();
        assert_eq!(l16.plivo.unwrap().content_type, "audio/x-l16;rate=16000");
        for bad in ["", "MA123", "XX0123456789ABCDEFGH", "MA0123456789ABCDEF-H"] {
            assert_eq!(fields(plivo(bad, Some(TOKEN), None).validate(false)), ["plivoConfig.authId"], "{bad}");
        }
        for bad in [None, Some("short"), Some("has space in the token 0123")] {
            assert_eq!(fields(plivo("MA0123456789ABCDEFGH", bad, None).validate(false)), ["plivoConfig.authToken"], "{bad:?}");
        }
        assert_eq!(fields(plivo("MA0123456789ABCDEFGH", Some(TOKEN), Some("audio/wav")).validate(false)), ["plivoConfig.contentType"]);
        // An edit may keep the stored token.
        assert_eq!(plivo("MA0123456789ABCDEFGH", None, None).validate(true).unwrap().plivo.unwrap().auth_token, None);
        let missing = PhoneNumberInput { plivo_config: None, ..plivo("MA0123456789ABCDEFGH", None, None) };
        assert_eq!(fields(missing.validate(false)), ["plivoConfig"]);
    }
}
