//! `voxgate call`: acts as Exotel for one call, from the wire formats in
//! shared/protocols/EXOTEL.md. Posts the number's webhook, opens the stream URL of the answer,
//! sends `connected`, `start`, then caller audio in real time (100 ms `media` frames, silence
//! between utterances), DTMF when asked, echoes `mark`s once their audio has "played", obeys
//! `clear`, and records what the agent said. The report has per-turn latencies.
//!
//! - `sim`: the call's state, the caller's steps and what the caller sends.
//! - `receive`: waiting for replies, and what the server sends (audio, marks, `clear`).

mod receive;
mod sim;

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
    /// Inbound frame length (Exotel sends ~100 ms).
    pub frame: Duration,
    pub record: Option<PathBuf>,
    /// Keep the agent's audio in the report (off for load tests).
    pub keep_audio: bool,
}

impl CallOptions {
    pub fn new(webhook: impl Into<String>, steps: Vec<Step>) -> Self {
        Self {
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
        }
    }
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
    /// Sizes of the agent's media payloads that broke Exotel's rules (multiple of 320, 3,200..100 KB).
    pub bad_chunks: u64,
    /// Frames from the server that were not valid Voicebot frames.
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

/// The stream URL in a webhook answer: `<Stream url>` of an XML answer or `url` of a JSON one.
pub fn stream_url_of(body: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        return v.get("url").and_then(Value::as_str).map(str::to_string);
    }
    let mut reader = quick_xml::Reader::from_str(body);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) if e.name().as_ref() == b"Stream" => {
                return e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == b"url")
                    .and_then(|a| a.unescape_value().ok())
                    .map(|v| v.to_string());
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// Places the call and runs the steps; ends with `stop` unless the server closes first.
pub async fn run(opts: CallOptions) -> Result<CallReport, SimError> {
    let client = reqwest::Client::new();
    let form = [
        ("CallSid", opts.call_sid.as_str()),
        ("CallFrom", opts.from.as_str()),
        ("CallTo", opts.to.as_str()),
        ("From", opts.from.as_str()),
        ("To", opts.to.as_str()),
        ("Direction", "incoming"),
        ("CallType", "call-attempt"),
    ];
    let res = client.post(&opts.webhook).form(&form).send().await.map_err(|e| SimError::Webhook(e.to_string()))?;
    let status = res.status();
    let body = res.text().await.map_err(|e| SimError::Webhook(e.to_string()))?;
    if !status.is_success() {
        return Err(SimError::Webhook(format!("HTTP {status}: {body}")));
    }
    let mut url = url::Url::parse(&stream_url_of(&body).ok_or_else(|| SimError::Webhook(format!("no stream URL in the answer: {body}")))?)
        .map_err(|e| SimError::Webhook(e.to_string()))?;
    if let Some(rate) = opts.rate {
        let pairs: Vec<(String, String)> =
            url.query_pairs().filter(|(k, _)| k != "sample-rate").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        url.query_pairs_mut().clear().extend_pairs(pairs).append_pair("sample-rate", &rate.to_string());
    }
    let rate: u32 = url.query_pairs().find(|(k, _)| k == "sample-rate").and_then(|(_, v)| v.parse().ok()).unwrap_or(8000);
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(16 * 1024).write_buffer_size(8 * 1024);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
        .await
        .map_err(|e| SimError::Stream(e.to_string()))?;
    let mut call = Sim::new(opts, url.to_string(), rate, ws);
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
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://h/api/telephony/ws/n1?key=a&amp;sample-rate=8000"><Parameter name="x" value="y"/></Stream></Connect></Response>"#;
        assert_eq!(stream_url_of(xml).as_deref(), Some("ws://h/api/telephony/ws/n1?key=a&sample-rate=8000"));
        assert_eq!(stream_url_of(r#"{"url":"wss://h/ws"}"#).as_deref(), Some("wss://h/ws"));
        assert_eq!(stream_url_of("<Response><Hangup/></Response>"), None);
    }
}
