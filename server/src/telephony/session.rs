//! One task per streamed call: reads Exotel's frames, keeps the call record in step
//! (in progress on `start`, completed with its duration on `stop` or close, failed with a
//! reason on a malformed frame; unknown events are ignored), closes malformed streams with a clear close code, and runs
//! the call's conversation (crate::voice::conversation) from `start` to the end.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::calls::{self, Verified};
use super::exotel::params::CallParams;
use super::exotel::stream::{self, Inbound, Outbound};
use crate::db;
use crate::state::AppState;
use crate::voice::audio;
use crate::voice::conversation::{self, CallerEvent};

/// Exotel ends a stream after 60 minutes; we do too.
pub const MAX_SESSION: Duration = Duration::from_secs(60 * 60);
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
    pub media_bytes: u64,
    pub dtmf: Vec<String>,
    pub marks: u64,
    /// Caller audio frames the conversation was too busy to take.
    pub dropped_frames: u64,
}

/// What the URL told us before the upgrade.
pub struct StreamContext {
    pub verified: Verified,
    pub sample_rate: u32,
    pub session: Option<String>,
}

/// The socket's sending half: ours until `start`, then the writer task's (which paces nothing
/// itself; it only encodes what the conversation sends, so a slow peer blocks only its call).
enum Sender {
    Direct(SplitSink<WebSocket, Message>),
    Writer { frames: mpsc::Sender<Wire>, task: JoinHandle<()> },
    Gone,
}

enum Wire {
    Frame(Outbound),
    Close(u16, String),
}

impl Sender {
    async fn close(&mut self, code: u16, reason: &str) {
        match std::mem::replace(self, Sender::Gone) {
            Sender::Direct(mut sink) => {
                let _ = close(&mut sink, code, reason).await;
            }
            Sender::Writer { frames, mut task } => {
                // A peer that stopped reading cannot hold the call open: the writer gets two
                // seconds to send the close frame, then it is stopped.
                let _ = tokio::time::timeout(Duration::from_secs(2), frames.send(Wire::Close(code, reason.to_string()))).await;
                drop(frames);
                if tokio::time::timeout(Duration::from_secs(2), &mut task).await.is_err() {
                    task.abort();
                }
            }
            Sender::Gone => {}
        }
    }
}

/// Encodes the conversation's frames for Exotel and closes the socket when told.
fn writer(
    mut sink: SplitSink<WebSocket, Message>,
    stream_sid: String,
    mut conversation: mpsc::Receiver<Outbound>,
) -> (mpsc::Sender<Wire>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Wire>(4);
    let task = tokio::spawn(async move {
        loop {
            let wire = tokio::select! {
                biased;
                w = rx.recv() => match w { Some(w) => w, None => break },
                f = conversation.recv() => match f { Some(f) => Wire::Frame(f), None => { std::future::pending::<()>().await; continue } },
            };
            match wire {
                Wire::Frame(f) => {
                    if sink.send(Message::Text(stream::encode(&stream_sid, &f).into())).await.is_err() {
                        break;
                    }
                }
                Wire::Close(code, reason) => {
                    let _ = close(&mut sink, code, &reason).await;
                    break;
                }
            }
        }
    });
    (tx, task)
}

