//! The Vonage WebSocket (shared/protocols/VONAGE.md §3): binary frames are raw 16-bit
//! little-endian PCM at the NCCO's rate, both ways; text frames are JSON events from Vonage
//! (`websocket:connected` with the NCCO's headers flattened at top level, `websocket:dtmf`,
//! `websocket:notify`, `websocket:cleared`) and actions from us (`clear`, `notify`). Pure: no
//! I/O. `decode`/`encode` are Voxgate's side, `encode_inbound`/`decode_outbound` Vonage's (the
//! simulator's), so each direction round-trips.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::telephony::stream::{WireIn, WireOut, json_text as text};
use crate::voice::audio;

/// Longest text message we read, in bytes (Vonage's are under 1 KiB).
pub const MAX_TEXT: usize = 8 * 1024;

/// The first message: the stream's format and the headers the NCCO gave the endpoint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Connected {
    /// `audio/l16;rate=16000`, as sent (see [`rate_of`]).
    pub content_type: Option<String>,
    /// Every other top-level string or number field: the NCCO's headers.
    pub headers: BTreeMap<String, String>,
}

/// A message from Vonage.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// `websocket:connected` (or an early text message without an `event`, as old docs show).
    Connected(Connected),
    /// The caller's audio (a binary frame), as samples.
    Audio(Vec<i16>),
    /// One keypad digit (`0-9`, `*`, `#`), held for `duration_ms` when Vonage says.
    Dtmf { digit: String, duration_ms: Option<u64> },
    /// Vonage played our audio up to the `notify` named `name`.
    Notify { name: String },
    /// Vonage dropped our queued audio, as a `clear` asked.
    Cleared,
}

/// A message to Vonage.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// Our audio (a binary frame): exactly one 20 ms frame each (see `codec::chunk_rules`).
    Audio(Vec<i16>),
    /// Tell us when the audio sent so far has played.
    Notify { name: String },
    /// Drop the audio queued so far (barge-in).
    Clear,
}

/// Why a message could not be read; see [`MediaError::close_code`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    /// A text message that is not a JSON object.
    #[error("message is not a JSON object")]
    NotJson,
    /// A text message over [`MAX_TEXT`] bytes.
    #[error("text message of {0} bytes is over the limit")]
    TooLong(usize),
    /// An `event` (or, ours, an `action`) this version does not know: not an error to the codec.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// A message without a field it needs.
    #[error("{event} message lacks {field}")]
    Missing { event: &'static str, field: &'static str },
    /// A DTMF digit that is not one of `0-9`, `*` and `#`.
    #[error("dtmf digit is not one of 0-9, * and #")]
    BadDigit,
    /// A binary frame of an odd number of bytes.
    #[error("audio frame of {0} bytes is not whole 16-bit samples")]
    OddAudio(usize),
}

impl MediaError {
    /// The WebSocket close code: 1009 (too big) for an oversized message, else 1007 (invalid
    /// payload data).
    pub fn close_code(&self) -> u16 {
        match self {
            MediaError::TooLong(_) => 1009,
            _ => 1007,
        }
    }
}

/// The rate of a `content-type` such as `audio/l16;rate=16000` (any case, spaces allowed);
/// `None` for anything but 16-bit linear PCM.
pub fn rate_of(content_type: &str) -> Option<u32> {
    let mut parts = content_type.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case("audio/l16") {
        return None;
    }
    parts.filter_map(|p| p.split_once('=')).find(|(k, _)| k.trim().eq_ignore_ascii_case("rate")).and_then(|(_, v)| v.trim().parse().ok())
}

fn is_digit(d: &str) -> bool {
    let mut chars = d.chars();
    matches!((chars.next(), chars.next()), (Some('0'..='9' | '*' | '#'), None))
}

fn pcm(bytes: &[u8]) -> Result<Vec<i16>, MediaError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(MediaError::OddAudio(bytes.len()));
    }
    Ok(audio::bytes_to_i16(bytes))
}

fn object(message: &str) -> Result<Map<String, Value>, MediaError> {
    if message.len() > MAX_TEXT {
        return Err(MediaError::TooLong(message.len()));
    }
    match serde_json::from_str(message) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(MediaError::NotJson),
    }
}

/// Reads one message from Vonage.
pub fn decode(message: WireIn<'_>) -> Result<Inbound, MediaError> {
    let text_message = match message {
        WireIn::Binary(bytes) => return pcm(bytes).map(Inbound::Audio),
        WireIn::Text(t) => t,
    };
    let mut o = object(text_message)?;
    let event = match o.remove("event") {
        None => None,
        Some(Value::String(e)) => Some(e),
        Some(_) => return Err(MediaError::Missing { event: "message", field: "event" }),
    };
    match event.as_deref() {
        None | Some("websocket:connected") => {
            let content_type = o.remove("content-type").and_then(|v| text(Some(&v)));
            let headers = o.iter().filter_map(|(k, v)| text(Some(v)).map(|t| (k.clone(), t))).collect();
            Ok(Inbound::Connected(Connected { content_type, headers }))
        }
        Some("websocket:dtmf") => {
            let digit = text(o.get("digit")).ok_or(MediaError::Missing { event: "websocket:dtmf", field: "digit" })?;
            if !is_digit(&digit) {
                return Err(MediaError::BadDigit);
            }
            let duration_ms = text(o.get("duration")).and_then(|d| d.trim().parse().ok());
            Ok(Inbound::Dtmf { digit, duration_ms })
        }
        Some("websocket:notify") => {
            let name = text(o.get("payload").and_then(|p| p.get("name")));
            Ok(Inbound::Notify { name: name.ok_or(MediaError::Missing { event: "websocket:notify", field: "payload.name" })? })
        }
        Some("websocket:cleared") => Ok(Inbound::Cleared),
        Some(other) => Err(MediaError::UnknownEvent(other.chars().take(40).collect())),
    }
}

