//! `voxgate bench …`: benchmarks that print figures (never pass/fail thresholds).
//!
//! - `numbers`: paged listing and search over many numbers.
//! - `call_logs`: Call Logs and Analytics over many calls.
//! - `webhook`: the answer webhook at a fixed request rate.
//! - `calls`: many simulated callers at once (`callers` is their side, in a child process).
//! - `voice`: the offline voice end to end, with its word error rate and the pause set.
//! - `stt`: Whisper alone: word error rate clean and through G.711, and where its time goes.

mod call_logs;
mod calls;
pub mod campaign;
mod machine;
mod numbers;
mod stt;
mod voice;
mod webhook;

pub use call_logs::call_logs;
pub use calls::{callers, calls};
pub use numbers::numbers;
pub use stt::{SttBench, stt};
pub use voice::{Line, UTTERANCES, VoiceBench, voice, word_error_rate};
pub use webhook::{load as webhook_load, webhook};

use std::time::Duration;

use domain::phone_number::{PhoneNumberInput, Provider};

use crate::config::{DatabaseUrl, Settings};
use crate::state::AppState;

/// Percentile (0–100) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn summary(label: &str, mut samples: Vec<Duration>) -> String {
    samples.sort();
    format!(
        "{label}: n={} p50={} p90={} p99={} max={}",
        samples.len(),
        ms(percentile(&samples, 50.0)),
        ms(percentile(&samples, 90.0)),
        ms(percentile(&samples, 99.0)),
        ms(samples.last().copied().unwrap_or_default())
    )
}

/// A fresh embedded file database under `dir` with one user and one agent.
async fn bench_state(dir: &std::path::Path) -> anyhow_like::Result<(AppState, crate::users::CurrentUser, domain::agent::AgentView)> {
    bench_state_at(dir, None).await
}

/// Like [`bench_state`], on the SurrealDB server `database` (`ws://host:port`, with
/// VOXGATE_DATABASE_USER and _PASSWORD from the environment) when given: a fresh database
/// named after this process, so runs do not see each other's rows.
async fn bench_state_at(
    dir: &std::path::Path,
    database: Option<&str>,
) -> anyhow_like::Result<(AppState, crate::users::CurrentUser, domain::agent::AgentView)> {
    let mut settings = Settings::for_tests();
    settings.database_url = DatabaseUrl::SurrealKv(dir.join("db"));
    if let Some(url) = database {
        let configured = Settings::load().map_err(|e| e.to_string())?;
        settings.database_url = DatabaseUrl::parse(url)?;
        settings.database_namespace = configured.database_namespace;
        settings.database_name = format!("bench_{}", std::process::id());
        settings.database_user = configured.database_user;
        settings.database_password = configured.database_password;
    }
    settings.data_dir = dir.to_path_buf();
    let state = AppState::connect(settings).await?;
    let user = crate::users::sign_up(&state, "bench@example.com", "benchmark password").await?;
    let agent =
        crate::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Bench agent".into(), ..Default::default() }).await?;
    Ok((state, user, agent))
}

/// A boxed error for benchmark plumbing.
pub mod anyhow_like {
    /// Any error.
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}

/// Resident memory of this process (kB), from /proc.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// The Twilio account of the benchmarks' Twilio number: its SID and auth token.
pub const TWILIO_ACCOUNT: (&str, &str) = ("AC0000000000000000000000000000bec4", "0000000000000000000000000000bec4");

/// The Vonage account of the benchmarks' (and tests') Vonage number. Its private key is a
/// throwaway RSA key made for this purpose, valid for nothing else.
pub struct VonageAccount {
    pub api_key: &'static str,
    pub api_secret: &'static str,
    pub application_id: &'static str,
    pub private_key: &'static str,
    pub signature_secret: &'static str,
}

