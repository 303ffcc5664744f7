//! The voice pipeline of a call: turn-taking (two-stage VAD, barge-in, DTMF), speech-to-text,
//! the agent, and text-to-speech, behind traits so offline and cloud providers swap per agent.
//!
//! - [`vad`]: webrtc-vad on every frame, Silero to confirm onsets, end-of-speech detection.
//! - [`whisper`], [`piper`]: the offline providers (models unpacked by the set-up command).
//! - [`openai`]: OpenAI-compatible chat completions (streamed), transcription and speech.
//! - [`agent`]: the scripted agent, the echo agent (benchmarks), and the LLM agent.
//! - [`conversation`]: one call's loop, from caller audio to paced agent audio and stored turns.
//! - [`frames`]: the pipeline's vocabulary with the transport (caller events, agent frames,
//!   chunk rules); the pipeline knows no telephony provider.

pub mod agent;
pub mod audio;
pub mod conversation;
pub mod engine;
pub mod frames;
pub mod greetings;
mod local;
pub mod machine;
pub mod menu;
pub mod models;
pub mod openai;
pub mod piper;
pub mod recorder;
pub mod speaker;
pub mod stats;
pub mod turn_end;
pub mod vad;
pub mod whisper;

use async_trait::async_trait;
use tokio::sync::mpsc;

/// Why a voice step failed. Messages never contain secrets (API keys are not echoed).
#[derive(Debug, Clone, thiserror::Error)]
pub enum VoiceError {
    #[error("model file missing: {0} (run ./scripts/run or ./scripts/test once to fetch the models)")]
    MissingModel(String),
    #[error("model error: {0}")]
    Model(String),
    #[error("audio: {0}")]
    Audio(String),
    #[error("speech-to-text failed: {0}")]
    Stt(String),
    #[error("text-to-speech failed: {0}")]
    Tts(String),
    #[error("agent failed: {0}")]
    Agent(String),
    #[error("{0} timed out")]
    Timeout(&'static str),
    #[error("voice settings: {0}")]
    Config(String),
    /// Refused for load: the speech queue is full, or a tenant's greeting renderings are over
    /// their limit.
    #[error("{0}")]
    Busy(String),
}

impl From<crate::queue::Busy> for VoiceError {
    fn from(b: crate::queue::Busy) -> Self {
        VoiceError::Busy(b.to_string())
    }
}

impl VoiceError {
    /// The stage that failed, as /metrics counts provider errors.
    pub fn stage(&self) -> &'static str {
        match self {
            VoiceError::Stt(_) => "stt",
            VoiceError::Tts(_) => "tts",
            VoiceError::Agent(_) => "agent",
            VoiceError::Timeout(_) => "timeout",
            VoiceError::Busy(_) => "busy",
            VoiceError::MissingModel(_) | VoiceError::Model(_) | VoiceError::Audio(_) | VoiceError::Config(_) => "voice",
        }
    }

    fn resample(e: impl std::fmt::Display) -> Self {
        VoiceError::Audio(format!("resampling: {e}"))
    }
}

/// Who spoke a turn.
pub use domain::call::Role;

/// One exchange of the conversation so far, as the agent sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTurn {
    pub role: Role,
    pub text: String,
}

/// What the caller gave the agent.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentInput {
    Speech(String),
    /// Keypad digits.
    Dtmf(String),
}

impl AgentInput {
    pub fn text(&self) -> String {
        match self {
            AgentInput::Speech(t) => t.clone(),
            AgentInput::Dtmf(d) => format!("pressed {d}"),
        }
    }
}

/// What the agent wants after its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterReply {
    #[default]
    Listen,
    HangUp,
    /// Hand the caller to a person once the reply has been heard (the transport does it).
    Transfer,
}

impl AfterReply {
    /// Whether the conversation ends once the reply has been heard.
    pub fn ends_call(self) -> bool {
        matches!(self, Self::HangUp | Self::Transfer)
    }
}

/// When an agent hands the caller to a person: what asks for it, and what it says first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransferRule {
    /// Phrases of the caller (normalized like the scripted agent's key words).
    pub keywords: Vec<String>,
    /// The keypad key; none when empty.
    pub digit: String,
    pub line: String,
}

/// Speech to text: 16 kHz mono audio in, text out.
#[async_trait]
pub trait SpeechToText: Send + Sync {
    async fn transcribe(&self, audio_16k: Vec<i16>) -> Result<String, VoiceError>;
}

/// The agent: streams its reply's text (token by token where the provider can) into `out`.
#[async_trait]
pub trait Agent: Send + Sync {
    async fn reply(&self, history: &[ChatTurn], input: &AgentInput, out: mpsc::Sender<String>) -> Result<AfterReply, VoiceError>;

    /// Audio replies of agents that answer with the caller's audio (the echo agent).
    fn echoes_audio(&self) -> bool {
        false
    }
}

/// Text to speech: one sentence in, 16-bit mono PCM at `rate` out.
#[async_trait]
pub trait TextToSpeech: Send + Sync {
    async fn synthesize(&self, text: &str, rate: u32) -> Result<Vec<i16>, VoiceError>;

    /// The sentence's audio sent into `out` piece by piece as it is made, so its start can
    /// play while the rest is still coming; stops early when `out` is closed. By default the
    /// whole sentence at once (offline voices synthesize a sentence in one run).
    async fn synthesize_stream(&self, text: &str, rate: u32, out: mpsc::Sender<Vec<i16>>) -> Result<(), VoiceError> {
        let pcm = self.synthesize(text, rate).await?;
        let _ = out.send(pcm).await;
        Ok(())
    }
}
