//! Plivo Audio Streaming (shared/protocols/PLIVO.md §3): JSON text frames, camelCase but for
//! `extra_headers`, audio as base64 μ-law at 8 kHz or 16-bit little-endian PCM at 8 or 16 kHz
//! (the answer's `contentType`). Counters and rates arrive as numbers or strings; both are read.
//! Pure: no I/O. Both directions are here: `decode`/`encode` are Voxgate's side,
//! `encode_inbound`/`decode_outbound` Plivo's (the simulator's), so each direction round-trips.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::telephony::g711;
use crate::telephony::stream::json_text as text;
use crate::voice::audio;

/// Longest message we read, in bytes (Plivo sends 20 ms of audio per message, under 1 KiB of base64).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Most `extra_headers` pairs kept (the answer writes at most 512 bytes of them).
pub const MAX_EXTRA_HEADERS: usize = 32;

/// The audio of a stream: the answer's `contentType`, the same both ways for the whole call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    /// G.711 μ-law at 8 kHz (`audio/x-mulaw;rate=8000`).
    Mulaw8000,
    /// 16-bit little-endian PCM at 8 kHz (`audio/x-l16;rate=8000`).
    Linear8000,
    /// 16-bit little-endian PCM at 16 kHz (`audio/x-l16;rate=16000`).
    Linear16000,
}

impl AudioFormat {
    /// Every format Plivo streams.
    pub const ALL: [AudioFormat; 3] = [AudioFormat::Mulaw8000, AudioFormat::Linear8000, AudioFormat::Linear16000];

    /// The format of a `<Stream contentType>` value (case and spaces around `;` ignored).
    pub fn parse(content_type: &str) -> Option<Self> {
        let wanted: String = content_type.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        Self::ALL.into_iter().find(|f| f.content_type() == wanted)
    }

    /// The format of a `start` message's `mediaFormat` (or a `playAudio`'s `media`): a bare
    /// encoding and a rate.
    pub fn from_parts(encoding: &str, rate: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.encoding().eq_ignore_ascii_case(encoding.trim()) && f.rate() == rate)
    }

    /// The `<Stream contentType>` value.
    pub fn content_type(&self) -> &'static str {
        match self {
            AudioFormat::Mulaw8000 => "audio/x-mulaw;rate=8000",
            AudioFormat::Linear8000 => "audio/x-l16;rate=8000",
            AudioFormat::Linear16000 => "audio/x-l16;rate=16000",
        }
    }

    /// The bare encoding (`mediaFormat.encoding`, `playAudio`'s `media.contentType`).
    pub fn encoding(&self) -> &'static str {
        match self {
            AudioFormat::Mulaw8000 => "audio/x-mulaw",
            AudioFormat::Linear8000 | AudioFormat::Linear16000 => "audio/x-l16",
        }
    }

    /// Samples per second.
    pub fn rate(&self) -> u32 {
        match self {
            AudioFormat::Mulaw8000 | AudioFormat::Linear8000 => 8000,
            AudioFormat::Linear16000 => 16000,
        }
    }

    /// Samples from a payload's bytes; 16-bit PCM must be whole samples.
    pub fn to_samples(&self, bytes: &[u8]) -> Result<Vec<i16>, MediaError> {
        match self {
            AudioFormat::Mulaw8000 => Ok(g711::decode(bytes)),
            AudioFormat::Linear8000 | AudioFormat::Linear16000 if bytes.len() % 2 == 1 => Err(MediaError::OddLength),
            AudioFormat::Linear8000 | AudioFormat::Linear16000 => Ok(audio::bytes_to_i16(bytes)),
        }
    }

    /// A payload's bytes from samples.
    pub fn to_bytes(&self, samples: &[i16]) -> Vec<u8> {
        match self {
            AudioFormat::Mulaw8000 => g711::encode(samples),
            AudioFormat::Linear8000 | AudioFormat::Linear16000 => audio::i16_to_bytes(samples),
        }
    }
}

/// What `start` says about the call and the stream (it carries no caller or called number).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Start {
    /// The call's `CallUUID`.
    pub call_id: String,
    /// This stream's id, echoed in our `checkpoint` and `clearAudio`.
    pub stream_id: String,
    /// The Plivo auth id (`MA…`/`SA…`) of the account the call is on; empty when not sent.
    pub account_id: String,
    /// The tracks streamed (`inbound` for a bidirectional stream).
    pub tracks: Vec<String>,
    /// `mediaFormat.encoding` (`audio/x-mulaw` or `audio/x-l16`).
    pub encoding: Option<String>,
    /// `mediaFormat.sampleRate`.
    pub sample_rate: Option<u32>,
    /// The answer's `extraHeaders` as received (see [`extra_headers`]).
    pub extra_headers: Option<String>,
}

