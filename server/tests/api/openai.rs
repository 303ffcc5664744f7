//! Cloud providers against a local server that speaks the OpenAI wire format (chat
//! completions streamed as server-sent events, multipart transcription, raw PCM speech),
//! written from the API reference: keys sealed and sent as bearer tokens, replies streamed into
//! speech, and a failing or slow provider answered with the fallback line while the call goes on.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use domain::agent::AgentInput;
use domain::call::{Role, TurnKind};
use serde_json::{Value, json};
use server::simulator::{self, CallOptions, Step};

const KEY: &str = "sk-test-0123456789abcdef";
const HEARD: &str = "What are your opening hours?";
const REPLY: &str = "We are open from nine to five. See you soon!";

#[derive(Default)]
struct Seen {
    chats: Vec<Value>,
    transcriptions: Vec<(String, u32, usize)>,
    speech: Vec<Value>,
    auth_ok: bool,
}

type Fake = Arc<Mutex<Seen>>;

fn authorized(seen: &Fake, headers: &HeaderMap) -> bool {
    let ok = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {KEY}"));
    seen.lock().unwrap().auth_ok = ok;
    ok
}

async fn chat(State(seen): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&seen, &headers) {
        return (StatusCode::UNAUTHORIZED, r#"{"error":{"message":"bad key"}}"#).into_response();
    }
    let req: Value = serde_json::from_slice(&body).unwrap();
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

/// Reads the `model` field and the WAV file of a multipart form.
fn multipart(headers: &HeaderMap, body: &[u8]) -> (String, Vec<u8>) {
    let ct = headers["content-type"].to_str().unwrap();
    let boundary = format!("--{}", ct.split("boundary=").nth(1).unwrap());
    let text = body.to_vec();
    let mut model = String::new();
    let mut file = Vec::new();
    let parts: Vec<&[u8]> = split(&text, boundary.as_bytes());
    for part in parts {
        let Some(h) = find(part, b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&part[..h]);
        let mut content = &part[h + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        if head.contains("name=\"model\"") {
            model = String::from_utf8_lossy(content).to_string();
        } else if head.contains("name=\"file\"") {
            file = content.to_vec();
        }
    }
    (model, file)
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

async fn transcribe(State(seen): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&seen, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (model, wav) = multipart(&headers, &body);
    let (samples, rate) = server::voice::audio::read_wav_bytes(&wav).expect("a WAV file");
    seen.lock().unwrap().transcriptions.push((model, rate, samples.len()));
    axum::Json(json!({ "text": HEARD })).into_response()
}

/// Speech as `response_format: pcm` gives it: raw 16-bit mono at 24 kHz; 60 ms per character.
async fn speech(State(seen): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&seen, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let req: Value = serde_json::from_slice(&body).unwrap();
    seen.lock().unwrap().speech.push(req.clone());
    let n = req["input"].as_str().unwrap().chars().count() * 24_000 * 60 / 1000;
    let pcm: Vec<i16> = (0..n).map(|i| ((i as f32 * 0.05).sin() * 8000.0) as i16).collect();
    server::voice::audio::i16_to_bytes(&pcm).into_response()
}

async fn fake_openai() -> (String, Fake) {
    let seen: Fake = Arc::default();
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

struct Line {
    state: server::AppState,
    webhook: String,
    agent_id: String,
    owner: server::users::Owner,
}

async fn line(base_url: &str, model: &str, providers: [&str; 3]) -> Line {
    let (state, _) = common::live_server_with(|s| s.provider_timeout = Duration::from_millis(1500)).await;
    let user = common::user(&state, "cloud@example.com").await;
    let mut input = AgentInput { name: "Cloud".into(), system_prompt: "You are the clinic's receptionist.".into(), ..Default::default() };
    input.providers.stt = providers[0].into();
    input.providers.llm = providers[1].into();
    input.providers.tts = providers[2].into();
    input.providers.base_url = base_url.into();
    input.providers.model = model.into();
    input.providers.api_key = KEY.into();
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    // What `voxgate serve` does at start: load the offline models.
    state.voice.warm_up(&[], true).await;
    Line { state, webhook: number.webhook_url, agent_id: agent.id, owner: user.owner }
}

async fn caller_audio(state: &server::AppState) -> Vec<i16> {
    let p = state.voice.pipeline(&AgentInput { name: "Caller".into(), ..Default::default() }, None);
    p.tts.synthesize("Hello, what are your opening hours please?", 8000).await.unwrap()
}

/// The call's turns once at least `n` are stored (the last is written as the call ends).
async fn turns(state: &server::AppState, owner: &server::users::Owner, sid: &str, n: usize) -> Vec<domain::call::TurnView> {
    for _ in 0..50 {
        let t = server::db::turns::for_call(&state.db, owner, &format!("exotel_{sid}")).await.unwrap();
        if t.len() >= n {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server::db::turns::for_call(&state.db, owner, &format!("exotel_{sid}")).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_on_openai_compatible_providers_hears_thinks_and_speaks() {
    let _serial = common::voice_lock().await;
    let (base, seen) = fake_openai().await;
    let l = line(&base, "gpt-test", ["openai", "openai", "openai"]).await;

    // The key is sealed at rest and masked in reads.
    let stored: Vec<Value> = server::db::rows(&l.state.db, "SELECT settings_json FROM agent", json!({})).await.unwrap();
    assert!(!stored[0]["settings_json"].as_str().unwrap().contains(KEY), "the key is not stored in the clear");
    let view = server::agents::get(&l.state, &l.owner, &l.agent_id).await.unwrap();
    assert_eq!(view.settings.providers.api_key, "");
    assert_eq!(view.settings.providers.api_key_hint.as_deref(), Some("••••cdef"));
    // Editing without a key keeps it.
    let mut edit = view.settings.clone();
    edit.greeting = "Hello from the cloud. How can I help?".into();
    server::agents::update(&l.state, &l.owner, &l.agent_id, edit).await.unwrap();

    let question = caller_audio(&l.state).await;
    let report =
        simulator::run(CallOptions::new(l.webhook.clone(), vec![Step::Say { label: "hours".into(), audio: question.clone().into() }]))
            .await
            .unwrap();
    assert!(report.greeting_after_ms.is_some(), "greeted through the cloud voice");
    let turn = &report.turns[0];
    assert!(turn.reply_after_ms.is_some(), "{report:?}");
    // Two sentences, 60 ms per character of each, resampled from 24 kHz to the call's 8 kHz.
    let expected_ms = REPLY.chars().filter(|c| *c != ' ').count() as f64 * 60.0;
    assert!(turn.reply_audio_ms > expected_ms * 0.9 && turn.reply_audio_ms < expected_ms * 1.4, "{} vs {expected_ms}", turn.reply_audio_ms);

    {
        let seen = seen.lock().unwrap();
        assert!(seen.auth_ok, "the key went out as a bearer token");
        for (model, rate, _) in &seen.transcriptions {
            assert_eq!((model.as_str(), *rate), ("whisper-1", 16_000));
        }
        // A pause inside the question may start an early transcription of its first words (dropped
        // when the caller goes on); the last one, whose text was used, holds the whole utterance.
        let samples = seen.transcriptions.last().unwrap().2;
        let caller_ms = question.len() as f64 / 8.0;
        assert!((samples as f64 / 16.0) > caller_ms * 0.8, "the whole utterance was sent: {samples} samples of {caller_ms} ms");
        let chat = &seen.chats[0];
        assert_eq!(chat["model"], "gpt-test");
        assert_eq!(chat["messages"][0], json!({"role": "system", "content": "You are the clinic's receptionist."}));
        assert_eq!(chat["messages"].as_array().unwrap().last().unwrap(), &json!({"role": "user", "content": HEARD}));
        // Streamed into speech sentence by sentence.
        let spoken: Vec<&str> = seen.speech.iter().filter_map(|s| s["input"].as_str()).collect();
        assert!(spoken.contains(&"We are open from nine to five.") && spoken.contains(&"See you soon!"), "{spoken:?}");
        assert!(seen.speech.iter().all(|s| s["response_format"] == "pcm"));
    }

    let t = turns(&l.state, &l.owner, &report.call_sid, 3).await;
    let said: Vec<(Role, &str)> = t.iter().map(|t| (t.role, t.text.as_str())).collect();
    assert_eq!(said[1..3], [(Role::Caller, HEARD), (Role::Agent, REPLY)]);
    assert!(t[2].timings.agent_ms.is_some() && t[2].timings.tts_ms.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_slow_provider_gets_the_fallback_line_and_the_call_goes_on() {
    let _serial = common::voice_lock().await;
    let (base, _seen) = fake_openai().await;
    for model in ["broken", "slow"] {
        // Offline STT and TTS; the chat model fails (HTTP 500) or never answers in time.
        let l = line(&base, model, ["whisper-local", "openai", "piper-local"]).await;
        let question = caller_audio(&l.state).await;
        let started = std::time::Instant::now();
        let steps = vec![
            Step::Say { label: "one".into(), audio: question.clone().into() },
            Step::Say { label: "two".into(), audio: question.into() },
        ];
        let report = simulator::run(CallOptions::new(l.webhook.clone(), steps)).await.unwrap();
        assert_eq!(report.turns.len(), 2, "{model}: the call went on");
        let t = turns(&l.state, &l.owner, &report.call_sid, 5).await;
        for turn in &report.turns {
            assert!(turn.reply_after_ms.is_some_and(|ms| ms < 6000.0), "{model}: {turn:?} {t:#?}");
        }
        assert!(started.elapsed() < Duration::from_secs(40));
        let fallbacks: Vec<&str> = t.iter().filter(|t| t.kind == TurnKind::Fallback).map(|t| t.text.as_str()).collect();
        assert_eq!(fallbacks.len(), 2, "{model}: {t:?}");
        // Offline STT heard the caller each time: it was the chat model that failed.
        let heard = t.iter().filter(|t| t.role == Role::Caller && t.text.to_lowercase().contains("opening")).count();
        assert_eq!(heard, 2, "{model}: {t:?}");
        assert_eq!(fallbacks[0], server::voice::engine::fallback_line("en"));
        // The error logged and stored never holds the key.
        assert!(t.iter().all(|t| !t.text.contains(KEY)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_cloud_speech_falls_back_to_the_offline_voice() {
    let _serial = common::voice_lock().await;
    // Nothing listens on the discard port: every cloud request is refused at once.
    let unreachable = "http://127.0.0.1:9/v1";
    for providers in [["openai", "scripted", "piper-local"], ["whisper-local", "scripted", "openai"]] {
        let l = line(unreachable, "gpt-test", providers).await;
        let question = caller_audio(&l.state).await;
        let steps = vec![
            Step::Say { label: "one".into(), audio: question.clone().into() },
            Step::Say { label: "two".into(), audio: question.into() },
        ];
        let report = simulator::run(CallOptions::new(l.webhook.clone(), steps)).await.unwrap();
        // The greeting is spoken even when the cloud voice cannot be reached.
        assert!(report.greeting_after_ms.is_some(), "{providers:?}: {report:?}");
        assert_eq!(report.turns.len(), 2, "{providers:?}: the call went on");
        for turn in &report.turns {
            assert!(turn.reply_after_ms.is_some() && turn.reply_audio_ms > 1000.0, "{providers:?}: {turn:?}");
        }
        let t = turns(&l.state, &l.owner, &report.call_sid, 5).await;
        let fallbacks = t.iter().filter(|t| t.kind == TurnKind::Fallback).count();
        assert_eq!(fallbacks, 2, "{providers:?}: {t:?}");
    }
}

#[tokio::test]
async fn an_llm_agent_offered_the_transfer_tool_hands_the_caller_over_when_the_model_calls_it() {
    let (base, seen) = fake_openai().await;
    let state = common::state().await;
    let mut input = AgentInput { name: "Desk".into(), transfer_to: "+14155550100".into(), ..Default::default() };
    input.providers.llm = "openai".into();
    input.providers.base_url = base;
    input.providers.model = "transfers".into();
    let ask = |input: AgentInput| {
        let pipeline = state.voice.pipeline(&input, Some(KEY.into()));
        async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel(64);
            let after = pipeline.agent.reply(&[], &server::voice::AgentInput::Speech("Something odd happened.".into()), tx).await.unwrap();
            let mut said = String::new();
            while let Ok(piece) = rx.try_recv() {
                said.push_str(&piece);
            }
            (after, said)
        }
    };
    let (after, said) = ask(input.clone()).await;
    assert_eq!(after, server::voice::AfterReply::Transfer);
    assert_eq!(said, "Of course. Connecting you to a person now. Please hold.");
    assert_eq!(seen.lock().unwrap().chats[0]["tools"][0]["function"]["name"], "transfer_call");
    // Without a destination the tool is not offered, and nothing is handed over.
    let (after, said) = ask(AgentInput { transfer_to: String::new(), ..input }).await;
    assert_eq!(after, server::voice::AfterReply::Listen);
    assert!(said.starts_with("We are open"), "{said}");
    assert!(seen.lock().unwrap().chats[1].get("tools").is_none());
}
