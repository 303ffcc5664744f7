//! Exotel's bidirectional Voicebot stream ("AgentStream"), shared/protocols/EXOTEL.md §2:
//! JSON text frames in, typed events out, and back. Pure: no I/O. Both directions are here:
//! `decode`/`encode` are Voxgate's side, `encode_inbound`/`decode_outbound` Exotel's (the
//! simulator's), so each direction round-trips.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::telephony::stream::json_text as text;

/// Sample rates Exotel streams at (the URL's `sample-rate`; 8000 when absent).
pub const RATES: [u32; 3] = [8000, 16000, 24000];
/// Outbound payloads are whole multiples of this many bytes (20 ms at 8 kHz).
pub const FRAME_MULTIPLE: usize = 320;
/// Smallest outbound payload Exotel accepts without jitter artefacts.
pub const MIN_CHUNK: usize = 3200;
/// Largest outbound payload.
pub const MAX_CHUNK: usize = 100 * 1024;

/// What the `start` event says about the call and the stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Start {
    pub stream_sid: String,
    pub call_sid: String,
    pub account_sid: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub custom_parameters: BTreeMap<String, String>,
    pub encoding: Option<String>,
    pub sample_rate: Option<u32>,
}

/// A frame from Exotel.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Connected,
    Start(Start),
    /// 16-bit little-endian mono PCM at the stream's rate.
    Media {
        chunk: Option<u64>,
        timestamp_ms: Option<u64>,
        pcm: Vec<u8>,
    },
    Dtmf {
        digit: String,
        duration_ms: Option<u64>,
    },
    /// Exotel played the audio up to this mark.
    Mark {
        name: String,
    },
    Stop {
        reason: Option<String>,
    },
}

/// A frame to Exotel.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    Media {
        pcm: Vec<u8>,
    },
    Mark {
        name: String,
    },
    /// Drop all queued outbound audio (barge-in).
    Clear,
}

/// Why a frame could not be read; the stream closes with [`CodecError::close_code`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodecError {
    #[error("frame is not JSON")]
    NotJson,
    #[error("frame has no event")]
    NoEvent,
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    #[error("{event} frame lacks {field}")]
    Missing { event: &'static str, field: &'static str },
    #[error("media payload is not base64")]
    BadBase64,
    #[error("media payload has an odd number of bytes for 16-bit PCM")]
    OddPcm,
}

impl CodecError {
    /// WebSocket close code: 1007 (invalid payload data) for every malformed frame.
    pub fn close_code(&self) -> u16 {
        1007
    }
}

/// Numbers arrive as strings or numbers, sometimes with units ("8000Hz").
fn number(v: Option<&Value>) -> Option<u64> {
    let t = text(v)?;
    let digits: String = t.trim().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Reads a field under its snake_case or camelCase name.
fn field<'a>(obj: &'a Value, snake: &str, camel: &str) -> Option<&'a Value> {
    obj.get(snake).or_else(|| obj.get(camel))
}

/// Decodes one text frame.
pub fn decode(frame: &str) -> Result<Inbound, CodecError> {
    let v: Value = serde_json::from_str(frame).map_err(|_| CodecError::NotJson)?;
    let event = v.get("event").and_then(Value::as_str).ok_or(CodecError::NoEvent)?;
    match event {
        "connected" => Ok(Inbound::Connected),
        "start" => {
            let s = v.get("start").ok_or(CodecError::Missing { event: "start", field: "start" })?;
            let call_sid = text(field(s, "call_sid", "callSid")).ok_or(CodecError::Missing { event: "start", field: "call_sid" })?;
            let stream_sid =
                text(field(s, "stream_sid", "streamSid")).or_else(|| text(field(&v, "stream_sid", "streamSid"))).unwrap_or_default();
            let format = field(s, "media_format", "mediaFormat");
            let custom_parameters = field(s, "custom_parameters", "customParameters")
                .and_then(Value::as_object)
                .map(|o| o.iter().filter_map(|(k, v)| text(Some(v)).map(|t| (k.clone(), t))).collect())
                .unwrap_or_default();
            Ok(Inbound::Start(Start {
                stream_sid,
                call_sid,
                account_sid: text(field(s, "account_sid", "accountSid")),
                from: text(s.get("from")),
                to: text(s.get("to")),
                custom_parameters,
                encoding: format.and_then(|f| text(f.get("encoding"))),
                sample_rate: format.and_then(|f| number(field(f, "sample_rate", "sampleRate"))).map(|r| r as u32),
            }))
        }
        "media" => {
            let m = v.get("media").ok_or(CodecError::Missing { event: "media", field: "media" })?;
            let payload = m.get("payload").and_then(Value::as_str).ok_or(CodecError::Missing { event: "media", field: "payload" })?;
            let pcm = STANDARD.decode(payload.trim()).map_err(|_| CodecError::BadBase64)?;
            if pcm.len() % 2 != 0 {
                return Err(CodecError::OddPcm);
            }
            Ok(Inbound::Media { chunk: number(m.get("chunk")), timestamp_ms: number(m.get("timestamp")), pcm })
        }
        "dtmf" => {
            let d = v.get("dtmf").ok_or(CodecError::Missing { event: "dtmf", field: "dtmf" })?;
            let digit = text(d.get("digit")).ok_or(CodecError::Missing { event: "dtmf", field: "digit" })?;
            Ok(Inbound::Dtmf { digit, duration_ms: number(d.get("duration")) })
        }
        "mark" => {
            let name = v.get("mark").and_then(|m| text(m.get("name"))).ok_or(CodecError::Missing { event: "mark", field: "name" })?;
            Ok(Inbound::Mark { name })
        }
        "stop" => Ok(Inbound::Stop { reason: v.get("stop").and_then(|s| text(s.get("reason"))) }),
        other => Err(CodecError::UnknownEvent(other.chars().take(40).collect())),
    }
}