/// Runs one call's stream to its end.
pub async fn run(state: AppState, ctx: StreamContext, socket: WebSocket) {
    let (sink, mut source) = socket.split();
    let mut sender = Sender::Direct(sink);
    let opened = Instant::now();
    // The call's duration counts from `start` (the moment the conversation begins).
    let mut started = opened;
    let mut call_key: Option<String> = None;
    let mut stats = StreamStats::default();
    let mut caller: Option<mpsc::Sender<CallerEvent>> = None;
    let mut conversation: Option<JoinHandle<conversation::Summary>> = None;
    let phone_id = ctx.verified.number.id.clone();
    let ending = loop {
        if opened.elapsed() > MAX_SESSION {
            break Ending::Completed(Some("session limit reached".into()));
        }
        let next = tokio::select! {
            n = tokio::time::timeout(IDLE_TIMEOUT, source.next()) => n,
            summary = async { conversation.as_mut().expect("guarded").await }, if conversation.is_some() => {
                conversation = None;
                let summary = match summary {
                    Ok(s) => s,
                    Err(e) => {
                        // A conversation that panicked is a failed call, never a completed one.
                        tracing::error!(phone_id = %phone_id, error = %e, "the call's conversation ended abnormally");
                        sender.close(1011, "internal error").await;
                        break Ending::Failed("internal error in the conversation".into());
                    }
                };
                if summary.peer_stalled {
                    sender.close(1011, "peer stopped reading").await;
                    break Ending::Failed("the peer stopped reading our audio".into());
                }
                sender.close(1000, "call ended").await;
                break Ending::Completed(Some(if summary.agent_hung_up { "agent ended the call".into() } else { "conversation ended".into() }));
            }
        };
        let next = match next {
            Ok(n) => n,
            Err(_) => {
                sender.close(1001, "no frames for 30 s").await;
                break Ending::Failed("no frames for 30 s".into());
            }
        };
        let text = match next {
            None | Some(Ok(Message::Close(_))) => break Ending::Completed(Some("socket closed".into())),
            Some(Err(e)) => break Ending::Failed(format!("socket error: {e}")),
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Binary(_))) => {
                sender.close(1003, "binary frames are not part of the protocol").await;
                break Ending::Failed("binary frame".into());
            }
            Some(Ok(_)) => continue,
        };
        match stream::decode(text.as_str()) {
            Ok(Inbound::Connected) => {}
            Ok(Inbound::Start(start)) => {
                if call_key.is_some() {
                    continue; // a repeated start changes nothing
                }
                if start.sample_rate.is_some_and(|r| r != ctx.sample_rate) {
                    tracing::warn!(phone_id = %phone_id, url_rate = ctx.sample_rate, start_rate = ?start.sample_rate, "sample rates differ; using the URL's");
                }
                let sid = ctx.session.clone().unwrap_or_else(|| start.call_sid.clone());
                let mut raw: std::collections::BTreeMap<String, String> = start.custom_parameters.clone();
                raw.insert("CallSid".into(), sid);
                raw.insert("StreamSid".into(), start.stream_sid.clone());
                if let Some(f) = &start.from {
                    raw.insert("From".into(), f.clone());
                }
                if let Some(t) = &start.to {
                    raw.insert("To".into(), t.clone());
                }
                let params = match CallParams::from_raw(raw) {
                    Ok(p) => p,
                    Err(e) => {
                        sender.close(1007, &e.to_string()).await;
                        break Ending::Failed(e.to_string());
                    }
                };
                let answered = match calls::answer(&state, &ctx.verified, &params).await {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::error!(phone_id = %phone_id, error = %e, "cannot record the streamed call");
                        sender.close(1011, "cannot record the call").await;
                        break Ending::Failed("cannot record the call".into());
                    }
                };
                if let Err(e) = db::calls::mark_answered(&state.db, &answered.call.id, &state.clock.now_rfc3339()).await {
                    tracing::warn!(call = %answered.call.id, error = %e, "cannot mark the call in progress");
                }
                tracing::info!(call_sid = %params.call_sid, phone_id = %phone_id, rate = ctx.sample_rate, "stream started");
                call_key = Some(answered.call.id.clone());
                started = Instant::now();
                // The conversation starts now; the socket's sending half goes to its writer.
                let (out_tx, out_rx) = mpsc::channel::<Outbound>(64);
                let (caller_tx, caller_rx) = mpsc::channel::<CallerEvent>(256);
                if let Sender::Direct(sink) = std::mem::replace(&mut sender, Sender::Gone) {
                    let (frames, task) = writer(sink, start.stream_sid.clone(), out_rx);
                    sender = Sender::Writer { frames, task };
                }
                let settings = ctx.verified.agent.as_ref().map(|a| a.settings.clone()).unwrap_or_default();
                let api_key = match &ctx.verified.agent {
                    Some(a) => crate::agents::api_key(&state, &ctx.verified.owner, a).await,
                    None => None,
                };
                let pipeline = state.voice.pipeline(&settings, api_key);
                let store = conversation::TurnStore {
                    db: state.db.clone(),
                    call_key: answered.call.id.clone(),
                    owner_id: ctx.verified.owner.id().to_string(),
                };
                conversation =
                    Some(tokio::spawn(conversation::run(state.voice.clone(), pipeline, ctx.sample_rate, Some(store), caller_rx, out_tx)));
                caller = Some(caller_tx);
            }
            Ok(Inbound::Media { pcm, .. }) => {
                stats.media_frames += 1;
                stats.media_bytes += pcm.len() as u64;
                // Audio never waits on a busy conversation: a frame it cannot take is dropped
                // (and counted), so this reader keeps reading and its timeouts keep working.
                if let Some(c) = &caller
                    && c.try_send(CallerEvent::Audio(audio::bytes_to_i16(&pcm))).is_err()
                {
                    stats.dropped_frames += 1;
                }
            }
            Ok(Inbound::Dtmf { digit, .. }) => {
                stats.dtmf.push(digit.clone());
                // Never wait on a busy conversation (its queue holds 256 events): this reader
                // keeps reading, so `stop` and the timeouts keep working.
                if let Some(c) = &caller
                    && c.try_send(CallerEvent::Dtmf(digit)).is_err()
                {
                    tracing::warn!(phone_id = %phone_id, "keypad digit dropped: the conversation is not keeping up");
                }
            }
            Ok(Inbound::Mark { name }) => {
                stats.marks += 1;
                if let Some(c) = &caller {
                    let _ = c.try_send(CallerEvent::Mark(name));
                }
            }
            Ok(Inbound::Stop { reason }) => break Ending::Completed(reason),
            // An event this version does not know (Exotel may add some) is not an error.
            Err(stream::CodecError::UnknownEvent(event)) => {
                tracing::debug!(phone_id = %phone_id, event = %event, "unknown stream event ignored");
            }
            Err(e) => {
                tracing::warn!(phone_id = %phone_id, error = %e, "malformed stream frame");
                sender.close(e.close_code(), &e.to_string()).await;
                break Ending::Failed(format!("malformed frame: {e}"));
            }
        }
    };
    // The caller side is done: the conversation stores its last turn and ends.
    drop(caller);
    let mut turns = 0;
    if let Some(c) = conversation {
        if let Ok(Ok(summary)) = tokio::time::timeout(Duration::from_secs(5), c).await {
            turns = summary.turns;
        }
    }
    sender.close(1000, "call ended").await;
    let seconds = stats.media_bytes as f64 / stream::bytes_per_second(ctx.sample_rate) as f64;
    tracing::info!(phone_id = %phone_id, ?ending, media_frames = stats.media_frames, dropped = stats.dropped_frames, audio_seconds = seconds, turns, dtmf = ?stats.dtmf, "stream ended");
    if let Some(key) = call_key {
        let duration = started.elapsed().as_millis() as i64;
        let now = state.clock.now_rfc3339();
        let (status, reason) = match &ending {
            Ending::Completed(r) => ("completed", r.clone()),
            Ending::Failed(r) => ("failed", Some(r.clone())),
        };
        if let Err(e) = db::calls::set_status(&state.db, &key, status, reason.as_deref(), Some(&now), Some(duration)).await {
            tracing::error!(call = %key, error = %e, "cannot store the call's end");
        }
    }
}

async fn close<S: SinkExt<Message> + Unpin>(sink: &mut S, code: u16, reason: &str) -> Result<(), S::Error> {
    // A close frame's reason is at most 123 bytes; cut on a character boundary.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = reason[..end].to_string();
    sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await
}
