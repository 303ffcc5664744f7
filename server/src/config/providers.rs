//! Provider settings an operator gives: the REST API hosts (for a proxy, or tests' local
//! provider servers) and, on a single-tenant install, default credentials for numbers imported
//! without their own (the old product's EXOTEL_API_KEY and friends).

use std::collections::HashMap;
use std::fmt;

use super::{ConfigError, Password};

/// Where each provider's REST API is asked (ownership checks). `None` for Exotel: the number's
/// region host (`https://api.in.exotel.com`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderApis {
    pub exotel: Option<String>,
    pub twilio: String,
    pub vonage: String,
    pub plivo: String,
}

impl ProviderApis {
    /// Whether the operator pointed any API elsewhere than the providers' own hosts (then that
    /// address is trusted as the operator's, loopback included).
    pub fn overridden(&self) -> bool {
        self.exotel.is_some() || self.twilio != TWILIO_API || self.vonage != VONAGE_API || self.plivo != PLIVO_API
    }

    /// Vonage's Voice API (placing calls): `api.nexmo.com`, or the operator's Vonage address
    /// when it was pointed elsewhere (one local server speaks both).
    pub fn vonage_voice(&self) -> String {
        if self.vonage == VONAGE_API { VONAGE_VOICE_API.to_string() } else { self.vonage.clone() }
    }
}

pub const TWILIO_API: &str = "https://api.twilio.com";
pub const VONAGE_API: &str = "https://rest.nexmo.com";
pub const VONAGE_VOICE_API: &str = "https://api.nexmo.com";
pub const PLIVO_API: &str = "https://api.plivo.com";

/// Exotel credentials from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct ExotelDefaults {
    pub sid: String,
    pub api_key: Password,
    pub api_token: Password,
}

/// Twilio credentials from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct TwilioDefaults {
    pub account_sid: String,
    pub auth_token: Password,
}

/// Vonage credentials from the environment (the private key read from its file).
#[derive(Clone, PartialEq, Eq)]
pub struct VonageDefaults {
    pub api_key: String,
    pub api_secret: Password,
    pub application_id: String,
    pub private_key: Password,
    pub signature_secret: Password,
}

/// Plivo credentials from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct PlivoDefaults {
    pub auth_id: String,
    pub auth_token: Password,
}

/// The operator's default credentials, per provider (all of a provider's variables, or none).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OperatorDefaults {
    pub exotel: Option<ExotelDefaults>,
    pub twilio: Option<TwilioDefaults>,
    pub vonage: Option<VonageDefaults>,
    pub plivo: Option<PlivoDefaults>,
}

impl fmt::Debug for OperatorDefaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |b: bool| if b { "[set]" } else { "-" };
        f.debug_struct("OperatorDefaults")
            .field("exotel", &set(self.exotel.is_some()))
            .field("twilio", &set(self.twilio.is_some()))
            .field("vonage", &set(self.vonage.is_some()))
            .field("plivo", &set(self.plivo.is_some()))
            .finish()
    }
}

/// The variables read here, with what each sets (for the docs and `--help`).
pub const PROVIDER_VARS: &[(&str, &str)] = &[
    ("VOXGATE_EXOTEL_API_URL", "Exotel REST API base instead of the number's region host (a proxy, or a local test server)"),
    ("VOXGATE_TWILIO_API_URL", "Twilio REST API base (default https://api.twilio.com)"),
    ("VOXGATE_VONAGE_API_URL", "Vonage numbers API base (default https://rest.nexmo.com)"),
    ("VOXGATE_PLIVO_API_URL", "Plivo REST API base (default https://api.plivo.com)"),
    (
        "EXOTEL_SID, EXOTEL_API_KEY, EXOTEL_API_TOKEN",
        "with VOXGATE_SIGNUP=closed: Exotel credentials for numbers imported without their own",
    ),
    ("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN", "with VOXGATE_SIGNUP=closed: Twilio credentials for numbers imported without their own"),
    (
        "VONAGE_API_KEY, VONAGE_API_SECRET, VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY_PATH, VONAGE_SIGNATURE_SECRET",
        "with VOXGATE_SIGNUP=closed: Vonage credentials for numbers imported without their own",
    ),
    ("PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN", "with VOXGATE_SIGNUP=closed: Plivo credentials for numbers imported without their own"),
];

/// Whether the process environment variable `name` is one this module reads.
pub fn reads(name: &str) -> bool {
    ["EXOTEL_", "TWILIO_", "VONAGE_", "PLIVO_"].iter().any(|p| name.starts_with(p))
}