/// Writes one of our messages.
pub fn encode(message: &Outbound) -> WireOut {
    match message {
        Outbound::Audio(samples) => WireOut::Binary(audio::i16_to_bytes(samples)),
        Outbound::Notify { name } => WireOut::Text(json!({ "action": "notify", "payload": { "name": name } }).to_string()),
        Outbound::Clear => WireOut::Text(json!({ "action": "clear" }).to_string()),
    }
}

/// Vonage's side (the `voxgate call` simulator): one of its messages as Vonage writes it.
/// `Connected` headers named `event` or `content-type` are not sent (they would clash).
pub fn encode_inbound(message: &Inbound) -> WireOut {
    let v = match message {
        Inbound::Audio(samples) => return WireOut::Binary(audio::i16_to_bytes(samples)),
        Inbound::Connected(c) => {
            let mut o: Map<String, Value> = c.headers.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
            o.insert("event".into(), json!("websocket:connected"));
            match &c.content_type {
                Some(ct) => o.insert("content-type".into(), json!(ct)),
                None => o.remove("content-type"),
            };
            Value::Object(o)
        }
        Inbound::Dtmf { digit, duration_ms } => {
            let mut v = json!({ "event": "websocket:dtmf", "digit": digit });
            if let Some(d) = duration_ms {
                v["duration"] = json!(d);
            }
            v
        }
        Inbound::Notify { name } => json!({ "event": "websocket:notify", "payload": { "name": name } }),
        Inbound::Cleared => json!({ "event": "websocket:cleared" }),
    };
    WireOut::Text(v.to_string())
}

