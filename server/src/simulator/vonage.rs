//! The simulator as Vonage: a signed answer webhook (GET, a JWT signed with the account's
//! signature secret), the NCCO read back, and the WebSocket (`websocket:connected` with the
//! NCCO's headers, binary 16-bit audio, `websocket:dtmf`, `websocket:notify`), written with
//! the same pure wire code the server reads (shared/protocols/VONAGE.md).

use std::collections::BTreeMap;

use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::SimError;
use super::wire::{Answered, Pairs, Webhook, overlay};
use crate::telephony::exotel::stream::{Inbound, Outbound};
use crate::telephony::stream::{WireIn, WireOut};
use crate::telephony::vonage::{media, signature};
use crate::voice::audio::{bytes_to_i16, i16_to_bytes};

/// Vonage writes numbers as international digits without `+`.
fn digits(number: &str) -> String {
    number.trim_start_matches('+').to_string()
}

/// Who signs as Vonage: the account, its signature secret and the application.
pub(crate) struct App<'a> {
    pub api_key: &'a str,
    pub secret: &'a str,
    pub application_id: &'a str,
}

/// The answer webhook as Vonage sends it by default: GET with the call in the query (`extra`
/// laid over it). Inbound and outbound look alike: `from` calls `to`.
pub(super) fn webhook(app: &App<'_>, url: &str, uuid: &str, from: &str, to: &str, extra: &[(String, String)]) -> Webhook {
    let pairs: Pairs = [
        ("to", digits(to)),
        ("from", digits(from)),
        ("uuid", uuid.to_string()),
        ("conversation_uuid", format!("CON-{uuid}")),
        ("endpoint_type", "phone".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(overlay(pairs, extra)).finish();
    let bearer = bearer(app, b"");
    let sep = if url.contains('?') { '&' } else { '?' };
    Webhook { get: true, url: format!("{url}{sep}{query}"), form: Vec::new(), headers: vec![("Authorization".into(), bearer)] }
}

/// The `Authorization` header value Vonage signs a request with `body` with.
pub(crate) fn bearer(app: &App<'_>, body: &[u8]) -> String {
    let claims = signature::Claims {
        iat: chrono::Utc::now().timestamp(),
        jti: crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 24),
        iss: signature::ISSUER.into(),
        payload_hash: Some(signature::payload_hash(body)),
        api_key: Some(app.api_key.into()),
        application_id: Some(app.application_id.into()),
    };
    format!("Bearer {}", signature::sign(app.secret, &claims))
}

/// The NCCO's `connect` to a websocket: its URI, headers and content type.
pub(super) fn read_answer(body: &str) -> Result<Answered, SimError> {
    let ncco: Value = serde_json::from_str(body).map_err(|_| SimError::Webhook(format!("the answer is not an NCCO: {body}")))?;
    let endpoint = ncco
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["action"] == "connect")
        .find_map(|a| a["endpoint"].as_array().and_then(|e| e.first()).filter(|e| e["type"] == "websocket"))
        .ok_or_else(|| SimError::Webhook(format!("no websocket connect in the NCCO: {body}")))?;
    let text = |v: &Value| v.as_str().map(str::to_string);
    let url = text(&endpoint["uri"]).ok_or_else(|| SimError::Webhook("the endpoint has no uri".into()))?;
    let parameters: BTreeMap<String, String> =
        endpoint["headers"].as_object().into_iter().flatten().filter_map(|(k, v)| Some((k.clone(), text(v)?))).collect();
    Ok(Answered { url, parameters, content_type: text(&endpoint["content-type"]) })
}

/// One of the caller's frames as Vonage writes it (`None`: Vonage sends nothing for it; the
/// socket opening is the connection, and the call ends by closing it).
pub(super) fn encode(content_type: Option<&str>, frame: Inbound, parameters: &BTreeMap<String, String>) -> Option<Message> {
    let message = match frame {
        Inbound::Connected | Inbound::Stop { .. } => return None,
        Inbound::Start(_) => {
            media::Inbound::Connected(media::Connected { content_type: content_type.map(str::to_string), headers: parameters.clone() })
        }
        Inbound::Media { pcm, .. } => media::Inbound::Audio(bytes_to_i16(&pcm)),
        Inbound::Dtmf { digit, duration_ms } => media::Inbound::Dtmf { digit, duration_ms },
        Inbound::Mark { name } => media::Inbound::Notify { name },
    };
    Some(match media::encode_inbound(&message) {
        WireOut::Text(t) => Message::Text(t.into()),
        WireOut::Binary(b) => Message::Binary(b.into()),
        WireOut::Frames(frames) => Message::Binary(frames.concat().into()),
    })
}

/// One of the server's messages, read as Vonage reads it.
pub(super) fn decode(message: &Message) -> Option<Outbound> {
    let wire = match message {
        Message::Text(t) => WireIn::Text(t.as_str()),
        Message::Binary(b) => WireIn::Binary(b),
        _ => return None,
    };
    Some(match media::decode_outbound(wire).ok()? {
        media::Outbound::Audio(samples) => Outbound::Media { pcm: i16_to_bytes(&samples) },
        media::Outbound::Notify { name } => Outbound::Mark { name },
        media::Outbound::Clear => Outbound::Clear,
    })
}
