//! One task per streamed call, for any provider: reads the provider's messages through its
//! codec ([`StreamCodec`]), keeps the call record in step (in progress on `start`, completed
//! with its duration on `stop` or close, failed with a reason on a malformed message; events
//! the codec ignores change nothing), closes malformed streams with the codec's close code,
//! and runs the call's conversation (crate::voice::conversation) from `start` to the end.
//!
//! The task is generic over the socket (any `Sink` + `Stream` of messages), so tests drive it
//! over channels as well as over a real WebSocket.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Message;
use domain::call::CallStatus;
use futures_util::{Sink, Stream, StreamExt};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use self::begin::begin;
pub use self::screen::Screening;
use self::writer::{Sender, writer};
use super::calls::{self, Verified};
use super::params::CallParams;
use super::peer::{MAX_QUEUED_AUDIO_BYTES, POLICY, PeerRules};
use super::stream::{StreamCodec, StreamEvent, StreamStart, WireIn};
use crate::db;
use crate::state::AppState;
use crate::voice::conversation;
use crate::voice::frames::{AgentFrame, CallerEvent, Queued};
use crate::voice::stats::Summary;

/// Exotel ends a stream after 60 minutes; we do too, for every provider.
pub const MAX_SESSION: Duration = Duration::from_secs(60 * 60);
/// Close code of a call turned away because a cap on concurrent calls is reached (RFC 6455's
/// "try again later").
pub const BUSY: u16 = 1013;
/// Close code and reason when the server stops (RFC 6455 "going away").
pub const GOING_AWAY: u16 = 1001;
pub const SHUTTING_DOWN: &str = "server shutting down";
/// Once the server is stopping, a call has this long to say its closing line.
pub const WRAP_UP_LIMIT: Duration = Duration::from_secs(6);
/// A stream must send `start` this soon after it opens.
pub const START_TIMEOUT: Duration = Duration::from_secs(5);
/// A stream that sends nothing for this long is treated as dead.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How a stream ended, as stored on the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    Completed(Option<String>),
    Failed(String),
}

/// Counters of one stream (for logs and tests).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StreamStats {
    pub media_frames: u64,
    /// Caller samples received.
    pub media_samples: u64,
    /// Keypad digits received (counted, never logged).
    pub dtmf: u64,
    pub marks: u64,
    /// Caller audio frames the conversation was too busy to take.
    pub dropped_frames: u64,
}

/// What the request told us before the upgrade.
pub struct StreamContext {
    pub verified: Verified,
    /// The provider's call id when the URL carried it (else `start` tells).
    pub session: Option<String>,
}

/// A started call: its record and the conversation that runs it.
struct Running {
    call_key: String,
    started: Instant,
    caller: mpsc::Sender<Queued>,
    /// Bytes of caller audio the conversation has yet to take, at most.
    budget: Arc<Semaphore>,
    conversation: Option<JoinHandle<Summary>>,
    recording: Option<record::Recording>,
    /// Where the agent can hand the caller over.
    handover: Option<crate::telephony::transfer::Handover>,
    /// The call's place under the caps, given back when the stream ends.
    _slot: crate::slots::Slot,
    /// Counted in /metrics' live calls while it runs.
    _live: crate::metrics::LiveCall,
}

impl Running {
    /// Hands `event` to the conversation without waiting; refused when its queue is full.
    fn queue(&self, event: CallerEvent) -> Result<(), ()> {
        let budget = match &event {
            CallerEvent::Audio(samples) => {
                let bytes = u32::try_from(samples.len() * 2).map_err(|_| ())?;
                Some(self.budget.clone().try_acquire_many_owned(bytes).map_err(|_| ())?)
            }
            _ => None,
        };
        self.caller.try_send(Queued { event, budget }).map_err(|_| ())
    }
}

/// A stream's upgrade with small socket buffers (the defaults are 128 KiB each way; small ones
/// keep a call's memory low: the largest media message, Exotel's 100 ms, is about 2.2 KB) and
/// messages capped at `max_message` bytes (a larger message grows the read buffer as needed).
pub fn sized(upgrade: axum::extract::WebSocketUpgrade, max_message: usize) -> axum::extract::WebSocketUpgrade {
    upgrade.read_buffer_size(4 * 1024).write_buffer_size(8 * 1024).max_message_size(max_message).max_frame_size(max_message)
}

