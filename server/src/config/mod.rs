//! Typed settings: built-in defaults < Leptos.toml < `VOXGATE_*` environment variables.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

use crate::secrets::SecretKey;

/// A setting that could not be used; `Display` is the one line printed at startup.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid setting {name}: {reason}")]
pub struct ConfigError {
    /// The environment variable (or Leptos.toml key) at fault.
    pub name: String,
    /// What was wrong and what is expected; never contains a secret value.
    pub reason: String,
}

impl ConfigError {
    fn new(name: &str, reason: impl Into<String>) -> Self {
        Self { name: name.to_string(), reason: reason.into() }
    }
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq)]
pub enum DatabaseUrl {
    /// Embedded SurrealKV files in a directory.
    SurrealKv(PathBuf),
    /// Embedded, in memory (tests).
    Memory,
    /// A SurrealDB server over WebSocket, e.g. `ws://127.0.0.1:8000`.
    Remote(String),
}

impl DatabaseUrl {
    /// Parses `surrealkv://path`, `mem://` or `ws://host:port`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let expected = "expected surrealkv://<path>, mem:// or ws://host:port";
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| expected.to_string())?;
        match scheme {
            "surrealkv" if rest.contains('?') => Err("engine options are set by Voxgate: give the path only".to_string()),
            "surrealkv" if !rest.is_empty() => Ok(Self::SurrealKv(PathBuf::from(rest))),
            "mem" if rest.is_empty() => Ok(Self::Memory),
            "ws" => {
                let url = Url::parse(raw).map_err(|e| format!("{e}; {expected}"))?;
                if url.host_str().is_none() || url.port_or_known_default().is_none() {
                    return Err(expected.to_string());
                }
                Ok(Self::Remote(rest.trim_end_matches('/').to_string()))
            }
            _ => Err(expected.to_string()),
        }
    }

    /// The engine address understood by `surrealdb::engine::any::connect`.
    pub fn engine_address(&self) -> String {
        match self {
            // Every commit is synced to disk before it returns, whatever SurrealDB's defaults or
            // environment say: the URL's options override both (surrealdb-kvs-any's registry
            // joins them last).
            Self::SurrealKv(path) => format!("surrealkv://{}?sync=every", path.display()),
            Self::Memory => "mem://".to_string(),
            Self::Remote(host) => format!("ws://{host}"),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.engine_address())
    }
}