fn api_url(env: &HashMap<String, String>, name: &str) -> Result<Option<String>, ConfigError> {
    let Some(v) = env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else { return Ok(None) };
    let url = url::Url::parse(v).map_err(|e| ConfigError::new(name, format!("{v:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || url.query().is_some() {
        return Err(ConfigError::new(name, format!("{v:?} must be an http(s) base URL such as https://api.example.com")));
    }
    Ok(Some(v.trim_end_matches('/').to_string()))
}

/// The API hosts from `VOXGATE_*_API_URL`.
pub fn apis(env: &HashMap<String, String>) -> Result<ProviderApis, ConfigError> {
    Ok(ProviderApis {
        exotel: api_url(env, "VOXGATE_EXOTEL_API_URL")?,
        twilio: api_url(env, "VOXGATE_TWILIO_API_URL")?.unwrap_or_else(|| TWILIO_API.into()),
        vonage: api_url(env, "VOXGATE_VONAGE_API_URL")?.unwrap_or_else(|| VONAGE_API.into()),
        plivo: api_url(env, "VOXGATE_PLIVO_API_URL")?.unwrap_or_else(|| PLIVO_API.into()),
    })
}

/// All of `names`, or none of them (a partial set names the first missing variable).
fn group<const N: usize>(env: &HashMap<String, String>, names: [&str; N]) -> Result<Option<[String; N]>, ConfigError> {
    let values = names.map(|n| env.get(n).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()));
    let given = values.iter().filter(|v| v.is_some()).count();
    if given == 0 {
        return Ok(None);
    }
    if let Some(i) = values.iter().position(Option::is_none) {
        let set = names.iter().zip(&values).find(|(_, v)| v.is_some()).map(|(n, _)| *n).unwrap_or_default();
        return Err(ConfigError::new(names[i], format!("is needed with {set} (a provider's defaults are all set, or none)")));
    }
    Ok(Some(values.map(Option::unwrap_or_default)))
}

/// The operator's default credentials from the environment.
pub fn defaults(env: &HashMap<String, String>) -> Result<OperatorDefaults, ConfigError> {
    let exotel = group(env, ["EXOTEL_SID", "EXOTEL_API_KEY", "EXOTEL_API_TOKEN"])?.map(|[sid, key, token]| ExotelDefaults {
        sid,
        api_key: Password(key),
        api_token: Password(token),
    });
    let twilio = group(env, ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])?
        .map(|[sid, token]| TwilioDefaults { account_sid: sid, auth_token: Password(token) });
    let plivo =
        group(env, ["PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN"])?.map(|[id, token]| PlivoDefaults { auth_id: id, auth_token: Password(token) });
    let vonage = match group(
        env,
        ["VONAGE_API_KEY", "VONAGE_API_SECRET", "VONAGE_APPLICATION_ID", "VONAGE_PRIVATE_KEY_PATH", "VONAGE_SIGNATURE_SECRET"],
    )? {
        None => None,
        Some([api_key, secret, app, path, signature]) => {
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::new("VONAGE_PRIVATE_KEY_PATH", format!("cannot read {path:?}: {}", e.kind())))?;
            Some(VonageDefaults {
                api_key,
                api_secret: Password(secret),
                application_id: app,
                private_key: Password(pem),
                signature_secret: Password(signature),
            })
        }
    };
    Ok(OperatorDefaults { exotel, twilio, vonage, plivo })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn api_hosts_default_to_the_providers_and_take_overrides() {
        let none = apis(&env(&[])).unwrap();
        assert_eq!((none.exotel.as_deref(), none.twilio.as_str()), (None, TWILIO_API));
        assert!(!none.overridden());
        let local = apis(&env(&[("VOXGATE_PLIVO_API_URL", "http://127.0.0.1:9000/")])).unwrap();
        assert_eq!(local.plivo, "http://127.0.0.1:9000");
        assert!(local.overridden());
        let bad = apis(&env(&[("VOXGATE_TWILIO_API_URL", "ftp://x")])).unwrap_err();
        assert_eq!(bad.name, "VOXGATE_TWILIO_API_URL");
    }

    #[test]
    fn defaults_are_all_or_nothing_per_provider_and_never_printed() {
        assert_eq!(defaults(&env(&[])).unwrap(), OperatorDefaults::default());
        let partial = defaults(&env(&[("EXOTEL_API_KEY", "k")])).unwrap_err();
        assert_eq!(partial.name, "EXOTEL_SID");
        assert!(partial.reason.contains("EXOTEL_API_KEY"));
        let d = defaults(&env(&[("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "tok-secret-value")])).unwrap();
        assert_eq!(d.twilio.as_ref().map(|t| t.account_sid.as_str()), Some("AC1"));
        assert!(!format!("{d:?}").contains("tok-secret-value"));
        let missing = defaults(&env(&[
            ("VONAGE_API_KEY", "k"),
            ("VONAGE_API_SECRET", "s"),
            ("VONAGE_APPLICATION_ID", "a"),
            ("VONAGE_PRIVATE_KEY_PATH", "/nonexistent/key.pem"),
            ("VONAGE_SIGNATURE_SECRET", "x"),
        ]))
        .unwrap_err();
        assert_eq!(missing.name, "VONAGE_PRIVATE_KEY_PATH");
    }
}
