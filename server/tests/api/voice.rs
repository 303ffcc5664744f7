//! The offline voice with the real models (unpacked by the set-up command): Piper speaks,
//! Whisper understands it at 8 kHz, Silero tells speech from noise, agents and fallbacks.

use crate::common;

use std::sync::Arc;

use server::voice::audio::{self, MODEL_RATE};
use server::voice::engine::VoiceEngine;
use server::voice::vad::{Endpointer, VadEvent, VadSettings};

fn engine() -> Arc<VoiceEngine> {
    let s = server::Settings::for_tests();
    let files = server::voice::models::ModelFiles::new(&s.models_dir, &s.stt_model);
    let missing = files.missing();
    assert!(missing.is_empty(), "offline models missing (run ./scripts/test once): {missing:?}");
    let http = server::net::GuardedClient::new(Arc::default(), server::net::guard::CONNECT_TIMEOUT).unwrap();
    VoiceEngine::new(files, 2, std::time::Duration::from_secs(8), http)
}

/// [`engine`] whose voice says the same text the same way every time (no sampled noise).
fn steady_engine() -> Arc<VoiceEngine> {
    let e = engine();
    let http = server::net::GuardedClient::new(Arc::default(), server::net::guard::CONNECT_TIMEOUT).unwrap();
    let options = server::voice::engine::EngineOptions { sampled_voice: false };
    VoiceEngine::with_options(e.files.clone(), 2, std::time::Duration::from_secs(8), options, http)
}

fn agent() -> domain::agent::AgentInput {
    domain::agent::AgentInput { name: "Test".into(), ..Default::default() }
}

/// Speech at 8 kHz as a phone line carries it, then up to 16 kHz for the models.
async fn phone_speech(engine: &Arc<VoiceEngine>, text: &str) -> Vec<i16> {
    let p = engine.pipeline(&agent(), None);
    let at8k = p.tts.synthesize(text, 8000).await.expect("piper speaks");
    assert!(at8k.len() > 8000 / 2, "{text:?} gave {} samples", at8k.len());
    audio::f32_to_i16(&audio::resample(&audio::i16_to_f32(&at8k), 8000, MODEL_RATE).unwrap())
}

#[tokio::test]
async fn whisper_understands_piper_at_8_khz() {
    // Whole-call tests measure latency; the speech models must not run beside them.
    let _serial = common::voice_lock().await;
    let engine = engine();
    let p = engine.pipeline(&agent(), None);
    // Piper's voice is sampled (VITS noise), so each run says it a little differently: check
    // the words a tiny model reliably gets.
    for (said, keys) in [
        ("What are your opening hours?", ["opening", "hours"]),
        ("I would like to book an appointment for tomorrow.", ["appointment", "tomorrow"]),
    ] {
        let audio16 = phone_speech(&engine, said).await;
        let heard = p.stt.transcribe(audio16).await.expect("whisper transcribes").to_lowercase();
        assert!(keys.iter().any(|k| heard.contains(k)), "said {said:?}, heard {heard:?}");
    }
    // Silence is not words.
    let heard = p.stt.transcribe(vec![0; MODEL_RATE as usize * 2]).await.unwrap();
    assert!(heard.chars().filter(|c| c.is_alphanumeric()).count() == 0 || heard.starts_with('['), "silence heard as {heard:?}");
}

#[tokio::test]
async fn an_agents_vocabulary_teaches_whisper_the_businesss_words_and_long_turns_read_the_full_window() {
    let _serial = common::voice_lock().await;
    // The caller's voice is not sampled here: the same audio each run, so the same words.
    let engine = steady_engine();
    // The prompt is the model's own BPE: the tokens Hugging Face's tokenizer gives for it.
    let model = server::voice::whisper::shared(&engine.files, 1).expect("whisper loads");
    assert_eq!(
        model.prompt_tokens("Dr. Okonkwo, Brightsmile Dental"),
        ["ĠDr", ".", "ĠOk", "on", "k", "wo", ",", "ĠBr", "ights", "mile", "ĠD", "ental"]
    );
    let with_words = engine.pipeline(&domain::agent::AgentInput { vocabulary: "Dr. Okonkwo, Brightsmile Dental".into(), ..agent() }, None);
    for (said, word) in [("Can I see Doctor Okonkwo tomorrow?", "okonkwo"), ("Is this Brightsmile Dental?", "brightsmile")] {
        let heard = with_words.stt.transcribe(phone_speech(&engine, said).await).await.expect("whisper transcribes");
        assert!(heard.to_lowercase().contains(word), "said {said:?}, heard {heard:?}");
    }
    // A turn longer than the short window (here 12 s: words, a long pause, words) is read whole.
    let plain = engine.pipeline(&agent(), None);
    let mut long = phone_speech(&engine, "What are your opening hours?").await;
    long.extend(vec![0i16; MODEL_RATE as usize * 10]);
    long.extend(phone_speech(&engine, "I would like to book an appointment for tomorrow.").await);
    let heard = plain.stt.transcribe(long).await.expect("whisper transcribes").to_lowercase();
    assert!(heard.contains("hours") && heard.contains("tomorrow"), "heard {heard:?}");
}

