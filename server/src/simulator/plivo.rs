//! The simulator as Plivo: a signed answer webhook (form POST with `X-Plivo-Signature-V3`),
//! the `<Stream>` read back, and the Audio Stream (`start`, `media` in the number's format,
//! `dtmf`, `playedStream`, `stop`), written with the same pure wire code the server reads
//! (shared/protocols/PLIVO.md).

use tokio_tungstenite::tungstenite::Message;

use super::SimError;
use super::wire::{Answered, Webhook};
use crate::telephony::exotel::stream::{Inbound, Outbound};
use crate::telephony::plivo::media::{self, AudioFormat};
use crate::telephony::plivo::signature;
use crate::voice::audio::{bytes_to_i16, i16_to_bytes};

/// The answer webhook as Plivo sends it: a signed form POST.
pub(super) fn webhook(auth_id: &str, auth_token: &str, url: &str, call_uuid: &str, from: &str, to: &str) -> Webhook {
    let digits = |n: &str| n.trim_start_matches('+').to_string();
    let form: Vec<(String, String)> = [
        ("CallUUID", call_uuid.to_string()),
        ("From", digits(from)),
        ("To", digits(to)),
        ("Direction", "inbound".into()),
        ("CallStatus", "ringing".into()),
        ("Event", "StartApp".into()),
        ("ParentAuthID", auth_id.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let nonce = crate::secrets::random_string(b"0123456789", 20);
    let sig = signature::signature(auth_token, &signature::signed_string("POST", url, &form), &nonce);
    let headers = vec![(signature::HEADER.to_string(), sig), (signature::NONCE.to_string(), nonce)];
    Webhook { get: false, url: url.to_string(), form, headers }
}

/// The answer's `<Stream>`: its URL (the element's text) and `contentType`.
pub(super) fn read_answer(body: &str) -> Result<Answered, SimError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    let mut content_type = None;
    let mut inside = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.name().as_ref() == b"Stream" => {
                inside = true;
                content_type = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == b"contentType")
                    .and_then(|a| a.unescape_value().ok())
                    .map(|v| v.to_string());
            }
            Ok(Event::Text(t)) if inside => {
                let url = t.decode().ok().map(|u| quick_xml::escape::unescape(&u).map(|u| u.trim().to_string()));
                let url = url.and_then(Result::ok).ok_or_else(|| SimError::Webhook("the stream URL is not text".into()))?;
                return Ok(Answered { url, parameters: Default::default(), content_type });
            }
            Ok(Event::Eof) | Err(_) => return Err(SimError::Webhook(format!("no <Stream> URL in the answer: {body}"))),
            _ => {}
        }
    }
}

/// The stream's format, from the answer's `contentType`.
pub(super) fn format(content_type: Option<&str>) -> AudioFormat {
    content_type.and_then(AudioFormat::parse).unwrap_or(AudioFormat::Mulaw8000)
}

/// One of the caller's frames as Plivo writes it (`None`: Plivo sends nothing for it).
pub(super) fn encode(format: AudioFormat, auth_id: &str, stream_id: &str, seq: u64, frame: Inbound) -> Option<Message> {
    let message = match frame {
        Inbound::Connected => return None,
        Inbound::Start(s) => media::Inbound::Start(media::Start {
            call_id: s.call_sid,
            stream_id: stream_id.to_string(),
            account_id: auth_id.to_string(),
            tracks: vec!["inbound".into()],
            encoding: Some(format.encoding().into()),
            sample_rate: Some(format.rate()),
            extra_headers: None,
        }),
        Inbound::Media { chunk, timestamp_ms, pcm } => {
            media::Inbound::Media { chunk, timestamp_ms, audio: format.to_bytes(&bytes_to_i16(&pcm)) }
        }
        Inbound::Dtmf { digit, .. } => media::Inbound::Dtmf { digit },
        Inbound::Mark { name } => media::Inbound::Played { name },
        Inbound::Stop { reason } => media::Inbound::Stop { reason },
    };
    Some(Message::Text(media::encode_inbound(seq, &message).into()))
}

/// One of the server's messages, read as Plivo reads it; `None` when it breaks the protocol
/// (another stream's id, a format other than the stream's).
pub(super) fn decode(format: AudioFormat, stream_id: &str, message: &Message) -> Option<Outbound> {
    let Message::Text(text) = message else { return None };
    Some(match media::decode_outbound(text.as_str()).ok()? {
        media::Outbound::PlayAudio { format: f, audio } if f == format => {
            Outbound::Media { pcm: i16_to_bytes(&f.to_samples(&audio).ok()?) }
        }
        media::Outbound::PlayAudio { .. } => return None,
        media::Outbound::Checkpoint { stream_id: s, name } if s == stream_id => Outbound::Mark { name },
        media::Outbound::ClearAudio { stream_id: s } if s == stream_id => Outbound::Clear,
        _ => return None,
    })
}
