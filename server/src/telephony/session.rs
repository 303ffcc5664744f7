//! One task per streamed call: reads Exotel's frames, keeps the call record in step
//! (in progress on `start`, completed with its duration on `stop` or close, failed with a
//! reason on a malformed frame), and closes malformed streams with a clear close code.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};

use super::calls::{self, Verified};
use super::exotel::params::CallParams;
use super::exotel::stream::{self, Inbound};
use crate::db;
use crate::state::AppState;

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
}

/// What the URL told us before the upgrade.
pub struct StreamContext {
    pub verified: Verified,
    pub sample_rate: u32,
    pub session: Option<String>,
}

/// Runs one call's stream to its end.
pub async fn run(state: AppState, ctx: StreamContext, socket: WebSocket) {
    let (mut sink, mut source) = socket.split();
    let opened = Instant::now();
    let mut call_key: Option<String> = None;
    let mut stats = StreamStats::default();
    let phone_id = ctx.verified.number.id.clone();
    let ending = loop {
        if opened.elapsed() > MAX_SESSION {
            break Ending::Completed(Some("session limit reached".into()));
        }
        let next = match tokio::time::timeout(IDLE_TIMEOUT, source.next()).await {
            Ok(n) => n,
            Err(_) => break Ending::Failed("no frames for 30 s".into()),
        };
        let text = match next {
            None | Some(Ok(Message::Close(_))) => break Ending::Completed(Some("socket closed".into())),
            Some(Err(e)) => break Ending::Failed(format!("socket error: {e}")),
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Binary(_))) => {
                let _ = close(&mut sink, 1003, "binary frames are not part of the protocol").await;
                break Ending::Failed("binary frame".into());
            }
            Some(Ok(_)) => continue,
        };
        match stream::decode(text.as_str()) {
            Ok(Inbound::Connected) => {}
            Ok(Inbound::Start(start)) => {
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
                match CallParams::from_raw(raw) {
                    Ok(params) => match calls::answer(&state, &ctx.verified, &params).await {
                        Ok(answered) => {
                            let _ = db::calls::set_status(&state.db, &answered.call.id, "in_progress", None, None, None).await;
                            tracing::info!(call_sid = %params.call_sid, phone_id = %phone_id, "stream started");
                            call_key = Some(answered.call.id);
                        }
                        Err(e) => {
                            tracing::error!(phone_id = %phone_id, error = %e, "cannot record the streamed call");
                            let _ = close(&mut sink, 1011, "cannot record the call").await;
                            break Ending::Failed("cannot record the call".into());
                        }
                    },
                    Err(e) => {
                        let _ = close(&mut sink, 1007, &e.to_string()).await;
                        break Ending::Failed(e.to_string());
                    }
                }
            }
            Ok(Inbound::Media { pcm, .. }) => {
                stats.media_frames += 1;
                stats.media_bytes += pcm.len() as u64;
            }
            Ok(Inbound::Dtmf { digit, .. }) => stats.dtmf.push(digit),
            Ok(Inbound::Mark { .. }) => stats.marks += 1,
            Ok(Inbound::Stop { reason }) => break Ending::Completed(reason),
            Err(e) => {
                tracing::warn!(phone_id = %phone_id, error = %e, "malformed stream frame");
                let _ = close(&mut sink, e.close_code(), &e.to_string()).await;
                break Ending::Failed(format!("malformed frame: {e}"));
            }
        }
    };
    let seconds = stats.media_bytes as f64 / stream::bytes_per_second(ctx.sample_rate) as f64;
    tracing::info!(phone_id = %phone_id, ?ending, media_frames = stats.media_frames, audio_seconds = seconds, dtmf = ?stats.dtmf, "stream ended");
    if let Some(key) = call_key {
        let duration = opened.elapsed().as_millis() as i64;
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
