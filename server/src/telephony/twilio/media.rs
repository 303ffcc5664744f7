//! Twilio Media Streams (shared/protocols/TWILIO.md §4): JSON text frames, camelCase, audio
//! as base64 μ-law at 8 kHz. Pure: no I/O. Both directions are here: `decode`/`encode` are
//! Voxgate's side, `encode_inbound`/`decode_outbound` Twilio's (the simulator's), so each
//! direction round-trips.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::telephony::stream::json_text as text;

/// Twilio streams μ-law at this rate, and nothing else.
pub const RATE: u32 = 8000;

/// What `start` says about the call and the stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Start {
    pub stream_sid: String,
    pub call_sid: String,
    pub account_sid: String,
    pub tracks: Vec<String>,
    /// The answer's `<Parameter>`s.
    pub custom_parameters: BTreeMap<String, String>,
    pub encoding: Option<String>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
}

/// A message from Twilio.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Connected,
    Start(Start),
    /// μ-law bytes, as sent.
    Media {
        chunk: Option<u64>,
        timestamp_ms: Option<u64>,
        ulaw: Vec<u8>,
    },
    /// One keypad digit.
    Dtmf {
        digit: String,
    },
    /// Twilio played our audio up to this mark.
    Mark {
        name: String,
    },
    Stop,
}

/// A message to Twilio.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    Media {
        ulaw: Vec<u8>,
    },
    Mark {
        name: String,
    },
    /// Drop the audio queued so far (barge-in).
    Clear,
}

/// Why a message could not be read; the stream closes with 1007 (invalid payload data).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    #[error("message is not JSON")]
    NotJson,
    #[error("message has no event")]
    NoEvent,
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    #[error("{event} message lacks {field}")]
    Missing { event: &'static str, field: &'static str },
    #[error("media payload is not base64")]
    BadBase64,
}

/// Counters arrive as strings ("5"); format numbers as numbers.
fn number(v: Option<&Value>) -> Option<u64> {
    text(v)?.trim().parse().ok()
}

fn required(v: &Value, pointer: &str, event: &'static str, field: &'static str) -> Result<String, MediaError> {
    text(v.pointer(pointer)).ok_or(MediaError::Missing { event, field })
}

/// Reads one message from Twilio.
pub fn decode(message: &str) -> Result<Inbound, MediaError> {
    let v: Value = serde_json::from_str(message).map_err(|_| MediaError::NotJson)?;
    match v.get("event").and_then(Value::as_str).ok_or(MediaError::NoEvent)? {
        "connected" => Ok(Inbound::Connected),
        "start" => {
            let s = v.get("start").ok_or(MediaError::Missing { event: "start", field: "start" })?;
            let stream_sid = text(s.get("streamSid")).or_else(|| text(v.get("streamSid"))).unwrap_or_default();
            let format = s.get("mediaFormat");
            Ok(Inbound::Start(Start {
                stream_sid,
                call_sid: required(&v, "/start/callSid", "start", "callSid")?,
                account_sid: text(s.get("accountSid")).unwrap_or_default(),
                tracks: s
                    .get("tracks")
                    .and_then(Value::as_array)
                    .map(|t| t.iter().filter_map(|x| text(Some(x))).collect())
                    .unwrap_or_default(),
                custom_parameters: s
                    .get("customParameters")
                    .and_then(Value::as_object)
                    .map(|o| o.iter().filter_map(|(k, v)| text(Some(v)).map(|t| (k.clone(), t))).collect())
                    .unwrap_or_default(),
                encoding: format.and_then(|f| text(f.get("encoding"))),
                sample_rate: format.and_then(|f| number(f.get("sampleRate"))).and_then(|r| u32::try_from(r).ok()),
                channels: format.and_then(|f| number(f.get("channels"))).and_then(|c| u32::try_from(c).ok()),
            }))
        }
        "media" => {
            let payload = required(&v, "/media/payload", "media", "payload")?;
            let ulaw = STANDARD.decode(payload.trim()).map_err(|_| MediaError::BadBase64)?;
            Ok(Inbound::Media { chunk: number(v.pointer("/media/chunk")), timestamp_ms: number(v.pointer("/media/timestamp")), ulaw })
        }
        "dtmf" => Ok(Inbound::Dtmf { digit: required(&v, "/dtmf/digit", "dtmf", "digit")? }),
        "mark" => Ok(Inbound::Mark { name: required(&v, "/mark/name", "mark", "name")? }),
        "stop" => Ok(Inbound::Stop),
        other => Err(MediaError::UnknownEvent(other.chars().take(40).collect())),
    }
}