/// A message from Plivo.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// The stream names its call.
    Start(Start),
    /// Caller audio: the payload's bytes, in the stream's format.
    Media {
        /// Plivo's chunk counter.
        chunk: Option<u64>,
        /// Milliseconds (epoch or since the stream began: sources disagree; ordering only).
        timestamp_ms: Option<u64>,
        /// The decoded payload.
        audio: Vec<u8>,
    },
    /// One keypad digit (`0-9 * # A-D`).
    Dtmf {
        /// The digit.
        digit: String,
    },
    /// Everything before our checkpoint `name` has played (`playedStream`, alias `played`).
    Played {
        /// The checkpoint's name.
        name: String,
    },
    /// Plivo dropped the queued audio, as our `clearAudio` asked.
    Cleared,
    /// Plivo ends the stream (not in the reference, sent by some versions).
    Stop {
        /// Why, when said.
        reason: Option<String>,
    },
}

/// A message to Plivo.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// `playAudio`: audio in the stream's format (the same format for the whole call).
    PlayAudio {
        /// The stream's format.
        format: AudioFormat,
        /// The payload's bytes.
        audio: Vec<u8>,
    },
    /// `checkpoint`: tell us with `playedStream` once everything sent so far has played.
    Checkpoint {
        /// The stream's id.
        stream_id: String,
        /// The checkpoint's name (free text).
        name: String,
    },
    /// `clearAudio`: drop the audio queued so far (barge-in).
    ClearAudio {
        /// The stream's id.
        stream_id: String,
    },
}

/// Why a message could not be read; the stream closes with 1007 (1009 when too large).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    /// Over [`MAX_MESSAGE`] bytes.
    #[error("message over {MAX_MESSAGE} bytes")]
    TooLarge,
    /// Not a JSON object.
    #[error("message is not JSON")]
    NotJson,
    /// No `event` string.
    #[error("message has no event")]
    NoEvent,
    /// An event this version does not know (at most 40 characters of its name).
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// A field the event needs is absent.
    #[error("{event} message lacks {field}")]
    Missing {
        /// The event.
        event: &'static str,
        /// The field.
        field: &'static str,
    },
    /// The payload is not base64.
    #[error("media payload is not base64")]
    BadBase64,
    /// 16-bit PCM with an odd number of bytes.
    #[error("16-bit audio payload with an odd number of bytes")]
    OddLength,
    /// A keypad digit outside `0-9 * # A-D`.
    #[error("keypad digit outside 0-9 * # A-D")]
    BadDigit,
    /// A `playAudio` whose content type and rate are not one of [`AudioFormat::ALL`].
    #[error("playAudio with an unknown content type or rate")]
    UnknownFormat,
}

/// Counters arrive as numbers (or strings); both are read.
fn number(v: Option<&Value>) -> Option<u64> {
    text(v)?.trim().parse().ok()
}

fn required(v: &Value, pointer: &str, event: &'static str, field: &'static str) -> Result<String, MediaError> {
    text(v.pointer(pointer)).filter(|s| !s.is_empty()).ok_or(MediaError::Missing { event, field })
}

fn digit(d: String) -> Result<String, MediaError> {
    let d = d.trim().to_ascii_uppercase();
    let ok = d.chars().count() == 1 && d.chars().all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'));
    if ok { Ok(d) } else { Err(MediaError::BadDigit) }
}

/// The parameters the answer's `extraHeaders` carried, as Plivo delivers them: a JSON object,
/// or `k=v` pairs separated by `;` or `,` (PLIVO.md §3.3). Keys and values are trimmed;
/// pairs without `=` or with an empty key are skipped; at most [`MAX_EXTRA_HEADERS`] are kept.
pub fn extra_headers(raw: &str) -> BTreeMap<String, String> {
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(raw) {
        return o
            .iter()
            .filter_map(|(k, v)| Some((k.trim().to_string(), text(Some(v)).or_else(|| v.as_bool().map(|b| b.to_string()))?)))
            .filter(|(k, _)| !k.is_empty())
            .take(MAX_EXTRA_HEADERS)
            .collect();
    }
    raw.split([';', ','])
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .take(MAX_EXTRA_HEADERS)
        .collect()
}

