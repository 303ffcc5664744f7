//! The session task without a network: the same `session::run` that serves a WebSocket, driven
//! over two channels with Exotel's codec (the axum testing-websockets shape).

use crate::common;

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};
use serde_json::{Value, json};
use server::telephony::exotel::codec::ExotelCodec;
use server::telephony::exotel::stream::{self, Outbound};
use server::telephony::session::{self, StreamContext};
use tokio::sync::mpsc;

/// A socket made of two channels: what the test sends, the session reads; what the session
/// sends, the test reads.
struct ChannelSocket {
    from_peer: mpsc::UnboundedReceiver<Message>,
    to_peer: mpsc::UnboundedSender<Message>,
}

impl Stream for ChannelSocket {
    type Item = Result<Message, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.from_peer.poll_recv(cx).map(|m| m.map(Ok))
    }
}

impl Sink<Message> for ChannelSocket {
    type Error = Infallible;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Infallible> {
        // A peer that went away just stops hearing us.
        let _ = self.to_peer.send(item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
}

struct Peer {
    state: server::AppState,
    send: mpsc::UnboundedSender<Message>,
    recv: mpsc::UnboundedReceiver<Message>,
    task: tokio::task::JoinHandle<()>,
}

/// A session on a number with an agent whose greeting is spoken by the offline voice.
async fn open(email: &str) -> Peer {
    let state = common::state().await;
    let user = common::user(&state, email).await;
    let input = domain::agent::AgentInput { name: "Desk".into(), greeting: "Hello.".into(), ..Default::default() };
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let verified = server::telephony::calls::verify(&state, &number.id, |_| true).await.unwrap();
    let (send, from_peer) = mpsc::unbounded_channel();
    let (to_peer, recv) = mpsc::unbounded_channel();
    let ctx = StreamContext { verified, session: None };
    let task = tokio::spawn(session::run(state.clone(), ctx, ExotelCodec::new(8000), ChannelSocket { from_peer, to_peer }));
    Peer { state, send, recv, task }
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

fn start(sid: &str) -> Message {
    text(json!({"event":"start","start":{"stream_sid":"MZ7","call_sid":sid,"from":"+919876543210","custom_parameters":{}}}))
}

async fn status(state: &server::AppState, sid: &str) -> Value {
    server::db::row(&state.db, "SELECT status, reason FROM ONLY type::record('call', $k)", json!({ "k": format!("exotel_{sid}") }))
        .await
        .unwrap()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_channels_is_greeted_and_recorded_from_start_to_stop() {
    let _serial = common::voice_lock().await;
    let mut peer = open("chan@example.com").await;
    peer.send.send(text(json!({"event":"connected"}))).unwrap();
    peer.send.send(start("CA-chan-1")).unwrap();
    // The greeting comes back as Exotel media frames with the stream id of `start`, then its mark.
    let mut audio = 0;
    let mark = loop {
        let Ok(Some(Message::Text(t))) = tokio::time::timeout(Duration::from_secs(30), peer.recv.recv()).await else {
            panic!("no greeting from the session")
        };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        assert_eq!(v["stream_sid"], "MZ7");
        match stream::decode_outbound(t.as_str()).unwrap() {
            Outbound::Media { pcm } => {
                assert!(stream::chunk_size_ok(pcm.len()), "chunk of {} bytes", pcm.len());
                audio += pcm.len();
            }
            Outbound::Mark { name } => break name,
            Outbound::Clear => panic!("nothing to clear"),
        }
    };
    assert!(audio >= 3200, "the greeting is audio: {audio} bytes");
    assert_eq!(status(&peer.state, "CA-chan-1").await["status"], "in_progress");
    peer.send.send(text(json!({"event":"mark","mark":{"name":mark}}))).unwrap();
    peer.send.send(text(json!({"event":"stop","stop":{"reason":"callended"}}))).unwrap();
    tokio::time::timeout(Duration::from_secs(10), peer.task).await.expect("the session ends on stop").unwrap();
    let call = status(&peer.state, "CA-chan-1").await;
    assert_eq!((call["status"].as_str(), call["reason"].as_str()), (Some("completed"), Some("callended")));
}

#[tokio::test]
async fn a_malformed_message_over_channels_closes_with_the_codecs_code_and_fails_the_call() {
    let mut peer = open("chan-bad@example.com").await;
    peer.send.send(start("CA-chan-2")).unwrap();
    peer.send.send(text(json!({"event":"media","media":{"payload":"%%%"}}))).unwrap();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), peer.recv.recv()).await {
            Ok(Some(Message::Close(frame))) => break frame,
            Ok(Some(_)) => {}
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(close.map(|f| f.code), Some(1007));
    tokio::time::timeout(Duration::from_secs(10), peer.task).await.unwrap().unwrap();
    assert_eq!(status(&peer.state, "CA-chan-2").await["status"], "failed");
}
