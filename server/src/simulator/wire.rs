//! The provider the simulator plays: how it asks for the answer, and how its stream messages
//! are written and read. The caller's logic speaks one vocabulary (Exotel's frame types, with
//! 16-bit PCM); each provider translates it to its own wire format, from the same pure codecs
//! the server uses (the other direction of each).

use std::collections::BTreeMap;

use super::SimError;
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
}

/// What the webhook's answer told the simulator.
pub(super) struct Answered {
    pub url: String,
    pub parameters: BTreeMap<String, String>,
}

/// Names and values (a form, headers).
type Pairs = Vec<(String, String)>;

/// The webhook request the provider sends: its form and headers.
pub(super) fn webhook_request(p: &Provider, url: &str, call_sid: &str, from: &str, to: &str) -> (Pairs, Pairs) {
    let pairs = |list: &[(&str, &str)]| list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Pairs>();
    match p {
        Provider::Exotel => (
            pairs(&[
                ("CallSid", call_sid),
                ("CallFrom", from),
                ("CallTo", to),
                ("From", from),
                ("To", to),
                ("Direction", "incoming"),
                ("CallType", "call-attempt"),
            ]),
            Vec::new(),
        ),
        Provider::Twilio { account_sid, auth_token } => {
            let form = pairs(&[
                ("CallSid", call_sid),
                ("AccountSid", account_sid),
                ("From", from),
                ("To", to),
                ("Called", to),
                ("Caller", from),
                ("CallStatus", "ringing"),
                ("Direction", "inbound"),
                ("ApiVersion", "2010-04-01"),
            ]);
            let sig = signature::signature(auth_token, url, &form);
            (form, vec![(signature::HEADER.to_string(), sig)])
        }
    }
}

/// Reads the answer: the stream URL and `<Parameter>`s of TwiML/ExoML, or Exotel's JSON `url`.
pub(super) fn read_answer(p: &Provider, body: &str) -> Result<Answered, SimError> {
    let (url, parameters) = super::stream_of(body).ok_or_else(|| SimError::Webhook(format!("no stream URL in the answer: {body}")))?;
    let url = match p {
        Provider::Exotel => url,
        // Twilio drops the query string of a <Stream> URL (TWILIO.md §2).
        Provider::Twilio { .. } => url.split('?').next().unwrap_or_default().to_string(),
    };
    Ok(Answered { url, parameters })
}

/// The stream's rate: Exotel's URL says, Twilio's is 8 kHz μ-law.
pub(super) fn rate(p: &Provider, url: &url::Url) -> u32 {
    match p {
        Provider::Exotel => url.query_pairs().find(|(k, _)| k == "sample-rate").and_then(|(_, v)| v.parse().ok()).unwrap_or(8000),
        Provider::Twilio { .. } => twilio::RATE,
    }
}

/// One of the caller's frames as the provider writes it.
pub(super) fn encode(p: &Provider, stream_sid: &str, seq: u64, frame: Inbound, parameters: &BTreeMap<String, String>) -> String {
    let Provider::Twilio { account_sid, .. } = p else {
        return exotel::encode_inbound(stream_sid, seq, &frame);
    };
    let message = match frame {
        Inbound::Connected => twilio::Inbound::Connected,
        Inbound::Start(s) => twilio::Inbound::Start(twilio::Start {
            stream_sid: s.stream_sid,
            call_sid: s.call_sid,
            account_sid: account_sid.clone(),
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
pub(super) fn decode(p: &Provider, stream_sid: &str, text: &str) -> Option<Outbound> {
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
    }
}

/// Whether an agent payload of `bytes` (16-bit PCM) keeps the provider's size rules: Exotel's
/// multiples of 320 bytes from 3,200 to 100 KB; whole 20 ms frames for Twilio.
pub(super) fn chunk_ok(p: &Provider, bytes: usize) -> bool {
    match p {
        Provider::Exotel => exotel::chunk_size_ok(bytes),
        Provider::Twilio { .. } => bytes > 0 && bytes.is_multiple_of(320),
    }
}
