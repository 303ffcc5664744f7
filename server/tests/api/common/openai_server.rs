//! A local server that speaks the OpenAI wire format, written from the API reference: chat
//! completions streamed as server-sent events, multipart transcription, raw 24 kHz PCM speech
//! streamed in several chunks. It checks what the real API checks (the bearer key, the model,
//! the form's fields, a readable WAV file) and answers errors in OpenAI's error format. It cannot
//! recognise speech: transcriptions answer the phrases a test gives it, in order, and only for
//! audio with speech energy in it (and, when a test asks, in the expected language).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

pub const KEY: &str = "sk-test-0123456789abcdef";
/// What transcriptions answer when a test gave no phrases.
pub const HEARD: &str = "What are your opening hours?";
pub const REPLY: &str = "We are open from nine to five. See you soon!";
/// Chunks each sentence's speech is streamed in.
pub const SPEECH_CHUNKS: usize = 4;

/// What the server was sent, and what a test set it up to do.
#[derive(Default)]
pub struct Seen {
    pub chats: Vec<Value>,
    /// Per transcription: model, WAV rate, samples, language field.
    pub transcriptions: Vec<(String, u32, usize, Option<String>)>,
    pub speech: Vec<Value>,
    pub auth_ok: bool,
    /// Transcriptions answer these in order (the last one repeats); empty: [`HEARD`].
    pub phrases: VecDeque<String>,
    /// Transcriptions must name this language.
    pub language: Option<String>,
    /// The next speech of this sentence stops twice, each time until the test lets it go on.
    pub hold: Option<Hold>,
    /// How long the caller's utterance is (ms): a transcription of less audio answers only
    /// the phrase's first words, in proportion and unpunctuated, as a recogniser hearing the
    /// start of an utterance does (an early transcription at a pause).
    pub utterance_ms: Option<f64>,
}

/// A sentence whose speech stops twice: once asked for, before its first chunk; then before its
/// last chunk. At each stop `held` is notified, and the speech goes on once `release` is.
#[derive(Clone, Default)]
pub struct Hold {
    pub sentence: String,
    pub held: Arc<Notify>,
    pub release: Arc<Notify>,
    /// Set once the last chunk is on its way.
    pub sent_last: Arc<std::sync::atomic::AtomicBool>,
}

impl Hold {
    async fn stop(&self) {
        self.held.notify_one();
        self.release.notified().await;
    }
}

pub type Shared = Arc<Mutex<Seen>>;

/// An error as the API gives it: `{"error": {"message", "type", "param", "code"}}`.
fn api_error(status: StatusCode, message: &str, param: Option<&str>, code: Option<&str>) -> Response {
    (status, axum::Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}})))
        .into_response()
}

/// None when the bearer key is right; else the API's answer to a wrong key.
fn refused(seen: &Shared, headers: &HeaderMap) -> Option<Response> {
    let ok = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {KEY}"));
    seen.lock().unwrap().auth_ok = ok;
    (!ok).then(|| api_error(StatusCode::UNAUTHORIZED, "Incorrect API key provided.", None, Some("invalid_api_key")))
}

