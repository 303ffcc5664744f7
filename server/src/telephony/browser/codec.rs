//! The browser test call's wire format: binary messages of 16-bit little-endian mono PCM at
//! [`BROWSER_RATE`] both ways, and JSON text messages ([`BrowserMessage`]) for marks, `clear`
//! and the hang-up. Pure: no I/O. Implements the same [`StreamCodec`] seam as the providers.

use domain::phone_number::Provider;
use domain::test_call::{BROWSER_RATE, BrowserMessage};

use crate::telephony::peer::MALFORMED;
use crate::telephony::stream::{StreamCodec, StreamError, StreamEvent, WireIn, WireOut};
use crate::voice::frames::{AgentFrame, CallAudio, CallerEvent, ChunkRules};

/// The agent's audio chunks: whole 20 ms frames, 100 ms to 1 s each.
pub const CHUNKS: ChunkRules = ChunkRules { multiple: 320, min: 1600, max: 16_000 };

/// A browser's side of one test call.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserCodec;

fn malformed(reason: &str) -> StreamError {
    StreamError { code: MALFORMED, reason: reason.into() }
}

impl StreamCodec for BrowserCodec {
    /// A test call has no provider; it is stored as `other`, with direction `test`.
    fn provider(&self) -> Provider {
        Provider::Other
    }

    fn audio(&self) -> CallAudio {
        CallAudio { rate: BROWSER_RATE, chunks: CHUNKS }
    }

    fn decode(&mut self, message: WireIn<'_>) -> Result<StreamEvent, StreamError> {
        match message {
            WireIn::Binary(bytes) => {
                if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
                    return Err(malformed("audio must be 16-bit PCM: an even, non-zero number of bytes"));
                }
                let samples = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
                Ok(StreamEvent::Caller(CallerEvent::Audio(samples)))
            }
            WireIn::Text(text) => match serde_json::from_str::<BrowserMessage>(text) {
                Ok(BrowserMessage::Mark { name }) if name.len() <= 64 => Ok(StreamEvent::Caller(CallerEvent::Played(name))),
                Ok(BrowserMessage::Stop) => Ok(StreamEvent::Stop { reason: Some("caller hung up".into()) }),
                Ok(_) => Err(malformed("only mark and stop messages are taken")),
                Err(_) => Err(malformed("not a test-call message")),
            },
        }
    }

    fn encode(&mut self, frame: &AgentFrame) -> WireOut {
        let text = |m: BrowserMessage| WireOut::Text(serde_json::to_string(&m).unwrap_or_default());
        match frame {
            AgentFrame::Audio(samples) => WireOut::Binary(samples.iter().flat_map(|s| s.to_le_bytes()).collect()),
            AgentFrame::Mark(name) => text(BrowserMessage::Mark { name: name.clone() }),
            AgentFrame::Clear => text(BrowserMessage::Clear),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_and_marks_round_trip_and_bad_messages_are_refused() {
        let mut c = BrowserCodec;
        let WireOut::Binary(bytes) = c.encode(&AgentFrame::Audio(vec![1, -2, i16::MAX])) else { panic!("binary") };
        assert_eq!(c.decode(WireIn::Binary(&bytes)), Ok(StreamEvent::Caller(CallerEvent::Audio(vec![1, -2, i16::MAX]))));
        let WireOut::Text(mark) = c.encode(&AgentFrame::Mark("m7".into())) else { panic!("text") };
        assert_eq!(mark, r#"{"event":"mark","name":"m7"}"#);
        assert_eq!(c.decode(WireIn::Text(&mark)), Ok(StreamEvent::Caller(CallerEvent::Played("m7".into()))));
        assert_eq!(c.encode(&AgentFrame::Clear), WireOut::Text(r#"{"event":"clear"}"#.into()));
        assert!(matches!(c.decode(WireIn::Text(r#"{"event":"stop"}"#)), Ok(StreamEvent::Stop { .. })));
        for bad in [&[1u8, 2, 3][..], &[]] {
            assert_eq!(c.decode(WireIn::Binary(bad)).unwrap_err().code, 1007);
        }
        for bad in ["hello", r#"{"event":"clear"}"#, r#"{"event":"started","callId":"x"}"#, r#"{"event":"mark"}"#] {
            assert_eq!(c.decode(WireIn::Text(bad)).unwrap_err().code, 1007, "{bad}");
        }
        let long = format!(r#"{{"event":"mark","name":"{}"}}"#, "x".repeat(65));
        assert!(c.decode(WireIn::Text(&long)).is_err());
    }
}
