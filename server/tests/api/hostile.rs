//! Hostile and greedy peers over real sockets: calls over the caps, audio faster than real time,
//! keypad floods, streams that never start or start twice, and a herd of answers for one
//! greeting. Each is refused cleanly (a close code, a recorded reason) and changes nothing else.

use crate::common;

use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use server::AppState;
use server::slots::Slots;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A server whose state `adjust` changed, and a streaming URL per user (one number each).
async fn setup(users: &[&str], adjust: impl FnOnce(&mut AppState)) -> (AppState, Vec<String>) {
    let mut state = common::state().await;
    adjust(&mut state);
    let mut paths = Vec::new();
    for (i, email) in users.iter().enumerate() {
        let user = common::user(&state, email).await;
        let agent = server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() })
            .await
            .unwrap();
        let number = common::number(&state, &user.owner, &format!("+91804749180{i}"), Some(&agent.id)).await;
        paths.push(number.websocket_url.trim_start_matches("ws://127.0.0.1:0").to_string());
    }
    let base = common::serve(state.clone()).await.replace("http://", "ws://");
    (state, paths.into_iter().map(|p| format!("{base}{p}")).collect())
}

fn start(sid: &str) -> Message {
    common::start_message(sid)
}

fn media(bytes: usize) -> Message {
    let payload = base64::engine::general_purpose::STANDARD.encode(vec![0u8; bytes]);
    Message::Text(json!({"event":"media","stream_sid":"MZ1","media":{"chunk":"1","timestamp":"0","payload":payload}}).to_string().into())
}

fn dtmf(digits: &str) -> Message {
    Message::Text(json!({"event":"dtmf","stream_sid":"MZ1","dtmf":{"digit":digits,"duration":"100"}}).to_string().into())
}

