//! The process's voice engine: model locations, models loaded once and shared by all calls,
//! the greeting cache, and the per-agent choice of providers.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use domain::agent::AgentInput;

use super::agent::{EchoAgent, LlmAgent, ScriptedAgent};
use super::greetings::{self, Greetings};
use super::models::ModelFiles;
use super::openai::{OpenAi, OpenAiStt, OpenAiTts};
use super::stats::{CallStats, Summary};
use super::vad::{SileroModel, VadSettings};
use super::{Agent, SpeechToText, TextToSpeech, VoiceError, audio, local, piper, whisper};
use crate::net::guard::GuardedClient;
use crate::queue::WorkQueue;

/// Shared by every call of the process.
pub struct VoiceEngine {
    pub files: ModelFiles,
    /// CPU threads for one Whisper or Piper run.
    pub threads: usize,
    /// Limit for a provider's answer before the fallback line.
    pub provider_timeout: Duration,
    /// Reaches agents' OpenAI-compatible providers (public addresses only, unless allowed).
    http: GuardedClient,
    silero: OnceLock<Result<Arc<SileroModel>, VoiceError>>,
    /// Greetings and fallback lines: bounded, single flight, renderings limited per tenant.
    pub greetings: Greetings,
    /// Offline speech work (Whisper, Piper, eSpeak): at most one job per core at once.
    pub speech: WorkQueue,
    pub(super) options: EngineOptions,
    /// The rates calls have streamed at (plus the rendering rate): warm-up renders greetings
    /// at each, so the next call at any of them greets at once. Learnt, not configured: the
    /// pipeline knows no provider.
    greeting_rates: Mutex<std::collections::BTreeSet<u32>>,
    /// Figures of the calls this process has run (benchmarks, logs).
    pub stats: Mutex<CallStats>,
    /// How turns end and Whisper reads them; benchmarks change it to compare.
    tuning: Mutex<Tuning>,
}

/// How turns end and how Whisper reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// A pause's transcript that sounds finished ends the turn (see [`super::turn_end`]).
    pub smart_end: bool,
    /// Whisper reads short turns in a 10 s window (see [`whisper`]).
    pub short_window: bool,
    /// The pause after which the reply starts early.
    pub early_ms: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Self { smart_end: true, short_window: true, early_ms: VadSettings::default().early_ms }
    }
}

impl Tuning {
    /// Turn-taking as it was before finished words ended turns (for before/after figures).
    pub fn before_smart_turns() -> Self {
        Self { smart_end: false, short_window: false, early_ms: 300 }
    }
}

/// How an engine is set up beyond its models.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The offline voice samples its noise (natural); off, the same text always sounds the same.
    pub sampled_voice: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { sampled_voice: true }
    }
}

/// The providers and settings of one call's agent.
#[derive(Clone)]
pub struct Pipeline {
    pub stt: Arc<dyn SpeechToText>,
    pub agent: Arc<dyn Agent>,
    pub tts: Arc<dyn TextToSpeech>,
    /// Speaks the fallback line when the agent's own provider fails (offline, always there).
    pub fallback_tts: Arc<dyn TextToSpeech>,
    pub greeting: String,
    pub fallback_line: String,
    /// Said when the transport closes the call (the server is stopping).
    pub closing_line: String,
    pub vad: VadSettings,
    /// Identifies the voice (provider, voice, language) for the greeting cache.
    pub voice_key: String,
    pub fallback_voice_key: String,
    pub timeouts: Timeouts,
    /// Whose call this is (its owner's id), charged for greeting renderings; None for the
    /// process's own work (start-up warm-up, benchmarks).
    pub tenant: Option<String>,
    /// Hang up once the greeting has been heard (a message left on an answering machine).
    pub hang_up_after_greeting: bool,
    /// Hand the caller to this person once the greeting has been heard (a route's person).
    pub transfer_after_greeting: Option<String>,
}

/// How long each step may take before the fallback line: the configured provider timeout for
/// cloud providers; offline providers only queue for this machine's CPU, so they get longer.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub stt: Duration,
    /// Until the agent's first token.
    pub agent: Duration,
    /// For each sentence's audio.
    pub tts: Duration,
}