/// Encodes one frame for Exotel (`stream_sid`, as EXOTEL.md §2.4 recommends).
pub fn encode(stream_sid: &str, frame: &Outbound) -> String {
    match frame {
        Outbound::Media { pcm } => json!({ "event": "media", "stream_sid": stream_sid, "media": { "payload": STANDARD.encode(pcm) } }),
        Outbound::Mark { name } => json!({ "event": "mark", "stream_sid": stream_sid, "mark": { "name": name } }),
        Outbound::Clear => json!({ "event": "clear", "stream_sid": stream_sid }),
    }
    .to_string()
}

/// Exotel's side of the codec (the `voxgate call` simulator): one of its frames as Exotel
/// writes it (EXOTEL.md §2.3), `sequence` being the frame's `sequence_number`.
pub fn encode_inbound(stream_sid: &str, sequence: u64, frame: &Inbound) -> String {
    let seq = sequence.to_string();
    let mut v = match frame {
        Inbound::Connected => json!({ "event": "connected" }),
        Inbound::Start(s) => {
            let mut start = json!({
                "stream_sid": s.stream_sid, "call_sid": s.call_sid, "custom_parameters": s.custom_parameters,
                "media_format": { "bit_rate": "16" },
            });
            for (k, val) in [("account_sid", &s.account_sid), ("from", &s.from), ("to", &s.to)] {
                if let Some(val) = val {
                    start[k] = json!(val);
                }
            }
            if let Some(e) = &s.encoding {
                start["media_format"]["encoding"] = json!(e);
            }
            if let Some(r) = s.sample_rate {
                start["media_format"]["sample_rate"] = json!(r.to_string());
            }
            json!({ "event": "start", "start": start })
        }
        Inbound::Media { chunk, timestamp_ms, pcm } => {
            let mut media = json!({ "payload": STANDARD.encode(pcm) });
            if let Some(c) = chunk {
                media["chunk"] = json!(c.to_string());
            }
            if let Some(t) = timestamp_ms {
                media["timestamp"] = json!(t.to_string());
            }
            json!({ "event": "media", "media": media })
        }
        Inbound::Dtmf { digit, duration_ms } => {
            let mut d = json!({ "digit": digit });
            if let Some(ms) = duration_ms {
                d["duration"] = json!(ms.to_string());
            }
            json!({ "event": "dtmf", "dtmf": d })
        }
        Inbound::Mark { name } => json!({ "event": "mark", "mark": { "name": name } }),
        Inbound::Stop { reason } => json!({ "event": "stop", "stop": { "reason": reason } }),
    };
    if !matches!(frame, Inbound::Connected) {
        v["sequence_number"] = json!(seq);
        v["stream_sid"] = json!(stream_sid);
    }
    v.to_string()
}

/// Exotel's side of the codec: reads one of our frames.
pub fn decode_outbound(frame: &str) -> Result<Outbound, CodecError> {
    let v: Value = serde_json::from_str(frame).map_err(|_| CodecError::NotJson)?;
    match v.get("event").and_then(Value::as_str).ok_or(CodecError::NoEvent)? {
        "media" => {
            let payload =
                v.pointer("/media/payload").and_then(Value::as_str).ok_or(CodecError::Missing { event: "media", field: "payload" })?;
            let pcm = STANDARD.decode(payload).map_err(|_| CodecError::BadBase64)?;
            if pcm.len() % 2 != 0 {
                return Err(CodecError::OddPcm);
            }
            Ok(Outbound::Media { pcm })
        }
        "mark" => {
            let name = v.get("mark").and_then(|m| text(m.get("name"))).ok_or(CodecError::Missing { event: "mark", field: "name" })?;
            Ok(Outbound::Mark { name })
        }
        "clear" => Ok(Outbound::Clear),
        other => Err(CodecError::UnknownEvent(other.chars().take(40).collect())),
    }
}

