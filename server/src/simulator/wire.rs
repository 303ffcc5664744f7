//! The provider the simulator plays: how it asks for the answer, and how its stream messages
//! are written and read. The caller's logic speaks one vocabulary (Exotel's frame types, with
//! 16-bit PCM); each provider translates it to its own wire format, from the same pure codecs
//! the server uses (the other direction of each). Vonage and Plivo live in their own files.

use std::collections::BTreeMap;

use tokio_tungstenite::tungstenite::Message;

use super::{CallOptions, SimError, plivo, vonage};
use crate::telephony::exotel::stream::{self as exotel, Inbound, Outbound};
use crate::telephony::g711;
use crate::telephony::twilio::{media as twilio, signature};
use crate::voice::audio::{bytes_to_i16, i16_to_bytes};

/// Whose side the simulator plays.
#[derive(Debug, Clone, Default)]
pub enum Provider {
    /// Exotel: an unsigned webhook (the number's URL carries its key), the Voicebot stream.
    #[default]
    Exotel,
    /// Twilio: a signed webhook, TwiML, a μ-law Media Stream with the answer's parameters.
    Twilio { account_sid: String, auth_token: String },
    /// Vonage: a JWT-signed GET webhook, an NCCO, binary 16-bit audio on the WebSocket.
    Vonage { api_key: String, signature_secret: String, application_id: String },
    /// Plivo: a V3-signed form POST, Plivo XML, the Audio Stream in the number's format.
    Plivo { auth_id: String, auth_token: String },
}

/// What the webhook's answer told the simulator.
#[derive(Debug, Clone, Default)]
pub(super) struct Answered {
    pub url: String,
    /// Twilio's `<Parameter>`s; Vonage's endpoint headers.
    pub parameters: BTreeMap<String, String>,
    /// The stream's audio as the answer set it (Vonage, Plivo).
    pub content_type: Option<String>,
}

/// Names and values (a form, headers).
pub(super) type Pairs = Vec<(String, String)>;

/// The webhook request the provider sends.
pub(super) struct Webhook {
    /// GET (the call in the query) rather than a form POST.
    pub get: bool,
    pub url: String,
    pub form: Pairs,
    pub headers: Pairs,
}

/// The webhook request the provider sends for a call: inbound, or (`opts.outbound`) once the
/// callee of a call we placed has answered; `opts.extra` laid over its parameters.
pub(super) fn webhook_request(opts: &CallOptions) -> Webhook {
    let (url, call_sid, from, to, extra) =
        (opts.webhook.as_str(), opts.call_sid.as_str(), opts.from.as_str(), opts.to.as_str(), &opts.extra);
    let pairs = |list: &[(&str, &str)]| overlay(list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), extra);
    let post = |(form, headers): (Pairs, Pairs)| Webhook { get: false, url: url.to_string(), form, headers };
    match &opts.provider {
        Provider::Vonage { api_key, signature_secret, application_id } => {
            let app = vonage::App { api_key, secret: signature_secret, application_id };
            vonage::webhook(&app, url, call_sid, from, to, extra)
        }
        Provider::Plivo { auth_id, auth_token } => plivo::webhook(auth_id, auth_token, opts),
        Provider::Exotel => {
            let direction = if opts.outbound { "outbound-api" } else { "incoming" };
            post((
                pairs(&[
                    ("CallSid", call_sid),
                    ("CallFrom", from),
                    ("CallTo", to),
                    ("From", from),
                    ("To", to),
                    ("Direction", direction),
                    ("CallType", "call-attempt"),
                ]),
                Vec::new(),
            ))
        }
        Provider::Twilio { account_sid, auth_token } => {
            let (status, direction) = if opts.outbound { ("in-progress", "outbound-api") } else { ("ringing", "inbound") };
            let form = pairs(&[
                ("CallSid", call_sid),
                ("AccountSid", account_sid),
                ("From", from),
                ("To", to),
                ("Called", to),
                ("Caller", from),
                ("CallStatus", status),
                ("Direction", direction),
                ("ApiVersion", "2010-04-01"),
            ]);
            let sig = signature::signature(auth_token, url, &form);
            post((form, vec![(signature::HEADER.to_string(), sig)]))
        }
    }
}

/// `pairs` with `extra` laid over: a name in `extra` replaces every value of that name.
pub(super) fn overlay(mut pairs: Pairs, extra: &[(String, String)]) -> Pairs {
    pairs.retain(|(name, _)| !extra.iter().any(|(k, _)| k == name));
    pairs.extend(extra.iter().cloned());
    pairs
}

/// Reads the answer: the stream URL and `<Parameter>`s of TwiML/ExoML, or Exotel's JSON `url`.
pub(super) fn read_answer(p: &Provider, body: &str) -> Result<Answered, SimError> {
    match p {
        Provider::Vonage { .. } => return vonage::read_answer(body),
        Provider::Plivo { .. } => return plivo::read_answer(body),
        _ => {}
    }
    let (url, parameters) = super::stream_of(body).ok_or_else(|| SimError::Webhook(format!("no stream URL in the answer: {body}")))?;
    let url = match p {
        Provider::Exotel => url,
        // Twilio drops the query string of a <Stream> URL (TWILIO.md §2).
        _ => url.split('?').next().unwrap_or_default().to_string(),
    };
    Ok(Answered { url, parameters, content_type: None })
}