/// Writes one of our messages; `streamSid` is on every one (Twilio requires it).
pub fn encode(stream_sid: &str, message: &Outbound) -> String {
    match message {
        Outbound::Media { ulaw } => json!({ "event": "media", "streamSid": stream_sid, "media": { "payload": STANDARD.encode(ulaw) } }),
        Outbound::Mark { name } => json!({ "event": "mark", "streamSid": stream_sid, "mark": { "name": name } }),
        Outbound::Clear => json!({ "event": "clear", "streamSid": stream_sid }),
    }
    .to_string()
}

/// Twilio's side (the `voxgate call` simulator): one of its messages as Twilio writes it,
/// `sequence` being its `sequenceNumber` (1 for the first message after `connected`).
pub fn encode_inbound(stream_sid: &str, sequence: u64, message: &Inbound) -> String {
    let mut v = match message {
        Inbound::Connected => return json!({ "event": "connected", "protocol": "Call", "version": "1.0.0" }).to_string(),
        Inbound::Start(s) => json!({ "event": "start", "start": {
            "streamSid": s.stream_sid, "accountSid": s.account_sid, "callSid": s.call_sid, "tracks": s.tracks,
            "customParameters": s.custom_parameters,
            "mediaFormat": { "encoding": s.encoding, "sampleRate": s.sample_rate, "channels": s.channels },
        }}),
        Inbound::Media { chunk, timestamp_ms, ulaw } => json!({ "event": "media", "media": {
            "track": "inbound", "chunk": chunk.map(|c| c.to_string()), "timestamp": timestamp_ms.map(|t| t.to_string()),
            "payload": STANDARD.encode(ulaw),
        }}),
        Inbound::Dtmf { digit } => json!({ "event": "dtmf", "dtmf": { "track": "inbound_track", "digit": digit } }),
        Inbound::Mark { name } => json!({ "event": "mark", "mark": { "name": name } }),
        Inbound::Stop => json!({ "event": "stop", "stop": {} }),
    };
    v["sequenceNumber"] = json!(sequence.to_string());
    v["streamSid"] = json!(stream_sid);
    v.to_string()
}

