//! The socket's sending half of a call's stream: the session's own until `start`, then a
//! writer task's, which encodes the conversation's frames with the provider's codec.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures_util::stream::SplitSink;
use futures_util::{Sink, SinkExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::super::stream::{StreamCodec, WireOut};
use crate::voice::frames::AgentFrame;

/// The socket's sending half: ours until `start`, then the writer task's (which paces nothing
/// itself; it only encodes what the conversation sends, so a slow peer blocks only its call).
pub(crate) enum Sender<S> {
    Direct(SplitSink<S, Message>),
    Writer { frames: mpsc::Sender<Wire>, task: JoinHandle<()> },
    Gone,
}

pub(crate) enum Wire {
    Frame(AgentFrame),
    Close(u16, String),
}

impl<S> Sender<S>
where
    S: Sink<Message> + Send + 'static,
{
    pub(crate) async fn close(&mut self, code: u16, reason: &str) {
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

/// Encodes the conversation's frames for the provider and closes the socket when told.
pub(crate) fn writer<S, C>(
    mut sink: SplitSink<S, Message>,
    mut codec: C,
    mut conversation: mpsc::Receiver<AgentFrame>,
    recording: Option<super::record::Tap>,
) -> (mpsc::Sender<Wire>, JoinHandle<()>)
where
    S: Sink<Message> + Send + 'static,
    C: StreamCodec,
{
    let (tx, mut rx) = mpsc::channel::<Wire>(4);
    let task = tokio::spawn(async move {
        // Once the conversation has ended, only the session's close is left to write (waiting
        // on the ended channel inside the loop would never read that close).
        let mut talking = true;
        loop {
            let wire = tokio::select! {
                biased;
                w = rx.recv() => match w { Some(w) => w, None => break },
                f = conversation.recv(), if talking => match f {
                    Some(f) => Wire::Frame(f),
                    None => {
                        talking = false;
                        continue;
                    }
                },
            };
            match wire {
                Wire::Frame(f) => {
                    let sent = match codec.encode(&f) {
                        WireOut::Text(t) => sink.send(Message::Text(t.into())).await,
                        WireOut::Binary(b) => sink.send(Message::Binary(b.into())).await,
                        WireOut::Frames(frames) => send_all(&mut sink, frames).await,
                    };
                    if sent.is_err() {
                        break;
                    }
                    crate::metrics::get().frame_out(codec.provider());
                    if let Some(r) = &recording {
                        r.agent(&f);
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

/// Writes `frames` as binary messages, flushing once at the end.
async fn send_all<S: Sink<Message> + Unpin>(sink: &mut S, frames: Vec<Vec<u8>>) -> Result<(), S::Error> {
    for frame in frames {
        sink.feed(Message::Binary(frame.into())).await?;
    }
    sink.flush().await
}

async fn close<S: Sink<Message> + Unpin>(sink: &mut S, code: u16, reason: &str) -> Result<(), S::Error> {
    // A close frame's reason is at most 123 bytes; cut on a character boundary.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = reason[..end].to_string();
    sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await
}