/// See [`VonageAccount`].
pub const VONAGE_ACCOUNT: VonageAccount = VonageAccount {
    api_key: "bec4bec4",
    api_secret: "BenchSecret0bec4",
    application_id: "00000000-0000-4000-8000-00000000bec4",
    private_key: include_str!("throwaway-rsa.pem"),
    signature_secret: "bench-signature-secret-0000bec4",
};

/// The Plivo account of the benchmarks' Plivo number: its auth id and auth token.
pub const PLIVO_ACCOUNT: (&str, &str) = ("MA00000000000000BEC4", "BenchPlivoToken0000000000000000000000bec4");

/// The import of the benchmarks' Vonage number (+442079460958) at `sample_rate`.
pub fn vonage_input(sample_rate: u32) -> PhoneNumberInput {
    let a = &VONAGE_ACCOUNT;
    PhoneNumberInput {
        phone_number: "+442079460958".into(),
        provider: "vonage".into(),
        vonage_config: Some(domain::phone_number::VonageConfigInput {
            api_key: a.api_key.into(),
            api_secret: Some(a.api_secret.into()),
            application_id: a.application_id.into(),
            private_key: Some(a.private_key.into()),
            signature_secret: Some(a.signature_secret.into()),
            sample_rate: Some(sample_rate),
        }),
        ..Default::default()
    }
}

/// The import of the benchmarks' Plivo number (+14155552671) with stream `content_type`.
pub fn plivo_input(content_type: &str) -> PhoneNumberInput {
    PhoneNumberInput {
        phone_number: "+14155552671".into(),
        provider: "plivo".into(),
        plivo_config: Some(domain::phone_number::PlivoConfigInput {
            auth_id: PLIVO_ACCOUNT.0.into(),
            auth_token: Some(PLIVO_ACCOUNT.1.into()),
            content_type: Some(content_type.into()),
        }),
        ..Default::default()
    }
}

/// The benchmarks' number (+918047491899 on Exotel's protocol, +14155552671 on Twilio and
/// Plivo, +442079460958 on Vonage), linked to `agent_id`.
async fn linked_number(
    state: &AppState,
    owner: &crate::users::Owner,
    agent_id: &str,
    provider: Provider,
) -> anyhow_like::Result<domain::phone_number::PhoneNumberView> {
    let input = match provider {
        Provider::Twilio => PhoneNumberInput {
            phone_number: "+14155552671".into(),
            provider: "twilio".into(),
            twilio_config: Some(domain::phone_number::TwilioConfigInput {
                account_sid: TWILIO_ACCOUNT.0.into(),
                auth_token: Some(TWILIO_ACCOUNT.1.into()),
            }),
            linked_agent_id: Some(agent_id.to_string()),
            ..Default::default()
        },
        Provider::Vonage => PhoneNumberInput { linked_agent_id: Some(agent_id.to_string()), ..vonage_input(16_000) },
        Provider::Plivo => {
            PhoneNumberInput { linked_agent_id: Some(agent_id.to_string()), ..plivo_input(domain::phone_number::PLIVO_CONTENT_TYPES[0]) }
        }
        _ => PhoneNumberInput {
            phone_number: "+918047491899".into(),
            provider: "other".into(),
            linked_agent_id: Some(agent_id.to_string()),
            ..Default::default()
        },
    };
    Ok(crate::numbers::create(state, owner, &input).await?)
}

/// The rate the benchmarks' number of `provider` streams at (Vonage's at 16 kHz, the rest at 8).
pub fn caller_rate(provider: Provider) -> u32 {
    if provider == Provider::Vonage { 16_000 } else { 8000 }
}

/// A simulated call to `webhook` as `provider` places it.
pub fn bench_call(provider: Provider, webhook: &str, steps: Vec<crate::simulator::Step>) -> crate::simulator::CallOptions {
    match provider {
        Provider::Twilio => crate::simulator::CallOptions::twilio(webhook, steps, TWILIO_ACCOUNT.0, TWILIO_ACCOUNT.1),
        Provider::Vonage => {
            let a = &VONAGE_ACCOUNT;
            crate::simulator::CallOptions::vonage(webhook, steps, a.api_key, a.signature_secret, a.application_id)
        }
        Provider::Plivo => crate::simulator::CallOptions::plivo(webhook, steps, PLIVO_ACCOUNT.0, PLIVO_ACCOUNT.1),
        _ => crate::simulator::CallOptions::new(webhook, steps),
    }
}

