//! `voxgate call`: acts as Exotel, Twilio, Vonage or Plivo for one call, from the wire formats in
//! shared/protocols/. Posts the number's webhook (signed as Twilio signs), opens the stream URL
//! of the answer (with its parameters), sends `connected`, `start`, then caller audio in real
//! time (`media` frames, silence between utterances), DTMF when asked, echoes `mark`s once
//! their audio has "played", obeys `clear`, and records what the agent said. The report has
//! per-turn latencies.
//!
//! - `sim`: the call's state, the caller's steps and what the caller sends.
//! - `receive`: waiting for replies, and what the server sends (audio, marks, `clear`).
//! - `wire`: the provider played: its webhook, answer and stream messages (`vonage` and
//!   `plivo`: theirs).

pub mod cloud;
mod plivo;
mod receive;
mod sim;
mod vonage;
mod wire;

pub use wire::Provider;

/// A caller's `text` in `language` at `rate`, as the simulator says it: eSpeak NG for Hindi
/// (`hi`), the offline Piper voice otherwise.
pub async fn caller_speech(
    engine: &Arc<crate::voice::engine::VoiceEngine>,
    text: &str,
    language: &str,
    rate: u32,
) -> Result<Vec<i16>, crate::voice::VoiceError> {
    use crate::voice::audio;
    if language == "hi" {
        let (samples, from) = crate::voice::piper::espeak_speech(text, "hi").await?;
        return Ok(audio::f32_to_i16(&audio::resample(&audio::i16_to_f32(&samples), from, rate)?));
    }
    let caller = domain::agent::AgentInput { name: "Caller".into(), ..Default::default() };
    engine.pipeline(&caller, None).tts.synthesize(text, rate).await
}

/// `step` with its audio at `to` samples a second instead of `from`.
fn step_at_rate(step: Step, from: u32, to: u32) -> Step {
    let convert = |audio: Arc<[i16]>| -> Arc<[i16]> {
        let floats = crate::voice::audio::i16_to_f32(&audio);
        match crate::voice::audio::resample(&floats, from, to) {
            Ok(r) => crate::voice::audio::f32_to_i16(&r).into(),
            Err(_) => audio,
        }
    };
    match step {
        Step::Say { label, audio } => Step::Say { label, audio: convert(audio) },
        Step::Ask { label, audio } => Step::Ask { label, audio: convert(audio) },
        Step::BargeIn { label, audio, after } => Step::BargeIn { label, audio: convert(audio), after },
        other => other,
    }
}

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use sim::Sim;

/// One thing the caller does.
#[derive(Debug, Clone)]
pub enum Step {
    /// Speak (16-bit samples at the call's rate), then wait for the agent's whole reply.
    Say {
        label: String,
        audio: Arc<[i16]>,
    },
    /// Speak without waiting for the reply (a [`Step::BargeIn`] usually follows).
    Ask {
        label: String,
        audio: Arc<[i16]>,
    },
    /// Speak over the agent: starts `after` into the agent's reply (or greeting) (barge-in).
    BargeIn {
        label: String,
        audio: Arc<[i16]>,
        after: Duration,
    },
    /// Wait until the agent has spoken and gone quiet (e.g. the greeting).
    WaitReply,
    Silence(Duration),
    /// Press keys, then wait for the reply.
    Dtmf(String),
    /// Press keys without waiting for the reply (a [`Step::BargeIn`] usually follows).
    Press(String),
}