/// Runs one call's stream to its end, over `socket` with `codec`.
pub async fn run<C, S, E>(state: AppState, ctx: StreamContext, mut codec: C, socket: S)
where
    C: StreamCodec + Clone,
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Send + 'static,
    E: Display + Send,
{
    let (sink, mut source) = socket.split();
    let mut sender = Sender::Direct(sink);
    let opened = Instant::now();
    let mut call: Option<Running> = None;
    let mut stats = StreamStats::default();
    let mut rules = PeerRules::new(codec.audio().rate);
    // Since when the call has been wrapping up for a stopping server.
    let mut wrapping: Option<Instant> = None;
    // One wait for the server's stop for the whole stream (not one per message).
    let shutdown = state.shutdown.clone();
    let stopping = shutdown.begun();
    tokio::pin!(stopping);
    let phone_id = ctx.verified.number.id.clone();
    let metrics = crate::metrics::get();
    let ending = loop {
        if opened.elapsed() > MAX_SESSION {
            break Ending::Completed(Some("session limit reached".into()));
        }
        let talking = call.as_ref().is_some_and(|c| c.conversation.is_some());
        // Until `start`, the stream has START_TIMEOUT in all (a peer cannot hold a socket with
        // `connected` alone); then each message may take IDLE_TIMEOUT; once the server is
        // stopping, the call has WRAP_UP_LIMIT to say its closing line.
        let wait = match (wrapping, &call) {
            // Within the server's own deadline, with a moment left to record the end.
            (Some(since), _) => WRAP_UP_LIMIT.min(state.settings.shutdown_timeout.mul_f32(0.75)).saturating_sub(since.elapsed()),
            (None, None) => START_TIMEOUT.saturating_sub(opened.elapsed()),
            (None, Some(_)) => IDLE_TIMEOUT,
        };
        let next = tokio::select! {
            n = tokio::time::timeout(wait, source.next()) => n,
            () = &mut stopping, if wrapping.is_none() => {
                wrapping = Some(Instant::now());
                match &call {
                    Some(c) if c.conversation.is_some() => {
                        tracing::info!(phone_id = %phone_id, "server stopping: the call says its closing line");
                        let _ = c.caller.try_send(Queued { event: CallerEvent::Closing, budget: None });
                        continue;
                    }
                    _ => break going_away(&mut sender).await,
                }
            }
            summary = async { call.as_mut().and_then(|c| c.conversation.as_mut()).expect("guarded").await }, if talking => {
                if let Some(c) = call.as_mut() {
                    c.conversation = None;
                }
                let summary = match summary {
                    Ok(s) => s,
                    Err(e) => {
                        // A conversation that panicked is a failed call, never a completed one.
                        tracing::error!(phone_id = %phone_id, error = %e, "the call's conversation ended abnormally");
                        sender.close(1011, "internal error").await;
                        break Ending::Failed("internal error in the conversation".into());
                    }
                };
                if wrapping.is_some() {
                    break going_away(&mut sender).await;
                }
                if summary.peer_stalled {
                    sender.close(1011, "peer stopped reading").await;
                    break Ending::Failed("the peer stopped reading our audio".into());
                }
                let handover = call.as_ref().and_then(|c| c.handover.clone()).map(|h| crate::telephony::transfer::Handover {
                    to: summary.transfer_to.clone().unwrap_or(h.to.clone()),
                    ..h
                });
                if let (Some(line), Some(h)) = (summary.transfer, handover.filter(|h| !h.to.is_empty())) {
                    let handed = crate::telephony::transfer::hand_over(&state, &ctx.verified, &h, &line).await;
                    sender.close(1000, "transferred").await;
                    break Ending::Completed(Some(handed.map_or_else(|e| format!("transfer failed: {e}"), |()| "transferred to a person".into())));
                }
                sender.close(1000, "call ended").await;
                break Ending::Completed(Some(if summary.agent_hung_up { "agent ended the call".into() } else { "conversation ended".into() }));
            }
        };
        let Ok(next) = next else {
            if wrapping.is_some() {
                break going_away(&mut sender).await;
            }
            if call.is_none() {
                sender.close(POLICY, "no start within 5 s").await;
                break Ending::Failed("no start within 5 s".into());
            }
            sender.close(1001, "no frames for 30 s").await;
            break Ending::Failed("no frames for 30 s".into());
        };
        let decoded = match &next {
            None | Some(Ok(Message::Close(_))) => break Ending::Completed(Some("socket closed".into())),
            Some(Err(e)) => break Ending::Failed(format!("socket error: {e}")),
            Some(Ok(Message::Text(t))) => {
                metrics.frame_in(codec.provider());
                codec.decode(WireIn::Text(t.as_str()))
            }
            Some(Ok(Message::Binary(b))) => {
                metrics.frame_in(codec.provider());
                codec.decode(WireIn::Binary(b))
            }
            Some(Ok(_)) => continue,
        };
        let event = match decoded {
            Ok(event) => event,
            Err(e) if e.code == 1003 => {
                sender.close(e.code, &e.reason).await;
                break Ending::Failed("binary frame".into());
            }
            Err(e) => {
                tracing::warn!(phone_id = %phone_id, error = %e, "malformed stream message");
                sender.close(e.code, &e.reason).await;
                break Ending::Failed(format!("malformed frame: {}", e.reason));
            }
        };
        match event {
            StreamEvent::Connected => {}
            StreamEvent::Ignored { event } => tracing::debug!(phone_id = %phone_id, event = %event, "stream event ignored"),
            // A repeated start changes nothing.
            StreamEvent::Start(_) if call.is_some() => {}
            StreamEvent::Start(start) => match begin(&state, &ctx, &codec, start).await {
                Ok((running, out_rx)) => {
                    if let Sender::Direct(sink) = std::mem::replace(&mut sender, Sender::Gone) {
                        let tap = running.recording.as_ref().map(record::Recording::tap);
                        let (frames, task) = writer(sink, codec.clone(), out_rx, tap);
                        sender = Sender::Writer { frames, task };
                    }
                    call = Some(running);
                }
                Err((code, reason)) => {
                    sender.close(code, &reason).await;
                    break Ending::Failed(reason);
                }
            },
            StreamEvent::Caller(event) => {
                if let Err(breach) = rules.check(&event, Instant::now()) {
                    tracing::warn!(phone_id = %phone_id, %breach, "stream closed: the peer broke the rules");
                    sender.close(breach.code(), &breach.to_string()).await;
                    break Ending::Failed(breach.to_string());
                }
                match &event {
                    CallerEvent::Audio(samples) => {
                        stats.media_frames += 1;
                        stats.media_samples += samples.len() as u64;
                        if let Some(r) = call.as_ref().and_then(|c| c.recording.as_ref()) {
                            r.caller(samples);
                        }
                    }
                    CallerEvent::Dtmf(_) => stats.dtmf += 1,
                    CallerEvent::Played(_) => stats.marks += 1,
                    CallerEvent::Closing => {}
                }
                let audio = matches!(event, CallerEvent::Audio(_));
                let digit = matches!(event, CallerEvent::Dtmf(_));
                // Never wait on a busy conversation (its queue holds 256 events and
                // MAX_QUEUED_AUDIO_BYTES of audio): this reader keeps reading, so `stop` and the
                // timeouts keep working. Audio it cannot take is dropped and counted.
                if let Some(c) = &call
                    && c.queue(event).is_err()
                {
                    if audio {
                        stats.dropped_frames += 1;
                    } else if digit {
                        tracing::warn!(phone_id = %phone_id, "keypad digit dropped: the conversation is not keeping up");
                    }
                }
            }
            StreamEvent::Stop { reason } => break Ending::Completed(reason),
        }
    };
    finish(&state, &phone_id, codec.audio().rate, call, ending, stats, sender).await;
}

