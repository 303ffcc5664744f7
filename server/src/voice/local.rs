//! The offline providers, run on this machine: Whisper, a Piper voice, eSpeak NG. Each run
//! waits for a slot of the engine's speech queue (one job per core at once).

use std::sync::Arc;

use async_trait::async_trait;

use super::engine::VoiceEngine;
use super::{SpeechToText, TextToSpeech, VoiceError, audio, piper, whisper};

/// Whisper on this machine.
pub(super) struct WhisperStt {
    pub engine: Arc<VoiceEngine>,
    pub decoding: whisper::Decoding,
}

#[async_trait]
impl SpeechToText for WhisperStt {
    async fn transcribe(&self, audio_16k: Vec<i16>) -> Result<String, VoiceError> {
        let engine = self.engine.clone();
        let decoding = self.decoding.clone();
        // The blocking run starts only once the queue gives it a slot.
        let job = async move {
            tokio::task::spawn_blocking(move || {
                let model = whisper::shared(&engine.files, engine.threads)?;
                model.transcribe(&audio::i16_to_f32(&audio_16k), &decoding)
            })
            .await
            .map_err(|e| VoiceError::Stt(e.to_string()))?
        };
        self.engine.speech.run("speech-to-text", job).await
    }
}

/// A Piper voice on this machine.
pub(super) struct PiperTts {
    pub engine: Arc<VoiceEngine>,
    pub voice: String,
}

#[async_trait]
impl TextToSpeech for PiperTts {
    async fn synthesize(&self, text: &str, rate: u32) -> Result<Vec<i16>, VoiceError> {
        let engine = self.engine.clone();
        let name = self.voice.clone();
        let sampled = self.engine.options.sampled_voice;
        let job = async move {
            let voice = tokio::task::spawn_blocking(move || piper::shared(&engine.files, &name, engine.threads))
                .await
                .map_err(|e| VoiceError::Tts(e.to_string()))??;
            let ipa = piper::phonemize(text, voice.espeak_voice()).await?;
            tokio::task::spawn_blocking(move || {
                let samples = voice.synthesize_ipa(&ipa, sampled)?;
                Ok(audio::f32_to_i16(&audio::resample(&samples, voice.rate(), rate)?))
            })
            .await
            .map_err(|e| VoiceError::Tts(e.to_string()))?
        };
        self.engine.speech.run("text-to-speech", job).await
    }
}

/// eSpeak NG (Hindi, or when chosen).
pub(super) struct EspeakTts {
    pub engine: Arc<VoiceEngine>,
    pub language: String,
}

#[async_trait]
impl TextToSpeech for EspeakTts {
    async fn synthesize(&self, text: &str, rate: u32) -> Result<Vec<i16>, VoiceError> {
        let job = async {
            let (samples, from) = piper::espeak_speech(text, &self.language).await?;
            Ok(audio::f32_to_i16(&audio::resample(&audio::i16_to_f32(&samples), from, rate)?))
        };
        self.engine.speech.run("text-to-speech", job).await
    }
}