/// Whether `name` can name a node: 1 to 64 ASCII letters, digits, `-` or `_`.
pub fn node_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Site settings: the `[site]` table of Leptos.toml (where the build writes the site).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SiteSettings {
    pub output_name: String,
    pub site_root: String,
    pub site_pkg_dir: String,
    pub site_addr: SocketAddr,
    pub reload_port: u16,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            output_name: "voxgate".into(),
            site_root: "target/site".into(),
            site_pkg_dir: "pkg".into(),
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            reload_port: 3001,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileVoxgate {
    public_url: Option<String>,
    database_url: Option<String>,
    database_namespace: Option<String>,
    database_name: Option<String>,
    database_user: Option<String>,
    database_auth: Option<String>,
    data_dir: Option<String>,
    models_dir: Option<String>,
    stt_model: Option<String>,
    voice_threads: Option<String>,
    provider_timeout_ms: Option<String>,
    outbound_allow: Option<String>,
    max_calls: Option<String>,
    max_calls_per_user: Option<String>,
    node_id: Option<String>,
    trusted_proxies: Option<String>,
    shutdown_seconds: Option<String>,
    signup: Option<String>,
    log: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    site: Option<SiteSettings>,
    voxgate: Option<FileVoxgate>,
}

/// Every setting Voxgate runs with.
#[derive(Clone)]
pub struct Settings {
    pub site: SiteSettings,
    /// Address the HTTP server listens on.
    pub listen_addr: SocketAddr,
    /// Public base URL (scheme + host [+ port]) used to build webhook URLs; no trailing slash.
    pub public_url: Url,
    pub database_url: DatabaseUrl,
    pub database_namespace: String,
    pub database_name: String,
    /// User for a SurrealDB server (ws:// only), of the level `database_auth` says.
    pub database_user: Option<String>,
    pub database_password: Option<Password>,
    pub database_auth: DatabaseAuth,
    /// Directory for the embedded database and the generated secret key.
    pub data_dir: PathBuf,
    /// Key that seals stored credentials; from VOXGATE_SECRET_KEY or data_dir/secret.key.
    pub secret_key: Option<SecretKey>,
    /// Offline voice models (unpacked by the set-up command).
    pub models_dir: PathBuf,
    /// Whisper model for offline speech-to-text: `tiny.en` or `base`.
    pub stt_model: String,
    /// CPU threads for one Whisper or Piper run.
    pub voice_threads: usize,
    /// Limit for a cloud provider's answer (STT result, first LLM token, TTS audio).
    pub provider_timeout: std::time::Duration,
    /// Address ranges that agents' provider URLs may reach although private, loopback or
    /// otherwise not public (by default only public addresses; see crate::net::guard).
    pub outbound_allow: Vec<ipnet::IpNet>,
    /// Calls streaming at once on this node, and per user (over either, a call is turned away
    /// as busy).
    pub max_calls: usize,
    pub max_calls_per_user: usize,
    /// This process's name on its calls (several nodes may share a database); None: the one
    /// kept in `<data dir>/node.id`, created on first run.
    pub node_id: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (crate::http::client_ip).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// On SIGTERM, how long calls get to say goodbye and record their end before the exit.
    pub shutdown_timeout: std::time::Duration,
    /// Who may create an account from the dashboard (crate::users::signup).
    pub signup: crate::users::signup::SignupMode,
    /// tracing filter, e.g. `info,server=debug`.
    pub log: String,
    /// The offline voice samples its noise, as Piper means it to (not a setting: tests turn
    /// it off, so that the same text always gives the same audio and the same transcript).
    pub sampled_voice: bool,
    /// Providers' REST API hosts (VOXGATE_*_API_URL).
    pub provider_apis: providers::ProviderApis,
    /// The operator's default provider credentials (used only with sign-up closed).
    pub operator_defaults: providers::OperatorDefaults,
    /// SMTP for e-mail alerts and the retry schedule of notifications (VOXGATE_SMTP_*, VOXGATE_NOTIFY_*).
    pub notify: notify::NotifySettings,
    /// Production mode, log format, metrics token (VOXGATE_MODE, _LOG_FORMAT, _METRICS_TOKEN).
    pub ops: ops::OpsSettings,
}

/// A password that is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen_addr", &self.listen_addr)
            .field("public_url", &self.public_url.as_str())
            .field("database_url", &self.database_url.to_string())
            .field("database_namespace", &self.database_namespace)
            .field("database_name", &self.database_name)
            .field("database_user", &self.database_user)
            .field("database_auth", &self.database_auth)
            .field("data_dir", &self.data_dir)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[set]"))
            .field("outbound_allow", &self.outbound_allow.iter().map(ToString::to_string).collect::<Vec<_>>())
            .field("notify", &self.notify)
            .field("ops", &self.ops)
            .finish_non_exhaustive()
    }
}

pub use database::DatabaseAuth;
pub use vars::ENV_VARS;