/// Twilio's side: reads one of our messages, with the `streamSid` it carried.
pub fn decode_outbound(message: &str) -> Result<(String, Outbound), MediaError> {
    let v: Value = serde_json::from_str(message).map_err(|_| MediaError::NotJson)?;
    let event = v.get("event").and_then(Value::as_str).ok_or(MediaError::NoEvent)?;
    let sid = |event| text(v.get("streamSid")).ok_or(MediaError::Missing { event, field: "streamSid" });
    match event {
        "media" => {
            let payload = required(&v, "/media/payload", "media", "payload")?;
            let ulaw = STANDARD.decode(payload).map_err(|_| MediaError::BadBase64)?;
            Ok((sid("media")?, Outbound::Media { ulaw }))
        }
        "mark" => Ok((sid("mark")?, Outbound::Mark { name: required(&v, "/mark/name", "mark", "name")? })),
        "clear" => Ok((sid("clear")?, Outbound::Clear)),
        other => Err(MediaError::UnknownEvent(other.chars().take(40).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_documented_messages_are_read() {
        // TWILIO.md §4.1, as Twilio sends them.
        let start = r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","accountSid":"AC1","callSid":"CA1","tracks":["inbound"],"customParameters":{"agent_id":"ag_123"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;
        let Inbound::Start(s) = decode(start).unwrap() else { panic!("start") };
        assert_eq!((s.stream_sid.as_str(), s.call_sid.as_str(), s.account_sid.as_str()), ("MZ1", "CA1", "AC1"));
        assert_eq!((s.sample_rate, s.channels, s.encoding.as_deref()), (Some(8000), Some(1), Some("audio/x-mulaw")));
        assert_eq!(s.custom_parameters["agent_id"], "ag_123");
        assert_eq!(s.tracks, ["inbound"]);
        let media = r#"{"event":"media","sequenceNumber":"2","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/38A"}}"#;
        assert_eq!(decode(media).unwrap(), Inbound::Media { chunk: Some(1), timestamp_ms: Some(5), ulaw: vec![0xFF, 0x7F, 0x00] });
        let dtmf = r#"{"event":"dtmf","sequenceNumber":"9","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}}"#;
        assert_eq!(decode(dtmf).unwrap(), Inbound::Dtmf { digit: "1".into() });
        assert_eq!(
            decode(r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"utt-3"}}"#).unwrap(),
            Inbound::Mark { name: "utt-3".into() }
        );
        assert_eq!(
            decode(r#"{"event":"stop","sequenceNumber":"99","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}"#).unwrap(),
            Inbound::Stop
        );
        assert_eq!(decode(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#).unwrap(), Inbound::Connected);
    }

    #[test]
    fn bad_messages_are_typed_errors() {
        assert_eq!(decode("{"), Err(MediaError::NotJson));
        assert_eq!(decode(r#"{"streamSid":"MZ1"}"#), Err(MediaError::NoEvent));
        assert_eq!(decode(r#"{"event":"party"}"#), Err(MediaError::UnknownEvent("party".into())));
        assert_eq!(decode(r#"{"event":"start","start":{}}"#), Err(MediaError::Missing { event: "start", field: "callSid" }));
        assert_eq!(decode(r#"{"event":"media","media":{"payload":"%%"}}"#), Err(MediaError::BadBase64));
        assert_eq!(decode(r#"{"event":"dtmf","dtmf":{}}"#), Err(MediaError::Missing { event: "dtmf", field: "digit" }));
    }

    #[test]
    fn every_message_we_send_carries_a_camel_case_stream_sid() {
        for m in [Outbound::Media { ulaw: vec![1, 2] }, Outbound::Mark { name: "m1".into() }, Outbound::Clear] {
            let text = encode("MZ9", &m);
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["streamSid"], "MZ9", "{text}");
            assert!(v.get("stream_sid").is_none());
            assert_eq!(decode_outbound(&text).unwrap(), ("MZ9".to_string(), m));
        }
        assert_eq!(decode_outbound(r#"{"event":"clear"}"#), Err(MediaError::Missing { event: "clear", field: "streamSid" }));
    }

    fn inbound() -> impl Strategy<Value = Inbound> {
        let params = proptest::collection::btree_map("[a-z_]{1,8}", "[ -~]{0,12}", 0..4);
        prop_oneof![
            Just(Inbound::Connected),
            Just(Inbound::Stop),
            ("[A-Z0-9]{1,34}", "[A-Z0-9]{1,34}", params).prop_map(|(call, stream, custom_parameters)| Inbound::Start(Start {
                stream_sid: stream.clone(),
                call_sid: call,
                account_sid: "AC1".into(),
                tracks: vec!["inbound".into()],
                custom_parameters,
                encoding: Some("audio/x-mulaw".into()),
                sample_rate: Some(RATE),
                channels: Some(1),
            })),
            (any::<u32>(), any::<u32>(), proptest::collection::vec(any::<u8>(), 0..400)).prop_map(|(c, t, ulaw)| Inbound::Media {
                chunk: Some(u64::from(c)),
                timestamp_ms: Some(u64::from(t)),
                ulaw
            }),
            "[0-9*#]".prop_map(|digit| Inbound::Dtmf { digit }),
            "[ -~]{1,20}".prop_map(|name| Inbound::Mark { name }),
        ]
    }

    proptest! {
        #[test]
        fn twilios_messages_round_trip(m in inbound(), seq in 1u64..1_000_000) {
            prop_assert_eq!(decode(&encode_inbound("MZ1", seq, &m)).unwrap(), m);
        }

        #[test]
        fn our_messages_round_trip(ulaw in proptest::collection::vec(any::<u8>(), 0..2000), name in "[ -~]{1,30}") {
            for m in [Outbound::Media { ulaw: ulaw.clone() }, Outbound::Mark { name: name.clone() }, Outbound::Clear] {
                prop_assert_eq!(decode_outbound(&encode("MZ1", &m)).unwrap(), ("MZ1".to_string(), m));
            }
        }

        #[test]
        fn any_text_is_read_or_refused_never_a_panic(s in "\\PC{0,200}") {
            let _ = decode(&s);
            let _ = decode_outbound(&s);
        }
    }
}
