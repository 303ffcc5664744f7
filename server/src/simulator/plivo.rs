//! The simulator as Plivo: a signed answer webhook (form POST with `X-Plivo-Signature-V3`),
//! the `<Stream>` read back, and the Audio Stream (`start`, `media` in the number's format,
//! `dtmf`, `playedStream`, `stop`), written with the same pure wire code the server reads
//! (shared/protocols/PLIVO.md).

use tokio_tungstenite::tungstenite::Message;

use super::wire::{Answered, Pairs, Webhook, overlay};
use super::{CallOptions, SimError};
use crate::telephony::exotel::stream::{Inbound, Outbound};
use crate::telephony::plivo::media::{self, AudioFormat};
use crate::telephony::plivo::signature;
use crate::voice::audio::{bytes_to_i16, i16_to_bytes};

/// The answer webhook as Plivo sends it: a signed form POST, inbound or (`opts.outbound`) once
/// the callee of a call we placed has answered; `opts.extra` laid over its parameters.
pub(super) fn webhook(auth_id: &str, auth_token: &str, opts: &CallOptions) -> Webhook {
    let digits = |n: &str| n.trim_start_matches('+').to_string();
    let (direction, status) = if opts.outbound { ("outbound", "in-progress") } else { ("inbound", "ringing") };
    let form: Pairs = [
        ("CallUUID", opts.call_sid.clone()),
        ("From", digits(&opts.from)),
        ("To", digits(&opts.to)),
        ("Direction", direction.into()),
        ("CallStatus", status.into()),
        ("Event", "StartApp".into()),
        ("ParentAuthID", auth_id.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let form = overlay(form, &opts.extra);
    let headers = signed_headers(auth_token, &opts.webhook, &form);
    Webhook { get: false, url: opts.webhook.clone(), form, headers }
}

/// The V3 signature headers of a form POST of `form` to `url` (a fresh nonce each time; the
/// account is its own main account, so both signatures use `auth_token`).
pub(crate) fn signed_headers(auth_token: &str, url: &str, form: &[(String, String)]) -> Pairs {
    let nonce = crate::secrets::random_string(b"0123456789", 20);
    let sig = signature::signature(auth_token, &signature::signed_string("POST", url, form), &nonce);
    vec![(signature::HEADER.to_string(), sig.clone()), (signature::HEADER_MAIN.to_string(), sig), (signature::NONCE.to_string(), nonce)]
}

/// The answer's `<Stream>`: its URL (the element's text) and `contentType`.
pub(super) fn read_answer(body: &str) -> Result<Answered, SimError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    let mut content_type = None;
    let mut inside = false;
    let mut url = String::new();
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
            // The URL's text comes in pieces: text, then each entity (`&amp;`) on its own.
            Ok(Event::Text(t)) if inside => {
                let part = t.decode().map_err(|_| SimError::Webhook("the stream URL is not text".into()))?;
                url.push_str(&part);
            }
            Ok(Event::GeneralRef(r)) if inside => {
                let name = r.decode().map_err(|_| SimError::Webhook("the stream URL is not text".into()))?;
                let written = format!("&{name};");
                let entity = quick_xml::escape::unescape(&written).map_err(|_| SimError::Webhook(format!("unknown entity {written}")))?;
                url.push_str(&entity);
            }
            Ok(Event::End(e)) if inside && e.name().as_ref() == b"Stream" => {
                return Ok(Answered { url: url.trim().to_string(), parameters: Default::default(), content_type });
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