/// Greetings and fallback lines are rendered once at this rate; other rates are resampled.
const GREETING_RATE: u32 = 24000;

const LOCAL_TIMEOUT: Duration = Duration::from_secs(30);

impl VoiceEngine {
    /// An engine whose cloud providers are reached through `http`.
    pub fn new(files: ModelFiles, threads: usize, provider_timeout: Duration, http: GuardedClient) -> Arc<Self> {
        Self::with_options(files, threads, provider_timeout, EngineOptions::default(), http)
    }

    /// An engine with `options`.
    pub fn with_options(
        files: ModelFiles,
        threads: usize,
        provider_timeout: Duration,
        options: EngineOptions,
        http: GuardedClient,
    ) -> Arc<Self> {
        Arc::new(Self {
            files,
            threads: threads.max(1),
            provider_timeout,
            http,
            silero: OnceLock::new(),
            greetings: Greetings::default(),
            speech: WorkQueue::for_this_machine(),
            options,
            greeting_rates: Mutex::new([GREETING_RATE].into()),
            stats: Mutex::default(),
            tuning: Mutex::new(Tuning::default()),
        })
    }

    /// How later pipelines end turns and read them.
    pub fn set_tuning(&self, tuning: Tuning) {
        *self.tuning.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = tuning;
    }

    /// The Silero model (loaded on first use).
    pub fn silero(&self) -> Result<Arc<SileroModel>, VoiceError> {
        self.silero.get_or_init(|| SileroModel::load(&self.files)).clone()
    }

    /// The providers for `agent` (`api_key` for its OpenAI-compatible providers).
    pub fn pipeline(self: &Arc<Self>, agent: &AgentInput, api_key: Option<String>) -> Pipeline {
        let tuning = *self.tuning.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let p = &agent.providers;
        let api = |model: &str| OpenAi {
            base_url: p.base_url.clone(),
            api_key: api_key.clone(),
            model: model.to_string(),
            client: self.http.clone(),
            timeout: self.provider_timeout * 2,
        };
        let (local_tts, fallback_voice_key): (Arc<dyn TextToSpeech>, String) = if agent.language == "en" {
            (
                Arc::new(local::PiperTts { engine: self.clone(), voice: piper_voice(&agent.voice) }),
                format!("piper|{}|en", piper_voice(&agent.voice)),
            )
        } else {
            (Arc::new(local::EspeakTts { engine: self.clone(), language: agent.language.clone() }), format!("espeak|{}", agent.language))
        };
        let (tts, voice_key): (Arc<dyn TextToSpeech>, String) = match p.tts.as_str() {
            "openai" => {
                let voice = if agent.voice.contains('_') { "alloy".to_string() } else { agent.voice.clone() };
                let key = format!("openai|{}|{voice}", p.base_url);
                (Arc::new(OpenAiTts { api: api("tts-1"), voice }), key)
            }
            "espeak" => (
                Arc::new(local::EspeakTts { engine: self.clone(), language: agent.language.clone() }),
                format!("espeak|{}", agent.language),
            ),
            _ => (local_tts.clone(), fallback_voice_key.clone()),
        };
        let stt: Arc<dyn SpeechToText> = match p.stt.as_str() {
            "openai" => Arc::new(OpenAiStt { api: api("whisper-1"), language: agent.language.clone() }),
            _ => Arc::new(local::WhisperStt {
                engine: self.clone(),
                decoding: whisper::Decoding { short_window: tuning.short_window, prompt: agent.vocabulary.clone(), ..Default::default() },
            }),
        };
        let transfer = (!agent.transfer_to.is_empty()).then(|| super::TransferRule {
            keywords: agent.transfer_keywords.clone(),
            digit: agent.transfer_digit.clone(),
            line: agent.transfer_line.clone(),
        });
        let agent_impl: Arc<dyn Agent> = match p.llm.as_str() {
            "openai" => Arc::new(LlmAgent {
                api: api(&p.model),
                system_prompt: agent.system_prompt.clone(),
                goodbye: agent.goodbye.clone(),
                transfer,
            }),
            "echo" => Arc::new(EchoAgent),
            _ => Arc::new(ScriptedAgent {
                rules: agent.rules.clone(),
                default_reply: agent.default_reply.clone(),
                goodbye: agent.goodbye.clone(),
                transfer,
            }),
        };
        Pipeline {
            stt,
            agent: agent_impl,
            tts,
            fallback_tts: local_tts,
            greeting: agent.opening(),
            fallback_line: fallback_line(&agent.language).to_string(),
            closing_line: closing_line(&agent.language).to_string(),
            vad: VadSettings {
                end_of_speech_ms: agent.end_of_speech_ms,
                smart_end: tuning.smart_end,
                early_ms: tuning.early_ms,
                end_words: end_words(agent),
                ..Default::default()
            },
            voice_key,
            fallback_voice_key,
            timeouts: Timeouts {
                stt: if p.stt == "openai" { self.provider_timeout } else { LOCAL_TIMEOUT },
                agent: if p.llm == "openai" { self.provider_timeout } else { LOCAL_TIMEOUT },
                tts: if p.tts == "openai" { self.provider_timeout } else { LOCAL_TIMEOUT },
            },
            tenant: None,
            hang_up_after_greeting: false,
            transfer_after_greeting: None,
        }
    }