/// The server is stopping: the stream closes with 1001 and the call ends completed.
async fn going_away<S: Sink<Message> + Send + 'static>(sender: &mut Sender<S>) -> Ending {
    sender.close(GOING_AWAY, SHUTTING_DOWN).await;
    Ending::Completed(Some(SHUTTING_DOWN.into()))
}

/// The stream is over: the conversation stores its last turn, the socket closes, and the call
/// record gets its end.
async fn finish<S: Sink<Message> + Send + 'static>(
    state: &AppState,
    phone_id: &str,
    rate: u32,
    call: Option<Running>,
    ending: Ending,
    stats: StreamStats,
    mut sender: Sender<S>,
) {
    let mut turns = 0;
    let mut recorded = None;
    let (call_key, started) = match call {
        Some(Running { call_key, started, caller, conversation, recording, _slot, .. }) => {
            // The caller side is done: the conversation stores its last turn and ends.
            drop(caller);
            if let Some(c) = conversation
                && let Ok(Ok(summary)) = tokio::time::timeout(Duration::from_secs(5), c).await
            {
                turns = summary.turns;
            }
            recorded = recording;
            (Some(call_key), started)
        }
        None => (None, Instant::now()),
    };
    sender.close(1000, "call ended").await;
    // After the close: the writer has handed the recording its last frame.
    if let Some(r) = recorded {
        r.finish().await;
    }
    let seconds = stats.media_samples as f64 / f64::from(rate.max(1));
    tracing::info!(phone_id = %phone_id, ?ending, media_frames = stats.media_frames, dropped = stats.dropped_frames, audio_seconds = seconds, turns, keypad_digits = stats.dtmf, "stream ended");
    let Some(key) = call_key else { return };
    let duration = started.elapsed().as_millis() as i64;
    let now = state.clock.now_rfc3339();
    let (status, reason) = match ending {
        Ending::Completed(r) => (CallStatus::Completed, r),
        Ending::Failed(r) => (CallStatus::Failed, Some(r)),
    };
    if let Err(e) = db::calls::set_status(&state.db, &key, status, reason.as_deref(), Some(&now), Some(duration)).await {
        tracing::error!(call = %key, error = %e, "cannot store the call's end");
    }
    crate::notify::call_ended(state, &key);
}

mod begin;
pub(crate) mod record;
mod route;
mod screen;
pub(crate) mod writer;

#[cfg(test)]
mod tests;