/// Whether an outbound payload of `len` bytes keeps Exotel's size rules.
pub fn chunk_size_ok(len: usize) -> bool {
    len.is_multiple_of(FRAME_MULTIPLE) && (MIN_CHUNK..=MAX_CHUNK).contains(&len)
}

/// Bytes of one second of 16-bit mono PCM at `rate`.
pub fn bytes_per_second(rate: u32) -> usize {
    rate as usize * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_frames_decode() {
        assert_eq!(decode(r#"{"event":"connected"}"#).unwrap(), Inbound::Connected);
        let start = decode(r#"{"event":"start","sequence_number":"1","stream_sid":"MZ1","start":{"stream_sid":"MZ1","call_sid":"CA1","account_sid":"AC1","from":"+919876543210","to":"+918047491899","custom_parameters":{"key1":"value1"},"media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}}"#).unwrap();
        let Inbound::Start(s) = start else { panic!("start") };
        assert_eq!((s.call_sid.as_str(), s.stream_sid.as_str(), s.sample_rate), ("CA1", "MZ1", Some(8000)));
        assert_eq!(s.custom_parameters["key1"], "value1");
        let media = decode(
            r#"{"event":"media","sequence_number":"3","stream_sid":"MZ1","media":{"chunk":"2","timestamp":"200","payload":"AAABAA=="}}"#,
        )
        .unwrap();
        assert_eq!(media, Inbound::Media { chunk: Some(2), timestamp_ms: Some(200), pcm: vec![0, 0, 1, 0] });
        assert_eq!(
            decode(r#"{"event":"dtmf","dtmf":{"digit":"5","duration":"100"}}"#).unwrap(),
            Inbound::Dtmf { digit: "5".into(), duration_ms: Some(100) }
        );
        assert_eq!(decode(r#"{"event":"mark","mark":{"name":"utt-3"}}"#).unwrap(), Inbound::Mark { name: "utt-3".into() });
        assert_eq!(
            decode(r#"{"event":"stop","stop":{"call_sid":"CA1","reason":"callended"}}"#).unwrap(),
            Inbound::Stop { reason: Some("callended".into()) }
        );
    }

    #[test]
    fn camel_case_and_numeric_variants_are_accepted() {
        let s = decode(r#"{"event":"start","streamSid":"S","start":{"callSid":"C","mediaFormat":{"sampleRate":"16000Hz"}}}"#).unwrap();
        let Inbound::Start(s) = s else { panic!() };
        assert_eq!((s.call_sid.as_str(), s.stream_sid.as_str(), s.sample_rate), ("C", "S", Some(16000)));
        let m = decode(r#"{"event":"media","media":{"chunk":7,"timestamp":140,"payload":""}}"#).unwrap();
        assert_eq!(m, Inbound::Media { chunk: Some(7), timestamp_ms: Some(140), pcm: vec![] });
    }

    #[test]
    fn malformed_frames_are_typed_errors() {
        assert_eq!(decode("not json"), Err(CodecError::NotJson));
        assert_eq!(decode("{}"), Err(CodecError::NoEvent));
        assert_eq!(decode(r#"{"event":"party"}"#), Err(CodecError::UnknownEvent("party".into())));
        assert_eq!(decode(r#"{"event":"media","media":{"payload":"%%%"}}"#), Err(CodecError::BadBase64));
        assert_eq!(decode(r#"{"event":"media","media":{"payload":"AAAA"}}"#), Err(CodecError::OddPcm));
        assert_eq!(decode(r#"{"event":"start","start":{}}"#), Err(CodecError::Missing { event: "start", field: "call_sid" }));
    }

    #[test]
    fn outbound_frames_round_trip_through_the_inbound_shape() {
        let pcm: Vec<u8> = (0..640u32).map(|i| (i % 251) as u8).collect();
        let media: Value = serde_json::from_str(&encode("MZ9", &Outbound::Media { pcm: pcm.clone() })).unwrap();
        assert_eq!(media["stream_sid"], "MZ9");
        // Exotel's own media frames have the same shape, so our decoder reads ours back.
        assert_eq!(decode(&media.to_string()).unwrap(), Inbound::Media { chunk: None, timestamp_ms: None, pcm });
        let mark = encode("MZ9", &Outbound::Mark { name: "utt-1".into() });
        assert_eq!(decode(&mark).unwrap(), Inbound::Mark { name: "utt-1".into() });
        assert_eq!(encode("MZ9", &Outbound::Clear), r#"{"event":"clear","stream_sid":"MZ9"}"#);
    }
}
