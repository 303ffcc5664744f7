//! What the caller hears: the speaker's due chunks sent to the transport (bounded: a peer that
//! stops reading ends the call), and what each send means for the reply being played.

use tokio::time::Instant;

use super::{Conv, HANGUP_GRACE, PEER_STALL};
use crate::voice::AfterReply;
use crate::voice::speaker::Sent;
use domain::call::TurnKind;

impl Conv {
    /// Sends what the speaker has due; false when the conversation should end.
    pub(super) async fn pump(&mut self) -> bool {
        let now = Instant::now();
        let more = self.reply.as_ref().is_some_and(|r| !r.finished);
        let (frames, events) = self.speaker.poll(now, more);
        for f in frames {
            // A peer that stops reading fills the socket; after a few seconds the call ends
            // rather than holding its task forever (other calls never wait on it).
            match tokio::time::timeout(PEER_STALL, self.out.send(f)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return false,
                Err(_) => {
                    tracing::warn!("the stream's peer stopped reading; ending the call");
                    self.summary.peer_stalled = true;
                    return false;
                }
            }
        }
        for e in events {
            match e {
                Sent::First(id) => {
                    if let Some(r) = &mut self.reply
                        && r.id == id
                        && r.first_byte.is_none()
                    {
                        r.first_byte = Some(now);
                        // End of speech detected -> first byte out, minus the providers' own time.
                        if r.kind == TurnKind::Speech && r.first_audio.is_some() && !r.provider_ms.is_nan() {
                            let total = now.duration_since(r.origin).as_secs_f64() * 1000.0;
                            self.summary.server_added_ms.push((total - r.provider_ms).max(0.0));
                        }
                    }
                }
                Sent::Done(id) => {
                    if let Some(r) = &mut self.reply
                        && r.id == id
                        && r.finished
                    {
                        r.audio_done = true;
                        if r.after == AfterReply::HangUp {
                            // Hang up once the caller has heard the goodbye (or a little after, if the mark never comes).
                            self.hangup_at = Some(now + HANGUP_GRACE);
                        }
                    }
                }
            }
        }
        true
    }
}
