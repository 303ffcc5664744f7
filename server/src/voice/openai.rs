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
pub struct OpenAiStt {
    pub api: OpenAi,
    /// The agent's language (ISO 639-1, e.g. `hi`), sent so the model does not guess it.
    pub language: String,
}

#[async_trait]
impl SpeechToText for OpenAiStt {
    async fn transcribe(&self, audio_16k: Vec<i16>) -> Result<String, VoiceError> {
        let wav = audio::wav_bytes(&audio_16k, audio::MODEL_RATE)?;
        let part = reqwest::multipart::Part::bytes(wav)
            .file_name("speech.wav")
            .mime_str("audio/wav")
            .map_err(|e| VoiceError::Stt(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new().text("model", self.api.model.clone()).part("file", part);
        if !self.language.is_empty() {
            form = form.text("language", self.language.clone());
        }
        let resp = self.api.send("audio/transcriptions", |r| r.multipart(form), VoiceError::Stt).await?;
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
        let (tx, mut rx) = mpsc::channel(SPEECH_PIECES);
        let (done, pcm) = tokio::join!(self.synthesize_stream(text, rate, tx), async {
            let mut pcm = Vec::new();
            while let Some(piece) = rx.recv().await {
                pcm.extend_from_slice(&piece);
            }
            pcm
        });
        done.map(|()| pcm)
    }

    /// Reads the PCM as the provider sends it, resampled statefully (no click where its HTTP
    /// chunks join; an odd byte waits for its pair).
    async fn synthesize_stream(&self, text: &str, rate: u32, out: mpsc::Sender<Vec<i16>>) -> Result<(), VoiceError> {
        const PATH: &str = "audio/speech";
        let body = json!({"model": self.api.model, "input": text, "voice": self.voice, "response_format": "pcm"});
        let resp = self.api.send(PATH, |r| r.json(&body), VoiceError::Tts).await?;
        let mut resampler = audio::StreamResampler::new(SPEECH_RATE, rate)?;
        let mut bytes = resp.bytes_stream();
        let mut total = 0usize;
        let mut odd: Option<u8> = None;
        let min_piece = rate as usize / 25;
        let mut ready: Vec<i16> = Vec::with_capacity(min_piece);
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk.map_err(|e| VoiceError::Tts(OpenAi::failed(PATH, e)))?;
            total += chunk.len();
            if total > MAX_SPEECH {
                return Err(VoiceError::Tts(format!("{PATH}: response over {} KiB", MAX_SPEECH / 1024)));
            }
            let samples = pcm_samples(&mut odd, &chunk);
            ready.extend(audio::f32_to_i16(&resampler.push(&audio::i16_to_f32(&samples))?));
            // Tiny HTTP chunks are gathered into pieces of at least 40 ms: fewer messages, same start.
            if ready.len() >= min_piece && out.send(std::mem::take(&mut ready)).await.is_err() {
                return Ok(()); // the listener went away (barge-in)
            }
        }
        ready.extend(audio::f32_to_i16(&resampler.finish()?));
        if !ready.is_empty() {
            let _ = out.send(ready).await;
        }
        Ok(())
    }
}

/// Pieces of a sentence's audio in flight between the provider's stream and its listener.
const SPEECH_PIECES: usize = 8;

/// The 16-bit samples of `chunk`, with the byte left over from the chunk before (`odd`) in front
/// and this chunk's own odd byte kept for the next.
fn pcm_samples(odd: &mut Option<u8>, chunk: &[u8]) -> Vec<i16> {
    let mut bytes = Vec::with_capacity(chunk.len() + 1);
    bytes.extend(odd.take());
    bytes.extend_from_slice(chunk);
    if bytes.len() % 2 == 1 {
        *odd = bytes.pop();
    }
    audio::bytes_to_i16(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_split_across_chunks_are_joined() {
        let pcm: Vec<i16> = vec![1, -2, 300, -32768, 32767, 12345];
        let bytes = audio::i16_to_bytes(&pcm);
        for cut in [1, 3, 5, 7] {
            let mut odd = None;
            let mut out = pcm_samples(&mut odd, &bytes[..cut]);
            out.extend(pcm_samples(&mut odd, &bytes[cut..]));
            assert_eq!((out, odd), (pcm.clone(), None), "cut at byte {cut}");
        }
    }
}