impl Settings {
    /// Builds settings from Leptos.toml's text (if any) and the environment; pure, for tests.
    pub fn from_sources(leptos_toml: Option<&str>, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let file: FileSettings = match leptos_toml {
            Some(text) => toml::from_str(text).map_err(|e| ConfigError::new("Leptos.toml", e.message().replace('\n', " ")))?,
            None => FileSettings::default(),
        };
        let site = file.site.unwrap_or_default();
        let fv = file.voxgate.unwrap_or_default();
        let get = |env_name: &str, from_file: Option<String>| -> Option<(String, String)> {
            match env.get(env_name).filter(|v| !v.is_empty()) {
                Some(v) => Some((env_name.to_string(), v.clone())),
                None => from_file.map(|v| (format!("Leptos.toml voxgate.{}", kebab(env_name)), v)),
            }
        };

        let listen_addr = match get("VOXGATE_LISTEN_ADDR", None) {
            Some((name, v)) => v
                .parse()
                .map_err(|_| ConfigError::new(&name, format!("{v:?} is not an address; expected host:port such as 127.0.0.1:3000")))?,
            None => site.site_addr,
        };

        let public_url = {
            let (name, v) =
                get("VOXGATE_PUBLIC_URL", fv.public_url).unwrap_or_else(|| ("VOXGATE_PUBLIC_URL".into(), format!("http://{listen_addr}")));
            parse_public_url(&v).map_err(|reason| ConfigError::new(&name, reason))?
        };

        let database_url = match get("VOXGATE_DATABASE_URL", fv.database_url) {
            Some((name, v)) => DatabaseUrl::parse(&v).map_err(|r| ConfigError::new(&name, format!("{v:?}: {r}")))?,
            None => DatabaseUrl::SurrealKv(PathBuf::from("data/db")),
        };

        let ident = |env_name: &str, file: Option<String>, default: &str| -> Result<String, ConfigError> {
            let Some((name, v)) = get(env_name, file) else { return Ok(default.to_string()) };
            if v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !v.is_empty() {
                Ok(v)
            } else {
                Err(ConfigError::new(&name, format!("{v:?} may only hold letters, digits and _")))
            }
        };
        let database_namespace = ident("VOXGATE_DATABASE_NAMESPACE", fv.database_namespace, "voxgate")?;
        let database_name = ident("VOXGATE_DATABASE_NAME", fv.database_name, "main")?;
        let database_user = get("VOXGATE_DATABASE_USER", fv.database_user).map(|(_, v)| v);
        let database_password = env.get("VOXGATE_DATABASE_PASSWORD").filter(|v| !v.is_empty()).map(|v| Password(v.clone()));
        if database_password.is_some() != database_user.is_some() {
            return Err(ConfigError::new(
                "VOXGATE_DATABASE_USER",
                "VOXGATE_DATABASE_USER and VOXGATE_DATABASE_PASSWORD must be set together",
            ));
        }
        let database_auth = match get("VOXGATE_DATABASE_AUTH", fv.database_auth) {
            None => DatabaseAuth::Root,
            Some((name, _)) if database_user.is_none() => {
                return Err(ConfigError::new(&name, "a SurrealDB user level needs VOXGATE_DATABASE_USER and VOXGATE_DATABASE_PASSWORD"));
            }
            Some((name, v)) => DatabaseAuth::parse(&v).map_err(|r| ConfigError::new(&name, r))?,
        };

        let data_dir = PathBuf::from(get("VOXGATE_DATA_DIR", fv.data_dir).map(|(_, v)| v).unwrap_or("data".into()));

        let secret_key = match env.get("VOXGATE_SECRET_KEY").filter(|v| !v.is_empty()) {
            Some(v) => Some(SecretKey::from_hex(v).map_err(|r| ConfigError::new("VOXGATE_SECRET_KEY", r))?),
            None => None,
        };

        let models_dir = get("VOXGATE_MODELS_DIR", fv.models_dir).map(|(_, v)| PathBuf::from(v)).unwrap_or_else(|| data_dir.join("models"));
        let stt_model = match get("VOXGATE_STT_MODEL", fv.stt_model) {
            None => "tiny.en".to_string(),
            Some((_, v)) if v == "tiny.en" || v == "base" => v,
            Some((name, v)) => return Err(ConfigError::new(&name, format!("{v:?} is not a Whisper model; use tiny.en or base"))),
        };
        // A whole number in `range`, `default` when unset.
        let number = |env_name: &str, file: Option<String>, default: u64, range: std::ops::RangeInclusive<u64>, what: &str| {
            let Some((name, v)) = get(env_name, file) else { return Ok(default) };
            match v.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(ConfigError::new(&name, format!("{v:?} is not {what} between {} and {}", range.start(), range.end()))),
            }
        };
        let voice_threads = number("VOXGATE_VOICE_THREADS", fv.voice_threads, 2, 1..=64, "a thread count")? as usize;
        let provider_timeout = std::time::Duration::from_millis(number(
            "VOXGATE_PROVIDER_TIMEOUT_MS",
            fv.provider_timeout_ms,
            8000,
            100..=120_000,
            "a time in ms",
        )?);
        let shutdown_timeout =
            std::time::Duration::from_secs(number("VOXGATE_SHUTDOWN_SECONDS", fv.shutdown_seconds, 10, 1..=300, "a number of seconds")?);
        let signup = match get("VOXGATE_SIGNUP", fv.signup) {
            None => crate::users::signup::SignupMode::Open,
            Some((name, v)) => crate::users::signup::SignupMode::parse(&v).map_err(|r| ConfigError::new(&name, r))?,
        };
        let max_calls = number("VOXGATE_MAX_CALLS", fv.max_calls, 100, 1..=100_000, "a number of calls")? as usize;
        let max_calls_per_user =
            number("VOXGATE_MAX_CALLS_PER_USER", fv.max_calls_per_user, 20, 1..=100_000, "a number of calls")? as usize;