#[derive(Debug, Clone)]
pub struct CallOptions {
    /// Whose side the simulator plays.
    pub provider: Provider,
    /// The number's webhook URL (an XML answer), or its Voicebot URL (a JSON answer).
    pub webhook: String,
    pub call_sid: String,
    pub from: String,
    pub to: String,
    /// Overrides the stream URL's `sample-rate`.
    pub rate: Option<u32>,
    pub steps: Vec<Step>,
    /// Longest wait for a reply to start.
    pub reply_timeout: Duration,
    /// Silence after the agent's audio that ends its reply.
    pub reply_gap: Duration,
    /// Inbound frame length (Exotel sends ~100 ms, Twilio 20 ms).
    pub frame: Duration,
    pub record: Option<PathBuf>,
    /// Keep the agent's audio in the report (off for load tests).
    pub keep_audio: bool,
    /// The call was placed by us through the provider's Calls API: the webhook says so
    /// (`Direction` `outbound-api` or `outbound`, `CallStatus` `in-progress`); `from` is then
    /// our number and `to` the callee.
    pub outbound: bool,
    /// More webhook parameters (form or query), replacing defaults of the same name: Twilio's
    /// `AnsweredBy`, Plivo's `ALegRequestUUID`, Vonage's `conversation_uuid`.
    pub extra: Vec<(String, String)>,
    /// The rate the steps' audio was made at, when it is not the stream's (it is resampled).
    pub audio_rate: Option<u32>,
    /// Told the milliseconds of agent audio received so far, as each chunk comes (a test
    /// watching the call while it runs).
    pub audio_heard: Option<Arc<tokio::sync::watch::Sender<f64>>>,
    /// Opens the answer's stream on this origin (`http://host:port`) instead of the answer's:
    /// another node behind the same load balancer (the path and key stay the answer's).
    pub stream_origin: Option<url::Url>,
}

impl CallOptions {
    pub fn new(webhook: impl Into<String>, steps: Vec<Step>) -> Self {
        Self {
            provider: Provider::Exotel,
            webhook: webhook.into(),
            call_sid: format!("SIM{}", crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 16)),
            from: "+919876543210".into(),
            to: "+918047491899".into(),
            rate: None,
            steps,
            reply_timeout: Duration::from_secs(20),
            reply_gap: Duration::from_millis(900),
            frame: Duration::from_millis(100),
            record: None,
            keep_audio: true,
            outbound: false,
            extra: Vec::new(),
            audio_rate: None,
            audio_heard: None,
            stream_origin: None,
        }
    }

    /// A call as Vonage places it: a UUID call id, UK numbers, 20 ms frames, its webhook signed
    /// with `signature_secret` of account `api_key` for application `application_id`.
    pub fn vonage(webhook: impl Into<String>, steps: Vec<Step>, api_key: &str, signature_secret: &str, application_id: &str) -> Self {
        Self {
            provider: Provider::Vonage {
                api_key: api_key.into(),
                signature_secret: signature_secret.into(),
                application_id: application_id.into(),
            },
            call_sid: random_uuid(),
            from: "+447700900100".into(),
            to: "+442079460958".into(),
            frame: Duration::from_millis(20),
            ..Self::new(webhook, steps)
        }
    }

    /// A call as Plivo places it: a UUID call id, US numbers, 20 ms frames, signed with
    /// `auth_token` of account `auth_id`.
    pub fn plivo(webhook: impl Into<String>, steps: Vec<Step>, auth_id: &str, auth_token: &str) -> Self {
        Self {
            provider: Provider::Plivo { auth_id: auth_id.into(), auth_token: auth_token.into() },
            call_sid: random_uuid(),
            from: "+14155550100".into(),
            to: "+14155552671".into(),
            frame: Duration::from_millis(20),
            ..Self::new(webhook, steps)
        }
    }

    /// A call as Twilio places it: a `CA…` call id, US numbers, 20 ms frames, signed with
    /// `auth_token` of account `account_sid`.
    pub fn twilio(webhook: impl Into<String>, steps: Vec<Step>, account_sid: &str, auth_token: &str) -> Self {
        let hex = crate::secrets::random_string(b"0123456789abcdef", 32);
        Self {
            provider: Provider::Twilio { account_sid: account_sid.into(), auth_token: auth_token.into() },
            call_sid: format!("CA{hex}"),
            from: "+14155550100".into(),
            to: "+14155552671".into(),
            frame: Duration::from_millis(20),
            ..Self::new(webhook, steps)
        }
    }
}

