//! OpenAI-compatible cloud providers: chat completions streamed as server-sent events,
//! `/audio/transcriptions` (multipart WAV) and `/audio/speech` (raw 24 kHz PCM).
//! Errors name the endpoint and status, never the key or the response body. Requests go through
//! the guarded client (crate::net::guard): a base URL on a private or loopback address is refused.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{ChatTurn, Role, SpeechToText, TextToSpeech, VoiceError, audio};
use crate::net::guard::{self, GuardedClient, Refused};

/// Rate of `response_format: "pcm"` speech.
pub const SPEECH_RATE: u32 = 24_000;

/// One OpenAI-compatible API: base URL (e.g. `https://api.openai.com/v1`), key and model.
#[derive(Clone)]
pub struct OpenAi {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub client: GuardedClient,
    /// Limit for a whole request (a chat's first token has its own limit in the conversation).
    pub timeout: Duration,
}

impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "••••"))
            .finish()
    }
}

impl OpenAi {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url.trim_end_matches('/'))
    }

    fn post(&self, path: &str) -> Result<reqwest::RequestBuilder, Refused> {
        let mut req = self.client.post(&self.url(path))?.timeout(self.timeout);
        if let Some(k) = &self.api_key {
            req = req.bearer_auth(k);
        }
        Ok(req)
    }

    /// Sends a POST to `path` built by `body`, mapping failures (and non-2xx) with `error`.
    async fn send(
        &self,
        path: &str,
        body: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        error: fn(String) -> VoiceError,
    ) -> Result<reqwest::Response, VoiceError> {
        let req = self.post(path).map_err(|r| error(Self::refused(path, &r)))?;
        body(req).send().await.and_then(reqwest::Response::error_for_status).map_err(|e| error(Self::failed(path, e)))
    }

    /// What the call's error says when the guard refused the request: the endpoint and the
    /// kind of refusal (the log has the host and why).
    fn refused(path: &str, r: &Refused) -> String {
        tracing::warn!(endpoint = path, error = %r, "provider request refused");
        match r {
            Refused::Address { .. } => format!("{path}: address not allowed"),
            Refused::TooManyRedirects(_) => format!("{path}: too many redirects"),
            Refused::BadUrl | Refused::Scheme(_) => format!("{path}: not an http(s) URL"),
        }
    }

    fn failed(path: &str, e: reqwest::Error) -> String {
        if let Some(r) = guard::refusal(&e) {
            Self::refused(path, r)
        } else if e.is_timeout() {
            format!("{path}: timed out")
        } else if let Some(s) = e.status() {
            format!("{path}: HTTP {}", s.as_u16())
        } else {
            format!("{path}: cannot reach the provider")
        }
    }
}

/// Largest server-sent event line of a chat stream.
const MAX_EVENT: usize = 1 << 20;
/// Largest transcription response.
const MAX_TRANSCRIPT: usize = 1 << 20;
/// Largest speech response: about three minutes of 24 kHz 16-bit PCM.
const MAX_SPEECH: usize = 8 << 20;

/// A response body, refused once it is over `limit` bytes (a provider cannot fill memory).
async fn body_within(resp: reqwest::Response, limit: usize, path: &str, err: fn(String) -> VoiceError) -> Result<Vec<u8>, VoiceError> {
    let mut body = Vec::new();
    let mut bytes = resp.bytes_stream();
    while let Some(chunk) = bytes.next().await {
        body.extend_from_slice(&chunk.map_err(|e| err(OpenAi::failed(path, e)))?);
        if body.len() > limit {
            return Err(err(format!("{path}: response over {} KiB", limit / 1024)));
        }
    }
    Ok(body)
}

/// The name of the tool that hands the caller to a person.
pub const TRANSFER_TOOL: &str = "transfer_call";

/// The `transfer_call` tool, as chat completions take tools.
pub fn transfer_tool() -> Value {
    json!([{
        "type": "function",
        "function": {
            "name": TRANSFER_TOOL,
            "description": "Hand the caller to a person: when they ask for a human, or you cannot help them.",
            "parameters": {"type": "object", "properties": {}, "required": []}
        }
    }])
}