    /// Loads the offline models (when `models`) and renders the greetings (and fallback lines)
    /// of `agents` at every rate calls have used, logging what is missing.
    pub async fn warm_up(self: &Arc<Self>, agents: &[(AgentInput, Option<String>)], models: bool) {
        if models {
            let missing = self.files.missing();
            if !missing.is_empty() {
                let list: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
                tracing::warn!(missing = ?list, "offline voice models are missing; run ./scripts/run (or scripts/setup.sh) to fetch them");
            }
            if let Err(e) = self.silero() {
                tracing::warn!(error = %e, "Silero VAD not loaded");
            }
            let engine = self.clone();
            let loaded = tokio::task::spawn_blocking(move || {
                whisper::shared(&engine.files, engine.threads).map(|_| ())?;
                piper::shared(&engine.files, piper::DEFAULT_VOICE, engine.threads).map(|_| ())
            })
            .await;
            if let Ok(Err(e)) = loaded {
                tracing::warn!(error = %e, "offline voice not loaded");
            }
        }
        for (agent, api_key) in agents {
            self.warm_greeting(agent, api_key.clone(), None).await;
        }
    }

    /// Renders `agent`'s greeting and fallback line at every rate calls have used, charging
    /// `tenant` for the renderings (see [`Greetings`]).
    pub async fn warm_greeting(self: &Arc<Self>, agent: &AgentInput, api_key: Option<String>, tenant: Option<&str>) {
        let mut pipeline = self.pipeline(agent, api_key);
        pipeline.tenant = tenant.map(str::to_string);
        // Every rate comes from one rendering: when it fails, the other rates would too.
        let rates: Vec<u32> = self.greeting_rates.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().copied().collect();
        for &rate in &rates {
            if let Err(e) = self.greeting(&pipeline, rate).await {
                tracing::warn!(agent = %agent.name, error = %e, "cannot render a greeting");
                break;
            }
        }
        for &rate in &rates {
            if let Err(e) = self.fallback(&pipeline, rate).await {
                tracing::warn!(agent = %agent.name, error = %e, "cannot render the fallback line");
                break;
            }
        }
        if let Err(e) = self.closing(&pipeline, GREETING_RATE).await {
            tracing::warn!(agent = %agent.name, error = %e, "cannot render the closing line");
        }
    }

    /// Adds a finished conversation to [`Self::stats`].
    pub fn record(&self, summary: &Summary) {
        self.stats.lock().unwrap_or_else(std::sync::PoisonError::into_inner).add(summary);
        let l = &summary.lateness;
        let late: u32 = l.buckets.iter().skip(crate::metrics::LATE_CHUNK_MS + 1).sum();
        crate::metrics::get().chunks(l.chunks, u64::from(late));
    }

