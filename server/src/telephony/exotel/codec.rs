//! Exotel's Voicebot stream as a [`StreamCodec`]: JSON text frames with base64 16-bit
//! little-endian PCM at the URL's rate (8, 16 or 24 kHz); our chunks are multiples of 320
//! bytes, 3,200 bytes to 100 KB (shared/protocols/EXOTEL.md §2).

use domain::phone_number::Provider;

use super::stream::{self, CodecError, Inbound, Outbound};
use crate::telephony::stream::{StreamCodec, StreamError, StreamEvent, StreamStart, WireIn, WireOut};
use crate::voice::audio;
use crate::voice::frames::{AgentFrame, CallAudio, CallerEvent, ChunkRules};

/// Exotel's size rules for our media payloads, in 16-bit samples.
pub const CHUNK_RULES: ChunkRules =
    ChunkRules { multiple: stream::FRAME_MULTIPLE / 2, min: stream::MIN_CHUNK / 2, max: stream::MAX_CHUNK / 2 };

/// One Exotel stream: its rate (from the URL) and, once `start` came, its stream id.
#[derive(Debug, Clone)]
pub struct ExotelCodec {
    rate: u32,
    stream_sid: String,
}

impl ExotelCodec {
    /// A codec for a stream at `rate` (one of [`stream::RATES`]).
    pub fn new(rate: u32) -> Self {
        Self { rate, stream_sid: String::new() }
    }
}

impl From<CodecError> for StreamError {
    fn from(e: CodecError) -> Self {
        StreamError { code: e.close_code(), reason: e.to_string() }
    }
}

impl StreamCodec for ExotelCodec {
    fn provider(&self) -> Provider {
        Provider::Exotel
    }

    fn audio(&self) -> CallAudio {
        CallAudio { rate: self.rate, chunks: CHUNK_RULES }
    }

    fn decode(&mut self, message: WireIn<'_>) -> Result<StreamEvent, StreamError> {
        let WireIn::Text(text) = message else {
            return Err(StreamError { code: 1003, reason: "binary frames are not part of the protocol".into() });
        };
        Ok(match stream::decode(text) {
            Ok(Inbound::Connected) => StreamEvent::Connected,
            Ok(Inbound::Start(s)) => {
                self.stream_sid = s.stream_sid.clone();
                StreamEvent::Start(StreamStart {
                    call_sid: s.call_sid,
                    stream_sid: s.stream_sid,
                    from: s.from,
                    to: s.to,
                    parameters: s.custom_parameters,
                    sample_rate: s.sample_rate,
                })
            }
            Ok(Inbound::Media { pcm, .. }) => StreamEvent::Caller(CallerEvent::Audio(audio::bytes_to_i16(&pcm))),
            Ok(Inbound::Dtmf { digit, .. }) => StreamEvent::Caller(CallerEvent::Dtmf(digit)),
            Ok(Inbound::Mark { name }) => StreamEvent::Caller(CallerEvent::Played(name)),
            Ok(Inbound::Stop { reason }) => StreamEvent::Stop { reason },
            // An event this version does not know (Exotel may add some) is not an error.
            Err(CodecError::UnknownEvent(event)) => StreamEvent::Ignored { event },
            Err(e) => return Err(e.into()),
        })
    }

    fn encode(&mut self, frame: &AgentFrame) -> WireOut {
        let frame = match frame {
            AgentFrame::Audio(samples) => Outbound::Media { pcm: audio::i16_to_bytes(samples) },
            AgentFrame::Mark(name) => Outbound::Mark { name: name.clone() },
            AgentFrame::Clear => Outbound::Clear,
        };
        WireOut::Text(stream::encode(&self.stream_sid, &frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chunk_rules_are_exotels_byte_rules_in_samples() {
        for bytes in [3200, 3520, 100 * 1024] {
            assert!(stream::chunk_size_ok(bytes) && CHUNK_RULES.allows(bytes / 2), "{bytes}");
        }
        for bytes in [2880, 3360, 100 * 1024 + 320] {
            assert!(!stream::chunk_size_ok(bytes) && !CHUNK_RULES.allows(bytes / 2), "{bytes}");
        }
    }

    #[test]
    fn frames_become_pipeline_events_and_back() {
        let mut codec = ExotelCodec::new(16000);
        assert_eq!(codec.audio().rate, 16000);
        let start = r#"{"event":"start","start":{"stream_sid":"MZ1","call_sid":"CA1","from":"+1","custom_parameters":{"a":"b"}}}"#;
        let StreamEvent::Start(s) = codec.decode(WireIn::Text(start)).unwrap() else { panic!("start") };
        assert_eq!((s.call_sid.as_str(), s.stream_sid.as_str(), s.parameters["a"].as_str()), ("CA1", "MZ1", "b"));
        let media = r#"{"event":"media","media":{"payload":"AQACAA=="}}"#;
        assert_eq!(codec.decode(WireIn::Text(media)).unwrap(), StreamEvent::Caller(CallerEvent::Audio(vec![1, 2])));
        let mark = r#"{"event":"mark","mark":{"name":"utterance-2"}}"#;
        assert_eq!(codec.decode(WireIn::Text(mark)).unwrap(), StreamEvent::Caller(CallerEvent::Played("utterance-2".into())));
        assert_eq!(codec.decode(WireIn::Text(r#"{"event":"party"}"#)).unwrap(), StreamEvent::Ignored { event: "party".into() });
        assert_eq!(codec.decode(WireIn::Binary(&[0, 1])).unwrap_err().code, 1003);
        assert_eq!(codec.decode(WireIn::Text("{")).unwrap_err().code, 1007);
        // Our frames carry the stream id that `start` gave, and Exotel's side reads them back.
        let WireOut::Text(out) = codec.encode(&AgentFrame::Audio(vec![1, -1])) else { panic!("text") };
        assert!(out.contains(r#""stream_sid":"MZ1""#), "{out}");
        assert_eq!(stream::decode_outbound(&out).unwrap(), Outbound::Media { pcm: vec![1, 0, 255, 255] });
        let WireOut::Text(clear) = codec.encode(&AgentFrame::Clear) else { panic!("text") };
        assert_eq!(stream::decode_outbound(&clear).unwrap(), Outbound::Clear);
    }
}