/// Vonage's side: reads one of our messages.
pub fn decode_outbound(message: WireIn<'_>) -> Result<Outbound, MediaError> {
    let text_message = match message {
        WireIn::Binary(bytes) => return pcm(bytes).map(Outbound::Audio),
        WireIn::Text(t) => t,
    };
    let o = object(text_message)?;
    match o.get("action").and_then(Value::as_str).ok_or(MediaError::Missing { event: "message", field: "action" })? {
        "clear" => Ok(Outbound::Clear),
        "notify" => {
            let name = text(o.get("payload").and_then(|p| p.get("name")));
            Ok(Outbound::Notify { name: name.ok_or(MediaError::Missing { event: "notify", field: "payload.name" })? })
        }
        other => Err(MediaError::UnknownEvent(other.chars().take(40).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> Result<Inbound, MediaError> {
        decode(WireIn::Text(s))
    }

    #[test]
    fn the_documented_messages_are_read() {
        // VONAGE.md §3.3, as Vonage sends them.
        let connected = r#"{"event":"websocket:connected","content-type":"audio/l16;rate=16000","call_uuid":"aaaaaaaa-bbbb","agent_id":"ag_123","n":7,"nested":{"a":1}}"#;
        let Inbound::Connected(c) = t(connected).unwrap() else { panic!("connected") };
        assert_eq!(c.content_type.as_deref(), Some("audio/l16;rate=16000"));
        let expected: BTreeMap<String, String> = [("call_uuid", "aaaaaaaa-bbbb"), ("agent_id", "ag_123"), ("n", "7")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(c.headers, expected, "flat string and number fields only, not event or content-type");
        // The 2017-era first message has no `event`.
        let old = t(r#"{"content-type":"audio/l16;rate=8000","call_uuid":"c1"}"#).unwrap();
        assert_eq!(
            old,
            Inbound::Connected(Connected {
                content_type: Some("audio/l16;rate=8000".into()),
                headers: [("call_uuid".to_string(), "c1".to_string())].into()
            })
        );
        assert_eq!(
            t(r#"{"event":"websocket:dtmf","digit":"5","duration":260}"#).unwrap(),
            Inbound::Dtmf { digit: "5".into(), duration_ms: Some(260) }
        );
        assert_eq!(t(r##"{"event":"websocket:dtmf","digit":"#"}"##).unwrap(), Inbound::Dtmf { digit: "#".into(), duration_ms: None });
        assert_eq!(t(r#"{"event":"websocket:notify","payload":{"name":"utt-3"}}"#).unwrap(), Inbound::Notify { name: "utt-3".into() });
        assert_eq!(t(r#"{"event":"websocket:cleared"}"#).unwrap(), Inbound::Cleared);
        assert_eq!(decode(WireIn::Binary(&[0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80])).unwrap(), Inbound::Audio(vec![1, -1, i16::MIN]));
        assert_eq!(decode(WireIn::Binary(&[])).unwrap(), Inbound::Audio(vec![]));
    }

    #[test]
    fn bad_messages_are_typed_errors() {
        assert_eq!(t("{"), Err(MediaError::NotJson));
        assert_eq!(t("[1]"), Err(MediaError::NotJson));
        assert_eq!(t(r#"{"event":7}"#), Err(MediaError::Missing { event: "message", field: "event" }));
        assert_eq!(t(r#"{"event":"websocket:party"}"#), Err(MediaError::UnknownEvent("websocket:party".into())));
        assert_eq!(t(r#"{"event":"websocket:dtmf"}"#), Err(MediaError::Missing { event: "websocket:dtmf", field: "digit" }));
        for bad in ["A", "55", "", "٣", " 5"] {
            let m = json!({ "event": "websocket:dtmf", "digit": bad }).to_string();
            assert_eq!(t(&m), Err(MediaError::BadDigit), "{bad:?}");
        }
        assert_eq!(
            t(r#"{"event":"websocket:notify","payload":{}}"#),
            Err(MediaError::Missing { event: "websocket:notify", field: "payload.name" })
        );
        assert_eq!(decode(WireIn::Binary(&[1, 2, 3])), Err(MediaError::OddAudio(3)));
        let big = json!({ "event": "websocket:connected", "pad": "x".repeat(MAX_TEXT) }).to_string();
        assert_eq!(t(&big), Err(MediaError::TooLong(big.len())));
        assert_eq!(MediaError::TooLong(9000).close_code(), 1009);
        assert_eq!(MediaError::NotJson.close_code(), 1007);
    }

    #[test]
    fn our_messages_are_binary_pcm_and_json_actions() {
        assert_eq!(encode(&Outbound::Audio(vec![1, -1, i16::MIN])), WireOut::Binary(vec![0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80]));
        assert_eq!(encode(&Outbound::Clear), WireOut::Text(r#"{"action":"clear"}"#.into()));
        let WireOut::Text(n) = encode(&Outbound::Notify { name: "utt-3".into() }) else { panic!("text") };
        assert_eq!(serde_json::from_str::<Value>(&n).unwrap(), json!({ "action": "notify", "payload": { "name": "utt-3" } }));
        assert_eq!(decode_outbound(WireIn::Text(r#"{"action":"hangup"}"#)), Err(MediaError::UnknownEvent("hangup".into())));
        assert_eq!(decode_outbound(WireIn::Text("{}")), Err(MediaError::Missing { event: "message", field: "action" }));
    }

    #[test]
    fn content_types_give_their_rate() {
        assert_eq!(rate_of("audio/l16;rate=16000"), Some(16000));
        assert_eq!(rate_of("Audio/L16; Rate = 8000"), Some(8000));
        assert_eq!(rate_of("audio/l16"), None);
        assert_eq!(rate_of("audio/x-mulaw;rate=8000"), None);
        assert_eq!(rate_of("audio/l16;rate=fast"), None);
    }

    fn wire(w: &WireOut) -> WireIn<'_> {
        match w {
            WireOut::Text(s) => WireIn::Text(s),
            WireOut::Binary(b) => WireIn::Binary(b),
            WireOut::Frames(_) => unreachable!("the wire format writes one message at a time"),
        }
    }

    fn inbound() -> impl Strategy<Value = Inbound> {
        let headers = proptest::collection::btree_map("[a-z_]{1,12}", "[ -~]{0,40}", 0..6);
        prop_oneof![
            (proptest::option::of("audio/l16;rate=(8000|16000)"), headers).prop_map(|(content_type, mut headers)| {
                headers.remove("event");
                Inbound::Connected(Connected { content_type, headers })
            }),
            proptest::collection::vec(any::<i16>(), 0..700).prop_map(Inbound::Audio),
            ("[0-9*#]", proptest::option::of(0u64..100_000)).prop_map(|(digit, duration_ms)| Inbound::Dtmf { digit, duration_ms }),
            "[ -~]{1,30}".prop_map(|name| Inbound::Notify { name }),
            Just(Inbound::Cleared),
        ]
    }

    proptest! {
        #[test]
        fn vonages_messages_round_trip(m in inbound()) {
            prop_assert_eq!(decode(wire(&encode_inbound(&m))).unwrap(), m);
        }

        #[test]
        fn our_messages_round_trip(samples in proptest::collection::vec(any::<i16>(), 0..700), name in "\\PC{1,30}") {
            for m in [Outbound::Audio(samples.clone()), Outbound::Notify { name: name.clone() }, Outbound::Clear] {
                prop_assert_eq!(decode_outbound(wire(&encode(&m))).unwrap(), m);
            }
        }

        #[test]
        fn anything_is_read_or_refused_never_a_panic(s in "\\PC{0,200}", b in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(WireIn::Text(&s));
            let _ = decode_outbound(WireIn::Text(&s));
            prop_assert_eq!(decode(WireIn::Binary(&b)).is_ok(), b.len().is_multiple_of(2));
        }
    }
}
