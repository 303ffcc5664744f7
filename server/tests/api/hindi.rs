//! A Hindi call from end to end: the caller speaks Hindi (eSpeak NG, through the simulator's
//! real call stream), an OpenAI-compatible provider transcribes it (told the language), the
//! scripted agent matches its Devanagari key words, and eSpeak NG speaks the greeting and the
//! reply offline.

use crate::common;

use std::time::Duration;

use domain::agent::{AgentInput, ScriptRule};
use domain::call::{Role, TurnKind};
use server::simulator::{self, CallOptions, Step};
use server::voice::audio;

use common::openai_server::{self, KEY};

/// How long eSpeak NG takes to say `text` in Hindi (ms).
async fn said(text: &str) -> f64 {
    let (samples, from) = server::voice::piper::espeak_speech(text, "hi").await.unwrap();
    samples.len() as f64 * 1000.0 / f64::from(from)
}

const GREETING: &str = "नमस्ते, आपका स्वागत है। मैं आपकी कैसे मदद कर सकती हूँ?";
const ASKED: &str = "आपके खुलने का समय क्या है?";
const HOURS: &str = "हम सुबह नौ बजे से शाम पाँच बजे तक खुले हैं।";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hindi_caller_is_greeted_heard_and_answered_in_hindi() {
    let _serial = common::voice_lock().await;
    let (base, seen) = openai_server::start().await;
    {
        let mut seen = seen.lock().unwrap();
        seen.phrases = [ASKED.to_string()].into();
        seen.language = Some("hi".into());
    }
    let (state, _) = common::live_server_with(|s| s.provider_timeout = Duration::from_secs(10)).await;
    let user = common::user(&state, "hindi@example.com").await;
    let mut input = AgentInput {
        name: "Hindi desk".into(),
        language: "hi".into(),
        greeting: GREETING.into(),
        rules: vec![
            ScriptRule {
                keywords: vec!["अपॉइंटमेंट".into()], reply: "कौन सा दिन आपके लिए ठीक रहेगा?".into()
            },
            ScriptRule { keywords: vec!["समय".into(), "खुले".into()], reply: HOURS.into() },
        ],
        default_reply: "माफ़ कीजिए, मैं समझ नहीं पाई।".into(),
        goodbye: "धन्यवाद, नमस्ते।".into(),
        ..Default::default()
    };
    // Heard by the provider; the replies are scripted and spoken offline (eSpeak NG for Hindi).
    input.providers.stt = "openai".into();
    input.providers.base_url = base;
    input.providers.api_key = KEY.into();
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    state.voice.warm_up(&[], true).await;

    let rate = 8000;
    let question = simulator::caller_speech(&state.voice, ASKED, "hi", rate).await.unwrap();
    assert!(audio::rms(&question) > 0.02, "the caller's Hindi is spoken");
    let steps = vec![Step::Say { label: "hours".into(), audio: question.into() }];
    let report = simulator::run(CallOptions::new(number.webhook_url.clone(), steps)).await.unwrap();

    // The greeting was heard: audio with energy in it, as long as eSpeak NG says it.
    assert!(report.greeting_after_ms.is_some(), "{report:?}");
    let greeting = &report.agent_audio[..(report.greeting_audio_ms * f64::from(rate) / 1000.0) as usize];
    assert!(audio::rms(greeting) > 0.02, "the greeting is not silent");
    let greeting_ms = said(GREETING).await;
    assert!((report.greeting_audio_ms / greeting_ms - 1.0).abs() < 0.25, "{} vs {greeting_ms}", report.greeting_audio_ms);

    // The reply's audio reached the caller: the matching rule's line, not the fallback line.
    let turn = &report.turns[0];
    assert!(turn.reply_after_ms.is_some(), "{report:?}");
    let reply_ms = said(HOURS).await;
    assert!((turn.reply_audio_ms / reply_ms - 1.0).abs() < 0.25, "{} vs {reply_ms}", turn.reply_audio_ms);
    let reply = &report.agent_audio[greeting.len()..];
    assert!(audio::rms(reply) > 0.02, "the reply is not silent");

    // The provider was asked in Hindi, with the whole utterance as a 16 kHz WAV.
    {
        let seen = seen.lock().unwrap();
        let (model, wav_rate, samples, language) = seen.transcriptions.last().cloned().unwrap();
        assert_eq!((model.as_str(), wav_rate, language.as_deref()), ("whisper-1", 16_000, Some("hi")));
        let caller_ms = report.turns[0].spoken_ms;
        assert!(samples as f64 / 16.0 > caller_ms * 0.8, "{samples} samples of {caller_ms} ms");
    }

    let key = format!("exotel_{}", report.call_sid);
    let mut turns = Vec::new();
    for _ in 0..50 {
        turns = server::db::turns::for_call(&state.db, &user.owner, &key).await.unwrap();
        if turns.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored: Vec<(Role, TurnKind, &str)> = turns.iter().map(|t| (t.role, t.kind, t.text.as_str())).collect();
    assert_eq!(
        stored[..3],
        [(Role::Agent, TurnKind::Greeting, GREETING), (Role::Caller, TurnKind::Speech, ASKED), (Role::Agent, TurnKind::Speech, HOURS)],
        "{turns:#?}"
    );
}