    /// The greeting's audio at `rate`, rendered once per voice, text and rate.
    pub async fn greeting(&self, pipeline: &Pipeline, rate: u32) -> Result<Arc<Vec<i16>>, VoiceError> {
        self.cached(pipeline, &pipeline.tts, &pipeline.voice_key, &pipeline.greeting, rate).await
    }

    /// The greeting in the offline voice (when the agent's own voice fails).
    pub async fn greeting_offline(&self, pipeline: &Pipeline, rate: u32) -> Result<Arc<Vec<i16>>, VoiceError> {
        self.cached(pipeline, &pipeline.fallback_tts, &pipeline.fallback_voice_key, &pipeline.greeting, rate).await
    }

    /// The closing line in the offline voice, rendered once per voice and rate.
    pub async fn closing(&self, pipeline: &Pipeline, rate: u32) -> Result<Arc<Vec<i16>>, VoiceError> {
        self.cached(pipeline, &pipeline.fallback_tts, &pipeline.fallback_voice_key, &pipeline.closing_line, rate).await
    }

    /// Any fixed line (a menu's prompt, a route's message) in the offline voice, cached like a greeting.
    pub async fn offline_line(&self, pipeline: &Pipeline, text: &str, rate: u32) -> Result<Arc<Vec<i16>>, VoiceError> {
        self.cached(pipeline, &pipeline.fallback_tts, &pipeline.fallback_voice_key, text, rate).await
    }

    /// The fallback line in the offline voice, rendered once per voice and rate.
    pub async fn fallback(&self, pipeline: &Pipeline, rate: u32) -> Result<Arc<Vec<i16>>, VoiceError> {
        self.cached(pipeline, &pipeline.fallback_tts, &pipeline.fallback_voice_key, &pipeline.fallback_line, rate).await
    }

    /// Rendered once per voice and text, at the highest stream rate; the other rates are
    /// resampled from that rendering (milliseconds), so a stream at any rate greets at once.
    async fn cached(
        &self,
        pipeline: &Pipeline,
        tts: &Arc<dyn TextToSpeech>,
        voice_key: &str,
        text: &str,
        rate: u32,
    ) -> Result<Arc<Vec<i16>>, VoiceError> {
        const TOP: u32 = GREETING_RATE;
        {
            // Remember the rate for the next warm-up (a handful at most: transports check rates).
            let mut rates = self.greeting_rates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if rates.len() < 8 {
                rates.insert(rate);
            }
        }
        let tenant = pipeline.tenant.as_deref();
        let top = || self.greetings.get_or_render(greetings::key(voice_key, text, TOP), tenant, true, || tts.synthesize(text, TOP));
        if rate == TOP {
            return top().await;
        }
        self.greetings
            .get_or_render(greetings::key(voice_key, text, rate), tenant, false, || async {
                let top = top().await?;
                Ok(audio::f32_to_i16(&audio::resample(&audio::i16_to_f32(&top), TOP, rate)?))
            })
            .await
    }
}

/// The words of `agent`'s rules and transfer that name a request (normalised, at most 256):
/// a caller's pause after one of them can end the turn.
fn end_words(agent: &AgentInput) -> Vec<String> {
    let phrases = agent.rules.iter().flat_map(|r| r.keywords.iter()).chain(agent.transfer_keywords.iter());
    let mut words: Vec<String> = phrases.flat_map(|k| super::agent::normalize(k)).collect();
    words.sort();
    words.dedup();
    words.truncate(256);
    words
}

/// The voice file name for an agent's voice setting (the default when it names no Piper voice).
fn piper_voice(voice: &str) -> String {
    if voice.contains('_') { voice.to_string() } else { piper::DEFAULT_VOICE.to_string() }
}

/// Said when the server stops during the call.
pub fn closing_line(language: &str) -> &'static str {
    match language {
        "hi" => "माफ़ कीजिए, यह कॉल अभी समाप्त करनी होगी। नमस्ते।",
        _ => "Sorry, we have to end this call now. Goodbye.",
    }
}

/// Said when a provider fails or times out; the call goes on.
pub fn fallback_line(language: &str) -> &'static str {
    match language {
        "hi" => "माफ़ कीजिए, कृपया फिर से कहिए।",
        _ => "Sorry, I had a problem just now. Could you say that again?",
    }
}