/// Streams the chat model's reply into `out`, one content delta at a time; the name of the tool
/// the model called, if it called one of `tools`.
pub async fn chat_stream(
    api: &OpenAi,
    system: &str,
    history: &[ChatTurn],
    input: &str,
    out: mpsc::Sender<String>,
    tools: Option<&Value>,
) -> Result<Option<String>, VoiceError> {
    let mut messages = Vec::new();
    if !system.trim().is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    for t in history {
        let role = if t.role == Role::Caller { "user" } else { "assistant" };
        messages.push(json!({"role": role, "content": t.text}));
    }
    messages.push(json!({"role": "user", "content": input}));
    let mut body = json!({"model": api.model, "messages": messages, "stream": true});
    if let Some(tools) = tools {
        body["tools"] = tools.clone();
    }
    let mut called: Option<String> = None;
    let resp = api.send("chat/completions", |r| r.json(&body), VoiceError::Agent).await?;
    let mut bytes = resp.bytes_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = bytes.next().await {
        let chunk = chunk.map_err(|e| VoiceError::Agent(OpenAi::failed("chat/completions", e)))?;
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_EVENT {
            return Err(VoiceError::Agent("chat/completions: an event over 1 MiB".into()));
        }
        while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim().strip_prefix("data:") else { continue };
            let data = data.trim();
            if data == "[DONE]" {
                return Ok(called);
            }
            let v: Value = serde_json::from_str(data).map_err(|_| VoiceError::Agent("chat/completions: malformed event".into()))?;
            // A streamed tool call names its function in its first delta.
            if let Some(name) = v.pointer("/choices/0/delta/tool_calls/0/function/name").and_then(Value::as_str)
                && called.is_none()
            {
                called = Some(name.chars().take(64).collect());
            }
            if let Some(delta) = v.pointer("/choices/0/delta/content").and_then(Value::as_str)
                && !delta.is_empty()
                && out.send(delta.to_string()).await.is_err()
            {
                return Ok(called); // the listener went away (barge-in)
            }
        }
    }
    Ok(called)
}

/// OpenAI-compatible transcription.
pub struct OpenAiStt(pub OpenAi);

#[async_trait]
impl SpeechToText for OpenAiStt {
    async fn transcribe(&self, audio_16k: Vec<i16>) -> Result<String, VoiceError> {
        let wav = audio::wav_bytes(&audio_16k, audio::MODEL_RATE)?;
        let part = reqwest::multipart::Part::bytes(wav)
            .file_name("speech.wav")
            .mime_str("audio/wav")
            .map_err(|e| VoiceError::Stt(e.to_string()))?;
        let form = reqwest::multipart::Form::new().text("model", self.0.model.clone()).part("file", part);
        let resp = self.0.send("audio/transcriptions", |r| r.multipart(form), VoiceError::Stt).await?;
        let body = body_within(resp, MAX_TRANSCRIPT, "audio/transcriptions", VoiceError::Stt).await?;
        let v: Value = serde_json::from_slice(&body).map_err(|_| VoiceError::Stt("audio/transcriptions: malformed response".into()))?;
        v.get("text")
            .and_then(Value::as_str)
            .map(|t| t.trim().to_string())
            .ok_or_else(|| VoiceError::Stt("audio/transcriptions: no text".into()))
    }
}

/// OpenAI-compatible speech.
pub struct OpenAiTts {
    pub api: OpenAi,
    pub voice: String,
}

#[async_trait]
impl TextToSpeech for OpenAiTts {
    async fn synthesize(&self, text: &str, rate: u32) -> Result<Vec<i16>, VoiceError> {
        let body = json!({"model": self.api.model, "input": text, "voice": self.voice, "response_format": "pcm"});
        let resp = self.api.send("audio/speech", |r| r.json(&body), VoiceError::Tts).await?;
        let bytes = body_within(resp, MAX_SPEECH, "audio/speech", VoiceError::Tts).await?;
        let pcm = audio::i16_to_f32(&audio::bytes_to_i16(&bytes));
        Ok(audio::f32_to_i16(&audio::resample(&pcm, SPEECH_RATE, rate)?))
    }
}