/// A random UUID (version 4 layout), as Vonage and Plivo name calls.
fn random_uuid() -> String {
    let h = crate::secrets::random_string(b"0123456789abcdef", 32);
    format!("{}-{}-4{}-a{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..])
}

/// What happened around one caller step.
#[derive(Debug, Clone, Default)]
pub struct TurnReport {
    pub label: String,
    /// Caller audio length (ms).
    pub spoken_ms: f64,
    /// Caller stopped speaking (or pressed keys) -> first agent audio received (ms).
    pub reply_after_ms: Option<f64>,
    /// Agent audio received for the reply (ms of audio).
    pub reply_audio_ms: f64,
    /// Barge-in: caller speech start -> `clear` received (ms).
    pub clear_after_ms: Option<f64>,
    /// Wall-clock time the caller began this step's audio (to match it with stored turns).
    pub began_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct CallReport {
    pub call_sid: String,
    pub stream_url: String,
    pub rate: u32,
    /// `start` sent -> first greeting audio received (ms).
    pub greeting_after_ms: Option<f64>,
    pub greeting_audio_ms: f64,
    pub turns: Vec<TurnReport>,
    /// Everything the agent sent, at the call's rate.
    pub agent_audio: Vec<i16>,
    pub media_frames: u64,
    pub marks_echoed: u64,
    pub clears: u64,
    /// Sizes of the agent's media payloads that broke the provider's rules (Exotel: multiple of
    /// 320 bytes, 3,200..100 KB; Twilio: whole 20 ms frames).
    pub bad_chunks: u64,
    /// Frames from the server that broke the provider's protocol.
    pub bad_frames: u64,
    /// Chunks of an utterance that arrived more than 20 ms after the audio before them had
    /// played out (a gap the caller would hear), and the longest such gap (ms).
    pub late_chunks: u64,
    pub max_gap_ms: f64,
    /// The server closed the stream (code, reason), e.g. after the agent's goodbye.
    pub closed_by_server: Option<(u16, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("webhook: {0}")]
    Webhook(String),
    #[error("stream: {0}")]
    Stream(String),
}

/// The stream URL in a webhook answer, with its parameters: `<Stream url>` and its
/// `<Parameter>`s of an XML answer, or `url` of a JSON one.
pub fn stream_of(body: &str) -> Option<(String, BTreeMap<String, String>)> {
    use quick_xml::events::Event;
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        return v.get("url").and_then(Value::as_str).map(|u| (u.to_string(), BTreeMap::new()));
    }
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &[u8]| {
        e.attributes().flatten().find(|a| a.key.as_ref() == name).and_then(|a| a.unescape_value().ok()).map(|v| v.to_string())
    };
    let mut reader = quick_xml::Reader::from_str(body);
    let mut found: Option<(String, BTreeMap<String, String>)> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.name().as_ref() == b"Stream" => found = Some((attr(&e, b"url")?, BTreeMap::new())),
            Ok(Event::Start(e) | Event::Empty(e)) if e.name().as_ref() == b"Parameter" => {
                if let (Some((_, params)), Some(name), Some(value)) = (found.as_mut(), attr(&e, b"name"), attr(&e, b"value")) {
                    params.insert(name, value);
                }
            }
            Ok(Event::End(e)) if e.name().as_ref() == b"Stream" => return found,
            Ok(Event::Eof) | Err(_) => return found,
            _ => {}
        }
    }
}

/// Places the call and runs the steps; ends with `stop` unless the server closes first.
pub async fn run(opts: CallOptions) -> Result<CallReport, SimError> {
    let body = ask_answer(&opts).await?;
    run_answer(opts, &body).await
}

/// Runs the call from an answer already in hand, without the webhook: Twilio's inline `Twiml`,
/// Vonage's inline `ncco` (as JSON text).
pub async fn run_answer(opts: CallOptions, answer: &str) -> Result<CallReport, SimError> {
    let answered = wire::read_answer(&opts.provider, answer)?;
    stream(opts, answered).await
}

/// Runs the call straight on `stream_url`, without a webhook or an answer: Exotel's outbound
/// `StreamUrl`, which Exotel opens itself once the callee answers.
pub async fn run_stream(opts: CallOptions, stream_url: &str) -> Result<CallReport, SimError> {
    stream(opts, wire::Answered { url: stream_url.to_string(), ..Default::default() }).await
}

/// The client of every simulated call's webhook, made once: building one (its TLS roots)
/// costs milliseconds of CPU, which a thousand callers arriving together would spend at once.
/// It keeps no idle connection, so it serves calls run on any runtime (each test has its own).
fn webhook_client() -> reqwest::Client {
    static CLIENT: std::sync::LazyLock<reqwest::Client> =
        std::sync::LazyLock::new(|| reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap_or_default());
    CLIENT.clone()
}