/// The stream's rate: Exotel's URL says, Twilio's is 8 kHz μ-law, Vonage's and Plivo's
/// answers say.
pub(super) fn rate(p: &Provider, url: &url::Url, answered: &Answered) -> u32 {
    let content_type = answered.content_type.as_deref();
    match p {
        Provider::Exotel => url.query_pairs().find(|(k, _)| k == "sample-rate").and_then(|(_, v)| v.parse().ok()).unwrap_or(8000),
        Provider::Twilio { .. } => twilio::RATE,
        Provider::Vonage { .. } => content_type.and_then(crate::telephony::vonage::media::rate_of).unwrap_or(16_000),
        Provider::Plivo { .. } => plivo::format(content_type).rate(),
    }
}

/// One of the caller's frames as the provider writes it (`None`: this provider sends nothing
/// for it).
pub(super) fn encode(p: &Provider, stream: &Answered, stream_sid: &str, seq: u64, frame: Inbound) -> Option<Message> {
    let text = match p {
        Provider::Exotel => exotel::encode_inbound(stream_sid, seq, &frame),
        Provider::Twilio { account_sid, .. } => twilio_inbound(account_sid, &stream.parameters, stream_sid, seq, frame),
        Provider::Vonage { .. } => return vonage::encode(stream.content_type.as_deref(), frame, &stream.parameters),
        Provider::Plivo { auth_id, .. } => {
            return plivo::encode(plivo::format(stream.content_type.as_deref()), auth_id, stream_sid, seq, frame);
        }
    };
    Some(Message::Text(text.into()))
}

fn twilio_inbound(account_sid: &str, parameters: &BTreeMap<String, String>, stream_sid: &str, seq: u64, frame: Inbound) -> String {
    let message = match frame {
        Inbound::Connected => twilio::Inbound::Connected,
        Inbound::Start(s) => twilio::Inbound::Start(twilio::Start {
            stream_sid: s.stream_sid,
            call_sid: s.call_sid,
            account_sid: account_sid.to_string(),
            tracks: vec!["inbound".into()],
            custom_parameters: parameters.clone(),
            encoding: Some("audio/x-mulaw".into()),
            sample_rate: Some(twilio::RATE),
            channels: Some(1),
        }),
        Inbound::Media { chunk, timestamp_ms, pcm } => {
            twilio::Inbound::Media { chunk, timestamp_ms, ulaw: g711::encode(&bytes_to_i16(&pcm)) }
        }
        Inbound::Dtmf { digit, .. } => twilio::Inbound::Dtmf { digit },
        Inbound::Mark { name } => twilio::Inbound::Mark { name },
        Inbound::Stop { .. } => twilio::Inbound::Stop,
    };
    twilio::encode_inbound(stream_sid, seq, &message)
}

/// One of the server's messages, read as the provider reads it; `None` when it breaks the
/// provider's protocol (Twilio: a message without our stream's `streamSid`).
pub(super) fn decode(p: &Provider, stream: &Answered, stream_sid: &str, message: &Message) -> Option<Outbound> {
    match p {
        Provider::Vonage { .. } => return vonage::decode(message),
        Provider::Plivo { .. } => return plivo::decode(plivo::format(stream.content_type.as_deref()), stream_sid, message),
        _ => {}
    }
    let Message::Text(text) = message else { return None };
    let text = text.as_str();
    match p {
        Provider::Exotel => exotel::decode_outbound(text).ok(),
        Provider::Twilio { .. } => {
            let (sid, message) = twilio::decode_outbound(text).ok()?;
            if sid != stream_sid {
                return None;
            }
            Some(match message {
                twilio::Outbound::Media { ulaw } => Outbound::Media { pcm: i16_to_bytes(&g711::decode(&ulaw)) },
                twilio::Outbound::Mark { name } => Outbound::Mark { name },
                twilio::Outbound::Clear => Outbound::Clear,
            })
        }
        Provider::Vonage { .. } | Provider::Plivo { .. } => None,
    }
}

/// Whether an agent payload of `bytes` (16-bit PCM at `rate`) keeps the provider's size rules:
/// Exotel's multiples of 320 bytes from 3,200 to 100 KB; whole 20 ms frames for Twilio and
/// Plivo; exactly one 20 ms frame per message for Vonage.
pub(super) fn chunk_ok(p: &Provider, rate: u32, bytes: usize) -> bool {
    let frame = rate as usize / 50 * 2;
    match p {
        Provider::Exotel => exotel::chunk_size_ok(bytes),
        Provider::Twilio { .. } | Provider::Plivo { .. } => bytes > 0 && bytes.is_multiple_of(frame),
        Provider::Vonage { .. } => bytes == frame,
    }
}
