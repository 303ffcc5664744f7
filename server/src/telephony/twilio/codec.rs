//! Twilio's Media Stream as a [`StreamCodec`]: μ-law at 8 kHz both ways (converted by
//! [`crate::telephony::g711`]), `streamSid` on every message we send, and the per-call token
//! of [`super::token`] checked at `start` before the call is known to anyone.

use domain::phone_number::Provider;

use super::media::{self, Inbound, MediaError, Outbound};
use crate::telephony::g711;
use crate::telephony::stream::{StreamCodec, StreamError, StreamEvent, StreamStart, WireIn, WireOut};
use crate::telephony::token::{self, StreamAuth};
use crate::voice::frames::{AgentFrame, CallAudio, CallerEvent, ChunkRules};

/// Twilio takes audio of any length; we send whole 20 ms frames, up to 2 s at once.
pub const CHUNK_RULES: ChunkRules = ChunkRules { multiple: 160, min: 160, max: 16_000 };

/// One Twilio stream.
#[derive(Debug, Clone)]
pub struct TwilioCodec {
    auth: StreamAuth,
    stream_sid: String,
}

impl TwilioCodec {
    pub fn new(auth: StreamAuth) -> Self {
        Self { auth, stream_sid: String::new() }
    }
}

impl From<MediaError> for StreamError {
    fn from(e: MediaError) -> Self {
        StreamError { code: 1007, reason: e.to_string() }
    }
}

impl StreamCodec for TwilioCodec {
    fn provider(&self) -> Provider {
        Provider::Twilio
    }

    fn audio(&self) -> CallAudio {
        CallAudio { rate: media::RATE, chunks: CHUNK_RULES }
    }

    fn decode(&mut self, message: WireIn<'_>) -> Result<StreamEvent, StreamError> {
        let WireIn::Text(text) = message else {
            return Err(StreamError { code: 1003, reason: "binary frames are not part of the protocol".into() });
        };
        Ok(match media::decode(text) {
            Ok(Inbound::Connected) => StreamEvent::Connected,
            Ok(Inbound::Start(mut s)) => {
                let presented = s.custom_parameters.remove(token::PARAMETER);
                self.auth.check(&s.call_sid, presented.as_deref())?;
                if s.encoding.as_deref().is_some_and(|e| e != "audio/x-mulaw") {
                    return Err(StreamError { code: 1003, reason: "only audio/x-mulaw is supported".into() });
                }
                self.stream_sid = s.stream_sid.clone();
                if !s.account_sid.is_empty() {
                    s.custom_parameters.insert("AccountSid".into(), s.account_sid);
                }
                StreamEvent::Start(StreamStart {
                    call_sid: s.call_sid,
                    stream_sid: s.stream_sid,
                    from: None,
                    to: None,
                    parameters: s.custom_parameters,
                    sample_rate: s.sample_rate,
                })
            }
            Ok(Inbound::Media { ulaw, .. }) => StreamEvent::Caller(CallerEvent::Audio(g711::decode(&ulaw))),
            Ok(Inbound::Dtmf { digit }) => StreamEvent::Caller(CallerEvent::Dtmf(digit)),
            Ok(Inbound::Mark { name }) => StreamEvent::Caller(CallerEvent::Played(name)),
            Ok(Inbound::Stop) => StreamEvent::Stop { reason: Some("call ended".into()) },
            Err(MediaError::UnknownEvent(event)) => StreamEvent::Ignored { event },
            Err(e) => return Err(e.into()),
        })
    }