/// Posts the webhook; the answer's body.
pub async fn ask_answer(opts: &CallOptions) -> Result<String, SimError> {
    let client = webhook_client();
    let hook = wire::webhook_request(opts);
    let mut request = if hook.get { client.get(&hook.url) } else { client.post(&hook.url).form(&hook.form) };
    for (name, value) in hook.headers {
        request = request.header(name, value);
    }
    let res = request.send().await.map_err(|e| SimError::Webhook(e.to_string()))?;
    let status = res.status();
    let body = res.text().await.map_err(|e| SimError::Webhook(e.to_string()))?;
    if !status.is_success() {
        return Err(SimError::Webhook(format!("HTTP {status}: {body}")));
    }
    Ok(body)
}

/// The stream URL an answer gives (without its query, which may carry the number's key) and
/// its rate; an error says why the answer connects no stream.
pub fn answer_stream(provider: &Provider, answer: &str) -> Result<(String, u32), SimError> {
    let answered = wire::read_answer(provider, answer)?;
    let url = url::Url::parse(&answered.url).map_err(|e| SimError::Webhook(format!("bad stream URL: {e}")))?;
    let rate = wire::rate(provider, &url, &answered);
    let bare = format!("{}{}", url.origin().ascii_serialization(), url.path());
    Ok((bare, rate))
}

/// Opens the answer's stream and runs the steps on it.
async fn stream(opts: CallOptions, answered: wire::Answered) -> Result<CallReport, SimError> {
    let mut url = url::Url::parse(&answered.url).map_err(|e| SimError::Webhook(e.to_string()))?;
    if let Some(origin) = &opts.stream_origin {
        let scheme = if matches!(origin.scheme(), "https" | "wss") { "wss" } else { "ws" };
        let moved = url.set_scheme(scheme).is_ok() && url.set_host(origin.host_str()).is_ok() && url.set_port(origin.port()).is_ok();
        if !moved {
            return Err(SimError::Webhook(format!("cannot open the stream on {origin}")));
        }
    }
    if let (Some(rate), Provider::Exotel) = (opts.rate, &opts.provider) {
        let pairs: Vec<(String, String)> =
            url.query_pairs().filter(|(k, _)| k != "sample-rate").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        url.query_pairs_mut().clear().extend_pairs(pairs).append_pair("sample-rate", &rate.to_string());
    }
    let rate = wire::rate(&opts.provider, &url, &answered);
    // The caller's audio is made at `opts.rate`: a number that streams at another rate (a
    // Vonage or Plivo number's setting) cannot take it.
    if let Some(wanted) = opts.rate.filter(|r| *r != rate && !matches!(opts.provider, Provider::Exotel)) {
        return Err(SimError::Webhook(format!(
            "the number streams at {rate} Hz, the caller's audio is at {wanted} Hz (pass --rate {rate})"
        )));
    }
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(16 * 1024).write_buffer_size(8 * 1024);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
        .await
        .map_err(|e| SimError::Stream(e.to_string()))?;
    let mut call = Sim::new(opts, url.to_string(), rate, ws, answered);
    call.run().await?;
    if let Some(path) = &call.opts.record {
        crate::voice::audio::write_wav(path, &call.report.agent_audio, rate).map_err(|e| SimError::Stream(e.to_string()))?;
    }
    Ok(call.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_url_is_read_from_xml_and_json_answers() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://h/api/telephony/ws/n1?key=a&amp;sample-rate=8000"><Parameter name="x" value="y&amp;z"/></Stream></Connect></Response>"#;
        let (url, params) = stream_of(xml).unwrap();
        assert_eq!(url, "ws://h/api/telephony/ws/n1?key=a&sample-rate=8000");
        assert_eq!(params, BTreeMap::from([("x".to_string(), "y&z".to_string())]));
        assert_eq!(stream_of(r#"{"url":"wss://h/ws"}"#), Some(("wss://h/ws".to_string(), BTreeMap::new())));
        assert_eq!(stream_of("<Response><Hangup/></Response>"), None);
    }
}