/// A server on loopback whose public URL is itself, a user, and a number linked to an agent.
/// A server on loopback with one user, `agent` and a number; at most `max_calls` calls stream
/// at once (more are turned away as busy).
async fn call_line(
    dir: &std::path::Path,
    agent: domain::agent::AgentInput,
    max_calls: usize,
    provider: Provider,
) -> anyhow_like::Result<(AppState, String)> {
    let (state, _, _, number) = call_line_with(dir, agent, max_calls, provider, |_| {}).await?;
    Ok((state, number.webhook_url))
}

/// [`call_line`] with settings further changed by `change`; the state, user, agent and number.
async fn call_line_with(
    dir: &std::path::Path,
    agent: domain::agent::AgentInput,
    max_calls: usize,
    provider: Provider,
    change: impl FnOnce(&mut Settings),
) -> anyhow_like::Result<(AppState, crate::users::CurrentUser, domain::agent::AgentView, domain::phone_number::PhoneNumberView)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut settings = Settings::for_tests();
    settings.database_url = DatabaseUrl::SurrealKv(dir.join("db"));
    settings.data_dir = dir.to_path_buf();
    settings.public_url = url::Url::parse(&format!("http://{addr}"))?;
    // The offline voice as configured (e.g. VOXGATE_STT_MODEL=base for the accuracy mode).
    if let Ok(live) = Settings::load() {
        (settings.models_dir, settings.stt_model, settings.voice_threads) = (live.models_dir, live.stt_model, live.voice_threads);
    }
    (settings.max_calls, settings.max_calls_per_user) = (max_calls.max(1), max_calls.max(1));
    change(&mut settings);
    let state = AppState::connect(settings).await?;
    let user = crate::users::sign_up(&state, "bench@example.com", "benchmark password").await?;
    let agent = crate::agents::create(&state, &user.owner, agent).await?;
    let number = linked_number(&state, &user.owner, &agent.id, provider).await?;
    tokio::spawn(crate::serve::run(listener, crate::routes::router(state.clone(), axum::Router::new()), std::future::pending()));
    state.voice.warm_up(&[(agent.settings.clone(), None)], true).await;
    Ok((state, user, agent, number))
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn stats_line(label: &str, mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    format!(
        "{label}: n={} p50={:.1} p90={:.1} p99={:.1} max={:.1} ms",
        v.len(),
        quantile(&v, 0.5),
        quantile(&v, 0.9),
        quantile(&v, 0.99),
        v.last().copied().unwrap_or(f64::NAN)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmarks_twilio_account_passes_the_import_checks() {
        let (sid, token) = TWILIO_ACCOUNT;
        assert_eq!(domain::phone_number::check_twilio_account_sid(sid).as_deref(), Ok(sid));
        assert_eq!(domain::phone_number::check_twilio_auth_token(token).as_deref(), Ok(token));
    }

    #[test]
    fn the_benchmarks_vonage_and_plivo_accounts_pass_the_import_checks() {
        let vonage = vonage_input(16_000).validate(false).unwrap().vonage.unwrap();
        assert_eq!(vonage.api_key, VONAGE_ACCOUNT.api_key);
        assert_eq!(crate::telephony::vonage::signature::check_private_key(VONAGE_ACCOUNT.private_key), Ok(()));
        let plivo = plivo_input("audio/x-l16;rate=16000").validate(false).unwrap().plivo.unwrap();
        assert_eq!((plivo.auth_id.as_str(), plivo.auth_token.as_deref()), (PLIVO_ACCOUNT.0, Some(PLIVO_ACCOUNT.1)));
    }
}
