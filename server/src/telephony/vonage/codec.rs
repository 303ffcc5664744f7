//! Vonage's WebSocket as a [`StreamCodec`]: raw 16-bit PCM at the NCCO's rate both ways, in
//! exactly one 20 ms frame per message (Vonage drops the call on any other size): the pipeline's
//! chunks (whole frames, 100 ms as it paces them) go out as that many frame messages. The stream
//! names its call only in `websocket:connected`, through the NCCO's headers: `call_uuid`, and
//! the per-call token of [`crate::telephony::token`] under [`token::PARAMETER`], checked before
//! the call is known to anyone. Vonage sends no stop: the socket's close ends the call.

use domain::phone_number::Provider;

use super::media::{self, Inbound, MediaError, Outbound};
use crate::telephony::stream::{StreamCodec, StreamError, StreamEvent, StreamStart, WireIn, WireOut};
use crate::telephony::token::{self, StreamAuth};
use crate::voice::frames::{AgentFrame, CallAudio, CallerEvent, ChunkRules};

/// The NCCO header that names the call (the PSTN leg's `uuid` from the answer webhook).
pub const CALL_HEADER: &str = "call_uuid";

/// Samples in one 20 ms frame at `rate` (320 at 16 kHz: 640 bytes), the size of every message.
pub fn frame_samples(rate: u32) -> usize {
    (rate / 50).max(1) as usize
}

/// The pipeline's chunks: whole 20 ms frames, at most 2 s (each frame its own message).
pub fn chunk_rules(rate: u32) -> ChunkRules {
    let frame = frame_samples(rate);
    ChunkRules { multiple: frame, min: frame, max: frame * 100 }
}

/// One Vonage stream at the rate its NCCO asked for.
#[derive(Debug, Clone)]
pub struct VonageCodec {
    auth: StreamAuth,
    rate: u32,
    started: bool,
}

impl VonageCodec {
    /// A codec for a stream whose NCCO asked for `rate` (8000 or 16000), authenticated by `auth`.
    pub fn new(auth: StreamAuth, rate: u32) -> Self {
        Self { auth, rate, started: false }
    }

    /// `websocket:connected`: the token for the named call, then the rate; the call starts.
    fn start(&mut self, connected: media::Connected) -> Result<StreamEvent, StreamError> {
        let mut headers = connected.headers;
        let presented = headers.remove(token::PARAMETER);
        let call = headers
            .get(CALL_HEADER)
            .cloned()
            .ok_or(StreamError { code: token::BAD_TOKEN, reason: "the stream does not name its call (no call_uuid header)".into() })?;
        self.auth.check(&call, presented.as_deref())?;
        let rate = connected.content_type.as_deref().and_then(media::rate_of);
        if rate != Some(self.rate) {
            let said = connected.content_type.unwrap_or_else(|| "no content-type".into());
            let said: String = said.chars().take(40).collect();
            return Err(StreamError {
                code: 1003,
                reason: format!("the stream is {said:?}; the answer asked for audio/l16;rate={}", self.rate),
            });
        }
        self.started = true;
        Ok(StreamEvent::Start(StreamStart {
            call_sid: call,
            stream_sid: String::new(),
            from: headers.get("from").cloned(),
            to: headers.get("to").cloned(),
            parameters: headers,
            sample_rate: Some(self.rate),
        }))
    }
}

impl From<MediaError> for StreamError {
    fn from(e: MediaError) -> Self {
        StreamError { code: e.close_code(), reason: e.to_string() }
    }
}

impl StreamCodec for VonageCodec {
    fn provider(&self) -> Provider {
        Provider::Vonage
    }

    fn audio(&self) -> CallAudio {
        CallAudio { rate: self.rate, chunks: chunk_rules(self.rate) }
    }

    fn decode(&mut self, message: WireIn<'_>) -> Result<StreamEvent, StreamError> {
        // Audio may come before `websocket:connected`; it belongs to no known call yet.
        if matches!(message, WireIn::Binary(_)) && !self.started {
            return Ok(StreamEvent::Ignored { event: "early audio".into() });
        }
        Ok(match media::decode(message) {
            Ok(Inbound::Connected(_)) if self.started => StreamEvent::Ignored { event: "websocket:connected".into() },
            Ok(Inbound::Connected(c)) => self.start(c)?,
            Ok(Inbound::Audio(samples)) => StreamEvent::Caller(CallerEvent::Audio(samples)),
            Ok(Inbound::Dtmf { digit, .. }) => StreamEvent::Caller(CallerEvent::Dtmf(digit)),
            Ok(Inbound::Notify { name }) => StreamEvent::Caller(CallerEvent::Played(name)),
            Ok(Inbound::Cleared) => StreamEvent::Ignored { event: "websocket:cleared".into() },
            // An event this version does not know (Vonage adds some) is not an error.
            Err(MediaError::UnknownEvent(event)) => StreamEvent::Ignored { event },
            Err(e) => return Err(e.into()),
        })
    }

