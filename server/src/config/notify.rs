//! Notification settings an operator gives: the SMTP server e-mail alerts go through, and the
//! retry schedule of webhook and e-mail deliveries.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use super::{ConfigError, Password};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    StartTls,
    /// TLS from the first byte, usually port 465.
    Tls,
    /// No TLS at all: only for a relay on the same host or a test server.
    None,
}

/// The operator's SMTP server (VOXGATE_SMTP_*).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Password>,
    /// The From address of every alert.
    pub from: String,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .finish()
    }
}

/// Deliveries: where e-mail goes, and when a failed delivery is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// None: e-mail alerts are off (the Settings page says so).
    pub smtp: Option<SmtpSettings>,
    /// The waits after each failed try; a delivery is tried `retries.len() + 1` times in all.
    pub retries: Vec<Duration>,
    /// Delivered and failed deliveries are kept this long in the log.
    pub retention: Duration,
}

/// The default waits: 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h (8 tries over about 21 hours).
pub const DEFAULT_RETRIES: &[u64] = &[10, 60, 300, 1800, 7200, 21_600, 43_200];

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            smtp: None,
            retries: DEFAULT_RETRIES.iter().map(|s| Duration::from_secs(*s)).collect(),
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

/// Reads VOXGATE_SMTP_* and VOXGATE_NOTIFY_* from `env`.
pub fn from_env(env: &HashMap<String, String>) -> Result<NotifySettings, ConfigError> {
    let get = |name: &str| env.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let mut settings = NotifySettings::default();
    if let Some(list) = get("VOXGATE_NOTIFY_RETRY_SECONDS") {
        let waits: Result<Vec<u64>, _> = list.split(',').map(|s| s.trim().parse::<u64>()).collect();
        match waits {
            Ok(w) if (1..=20).contains(&w.len()) && w.iter().all(|s| (1..=604_800).contains(s)) => {
                settings.retries = w.into_iter().map(Duration::from_secs).collect();
            }
            _ => {
                return Err(ConfigError::new(
                    "VOXGATE_NOTIFY_RETRY_SECONDS",
                    format!("{list:?} is not 1 to 20 comma-separated waits in seconds (1 to 604800), e.g. 10,60,300"),
                ));
            }
        }
    }
    if let Some(days) = get("VOXGATE_NOTIFY_RETENTION_DAYS") {
        match days.parse::<u64>() {
            Ok(d) if (1..=3650).contains(&d) => settings.retention = Duration::from_secs(d * 86_400),
            _ => {
                return Err(ConfigError::new(
                    "VOXGATE_NOTIFY_RETENTION_DAYS",
                    format!("{days:?} is not a number of days between 1 and 3650"),
                ));
            }
        }
    }
    let Some(host) = get("VOXGATE_SMTP_HOST") else {
        return Ok(settings);
    };
    if host.contains(['/', ' ', '@']) {
        return Err(ConfigError::new("VOXGATE_SMTP_HOST", format!("{host:?} is not a host name or address")));
    }
    let tls = match get("VOXGATE_SMTP_TLS").as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some("none") => SmtpTls::None,
        Some(other) => return Err(ConfigError::new("VOXGATE_SMTP_TLS", format!("{other:?} is not starttls, tls or none"))),
    };
    let port = match get("VOXGATE_SMTP_PORT") {
        None => match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        },
        Some(p) => {
            p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| ConfigError::new("VOXGATE_SMTP_PORT", format!("{p:?} is not a port")))?
        }
    };
    let username = get("VOXGATE_SMTP_USER");
    let password = get("VOXGATE_SMTP_PASSWORD").map(Password);
    if username.is_some() != password.is_some() {
        return Err(ConfigError::new("VOXGATE_SMTP_USER", "VOXGATE_SMTP_USER and VOXGATE_SMTP_PASSWORD must be set together"));
    }
    let from = get("VOXGATE_SMTP_FROM")
        .ok_or_else(|| ConfigError::new("VOXGATE_SMTP_FROM", "set the From address of alerts, e.g. voxgate@example.com"))?;
    if !domain::notify::looks_like_email(&from) {
        return Err(ConfigError::new("VOXGATE_SMTP_FROM", format!("{from:?} is not an e-mail address")));
    }
    settings.smtp = Some(SmtpSettings { host, port, tls, username, password, from });
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn smtp_is_read_with_defaults_and_its_password_never_printed() {
        assert_eq!(from_env(&env(&[])).unwrap(), NotifySettings::default());
        let s = from_env(&env(&[
            ("VOXGATE_SMTP_HOST", "smtp.example.com"),
            ("VOXGATE_SMTP_USER", "alerts"),
            ("VOXGATE_SMTP_PASSWORD", "hunter2-secret"),
            ("VOXGATE_SMTP_FROM", "voxgate@example.com"),
            ("VOXGATE_NOTIFY_RETRY_SECONDS", "1, 2,3"),
        ]))
        .unwrap();
        let smtp = s.smtp.clone().unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
        assert_eq!(s.retries, [1, 2, 3].map(Duration::from_secs));
        assert!(!format!("{s:?}").contains("hunter2"));
        let mut all = env(&[("VOXGATE_SMTP_HOST", "smtp.example.com"), ("VOXGATE_SMTP_FROM", "voxgate@example.com")]);
        all.extend(env(&[("VOXGATE_SMTP_USER", "alerts"), ("VOXGATE_SMTP_PASSWORD", "hunter2-secret")]));
        let printed = format!("{:?}", super::super::Settings::from_sources(None, &all).unwrap());
        assert!(printed.contains("smtp.example.com") && !printed.contains("hunter2"), "voxgate config shows SMTP, not its password");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (pairs, name) in [
            (vec![("VOXGATE_SMTP_HOST", "h"), ("VOXGATE_SMTP_TLS", "ssl"), ("VOXGATE_SMTP_FROM", "a@b.co")], "VOXGATE_SMTP_TLS"),
            (vec![("VOXGATE_SMTP_HOST", "h")], "VOXGATE_SMTP_FROM"),
            (vec![("VOXGATE_SMTP_HOST", "h"), ("VOXGATE_SMTP_PORT", "0"), ("VOXGATE_SMTP_FROM", "a@b.co")], "VOXGATE_SMTP_PORT"),
            (vec![("VOXGATE_SMTP_HOST", "h"), ("VOXGATE_SMTP_PASSWORD", "x"), ("VOXGATE_SMTP_FROM", "a@b.co")], "VOXGATE_SMTP_USER"),
            (vec![("VOXGATE_NOTIFY_RETRY_SECONDS", "10,soon")], "VOXGATE_NOTIFY_RETRY_SECONDS"),
            (vec![("VOXGATE_NOTIFY_RETENTION_DAYS", "0")], "VOXGATE_NOTIFY_RETENTION_DAYS"),
        ] {
            assert_eq!(from_env(&env(&pairs)).unwrap_err().name, name);
        }
    }
}
