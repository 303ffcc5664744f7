//! The seam between a provider's media stream and the voice pipeline: each provider's codec
//! turns its WebSocket messages into [`StreamEvent`]s (the pipeline's [`CallerEvent`]s plus the
//! stream's own start and stop) and the pipeline's [`AgentFrame`]s back into messages. Codecs
//! are pure (no I/O); the session task ([`super::session`]) runs any of them over any socket.

use std::collections::BTreeMap;

use domain::phone_number::Provider;

use crate::voice::frames::{AgentFrame, CallAudio, CallerEvent};

/// A WebSocket message as a codec reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WireIn<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// A WebSocket message as a codec writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum WireOut {
    Text(String),
    Binary(Vec<u8>),
    /// Several binary messages, in order: one chunk of the pipeline's audio for a provider that
    /// takes one fixed-size frame per message (Vonage's 20 ms). The pipeline paces chunks, not
    /// frames, so such a provider still gets its audio a whole chunk ahead.
    Frames(Vec<Vec<u8>>),
}

/// What a stream's first real message says about the call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamStart {
    /// The provider's call id.
    pub call_sid: String,
    /// The provider's id of this stream (echoed in our messages where the provider wants it).
    pub stream_sid: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Parameters the answer passed to the stream (Exotel's and Twilio's custom parameters).
    pub parameters: BTreeMap<String, String>,
    /// The rate the provider says it streams at, when it says.
    pub sample_rate: Option<u32>,
}

/// One message from the provider, read.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The socket is up; nothing is known about the call yet.
    Connected,
    Start(StreamStart),
    /// Audio, a keypad digit, or "played up to this mark" for the conversation.
    Caller(CallerEvent),
    /// The provider ends the stream.
    Stop {
        reason: Option<String>,
    },
    /// A message this version does not act on (providers add events); never an error.
    Ignored {
        event: String,
    },
}

/// A message the codec refuses: the stream closes with `code` and `reason`, and the call fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct StreamError {
    /// WebSocket close code (1007 for a malformed message, 1003 for an unsupported kind).
    pub code: u16,
    pub reason: String,
}

/// One provider's media stream protocol, for one call.
pub trait StreamCodec: Send + 'static {
    /// Whose protocol this is (recorded on the call).
    fn provider(&self) -> Provider;
    /// The call's audio: its rate, and the sizes our chunks must keep.
    fn audio(&self) -> CallAudio;
    /// Reads one message. A codec may learn from `start` (a stream id to echo, say).
    fn decode(&mut self, message: WireIn<'_>) -> Result<StreamEvent, StreamError>;
    /// Writes one of the pipeline's frames.
    fn encode(&mut self, frame: &AgentFrame) -> WireOut;
}

/// A JSON field that providers send as a string or a number ("8000" or 8000), as text.
pub fn json_text(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
