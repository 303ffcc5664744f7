//! The NCCO we answer with (shared/protocols/VONAGE.md §2), a JSON array of actions written
//! with serde_json: a synchronous `connect` to our WebSocket, whose `headers` carry what the
//! stream needs to name its call (Vonage's first stream message echoes them), or a spoken
//! refusal. NCCO has no hang-up action: the call ends when the NCCO runs out.

use serde_json::{Map, Value, json};

/// Vonage's documented limit for a websocket endpoint's `headers`, serialised (another source
/// says 2,000 bytes; we keep to the smaller). See [`headers_len`].
pub const MAX_HEADERS_BYTES: usize = 512;
/// Longest `talk` text Vonage takes, in characters.
pub const MAX_TALK_CHARS: usize = 1500;

/// The endpoint's `content-type` for 16-bit linear PCM at `rate` (8000 or 16000).
pub fn content_type(rate: u32) -> String {
    format!("audio/l16;rate={rate}")
}

fn headers_object(headers: &[(&str, &str)]) -> Map<String, Value> {
    headers.iter().map(|&(k, v)| (k.to_string(), Value::from(v))).collect()
}

/// The size of `headers` as the NCCO serialises them (a JSON object); keep it within
/// [`MAX_HEADERS_BYTES`]. Ours (`call_uuid` 36 chars, `agent_id`, `voxgate_token` ~75 chars,
/// `from`, `to`) take about 250 bytes.
pub fn headers_len(headers: &[(&str, &str)]) -> usize {
    Value::Object(headers_object(headers)).to_string().len()
}

/// Connects the call to our stream at `ws_uri`: linear PCM at `rate`, the WebSocket leg's
/// events to `event_url`, `from` (one of the account's numbers) when given, and `headers`
/// echoed in the stream's first message.
pub fn connect(ws_uri: &str, rate: u32, event_url: &str, from: Option<&str>, headers: &[(&str, &str)]) -> Value {
    let mut action = json!({
        "action": "connect",
        "eventType": "synchronous",
        "eventUrl": [event_url],
        "endpoint": [{
            "type": "websocket",
            "uri": ws_uri,
            "content-type": content_type(rate),
            "headers": headers_object(headers),
        }],
    });
    if let Some(from) = from {
        action["from"] = Value::from(from);
    }
    json!([action])
}

/// `talk`'s `language` for an agent language (Vonage's voices: en-US, hi-IN).
pub fn talk_language(language: &str) -> &'static str {
    match language {
        "hi" => "hi-IN",
        _ => "en-US",
    }
}

/// Says `text` (cut to [`MAX_TALK_CHARS`]) in the agent language `language`; the call then
/// ends, the NCCO having nothing more to do.
pub fn talk_and_end(text: &str, language: &str) -> Value {
    let text: String = text.chars().take(MAX_TALK_CHARS).collect();
    json!([{ "action": "talk", "text": text, "language": talk_language(language) }])
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "wss://vox.example/api/telephony/vonage/stream/p1";
    const EVENTS: &str = "https://vox.example/api/telephony/vonage/event/p1";

    #[test]
    fn the_connect_equals_vonages_own_library() {
        // vonage-voice: Connect(endpoint=[WebsocketEndpoint(uri=WS, contentType='audio/l16;rate=16000',
        // headers={...})], from_='447700900000', eventType='synchronous', eventUrl=[EVENTS])
        // .model_dump(by_alias=True, exclude_none=True), as JSON (key order is not part of it).
        let golden = json!([{
            "endpoint": [{
                "uri": WS,
                "content-type": "audio/l16;rate=16000",
                "headers": { "call_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "agent_id": "ag_123" },
                "type": "websocket"
            }],
            "from": "447700900000",
            "eventType": "synchronous",
            "eventUrl": [EVENTS],
            "action": "connect"
        }]);
        let headers = [("call_uuid", "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"), ("agent_id", "ag_123")];
        assert_eq!(connect(WS, 16000, EVENTS, Some("447700900000"), &headers), golden);
        // The hyphenated key is the one on the wire, never `contentType`.
        let text = connect(WS, 8000, EVENTS, None, &headers).to_string();
        assert!(text.contains(r#""content-type":"audio/l16;rate=8000""#) && !text.contains("contentType"), "{text}");
    }

    #[test]
    fn without_from_the_key_is_absent_and_values_are_escaped() {
        let ncco = connect(WS, 8000, EVENTS, None, &[("note", "a \"quoted\" \\ value")]);
        let action = &ncco[0];
        assert!(action.get("from").is_none());
        assert_eq!(action["endpoint"][0]["headers"]["note"], "a \"quoted\" \\ value");
        assert_eq!(action["endpoint"].as_array().map(Vec::len), Some(1), "one endpoint at most");
        let back: Value = serde_json::from_str(&ncco.to_string()).unwrap();
        assert_eq!(back, ncco);
    }

    #[test]
    fn our_real_headers_fit_vonages_limit() {
        // The headers the answer route sends: a Vonage call uuid, an agent id, a stream token
        // (expiry and a hex HMAC-SHA256: 75 chars), and E.164 numbers without '+'.
        let token = format!("1800000120.{}", "f".repeat(64));
        assert_eq!(token.len(), 75);
        let headers = [
            ("call_uuid", "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"),
            ("agent_id", "agent_0123456789abcdefgh"),
            ("voxgate_token", token.as_str()),
            ("from", "447700900000123"),
            ("to", "447700900001123"),
        ];
        let len = headers_len(&headers);
        assert!(len <= MAX_HEADERS_BYTES, "{len}");
        assert_eq!(len, connect(WS, 16000, EVENTS, None, &headers)[0]["endpoint"][0]["headers"].to_string().len());
        assert_eq!(headers_len(&[]), 2);
        assert!(headers_len(&[("x", &"y".repeat(MAX_HEADERS_BYTES))]) > MAX_HEADERS_BYTES);
    }

    #[test]
    fn an_inactive_number_hears_a_refusal() {
        assert_eq!(
            talk_and_end("This number is not in service.", "en"),
            json!([{ "action": "talk", "text": "This number is not in service.", "language": "en-US" }])
        );
        assert_eq!(talk_and_end("नमस्ते", "hi")[0]["language"], "hi-IN");
        let long = "é".repeat(2000);
        let said = talk_and_end(&long, "en");
        assert_eq!(said[0]["text"].as_str().map(|t| t.chars().count()), Some(MAX_TALK_CHARS));
        assert_eq!(said.as_array().map(Vec::len), Some(1), "no hangup action: NCCO has none");
        assert_eq!(content_type(24000), "audio/l16;rate=24000");
    }
}