/// Reads one message from Plivo.
pub fn decode(message: &str) -> Result<Inbound, MediaError> {
    if message.len() > MAX_MESSAGE {
        return Err(MediaError::TooLarge);
    }
    let v: Value = serde_json::from_str(message).map_err(|_| MediaError::NotJson)?;
    match v.get("event").and_then(Value::as_str).ok_or(MediaError::NoEvent)? {
        "start" => {
            let s = v.get("start").ok_or(MediaError::Missing { event: "start", field: "start" })?;
            let format = s.get("mediaFormat");
            let extra = v.get("extra_headers").or_else(|| s.get("extra_headers"));
            Ok(Inbound::Start(Start {
                call_id: required(&v, "/start/callId", "start", "callId")?,
                stream_id: required(&v, "/start/streamId", "start", "streamId")
                    .or_else(|e| text(v.get("streamId")).filter(|s| !s.is_empty()).ok_or(e))?,
                account_id: text(s.get("accountId")).unwrap_or_default(),
                tracks: s
                    .get("tracks")
                    .and_then(Value::as_array)
                    .map(|t| t.iter().filter_map(|x| text(Some(x))).collect())
                    .unwrap_or_default(),
                encoding: format.and_then(|f| text(f.get("encoding"))),
                sample_rate: format.and_then(|f| number(f.get("sampleRate"))).and_then(|r| u32::try_from(r).ok()),
                extra_headers: extra.and_then(|e| if e.is_object() { Some(e.to_string()) } else { text(Some(e)) }),
            }))
        }
        "media" => {
            let payload = text(v.pointer("/media/payload")).ok_or(MediaError::Missing { event: "media", field: "payload" })?;
            let audio = STANDARD.decode(payload.trim()).map_err(|_| MediaError::BadBase64)?;
            Ok(Inbound::Media { chunk: number(v.pointer("/media/chunk")), timestamp_ms: number(v.pointer("/media/timestamp")), audio })
        }
        "dtmf" => Ok(Inbound::Dtmf { digit: digit(required(&v, "/dtmf/digit", "dtmf", "digit")?)? }),
        "playedStream" | "played" => Ok(Inbound::Played { name: required(&v, "/name", "playedStream", "name")? }),
        "clearedAudio" => Ok(Inbound::Cleared),
        "stop" => Ok(Inbound::Stop { reason: text(v.pointer("/stop/reason")).or_else(|| text(v.get("reason"))) }),
        other => Err(MediaError::UnknownEvent(other.chars().take(40).collect())),
    }
}

/// Writes one of our messages. `playAudio` names its format as Plivo wants it: the bare
/// encoding, the rate a number.
pub fn encode(message: &Outbound) -> String {
    match message {
        Outbound::PlayAudio { format, audio } => json!({ "event": "playAudio", "media": {
            "contentType": format.encoding(), "sampleRate": format.rate(), "payload": STANDARD.encode(audio),
        }}),
        Outbound::Checkpoint { stream_id, name } => json!({ "event": "checkpoint", "streamId": stream_id, "name": name }),
        Outbound::ClearAudio { stream_id } => json!({ "event": "clearAudio", "streamId": stream_id }),
    }
    .to_string()
}

/// Plivo's side (the `voxgate call` simulator): one of its messages as Plivo writes it,
/// `sequence` being its `sequenceNumber` (a number).
pub fn encode_inbound(sequence: u64, message: &Inbound) -> String {
    let mut v = match message {
        Inbound::Start(s) => {
            let mut v = json!({ "event": "start", "start": {
                "callId": s.call_id, "streamId": s.stream_id, "accountId": s.account_id, "tracks": s.tracks,
                "mediaFormat": { "encoding": s.encoding, "sampleRate": s.sample_rate },
            }});
            if let Some(e) = &s.extra_headers {
                v["extra_headers"] = json!(e);
            }
            v
        }
        Inbound::Media { chunk, timestamp_ms, audio } => json!({ "event": "media", "media": {
            "track": "inbound", "timestamp": timestamp_ms.map(|t| t.to_string()), "chunk": chunk, "payload": STANDARD.encode(audio),
        }}),
        Inbound::Dtmf { digit } => json!({ "event": "dtmf", "dtmf": { "track": "inbound", "digit": digit } }),
        Inbound::Played { name } => json!({ "event": "playedStream", "name": name }),
        Inbound::Cleared => json!({ "event": "clearedAudio" }),
        Inbound::Stop { reason } => json!({ "event": "stop", "stop": { "reason": reason } }),
    };
    v["sequenceNumber"] = json!(sequence);
    v.to_string()
}

/// Plivo's side: reads one of our messages (`sampleRate` as a number or a string).
pub fn decode_outbound(message: &str) -> Result<Outbound, MediaError> {
    if message.len() > MAX_MESSAGE {
        return Err(MediaError::TooLarge);
    }
    let v: Value = serde_json::from_str(message).map_err(|_| MediaError::NotJson)?;
    let stream_id = |event| required(&v, "/streamId", event, "streamId");
    match v.get("event").and_then(Value::as_str).ok_or(MediaError::NoEvent)? {
        "playAudio" => {
            let content_type = required(&v, "/media/contentType", "playAudio", "contentType")?;
            let rate = number(v.pointer("/media/sampleRate")).ok_or(MediaError::Missing { event: "playAudio", field: "sampleRate" })?;
            let format =
                u32::try_from(rate).ok().and_then(|r| AudioFormat::from_parts(&content_type, r)).ok_or(MediaError::UnknownFormat)?;
            let payload = text(v.pointer("/media/payload")).ok_or(MediaError::Missing { event: "playAudio", field: "payload" })?;
            let audio = STANDARD.decode(payload).map_err(|_| MediaError::BadBase64)?;
            Ok(Outbound::PlayAudio { format, audio })
        }
        "checkpoint" => {
            Ok(Outbound::Checkpoint { stream_id: stream_id("checkpoint")?, name: required(&v, "/name", "checkpoint", "name")? })
        }
        "clearAudio" => Ok(Outbound::ClearAudio { stream_id: stream_id("clearAudio")? }),
        other => Err(MediaError::UnknownEvent(other.chars().take(40).collect())),
    }
}

#[cfg(test)]
mod tests;
