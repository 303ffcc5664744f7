//! Vonage numbers (Voice API, shared/protocols/VONAGE.md): the API key and secret (numbers
//! API, Basic auth), the application id and its private key (REST calls signed with RS256
//! JWTs), the signature secret (signed webhooks), and the stream's sample rate.

use serde::{Deserialize, Serialize};

use super::{PhoneNumberInput, present};
use crate::FieldError;

/// The rates a Vonage WebSocket takes (`audio/l16;rate=…`); the first is the default.
pub const VONAGE_SAMPLE_RATES: &[u32] = &[16_000, 8_000];

/// Vonage settings as submitted; empty secrets on edit keep the stored ones (unless the API key
/// changes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct VonageConfigInput {
    pub api_key: String,
    pub api_secret: Option<String>,
    pub application_id: String,
    pub private_key: Option<String>,
    pub signature_secret: Option<String>,
    /// 16000 (default) or 8000.
    pub sample_rate: Option<u32>,
}

/// Vonage settings after validation; `None` secrets mean "keep what is stored".
#[derive(Debug, Clone, PartialEq)]
pub struct VonageConfig {
    pub api_key: String,
    pub api_secret: Option<String>,
    /// A UUID, lowercase.
    pub application_id: String,
    pub private_key: Option<String>,
    pub signature_secret: Option<String>,
    pub sample_rate: u32,
}

/// Vonage settings as every read shows them: each secret masked to its last 4 characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VonageConfigView {
    pub api_key: String,
    pub api_secret: String,
    pub application_id: String,
    pub private_key: String,
    pub signature_secret: String,
    pub sample_rate: u32,
}

/// Checks a Vonage API key: 6 to 32 letters and digits (Dashboard, API settings).
pub fn check_vonage_api_key(raw: &str) -> Result<String, String> {
    let key = raw.trim();
    if key.is_empty() {
        return Err("Enter your Vonage API key (Dashboard, API settings).".into());
    }
    if !(6..=32).contains(&key.len()) || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("An API key is 6 to 32 letters and digits.".into());
    }
    Ok(key.to_string())
}

fn check_application_id(raw: &str) -> Result<String, String> {
    let id = raw.trim().to_ascii_lowercase();
    if id.is_empty() {
        return Err("Enter the id of the Vonage application the number is linked to.".into());
    }
    let groups: Vec<&str> = id.split('-').collect();
    let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]) && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    if !shaped {
        return Err("An application id is a UUID, e.g. aaaaaaaa-bbbb-cccc-dddd-0123456789ab.".into());
    }
    Ok(id)
}

/// Checks the shape of a private key in PEM form (the server also parses it as an RSA key).
pub fn check_vonage_private_key_shape(raw: &str) -> Result<String, String> {
    let pem = raw.trim().replace("\r\n", "\n");
    if pem.len() > 8 * 1024 {
        return Err("A private key is at most 8 KB.".into());
    }
    let framed = pem.starts_with("-----BEGIN ") && pem.ends_with("-----") && pem.contains("PRIVATE KEY-----") && pem.contains("-----END ");
    if !framed {
        return Err("Paste the whole private.key file, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----.".into());
    }
    Ok(pem)
}

fn check_secret(raw: &str, min: usize, max: usize, what: &str) -> Result<String, String> {
    let s = raw.trim();
    if !(min..=max).contains(&s.len()) || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("The {what} has {min} to {max} characters and no spaces."));
    }
    Ok(s.to_string())
}