    fn encode(&mut self, frame: &AgentFrame) -> WireOut {
        media::encode(&match frame {
            AgentFrame::Audio(samples) if samples.len() > frame_samples(self.rate) => {
                return WireOut::Frames(samples.chunks(frame_samples(self.rate)).map(crate::voice::audio::i16_to_bytes).collect());
            }
            AgentFrame::Audio(samples) => Outbound::Audio(samples.clone()),
            AgentFrame::Mark(name) => Outbound::Notify { name: name.clone() },
            AgentFrame::Clear => Outbound::Clear,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::telephony::vonage::media::Connected;

    const NOW: i64 = 1_800_000_000;
    const SECRET: &str = "number-secret-0123456789abcdef";
    const CALL: &str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";

    fn codec(rate: u32) -> VonageCodec {
        VonageCodec::new(StreamAuth { provider: Provider::Vonage, secret: SECRET.into(), phone_id: "p1".into(), now: NOW }, rate)
    }

    fn good_token(call: &str) -> String {
        token::issue(SECRET, Provider::Vonage, "p1", call, NOW)
    }

    fn connected(rate: u32, call: Option<&str>, token: Option<String>) -> String {
        let mut headers = BTreeMap::from([
            ("agent_id".to_string(), "a1".to_string()),
            ("from".into(), "447700900000".into()),
            ("to".into(), "447700900001".into()),
        ]);
        if let Some(c) = call {
            headers.insert(CALL_HEADER.into(), c.into());
        }
        if let Some(t) = token {
            headers.insert(token::PARAMETER.into(), t);
        }
        let WireOut::Text(t) =
            media::encode_inbound(&Inbound::Connected(Connected { content_type: Some(format!("audio/l16;rate={rate}")), headers }))
        else {
            panic!("text")
        };
        t
    }

    fn started(rate: u32) -> VonageCodec {
        let mut c = codec(rate);
        let StreamEvent::Start(_) = c.decode(WireIn::Text(&connected(rate, Some(CALL), Some(good_token(CALL))))).unwrap() else {
            panic!("start")
        };
        c
    }

    #[test]
    fn connected_needs_the_calls_token() {
        let StreamEvent::Start(s) = codec(16000).decode(WireIn::Text(&connected(16000, Some(CALL), Some(good_token(CALL))))).unwrap()
        else {
            panic!("start")
        };
        assert_eq!((s.call_sid.as_str(), s.stream_sid.as_str(), s.sample_rate), (CALL, "", Some(16000)));
        assert_eq!((s.from.as_deref(), s.to.as_deref()), (Some("447700900000"), Some("447700900001")));
        assert_eq!(s.parameters.get("agent_id").map(String::as_str), Some("a1"));
        assert!(!s.parameters.contains_key(token::PARAMETER), "the token is not kept on the call");
        let expired = token::issue(SECRET, Provider::Vonage, "p1", CALL, NOW - token::LIFETIME_SECS - 1);
        let twilios = token::issue(SECRET, Provider::Twilio, "p1", CALL, NOW);
        for (call, token) in [
            (CALL, None),
            ("bbbbbbbb-bbbb-cccc-dddd-0123456789ab", Some(good_token(CALL))),
            (CALL, Some(expired)),
            (CALL, Some(twilios)),
            (CALL, Some("1.00".into())),
        ] {
            let e = codec(16000).decode(WireIn::Text(&connected(16000, Some(call), token))).unwrap_err();
            assert_eq!(e.code, token::BAD_TOKEN, "{e}");
        }
        let e = codec(16000).decode(WireIn::Text(&connected(16000, None, Some(good_token(CALL))))).unwrap_err();
        assert_eq!(e.code, token::BAD_TOKEN, "no call_uuid: {e}");
    }

    #[test]
    fn a_stream_at_another_rate_is_refused() {
        let e = codec(16000).decode(WireIn::Text(&connected(8000, Some(CALL), Some(good_token(CALL))))).unwrap_err();
        assert_eq!(e.code, 1003);
        assert!(e.reason.contains("rate=8000") && e.reason.contains("rate=16000"), "{}", e.reason);
        let no_type = format!(r#"{{"event":"websocket:connected","call_uuid":"{CALL}","voxgate_token":"{}"}}"#, good_token(CALL));
        assert_eq!(codec(16000).decode(WireIn::Text(&no_type)).unwrap_err().code, 1003);
        assert!(matches!(
            codec(8000).decode(WireIn::Text(&connected(8000, Some(CALL), Some(good_token(CALL))))),
            Ok(StreamEvent::Start(_))
        ));
    }

    #[test]
    fn audio_before_connected_is_tolerated_and_a_second_connected_ignored() {
        let mut c = codec(16000);
        assert_eq!(c.decode(WireIn::Binary(&[0; 641])).unwrap(), StreamEvent::Ignored { event: "early audio".into() });
        c.decode(WireIn::Text(&connected(16000, Some(CALL), Some(good_token(CALL))))).unwrap();
        // Once started, even a connected without a token changes nothing.
        assert_eq!(
            c.decode(WireIn::Text(&connected(16000, Some("other"), None))).unwrap(),
            StreamEvent::Ignored { event: "websocket:connected".into() }
        );
        assert_eq!(c.decode(WireIn::Binary(&[0x01, 0x00, 0xFF, 0xFF])).unwrap(), StreamEvent::Caller(CallerEvent::Audio(vec![1, -1])));
        assert_eq!(c.decode(WireIn::Binary(&[1, 2, 3])).unwrap_err().code, 1007);
    }

    #[test]
    fn dtmf_notify_and_unknown_events_are_read_malformed_json_is_not() {
        let mut c = started(16000);
        let dtmf = r#"{"event":"websocket:dtmf","digit":"7","duration":260}"#;
        assert_eq!(c.decode(WireIn::Text(dtmf)).unwrap(), StreamEvent::Caller(CallerEvent::Dtmf("7".into())));
        let notify = r#"{"event":"websocket:notify","payload":{"name":"utt-3"}}"#;
        assert_eq!(c.decode(WireIn::Text(notify)).unwrap(), StreamEvent::Caller(CallerEvent::Played("utt-3".into())));
        assert_eq!(
            c.decode(WireIn::Text(r#"{"event":"websocket:cleared"}"#)).unwrap(),
            StreamEvent::Ignored { event: "websocket:cleared".into() }
        );
        assert_eq!(
            c.decode(WireIn::Text(r#"{"event":"websocket:party"}"#)).unwrap(),
            StreamEvent::Ignored { event: "websocket:party".into() }
        );
        assert_eq!(c.decode(WireIn::Text("{")).unwrap_err().code, 1007);
        assert_eq!(c.decode(WireIn::Text(r#"{"event":"websocket:dtmf","digit":"x"}"#)).unwrap_err().code, 1007);
        assert_eq!(codec(16000).decode(WireIn::Text("not json")).unwrap_err().code, 1007);
    }

    #[test]
    fn frames_go_out_as_binary_pcm_and_json_actions() {
        let mut c = started(16000);
        assert_eq!(c.encode(&AgentFrame::Audio(vec![1, -1])), WireOut::Binary(vec![0x01, 0x00, 0xFF, 0xFF]));
        let mark = c.encode(&AgentFrame::Mark("utt-3".into()));
        let WireOut::Text(m) = &mark else { panic!("text") };
        assert_eq!(media::decode_outbound(WireIn::Text(m)).unwrap(), Outbound::Notify { name: "utt-3".into() });
        let WireOut::Text(clear) = c.encode(&AgentFrame::Clear) else { panic!("text") };
        assert_eq!(clear, r#"{"action":"clear"}"#);
        assert_eq!(c.provider(), Provider::Vonage);
    }

    #[test]
    fn every_audio_message_is_exactly_one_20_ms_frame() {
        for (rate, bytes) in [(16000, 640), (8000, 320)] {
            let mut c = started(rate);
            let audio = c.audio();
            assert_eq!(audio.rate, rate);
            let rules = audio.chunks;
            // The pipeline's chunks are whole frames (its 100 ms, padded utterance ends)...
            assert_eq!(rules.fit(rate as usize / 10), rate as usize / 10);
            assert_eq!(rules.pad(1), bytes / 2);
            assert!(rules.allows(bytes / 2) && !rules.allows(bytes / 2 - 1) && rules.allows(bytes) && !rules.allows(bytes + 1));
            // ...and each goes out as that many messages of exactly one frame.
            let samples: Vec<i16> = (0..rate as i16 / 10).collect();
            let WireOut::Frames(frames) = c.encode(&AgentFrame::Audio(samples.clone())) else { panic!("frames") };
            assert_eq!(frames.len(), 5, "{rate} Hz");
            assert!(frames.iter().all(|f| f.len() == bytes), "{rate} Hz");
            assert_eq!(frames.concat(), crate::voice::audio::i16_to_bytes(&samples), "in order");
            let WireOut::Binary(one) = c.encode(&AgentFrame::Audio(vec![0; bytes / 2])) else { panic!("binary") };
            assert_eq!(one.len(), bytes);
        }
        assert_eq!(chunk_rules(24000).min, 480);
    }
}