        let node_id = match get("VOXGATE_NODE_ID", fv.node_id) {
            None => None,
            Some((_, v)) if node_name_ok(&v) => Some(v),
            Some((name, v)) => return Err(ConfigError::new(&name, format!("{v:?} is not a node name: 1 to 64 letters, digits, - or _"))),
        };

        let trusted_proxies = match get("VOXGATE_TRUSTED_PROXIES", fv.trusted_proxies) {
            None => Vec::new(),
            Some((name, v)) => crate::net::guard::GuardPolicy::parse_allow(&v).map_err(|r| ConfigError::new(&name, r))?,
        };
        let outbound_allow = match get("VOXGATE_OUTBOUND_ALLOW", fv.outbound_allow) {
            None => Vec::new(),
            Some((name, v)) => crate::net::guard::GuardPolicy::parse_allow(&v).map_err(|r| ConfigError::new(&name, r))?,
        };

        let log = get("VOXGATE_LOG", fv.log).map(|(_, v)| v).unwrap_or_else(|| "info,surrealdb=warn".into());
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log) {
            return Err(ConfigError::new("VOXGATE_LOG", format!("{log:?} is not a tracing filter: {e}")));
        }

        let provider_apis = providers::apis(env)?;
        let notify = notify::from_env(env)?;
        let ops = ops::from_env(env, &public_url)?;
        // Read only where they are used (sign-up closed): elsewhere the same variables may be a
        // simulator's (`voxgate call --provider vonage` reads VONAGE_API_KEY).
        let operator_defaults = if signup == crate::users::signup::SignupMode::Closed {
            providers::defaults(env)?
        } else {
            providers::OperatorDefaults::default()
        };
        Ok(Self {
            ops,
            notify,
            provider_apis,
            operator_defaults,
            site,
            listen_addr,
            public_url,
            database_url,
            database_namespace,
            database_name,
            database_user,
            database_password,
            database_auth,
            data_dir,
            secret_key,
            models_dir,
            stt_model,
            voice_threads,
            provider_timeout,
            outbound_allow,
            max_calls,
            max_calls_per_user,
            node_id,
            trusted_proxies,
            shutdown_timeout,
            signup,
            log,
            sampled_voice: true,
        })
    }

    /// Reads `./Leptos.toml` (if present) and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string("Leptos.toml") {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ConfigError::new("Leptos.toml", e.to_string())),
        };
        let env: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("VOXGATE_") || providers::reads(k)).collect();
        Self::from_sources(text.as_deref(), &env)
    }

    /// Settings for tests: in-memory database, fixed key, loopback on a free port, outbound
    /// requests allowed to loopback.
    pub fn for_tests() -> Self {
        let mut env = HashMap::new();
        env.insert("VOXGATE_DATABASE_URL".to_string(), "mem://".to_string());
        env.insert("VOXGATE_LISTEN_ADDR".to_string(), "127.0.0.1:0".to_string());
        env.insert("VOXGATE_SECRET_KEY".to_string(), "11".repeat(32));
        // The models the set-up command unpacked into the repository's data/models.
        let models =
            std::env::var("VOXGATE_MODELS_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../data/models").to_string());
        env.insert("VOXGATE_MODELS_DIR".to_string(), models);
        // The tests' fake providers listen on loopback.
        env.insert("VOXGATE_OUTBOUND_ALLOW".to_string(), "127.0.0.0/8,::1".to_string());
        // No provider's cloud is reachable from tests: a closed port answers at once (ownership
        // checks then find the provider unreachable; the tests of those checks run a local one).
        for api in ["EXOTEL", "TWILIO", "VONAGE", "PLIVO"] {
            env.insert(format!("VOXGATE_{api}_API_URL"), "http://127.0.0.1:1".to_string());
        }
        let mut settings = Self::from_sources(None, &env).expect("test settings are valid");
        settings.sampled_voice = false;
        settings
    }

    /// Base URL joined with a path that starts with `/`.
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

fn kebab(env_name: &str) -> String {
    env_name.trim_start_matches("VOXGATE_").to_ascii_lowercase().replace('_', "-")
}

fn parse_public_url(v: &str) -> Result<Url, String> {
    let url = Url::parse(v).map_err(|e| format!("{v:?} is not a URL ({e}); expected e.g. https://voice.example.com"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{v:?} must start with http:// or https://"));
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
        return Err(format!("{v:?} must be a bare origin such as https://voice.example.com (no path or query)"));
    }
    Ok(url)
}

mod database;
pub mod notify;
pub mod ops;
pub mod providers;
mod vars;

#[cfg(test)]
mod tests;