#[tokio::test]
async fn two_stage_vad_finds_speech_and_ignores_noise_at_8_and_16_khz() {
    // Whole-call tests measure latency; the speech models must not run beside them.
    let _serial = common::voice_lock().await;
    let engine = engine();
    let silero = engine.silero().expect("silero loads");
    let speech16 = phone_speech(&engine, "Hello, I need to talk to someone about my order.").await;
    let speech8 = audio::f32_to_i16(&audio::resample(&audio::i16_to_f32(&speech16), MODEL_RATE, 8000).unwrap());
    for (rate, speech) in [(MODEL_RATE, speech16), (8000, speech8)] {
        let frame = rate as usize / 50;
        let mut ep = Endpointer::new(VadSettings::default(), Some(silero.clone()), rate);
        assert_eq!(ep.frame_len(), frame, "{rate} Hz is heard at its own rate");
        let mut call = vec![0i16; rate as usize / 2];
        call.extend(&speech);
        call.extend(vec![0i16; rate as usize]);
        let events: Vec<VadEvent> = call.chunks_exact(frame).filter_map(|f| ep.push(f, f).unwrap()).collect();
        assert!(matches!(events.first(), Some(VadEvent::SpeechStart)), "{rate} Hz: {events:?}");
        let Some(VadEvent::SpeechEnd { audio, speech_ms }) = events.iter().find(|e| matches!(e, VadEvent::SpeechEnd { .. })) else {
            panic!("{rate} Hz: the turn did not end: {} events", events.len())
        };
        // The turn holds the sentence (at the call's rate), give or take its lead-in and tail.
        let seconds = audio.len() as f32 / rate as f32;
        let said = speech.len() as f32 / rate as f32;
        assert!((said * 0.8..said + 1.0).contains(&seconds), "{rate} Hz: a turn of {seconds} s for {said} s said");
        assert!(*speech_ms as f32 >= said * 500.0, "{rate} Hz: {speech_ms} ms of speech in {said} s");
        assert!(ep.stats.silero_chunks > 0, "{rate} Hz: stage 2 confirmed the onset");
        // Stage 2 ran only around the onset, not on the whole call (which would be ~0.6 chunks a frame).
        assert!(ep.stats.silero_chunks * 10 <= ep.stats.frames, "{rate} Hz: {:?}", ep.stats);

        // Loud white noise fools stage 1 now and then; stage 2 rejects it.
        let mut seed = 12345u32;
        let noise: Vec<i16> = (0..rate as usize * 3)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((seed >> 16) as i16 as i32 / 4) as i16
            })
            .collect();
        let mut ep = Endpointer::new(VadSettings::default(), Some(silero.clone()), rate);
        let events: Vec<VadEvent> = noise.chunks_exact(frame).filter_map(|f| ep.push(f, f).unwrap()).collect();
        assert!(events.is_empty(), "{rate} Hz: noise became a turn: {events:?} ({:?})", ep.stats);
        assert!(ep.stats.silero_chunks > 0, "{rate} Hz: stage 2 heard the noise ({:?})", ep.stats);
    }
}

#[tokio::test]
async fn piper_speaks_at_every_call_rate_and_espeak_speaks_hindi() {
    // Whole-call tests measure latency; the speech models must not run beside them.
    let _serial = common::voice_lock().await;
    let engine = engine();
    let p = engine.pipeline(&agent(), None);
    for rate in [8000u32, 16000, 24000] {
        let pcm = p.tts.synthesize("Thank you for calling.", rate).await.unwrap();
        let seconds = pcm.len() as f32 / rate as f32;
        assert!((0.6..3.0).contains(&seconds), "{rate} Hz: {seconds} s");
        assert!(audio::rms(&pcm) > 0.02, "{rate} Hz audio is silent");
    }
    let hindi = domain::agent::AgentInput { language: "hi".into(), ..agent() };
    let p = engine.pipeline(&hindi, None);
    let pcm = p.tts.synthesize("नमस्ते, आप कैसे हैं?", 8000).await.unwrap();
    assert!(pcm.len() > 4000 && audio::rms(&pcm) > 0.02);
}

#[tokio::test]
async fn the_greeting_is_rendered_once_per_voice_and_rate() {
    // Whole-call tests measure latency; the speech models must not run beside them.
    let _serial = common::voice_lock().await;
    let engine = engine();
    let p = engine.pipeline(&agent(), None);
    let first = engine.greeting(&p, 8000).await.unwrap();
    let again = engine.greeting(&p, 8000).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again), "the cached audio is reused");
    // The other rates come from the same rendering (resampled), each cached too.
    let wide = engine.greeting(&p, 16000).await.unwrap();
    assert!(Arc::ptr_eq(&wide, &engine.greeting(&p, 16000).await.unwrap()));
    let ratio = wide.len() as f64 / first.len() as f64;
    assert!((ratio - 2.0).abs() < 0.01, "the same audio at twice the rate: {ratio}");
}
