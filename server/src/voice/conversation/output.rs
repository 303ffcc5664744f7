//! What the caller hears: the speaker's due chunks sent to the transport (bounded: a peer that
//! stops reading ends the call), what each send means for the reply being played, and a
//! barge-in clearing it.

use std::sync::Arc;

use tokio::time::Instant;

use super::{Conv, HANGUP_GRACE, PEER_STALL};
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
                        if r.after.ends_call() {
                            // Hang up once the caller has heard the goodbye (or a little after, if the mark never comes).
                            let after = r.after;
                            self.end_after(after, now + HANGUP_GRACE);
                        }
                    }
                }
            }
        }
        true
    }

    /// The caller spoke over the agent (or pressed a key): what was queued for them is cleared,
    /// and the reply being said is stored as interrupted (or its words carried to the next turn).
    pub(super) async fn interrupt(&mut self) {
        let now = Instant::now();
        let frames = self.speaker.clear(now);
        let speaking = !frames.is_empty();
        for f in frames {
            // Bounded like every send: a peer that stopped reading ends the call (see `pump`).
            if !matches!(tokio::time::timeout(PEER_STALL, self.out.send(f)).await, Ok(Ok(()))) {
                self.summary.peer_stalled = true;
                break;
            }
        }
        let Some(mut r) = self.reply.take() else { return };
        if let Some(t) = r.task.take() {
            t.abort();
        }
        if r.audio_done && !speaking {
            // Played in full; the caller spoke after it (the mark may not have come back).
            self.store_reply(r, false, None);
            return;
        }
        if r.first_byte.is_none() && !speaking && r.kind == TurnKind::Speech {
            // Nothing said yet: the caller was only pausing. Unless already transcribed,
            // their words join the next turn.
            if r.stt_ms.is_none() {
                self.carry = Arc::unwrap_or_clone(std::mem::take(&mut r.caller_audio));
            }
            self.hangup_at = None;
            return;
        }
        if r.first_byte.is_some() || speaking {
            self.summary.barge_ins += 1;
            tracing::debug!(reply = r.id, "barge-in: agent audio cleared");
            self.hangup_at = None;
            self.store_reply(r, true, None);
        }
    }
}