async fn open(url: &str) -> Socket {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The close frame's code and reason (None when the socket ended without one).
async fn closed(ws: &mut Socket) -> Option<(CloseCode, String)> {
    let read = async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Close(frame) = msg {
                return frame.map(|f| (f.code, f.reason.to_string()));
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("the server closed the stream")
}

async fn call(state: &AppState, sid: &str) -> Option<Value> {
    server::db::row(&state.db, "SELECT status, reason FROM ONLY type::record('call', $k)", json!({ "k": format!("exotel_{sid}") }))
        .await
        .unwrap()
        .filter(|c: &Value| !c.is_null())
}

async fn wait_for(state: &AppState, sid: &str, status: &str) -> Value {
    for _ in 0..250 {
        if let Some(c) = call(state, sid).await
            && c["status"] == status
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("call {sid} never became {status}: {:?}", call(state, sid).await);
}

#[tokio::test]
async fn calls_over_a_cap_are_turned_away_as_busy_and_recorded_as_rejected() {
    let (state, urls) = setup(&["ana@example.com", "bo@example.com", "cy@example.com"], |s| s.calls = Slots::new(2, 1)).await;
    let mut ana = open(&urls[0]).await;
    ana.send(start("CACAP1")).await.unwrap();
    wait_for(&state, "CACAP1", "in_progress").await;

    // Ana's second call is over her own cap.
    let mut again = open(&urls[0]).await;
    again.send(start("CACAP2")).await.unwrap();
    let (code, reason) = closed(&mut again).await.unwrap();
    assert_eq!(u16::from(code), 1013, "try again later");
    assert_eq!(reason, "busy: this account is at its limit of 1 at once");
    let c = wait_for(&state, "CACAP2", "rejected").await;
    assert_eq!(c["reason"], reason);

    // Bo takes the node's last place; Cy finds the node full.
    let mut bo = open(&urls[1]).await;
    bo.send(start("CACAP3")).await.unwrap();
    wait_for(&state, "CACAP3", "in_progress").await;
    let mut cy = open(&urls[2]).await;
    cy.send(start("CACAP4")).await.unwrap();
    assert_eq!(closed(&mut cy).await.unwrap().1, "busy: the server is at its limit of 2 at once");
    wait_for(&state, "CACAP4", "rejected").await;

    // A call that ends gives its place back.
    ana.send(Message::Text(r#"{"event":"stop","stop":{"reason":"callended"}}"#.into())).await.unwrap();
    wait_for(&state, "CACAP1", "completed").await;
    for _ in 0..100 {
        if state.calls.held() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut cy = open(&urls[2]).await;
    cy.send(start("CACAP5")).await.unwrap();
    wait_for(&state, "CACAP5", "in_progress").await;
    assert_eq!(state.calls.held(), 2);
}

#[tokio::test]
async fn audio_faster_than_real_time_is_refused_not_buffered() {
    let (state, urls) = setup(&["fast@example.com"], |_| {}).await;
    // One huge frame: 256 KiB is 16 s of audio at 8 kHz, sent at once.
    let mut ws = open(&urls[0]).await;
    ws.send(start("CAHUGE")).await.unwrap();
    wait_for(&state, "CAHUGE", "in_progress").await;
    ws.send(media(256 * 1024)).await.unwrap();
    let (code, reason) = closed(&mut ws).await.unwrap();
    assert_eq!((u16::from(code), reason.as_str()), (1008, "caller audio faster than real time"));
    assert_eq!(wait_for(&state, "CAHUGE", "failed").await["reason"], "caller audio faster than real time");

    // Ordinary frames in a loop, as fast as the socket takes them.
    let mut ws = open(&urls[0]).await;
    ws.send(start("CALOOP")).await.unwrap();
    wait_for(&state, "CALOOP", "in_progress").await;
    for _ in 0..100 {
        if ws.send(media(3200)).await.is_err() {
            break;
        }
    }
    assert_eq!(u16::from(closed(&mut ws).await.unwrap().0), 1008);
    wait_for(&state, "CALOOP", "failed").await;
}

#[tokio::test]
async fn keypad_floods_and_overlong_digit_strings_close_the_stream_without_echoing_digits() {
    let (state, urls) = setup(&["keys@example.com"], |_| {}).await;
    let mut ws = open(&urls[0]).await;
    ws.send(start("CALONG")).await.unwrap();
    wait_for(&state, "CALONG", "in_progress").await;
    let pin = "4111111111111111111111111111111111111111";
    ws.send(dtmf(pin)).await.unwrap();
    let (code, reason) = closed(&mut ws).await.unwrap();
    assert_eq!(u16::from(code), 1007);
    let c = wait_for(&state, "CALONG", "failed").await;
    assert!(!reason.contains("4111") && !c["reason"].as_str().unwrap().contains("4111"), "{reason} / {c}");

    let mut ws = open(&urls[0]).await;
    ws.send(start("CAFLOOD")).await.unwrap();
    wait_for(&state, "CAFLOOD", "in_progress").await;
    for _ in 0..200 {
        if ws.send(dtmf("5")).await.is_err() {
            break;
        }
    }
    let (code, reason) = closed(&mut ws).await.unwrap();
    assert_eq!((u16::from(code), reason.as_str()), (1008, "more than 20 keypad events in 2 s"));
    wait_for(&state, "CAFLOOD", "failed").await;
    let keys: Vec<Value> =
        server::db::rows(&state.db, "SELECT seq FROM turn WHERE call = call:exotel_CAFLOOD AND kind = 'dtmf'", json!({})).await.unwrap();
    assert!(keys.len() <= 20, "the flood stopped at the limit: {} keypad turns", keys.len());
}

#[tokio::test]
async fn odd_orders_change_nothing_they_should_not() {
    let (state, urls) = setup(&["odd@example.com"], |_| {}).await;
    // `stop` before `start`: the stream ends, and no call is made up.
    let mut ws = open(&urls[0]).await;
    ws.send(Message::Text(r#"{"event":"stop","stop":{"reason":"callended"}}"#.into())).await.unwrap();
    assert!(closed(&mut ws).await.is_some());
    let calls: Vec<Value> = server::db::rows(&state.db, "SELECT id FROM call", json!({})).await.unwrap();
    assert!(calls.is_empty(), "{calls:?}");

    // A second `start` (for another call id) is ignored: one call, and it goes on.
    let mut ws = open(&urls[0]).await;
    ws.send(start("CAFIRST")).await.unwrap();
    wait_for(&state, "CAFIRST", "in_progress").await;
    ws.send(start("CASECOND")).await.unwrap();
    ws.send(media(1600)).await.unwrap();
    ws.send(Message::Text(r#"{"event":"stop","stop":{"reason":"callended"}}"#.into())).await.unwrap();
    wait_for(&state, "CAFIRST", "completed").await;
    assert!(call(&state, "CASECOND").await.is_none());
}

#[tokio::test]
async fn a_socket_that_never_starts_is_closed() {
    let (state, urls) = setup(&["mute@example.com"], |_| {}).await;
    let mut ws = open(&urls[0]).await;
    ws.send(Message::Text(r#"{"event":"connected"}"#.into())).await.unwrap();
    let started = std::time::Instant::now();
    let (code, reason) = closed(&mut ws).await.unwrap();
    assert_eq!((u16::from(code), reason.as_str()), (1008, "no start within 5 s"));
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    assert_eq!(state.calls.held(), 0);
}

#[tokio::test]
async fn a_herd_of_answers_renders_the_greeting_once() {
    let _serial = common::voice_lock().await;
    let (state, base) = common::live_server().await;
    let user = common::user(&state, "herd@example.com").await;
    let mut input = domain::agent::AgentInput { name: "Herd".into(), ..Default::default() };
    input.greeting = format!("Welcome to the herd test number {}.", rand::random::<u32>());
    // Saving renders the greeting ahead of calls (one flight); the herd joins it.
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let voicebot = number.voicebot_url.clone();
    assert!(voicebot.starts_with(&base), "{voicebot}");
    let client = reqwest::Client::new();
    let answers = (0..40).map(|i| client.get(format!("{voicebot}&CallSid=CAHERD{i}&From=%2B919876543210")).send());
    for res in futures_util::future::join_all(answers).await {
        assert_eq!(res.unwrap().status(), 200);
    }
    // Every answer started a warm-up; they share one rendering per line (greeting, fallback).
    for _ in 0..300 {
        if state.voice.greetings.rendered() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // One each for the greeting, the fallback line and the closing line (other rates are
    // resampled from them), for the agent's save and the 40 answers together.
    assert_eq!(state.voice.greetings.rendered(), 3, "renderings for 40 answers");
}
