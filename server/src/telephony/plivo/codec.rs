//! Plivo's Audio Stream as a [`StreamCodec`]: the answer's format both ways (μ-law at 8 kHz
//! through [`crate::telephony::g711`], or 16-bit little-endian PCM at 8 or 16 kHz), the
//! `streamId` of `start` on our `checkpoint` and `clearAudio`, and at `start`, before the call
//! is known to anyone, the per-call token of [`crate::telephony::token`] (from the stream URL's
//! query), the account the number belongs to and the format the answer asked for.
//!
//! Messages before `start` are read like any other: the session acts on no caller event until
//! `start` has recorded the call (and closes a stream with no `start` within its limit), as
//! for Twilio. Our frames are only written after `start`, once `streamId` is known.

use domain::phone_number::Provider;

use super::media::{self, AudioFormat, Inbound, MediaError, Outbound};
use crate::telephony::peer::POLICY;
use crate::telephony::stream::{StreamCodec, StreamError, StreamEvent, StreamStart, WireIn, WireOut};
use crate::telephony::token::{self, StreamAuth};
use crate::voice::frames::{AgentFrame, CallAudio, CallerEvent, ChunkRules};

/// Plivo takes audio of any length; we send whole 20 ms frames, up to 2 s at once (PLIVO.md
/// §3.2: Plivo's own code sends 20 ms, and a short queue keeps `clearAudio` effective).
pub fn chunk_rules(format: AudioFormat) -> ChunkRules {
    let frame = (format.rate() / 50) as usize;
    ChunkRules { multiple: frame, min: frame, max: format.rate() as usize * 2 }
}

/// One Plivo stream.
#[derive(Debug, Clone)]
pub struct PlivoCodec {
    auth: StreamAuth,
    presented: Option<String>,
    format: AudioFormat,
    account: Option<String>,
    stream_id: String,
}

impl PlivoCodec {
    /// A codec for a stream whose URL presented the token `presented`, in the answer's
    /// `format`, for a number whose Plivo auth id is `account` (when known).
    pub fn new(auth: StreamAuth, presented: Option<String>, format: AudioFormat, account: Option<String>) -> Self {
        Self { auth, presented, format, account, stream_id: String::new() }
    }

    /// Refuses a `start` that is not for this number's call, account and format.
    fn admit(&self, s: &media::Start) -> Result<(), StreamError> {
        self.auth.check(&s.call_id, self.presented.as_deref())?;
        if let Some(ours) = self.account.as_deref().filter(|a| !a.is_empty())
            && !s.account_id.is_empty()
            && s.account_id != ours
        {
            return Err(StreamError { code: POLICY, reason: "the stream is on another Plivo account".into() });
        }
        let encoding_differs = s.encoding.as_deref().is_some_and(|e| !e.trim().eq_ignore_ascii_case(self.format.encoding()));
        let rate_differs = s.sample_rate.is_some_and(|r| r != self.format.rate());
        if encoding_differs || rate_differs {
            let sent =
                format!("{} at {} Hz", s.encoding.as_deref().unwrap_or("?"), s.sample_rate.map_or("?".to_string(), |r| r.to_string()));
            let reason = format!("the stream sends {sent}; the answer asked for {}", self.format.content_type());
            return Err(StreamError { code: 1003, reason: reason.chars().take(120).collect() });
        }
        Ok(())
    }
}

impl From<MediaError> for StreamError {
    fn from(e: MediaError) -> Self {
        let code = if e == MediaError::TooLarge { 1009 } else { 1007 };
        StreamError { code, reason: e.to_string() }
    }
}

impl StreamCodec for PlivoCodec {
    fn provider(&self) -> Provider {
        Provider::Plivo
    }

    fn audio(&self) -> CallAudio {
        CallAudio { rate: self.format.rate(), chunks: chunk_rules(self.format) }
    }

    fn decode(&mut self, message: WireIn<'_>) -> Result<StreamEvent, StreamError> {
        let WireIn::Text(text) = message else {
            return Err(StreamError { code: 1003, reason: "binary frames are not part of the protocol".into() });
        };
        Ok(match media::decode(text) {
            Ok(Inbound::Start(s)) => {
                self.admit(&s)?;
                self.stream_id = s.stream_id.clone();
                let mut parameters = s.extra_headers.as_deref().map(media::extra_headers).unwrap_or_default();
                parameters.remove(token::PARAMETER);
                if !s.account_id.is_empty() {
                    parameters.insert("AccountId".into(), s.account_id);
                }
                StreamEvent::Start(StreamStart {
                    call_sid: s.call_id,
                    stream_sid: s.stream_id,
                    from: None,
                    to: None,
                    parameters,
                    sample_rate: s.sample_rate,
                })
            }
            Ok(Inbound::Media { audio, .. }) => StreamEvent::Caller(CallerEvent::Audio(self.format.to_samples(&audio)?)),
            Ok(Inbound::Dtmf { digit }) => StreamEvent::Caller(CallerEvent::Dtmf(digit)),
            Ok(Inbound::Played { name }) => StreamEvent::Caller(CallerEvent::Played(name)),
            Ok(Inbound::Cleared) => StreamEvent::Ignored { event: "clearedAudio".into() },
            Ok(Inbound::Stop { reason }) => {
                StreamEvent::Stop { reason: Some(reason.map_or_else(|| "call ended".into(), |r| r.chars().take(120).collect())) }
            }
            // An event this version does not know (Plivo adds some) is not an error.
            Err(MediaError::UnknownEvent(event)) => StreamEvent::Ignored { event },
            Err(e) => return Err(e.into()),
        })
    }

    fn encode(&mut self, frame: &AgentFrame) -> WireOut {
        let message = match frame {
            AgentFrame::Audio(samples) => Outbound::PlayAudio { format: self.format, audio: self.format.to_bytes(samples) },
            AgentFrame::Mark(name) => Outbound::Checkpoint { stream_id: self.stream_id.clone(), name: name.clone() },
            AgentFrame::Clear => Outbound::ClearAudio { stream_id: self.stream_id.clone() },
        };
        WireOut::Text(media::encode(&message))
    }
}

#[cfg(test)]
mod tests;
