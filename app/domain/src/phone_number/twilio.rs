//! Twilio numbers: the account SID and auth token (shared/protocols/TWILIO.md).

use serde::{Deserialize, Serialize};

use super::{PhoneNumberInput, present};
use crate::FieldError;

/// Twilio settings as submitted; an empty auth token on edit keeps the stored one (unless the
/// account changes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct TwilioConfigInput {
    pub account_sid: String,
    pub auth_token: Option<String>,
}

/// Twilio settings after validation; `None` token means "keep what is stored".
#[derive(Debug, Clone, PartialEq)]
pub struct TwilioConfig {
    /// `AC` and 32 lowercase hex digits.
    pub account_sid: String,
    pub auth_token: Option<String>,
}

/// Checks a Twilio account SID: `AC` and 32 hex digits (lowercased).
pub fn check_twilio_account_sid(raw: &str) -> Result<String, String> {
    let sid = raw.trim();
    if sid.is_empty() {
        return Err("Enter your Twilio account SID (Console, Account Info).".into());
    }
    let hex = sid.strip_prefix("AC").or_else(|| sid.strip_prefix("ac")).unwrap_or_default();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("An account SID is AC followed by 32 hex digits.".into());
    }
    Ok(format!("AC{}", hex.to_ascii_lowercase()))
}

/// Checks a Twilio auth token: 32 letters and digits.
pub fn check_twilio_auth_token(raw: &str) -> Result<String, String> {
    let token = raw.trim();
    if token.is_empty() {
        return Err("Enter the auth token (Console, Account Info).".into());
    }
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("An auth token is 32 letters and digits.".into());
    }
    Ok(token.to_string())
}

/// Twilio settings as every read shows them: the auth token masked to its last 4 characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TwilioConfigView {
    pub account_sid: String,
    pub auth_token: String,
}

impl PhoneNumberInput {
    pub(super) fn validate_twilio(&self, stored_credentials: bool, e: &mut Vec<FieldError>) -> Option<TwilioConfig> {
        let Some(c) = &self.twilio_config else {
            e.push(FieldError::new("twilioConfig", "Enter the Twilio settings: account SID and auth token."));
            return None;
        };
        let account_sid = check_twilio_account_sid(&c.account_sid).unwrap_or_else(|m| {
            e.push(FieldError::new("twilioConfig.accountSid", m));
            String::new()
        });
        let auth_token = match present(&c.auth_token) {
            None if stored_credentials => None,
            raw => check_twilio_auth_token(raw.as_deref().unwrap_or_default()).map(Some).unwrap_or_else(|m| {
                e.push(FieldError::new("twilioConfig.authToken", m));
                None
            }),
        };
        Some(TwilioConfig { account_sid, auth_token })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fields;
    use super::*;

    fn twilio(sid: &str, token: Option<&str>) -> PhoneNumberInput {
        PhoneNumberInput {
            phone_number: "+1 415 555 2671".into(),
            provider: "twilio".into(),
            twilio_config: Some(TwilioConfigInput { account_sid: sid.into(), auth_token: token.map(Into::into) }),
            ..Default::default()
        }
    }

    #[test]
    fn a_twilio_number_needs_an_account_sid_and_an_auth_token() {
        let sid = "AC0123456789ABCDEF0123456789abcdef";
        let v = twilio(sid, Some("0123456789abcdef0123456789abcdef")).validate(false).unwrap();
        let t = v.twilio.unwrap();
        assert_eq!(t.account_sid, "AC0123456789abcdef0123456789abcdef");
        assert_eq!(t.auth_token.as_deref(), Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(v.phone_number, "+14155552671");
        // The SID's shape: AC + 32 hex digits.
        for bad in ["", "AC123", "PN0123456789abcdef0123456789abcdef", "AC0123456789abcdef0123456789abcdeg"] {
            assert_eq!(fields(twilio(bad, Some("0123456789abcdef0123456789abcdef")).validate(false)), ["twilioConfig.accountSid"], "{bad}");
        }
        for bad in [None, Some(" "), Some("short"), Some("0123456789abcdef 123456789abcdef")] {
            assert_eq!(fields(twilio(sid, bad).validate(false)), ["twilioConfig.authToken"], "{bad:?}");
        }
        // An edit may keep the stored token, but a token given is still checked.
        assert_eq!(twilio(sid, None).validate(true).unwrap().twilio.unwrap().auth_token, None);
        assert_eq!(fields(twilio(sid, Some("short")).validate(true)), ["twilioConfig.authToken"]);
        let missing = PhoneNumberInput { twilio_config: None, ..twilio(sid, None) };
        assert_eq!(fields(missing.validate(false)), ["twilioConfig"]);
    }
}
