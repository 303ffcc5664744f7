//! Cloud providers against a local server that speaks the OpenAI wire format (chat
//! completions streamed as server-sent events, multipart transcription, raw PCM speech),
//! written from the API reference: keys sealed and sent as bearer tokens, replies streamed into
//! speech, and a failing or slow provider answered with the fallback line while the call goes on.

use crate::common;

use std::time::Duration;

use domain::agent::AgentInput;
use domain::call::{Role, TurnKind};
use serde_json::{Value, json};
use server::simulator::{self, CallOptions, Step};

use common::openai_server::{self, HEARD, KEY, REPLY};

struct Line {
    state: server::AppState,
    webhook: String,
    agent_id: String,
    owner: server::users::Owner,
}

async fn line(base_url: &str, model: &str, providers: [&str; 3]) -> Line {
    line_with(base_url, model, providers, Duration::from_millis(1500)).await
}

async fn line_with(base_url: &str, model: &str, providers: [&str; 3], timeout: Duration) -> Line {
    let (state, _) = common::live_server_with(|s| s.provider_timeout = timeout).await;
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
    let (base, seen) = openai_server::start().await;
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
    seen.lock().unwrap().utterance_ms = Some(question.len() as f64 / 8.0);
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
        for (model, rate, _, language) in &seen.transcriptions {
            assert_eq!((model.as_str(), *rate, language.as_deref()), ("whisper-1", 16_000, Some("en")));
        }
        // A pause inside the question may start an early transcription of its first words (dropped
        // when the caller goes on); the last one, whose text was used, holds the whole utterance.
        let samples = seen.transcriptions.last().unwrap().2;
        let caller_ms = question.len() as f64 / 8.0;
        assert!((samples as f64 / 16.0) > caller_ms * 0.8, "the whole utterance was sent: {samples} samples of {caller_ms} ms");
        // Likewise a pause's early reply may have asked the model about the first words; the
        // last question asked is the one answered.
        let chat = seen.chats.last().unwrap();
        assert_eq!(chat["model"], "gpt-test");
        assert_eq!(chat["messages"][0], json!({"role": "system", "content": "You are the clinic's receptionist."}));
        assert_eq!(
            chat["messages"].as_array().unwrap().last().unwrap(),
            &json!({"role": "user", "content": HEARD}),
            "transcriptions {:?}, chats {}",
            seen.transcriptions,
            seen.chats.len()
        );
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

/// Speech is passed on as the provider streams it: the caller hears a sentence's start while the
/// provider still holds back its end (no clock involved: the provider waits for the test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caller_hears_a_sentence_before_its_speech_has_finished_streaming() {
    let _serial = common::voice_lock().await;
    let (base, seen) = openai_server::start().await;
    let first = "We are open from nine to five.";
    let hold = openai_server::Hold { sentence: first.into(), ..Default::default() };
    seen.lock().unwrap().hold = Some(hold.clone());
    // A limit far over what the test needs: the held sentence must not time out.
    let l = line_with(&base, "gpt-test", ["openai", "openai", "openai"], Duration::from_secs(60)).await;
    // A question without a pause inside, so no early reply asks for the sentence first.
    let p = l.state.voice.pipeline(&AgentInput { name: "Caller".into(), ..Default::default() }, None);
    let question = p.tts.synthesize("What are your opening hours?", 8000).await.unwrap();
    let (heard_tx, mut heard) = tokio::sync::watch::channel(0.0f64);
    let mut opts = CallOptions::new(l.webhook.clone(), vec![Step::Say { label: "hours".into(), audio: question.into() }]);
    opts.audio_heard = Some(std::sync::Arc::new(heard_tx));
    let call = tokio::spawn(simulator::run(opts));
    let bound = Duration::from_secs(60);

    // The sentence's speech was asked for; none of it exists yet.
    tokio::time::timeout(bound, hold.held.notified()).await.expect("the reply's first sentence is spoken");
    let before = *heard.borrow_and_update();
    hold.release.notify_one();
    // All of it but its last chunk is sent; the last is held back.
    tokio::time::timeout(bound, hold.held.notified()).await.expect("the speech streams up to its last chunk");
    let early = *tokio::time::timeout(bound, heard.wait_for(|ms| *ms > before)).await.expect("audio reached the caller").unwrap() - before;
    assert!(!hold.sent_last.load(std::sync::atomic::Ordering::SeqCst), "the sentence's end was still held back");
    let sentence_ms = first.chars().count() as f64 * 60.0;
    assert!(early > 0.0 && early < sentence_ms, "{early} ms of a {sentence_ms} ms sentence heard before its end was sent");
    hold.release.notify_one();

    let report = call.await.unwrap().unwrap();
    // The whole reply arrived: both sentences, 60 ms per character, at the call's rate.
    let expected_ms = (first.chars().count() + "See you soon!".chars().count()) as f64 * 60.0;
    let got = report.turns[0].reply_audio_ms;
    assert!(got > expected_ms * 0.98 && got < expected_ms * 1.2, "{got} vs {expected_ms}");
    let t = turns(&l.state, &l.owner, &report.call_sid, 3).await;
    assert_eq!((t[2].role, t[2].text.as_str(), t[2].kind), (Role::Agent, REPLY, TurnKind::Speech), "{t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_slow_provider_gets_the_fallback_line_and_the_call_goes_on() {
    let _serial = common::voice_lock().await;
    let (base, _seen) = openai_server::start().await;
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
    let (base, seen) = openai_server::start().await;
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