async fn chat(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = refused(&seen, &headers) {
        return refused;
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return api_error(StatusCode::BAD_REQUEST, "We could not parse the JSON body of your request.", None, None);
    };
    seen.lock().unwrap().chats.push(req.clone());
    match req["model"].as_str() {
        Some("broken") => return (StatusCode::INTERNAL_SERVER_ERROR, "{}").into_response(),
        Some("slow") => tokio::time::sleep(Duration::from_secs(30)).await,
        _ => {}
    }
    assert_eq!(req["stream"], true);
    let mut sse = String::new();
    // A model that hands the caller over whenever it is offered the transfer tool.
    if req["model"] == "transfers" && req["tools"][0]["function"]["name"] == "transfer_call" {
        let call = json!({"index":0,"id":"call_1","type":"function","function":{"name":"transfer_call","arguments":""}});
        for delta in [
            json!({"content":"Of course."}),
            json!({"tool_calls":[call]}),
            json!({"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}),
        ] {
            sse.push_str(&format!("data: {}\n\n", json!({"choices":[{"index":0,"delta":delta}]})));
        }
        sse.push_str("data: [DONE]\n\n");
        return ([("content-type", "text/event-stream")], sse).into_response();
    }
    // One SSE event per word, as the API streams deltas.
    sse.push_str(&format!("data: {}\n\n", json!({"choices":[{"index":0,"delta":{"role":"assistant"}}]})));
    for (i, w) in REPLY.split(' ').enumerate() {
        let piece = if i == 0 { w.to_string() } else { format!(" {w}") };
        sse.push_str(&format!("data: {}\n\n", json!({"choices":[{"index":0,"delta":{"content":piece}}]})));
    }
    sse.push_str("data: [DONE]\n\n");
    ([("content-type", "text/event-stream")], sse).into_response()
}

/// A multipart form's text fields (name, value) and its `file` part.
struct Form {
    fields: Vec<(String, String)>,
    file: Option<Vec<u8>>,
}

/// The form of a multipart body; None when it is not one.
fn multipart(headers: &HeaderMap, body: &[u8]) -> Option<Form> {
    let ct = headers.get("content-type")?.to_str().ok()?;
    let boundary = format!("--{}", ct.strip_prefix("multipart/form-data")?.split("boundary=").nth(1)?);
    let mut fields = Vec::new();
    let mut file = None;
    for part in split(body, boundary.as_bytes()) {
        let Some(h) = find(part, b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&part[..h]);
        let mut content = &part[h + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        let name = head.split("name=\"").nth(1).and_then(|n| n.split('"').next()).unwrap_or_default().to_string();
        if name == "file" {
            file = Some(content.to_vec());
        } else if !name.is_empty() {
            fields.push((name, String::from_utf8_lossy(content).to_string()));
        }
    }
    Some(Form { fields, file })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut hay: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = find(hay, sep) {
        out.push(&hay[..i]);
        hay = &hay[i + sep.len()..];
    }
    out.push(hay);
    out
}

async fn transcribe(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = refused(&seen, &headers) {
        return refused;
    }
    let Some(Form { fields, file }) = multipart(&headers, &body) else {
        return api_error(StatusCode::BAD_REQUEST, "The request must be multipart/form-data.", None, None);
    };
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let model = field("model").unwrap_or_default();
    if !matches!(model.as_str(), "whisper-1" | "gpt-4o-transcribe" | "gpt-4o-mini-transcribe") {
        return api_error(StatusCode::BAD_REQUEST, &format!("Invalid model {model:?}."), Some("model"), Some("model_not_found"));
    }
    let Some(Ok((samples, rate))) = file.map(|f| server::voice::audio::read_wav_bytes(&f)) else {
        return api_error(StatusCode::BAD_REQUEST, "Invalid file format.", Some("file"), None);
    };
    let language = field("language");
    let mut seen = seen.lock().unwrap();
    seen.transcriptions.push((model, rate, samples.len(), language.clone()));
    if let Some(wanted) = &seen.language
        && language.as_ref() != Some(wanted)
    {
        return api_error(StatusCode::BAD_REQUEST, &format!("Expected language {wanted:?}."), Some("language"), None);
    }
    // This server cannot hear: it answers its phrases only for audio that holds speech.
    if samples.len() < rate as usize / 10 || server::voice::audio::rms(&samples) < 0.01 {
        return api_error(StatusCode::BAD_REQUEST, "The audio file holds no speech.", Some("file"), None);
    }
    let heard_ms = samples.len() as f64 * 1000.0 / f64::from(rate.max(1));
    if let Some(whole) = seen.utterance_ms
        && heard_ms < whole * 0.9
    {
        let phrase = seen.phrases.front().cloned().unwrap_or_else(|| HEARD.to_string());
        let words: Vec<&str> = phrase.split_whitespace().collect();
        let n = ((words.len() as f64 * heard_ms / whole).ceil() as usize).clamp(1, words.len());
        let start = words[..n].join(" ");
        return axum::Json(json!({ "text": start.trim_end_matches(['.', '?', '!', ',']) })).into_response();
    }
    let text = if seen.phrases.len() > 1 { seen.phrases.pop_front() } else { seen.phrases.front().cloned() };
    axum::Json(json!({ "text": text.unwrap_or_else(|| HEARD.to_string()) })).into_response()
}

/// Speech as `response_format: pcm` gives it: raw 16-bit mono at 24 kHz, 60 ms per character,
/// streamed in [`SPEECH_CHUNKS`] chunks.
async fn speech(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = refused(&seen, &headers) {
        return refused;
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return api_error(StatusCode::BAD_REQUEST, "We could not parse the JSON body of your request.", None, None);
    };
    let Some(input) = req["input"].as_str().filter(|t| !t.is_empty()).map(str::to_string) else {
        return api_error(StatusCode::BAD_REQUEST, "Missing input.", Some("input"), None);
    };
    if !matches!(req["model"].as_str(), Some("tts-1" | "tts-1-hd" | "gpt-4o-mini-tts")) {
        return api_error(StatusCode::BAD_REQUEST, "Invalid model.", Some("model"), Some("model_not_found"));
    }
    if req["voice"].as_str().is_none_or(str::is_empty) {
        return api_error(StatusCode::BAD_REQUEST, "Missing voice.", Some("voice"), None);
    }
    // The only format this server makes (the API's default is mp3).
    if req["response_format"] != "pcm" {
        return api_error(StatusCode::BAD_REQUEST, "Only response_format pcm is served here.", Some("response_format"), None);
    }
    let hold = {
        let mut seen = seen.lock().unwrap();
        seen.speech.push(req.clone());
        // Only the first request for the sentence is held.
        seen.hold.take_if(|h| h.sentence == input)
    };
    let n = input.chars().count() * 24_000 * 60 / 1000;
    let pcm: Vec<i16> = (0..n).map(|i| ((i as f32 * 0.05).sin() * 8000.0) as i16).collect();
    let bytes = server::voice::audio::i16_to_bytes(&pcm);
    // An odd chunk size, so samples are split across chunks as a real stream splits them.
    let size = (bytes.len() / SPEECH_CHUNKS) | 1;
    let chunks: Vec<Bytes> = bytes.chunks(size).map(Bytes::copy_from_slice).collect();
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.into_iter().enumerate() {
            if let Some(h) = &hold
                && (i == 0 || i == last)
            {
                h.stop().await;
                h.sent_last.store(i == last, std::sync::atomic::Ordering::SeqCst);
            }
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) });
    ([("content-type", "application/octet-stream")], Body::from_stream(stream)).into_response()
}

/// Starts the server on loopback; its base URL (`…/v1`) and what it sees.
pub async fn start() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/audio/transcriptions", post(transcribe))
        .route("/v1/audio/speech", post(speech))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1"), seen)
}