    fn encode(&mut self, frame: &AgentFrame) -> WireOut {
        let message = match frame {
            AgentFrame::Audio(samples) => Outbound::Media { ulaw: g711::encode(samples) },
            AgentFrame::Mark(name) => Outbound::Mark { name: name.clone() },
            AgentFrame::Clear => Outbound::Clear,
        };
        WireOut::Text(media::encode(&self.stream_sid, &message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::twilio::media::Start;

    const NOW: i64 = 1_800_000_000;

    fn codec() -> TwilioCodec {
        TwilioCodec::new(StreamAuth {
            provider: Provider::Twilio,
            secret: "number-secret-0123456789abcdef".into(),
            phone_id: "p1".into(),
            now: NOW,
        })
    }

    fn start(call_sid: &str, token: Option<String>) -> String {
        let mut custom_parameters = std::collections::BTreeMap::from([("agent_id".to_string(), "a1".to_string())]);
        if let Some(t) = token {
            custom_parameters.insert(token::PARAMETER.into(), t);
        }
        let s = Start {
            stream_sid: "MZ1".into(),
            call_sid: call_sid.into(),
            account_sid: "AC1".into(),
            custom_parameters,
            encoding: Some("audio/x-mulaw".into()),
            sample_rate: Some(8000),
            ..Default::default()
        };
        media::encode_inbound("MZ1", 1, &Inbound::Start(s))
    }

    #[test]
    fn start_needs_the_calls_token() {
        let good = token::issue("number-secret-0123456789abcdef", Provider::Twilio, "p1", "CA1", NOW);
        let StreamEvent::Start(s) = codec().decode(WireIn::Text(&start("CA1", Some(good.clone())))).unwrap() else { panic!("start") };
        assert_eq!((s.call_sid.as_str(), s.stream_sid.as_str()), ("CA1", "MZ1"));
        assert_eq!(s.parameters.get("agent_id").map(String::as_str), Some("a1"));
        assert!(!s.parameters.contains_key(token::PARAMETER), "the token is not kept on the call");
        for (call, token) in [("CA1", None), ("CA2", Some(good)), ("CA1", Some("1.00".to_string()))] {
            let e = codec().decode(WireIn::Text(&start(call, token))).unwrap_err();
            assert_eq!(e.code, token::BAD_TOKEN, "{e}");
        }
    }

    #[test]
    fn audio_is_mulaw_both_ways_and_every_message_names_the_stream() {
        let mut c = codec();
        let good = token::issue("number-secret-0123456789abcdef", Provider::Twilio, "p1", "CA1", NOW);
        c.decode(WireIn::Text(&start("CA1", Some(good)))).unwrap();
        let media =
            media::encode_inbound("MZ1", 2, &Inbound::Media { chunk: Some(1), timestamp_ms: Some(20), ulaw: vec![0xFF, 0x80, 0x00] });
        assert_eq!(c.decode(WireIn::Text(&media)).unwrap(), StreamEvent::Caller(CallerEvent::Audio(vec![0, 32124, -32124])));
        let dtmf = media::encode_inbound("MZ1", 3, &Inbound::Dtmf { digit: "7".into() });
        assert_eq!(c.decode(WireIn::Text(&dtmf)).unwrap(), StreamEvent::Caller(CallerEvent::Dtmf("7".into())));
        assert_eq!(c.decode(WireIn::Text(r#"{"event":"party"}"#)).unwrap(), StreamEvent::Ignored { event: "party".into() });
        assert_eq!(c.decode(WireIn::Binary(&[1])).unwrap_err().code, 1003);
        assert_eq!(c.decode(WireIn::Text("{")).unwrap_err().code, 1007);
        let WireOut::Text(out) = c.encode(&AgentFrame::Audio(vec![0, 1000, -1000])) else { panic!("text") };
        assert_eq!(media::decode_outbound(&out).unwrap(), ("MZ1".to_string(), Outbound::Media { ulaw: vec![0xFF, 206, 78] }));
        let WireOut::Text(clear) = c.encode(&AgentFrame::Clear) else { panic!("text") };
        assert_eq!(media::decode_outbound(&clear).unwrap(), ("MZ1".to_string(), Outbound::Clear));
        assert_eq!(c.audio().rate, 8000);
    }
}