impl PhoneNumberInput {
    pub(super) fn validate_vonage(&self, stored_credentials: bool, e: &mut Vec<FieldError>) -> Option<VonageConfig> {
        let Some(c) = &self.vonage_config else {
            e.push(FieldError::new(
                "vonageConfig",
                "Enter the Vonage settings: API key and secret, application id, private key and signature secret.",
            ));
            return None;
        };
        let mut field =
            |name: &str, r: Result<String, String>| r.map_err(|m| e.push(FieldError::new(&format!("vonageConfig.{name}"), m))).ok();
        let api_key = field("apiKey", check_vonage_api_key(&c.api_key)).unwrap_or_default();
        let application_id = field("applicationId", check_application_id(&c.application_id)).unwrap_or_default();
        let mut secret =
            |name: &str, value: &Option<String>, check: &dyn Fn(&str) -> Result<String, String>, missing: &str| match present(value) {
                None if stored_credentials => None,
                None => field(name, Err(missing.to_string())),
                Some(v) => field(name, check(&v)),
            };
        let api_secret = secret(
            "apiSecret",
            &c.api_secret,
            &|v| check_secret(v, 6, 64, "API secret"),
            "Enter the API secret (Dashboard, API settings).",
        );
        let private_key = secret(
            "privateKey",
            &c.private_key,
            &check_vonage_private_key_shape,
            "Paste the application's private key (the private.key file Vonage gave you).",
        );
        let signature_secret = secret(
            "signatureSecret",
            &c.signature_secret,
            &|v| check_secret(v, 16, 256, "signature secret"),
            "Enter the signature secret (Dashboard, API settings, Signed webhooks).",
        );
        let sample_rate = c.sample_rate.unwrap_or(VONAGE_SAMPLE_RATES[0]);
        if !VONAGE_SAMPLE_RATES.contains(&sample_rate) {
            e.push(FieldError::new("vonageConfig.sampleRate", "Choose 16000 or 8000."));
        }
        Some(VonageConfig { api_key, api_secret, application_id, private_key, signature_secret, sample_rate })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fields;
    use super::*;

    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----";

    fn vonage(c: VonageConfigInput) -> PhoneNumberInput {
        PhoneNumberInput {
            phone_number: "+44 20 7946 0958".into(),
            provider: "vonage".into(),
            vonage_config: Some(c),
            ..Default::default()
        }
    }

    fn full() -> VonageConfigInput {
        VonageConfigInput {
            api_key: " a1b2c3d4 ".into(),
            api_secret: Some("S3cretS3cret1234".into()),
            application_id: "AAAAAAAA-bbbb-cccc-dddd-0123456789ab".into(),
            private_key: Some(format!("{PEM}\r\n")),
            signature_secret: Some("sig-secret-0123456789abcdef".into()),
            sample_rate: None,
        }
    }

    #[test]
    fn a_vonage_number_needs_its_keys_and_application() {
        let v = vonage(full()).validate(false).unwrap().vonage.unwrap();
        assert_eq!((v.api_key.as_str(), v.application_id.as_str()), ("a1b2c3d4", "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"));
        assert_eq!(v.private_key.as_deref(), Some(PEM));
        assert_eq!(v.sample_rate, 16_000);
        let bad = VonageConfigInput {
            api_key: "a b".into(),
            api_secret: Some("x".into()),
            application_id: "not-a-uuid".into(),
            private_key: Some("ssh-rsa AAAA".into()),
            signature_secret: Some("short".into()),
            sample_rate: Some(44_100),
        };
        assert_eq!(
            fields(vonage(bad).validate(false)),
            [
                "vonageConfig.apiKey",
                "vonageConfig.applicationId",
                "vonageConfig.apiSecret",
                "vonageConfig.privateKey",
                "vonageConfig.signatureSecret",
                "vonageConfig.sampleRate"
            ]
        );
        assert_eq!(fields(PhoneNumberInput { vonage_config: None, ..vonage(full()) }.validate(false)), ["vonageConfig"]);
    }

    #[test]
    fn an_edit_may_keep_the_stored_secrets() {
        let keep = VonageConfigInput {
            api_secret: None,
            private_key: Some(" ".into()),
            signature_secret: None,
            sample_rate: Some(8000),
            ..full()
        };
        assert_eq!(
            fields(vonage(keep.clone()).validate(false)),
            ["vonageConfig.apiSecret", "vonageConfig.privateKey", "vonageConfig.signatureSecret"]
        );
        let v = vonage(keep).validate(true).unwrap().vonage.unwrap();
        assert_eq!((v.api_secret, v.private_key, v.signature_secret, v.sample_rate), (None, None, None, 8000));
    }
}
