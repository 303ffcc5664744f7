//! What an operator sets to run Voxgate in production: the mode (which refuses a public URL
//! that providers could not safely reach), the log format, and the metrics token.

use std::collections::HashMap;
use std::net::IpAddr;

use url::Url;

use super::{ConfigError, Password};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event (with its span fields: call, number and user ids).
    Json,
}

/// The operations settings (VOXGATE_MODE, VOXGATE_ALLOW_INSECURE_URL, VOXGATE_LOG_FORMAT,
/// VOXGATE_METRICS_TOKEN).
#[derive(Clone, Default)]
pub struct OpsSettings {
    /// `VOXGATE_MODE=production`.
    pub production: bool,
    pub log_format: LogFormat,
    /// Scrapes of /metrics must bear it when set.
    pub metrics_token: Option<Password>,
}

impl std::fmt::Debug for OpsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsSettings")
            .field("production", &self.production)
            .field("log_format", &self.log_format)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "[set]"))
            .finish()
    }
}

/// Whether `url`'s host is this machine or a private network (providers cannot reach it).
fn local_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost") || d.ends_with(".local") || d.ends_with(".internal")
        }
        Some(url::Host::Ipv4(ip)) => crate::net::guard::reason(IpAddr::V4(ip)).is_some(),
        Some(url::Host::Ipv6(ip)) => crate::net::guard::reason(IpAddr::V6(ip)).is_some(),
        None => true,
    }
}

/// Reads the operations settings; in production, `public_url` must be https on a public host
/// unless VOXGATE_ALLOW_INSECURE_URL=true says the operator means it.
pub fn from_env(env: &HashMap<String, String>, public_url: &Url) -> Result<OpsSettings, ConfigError> {
    let get = |name: &str| env.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let production = match get("VOXGATE_MODE").as_deref() {
        None | Some("development") => false,
        Some("production") => true,
        Some(v) => return Err(ConfigError::new("VOXGATE_MODE", format!("{v:?} is not a mode; use production or development"))),
    };
    let allow_insecure = match get("VOXGATE_ALLOW_INSECURE_URL").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => return Err(ConfigError::new("VOXGATE_ALLOW_INSECURE_URL", format!("{v:?} is not true or false"))),
    };
    if production && !allow_insecure {
        if public_url.scheme() != "https" {
            return Err(ConfigError::new(
                "VOXGATE_PUBLIC_URL",
                "production needs an https:// public URL (providers send call data to it); set VOXGATE_ALLOW_INSECURE_URL=true to run anyway",
            ));
        }
        if local_host(public_url) {
            return Err(ConfigError::new(
                "VOXGATE_PUBLIC_URL",
                "production needs a public URL that providers can reach, not a loopback or private host; set VOXGATE_ALLOW_INSECURE_URL=true to run anyway",
            ));
        }
    }
    let log_format = match get("VOXGATE_LOG_FORMAT").as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(v) => return Err(ConfigError::new("VOXGATE_LOG_FORMAT", format!("{v:?} is not a log format; use text or json"))),
    };
    let metrics_token = match env.get("VOXGATE_METRICS_TOKEN").filter(|v| !v.is_empty()) {
        Some(v) if v.len() >= 16 && v.chars().all(|c| c.is_ascii_graphic()) => Some(Password(v.clone())),
        Some(_) => {
            return Err(ConfigError::new("VOXGATE_METRICS_TOKEN", "the token must be at least 16 printable characters without spaces"));
        }
        None => None,
    };
    Ok(OpsSettings { production, log_format, metrics_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)], url: &str) -> Result<OpsSettings, ConfigError> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        from_env(&env, &Url::parse(url).unwrap())
    }

    #[test]
    fn production_refuses_an_http_or_local_public_url_unless_told() {
        let prod = [("VOXGATE_MODE", "production")];
        for url in ["http://voice.example.com", "https://127.0.0.1:3000", "https://localhost", "https://10.0.0.5", "https://[::1]"] {
            let e = read(&prod, url).unwrap_err();
            assert_eq!(e.name, "VOXGATE_PUBLIC_URL", "{url}");
            assert!(e.reason.contains("VOXGATE_ALLOW_INSECURE_URL"), "{}", e.reason);
        }
        assert!(read(&prod, "https://voice.example.com").unwrap().production);
        let told = [("VOXGATE_MODE", "production"), ("VOXGATE_ALLOW_INSECURE_URL", "true")];
        assert!(read(&told, "http://127.0.0.1:3000").is_ok());
        // Development takes any URL.
        assert!(!read(&[], "http://127.0.0.1:3000").unwrap().production);
        assert_eq!(read(&[("VOXGATE_MODE", "prod")], "https://voice.example.com").unwrap_err().name, "VOXGATE_MODE");
    }

    #[test]
    fn log_format_and_metrics_token_are_checked_and_the_token_is_never_shown() {
        assert_eq!(read(&[("VOXGATE_LOG_FORMAT", "json")], "http://x.test").unwrap().log_format, LogFormat::Json);
        assert_eq!(read(&[("VOXGATE_LOG_FORMAT", "xml")], "http://x.test").unwrap_err().name, "VOXGATE_LOG_FORMAT");
        let e = read(&[("VOXGATE_METRICS_TOKEN", "short")], "http://x.test").unwrap_err();
        assert!(!e.reason.contains("short"));
        let ops = read(&[("VOXGATE_METRICS_TOKEN", "scrape-token-0123456789")], "http://x.test").unwrap();
        assert!(!format!("{ops:?}").contains("scrape-token"));
    }
}
