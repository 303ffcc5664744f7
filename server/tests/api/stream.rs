//! The Voicebot WebSocket over a real socket: Exotel's frames in, the call record in step.

use crate::common;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

struct Setup {
    ws_base: String,
    state: server::AppState,
    ws_path: String,
}

async fn setup() -> Setup {
    setup_on(common::state().await).await
}

async fn setup_on(state: server::AppState) -> Setup {
    let user = common::user(&state, "ana@example.com").await;
    server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let number = common::number(&state, &user.owner, "+918047491899", None).await;
    let base = common::serve(state.clone()).await;
    Setup {
        ws_base: base.replace("http://", "ws://"),
        ws_path: number.websocket_url.trim_start_matches("ws://127.0.0.1:0").to_string(),
        state,
    }
}

fn start_frame(call_sid: &str, rate: &str) -> Message {
    Message::Text(json!({"event":"start","sequence_number":"1","stream_sid":"MZ1","start":{"stream_sid":"MZ1","call_sid":call_sid,"account_sid":"AC1","from":"+919876543210","to":"+918047491899","custom_parameters":{},"media_format":{"encoding":"audio/x-raw","sample_rate":rate,"bit_rate":"16"}}}).to_string().into())
}

fn media_frame(bytes: usize) -> Message {
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD.encode(vec![0u8; bytes]);
    Message::Text(json!({"event":"media","stream_sid":"MZ1","media":{"chunk":"1","timestamp":"0","payload":payload}}).to_string().into())
}

async fn call(state: &server::AppState, sid: &str) -> Value {
    server::db::row(
        &state.db,
        "SELECT status, reason, duration_ms, ended_at FROM ONLY type::record('call', $k)",
        json!({ "k": format!("exotel_{sid}") }),
    )
    .await
    .unwrap()
    .unwrap()
}

async fn wait_for_status(state: &server::AppState, sid: &str, status: &str) -> Value {
    for _ in 0..100 {
        let c = call(state, sid).await;
        if c["status"] == status {
            return c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("call {sid} never became {status}: {}", call(state, sid).await);
}

#[tokio::test]
async fn a_streamed_call_is_recorded_from_start_to_stop_at_every_rate() {
    let s = setup().await;
    for (i, rate) in ["8000", "16000", "24000"].iter().enumerate() {
        let sid = format!("CAWS{i}");
        let url = format!("{}{}", s.ws_base, s.ws_path.replace("sample-rate=8000", &format!("sample-rate={rate}")));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.send(Message::Text(r#"{"event":"connected"}"#.into())).await.unwrap();
        ws.send(start_frame(&sid, rate)).await.unwrap();
        let c = wait_for_status(&s.state, &sid, "in_progress").await;
        assert!(c["ended_at"].is_null());
        for _ in 0..5 {
            ws.send(media_frame(3200)).await.unwrap();
        }
        ws.send(Message::Text(r#"{"event":"dtmf","dtmf":{"digit":"5","duration":"100"}}"#.into())).await.unwrap();
        ws.send(Message::Text(r#"{"event":"stop","stop":{"call_sid":"x","reason":"callended"}}"#.into())).await.unwrap();
        let c = wait_for_status(&s.state, &sid, "completed").await;
        assert_eq!(c["reason"], "callended");
        assert!(c["duration_ms"].as_i64().unwrap() >= 0);
        assert!(c["ended_at"].is_string());
    }
}

#[tokio::test]
async fn a_malformed_frame_closes_with_1007_and_fails_the_call() {
    let s = setup().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}{}", s.ws_base, s.ws_path)).await.unwrap();
    ws.send(start_frame("CABAD", "8000")).await.unwrap();
    wait_for_status(&s.state, "CABAD", "in_progress").await;
    ws.send(Message::Text(r#"{"event":"media","media":{"payload":"%%%"}}"#.into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Invalid), "1007 invalid payload");
    let c = wait_for_status(&s.state, "CABAD", "failed").await;
    assert!(c["reason"].as_str().unwrap().contains("base64"), "{c}");
}

async fn close_code(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> Option<CloseCode> {
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Close(frame) = msg {
            return frame.map(|f| f.code);
        }
    }
    None
}

#[tokio::test]
async fn unknown_events_are_ignored_and_binary_frames_close_with_1003() {
    let s = setup().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}{}", s.ws_base, s.ws_path)).await.unwrap();
    ws.send(start_frame("CANEW", "8000")).await.unwrap();
    wait_for_status(&s.state, "CANEW", "in_progress").await;
    // An event Exotel might add later changes nothing; the call goes on to its stop.
    ws.send(Message::Text(r#"{"event":"transcript","transcript":{"text":"hi"}}"#.into())).await.unwrap();
    ws.send(media_frame(3200)).await.unwrap();
    ws.send(Message::Text(r#"{"event":"stop","stop":{"reason":"callended"}}"#.into())).await.unwrap();
    let c = wait_for_status(&s.state, "CANEW", "completed").await;
    assert_eq!(c["reason"], "callended");

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}{}", s.ws_base, s.ws_path)).await.unwrap();
    ws.send(start_frame("CABIN", "8000")).await.unwrap();
    wait_for_status(&s.state, "CABIN", "in_progress").await;
    ws.send(Message::Binary(vec![0u8; 320].into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Unsupported), "1003 unsupported data");
    let c = wait_for_status(&s.state, "CABIN", "failed").await;
    assert_eq!(c["reason"], "binary frame");
}

#[tokio::test]
async fn a_closed_socket_without_stop_still_completes_the_call() {
    let s = setup().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}{}", s.ws_base, s.ws_path)).await.unwrap();
    ws.send(start_frame("CACLOSE", "8000")).await.unwrap();
    wait_for_status(&s.state, "CACLOSE", "in_progress").await;
    ws.close(None).await.unwrap();
    wait_for_status(&s.state, "CACLOSE", "completed").await;
}

#[tokio::test]
async fn bad_urls_are_refused_before_the_upgrade() {
    let s = setup().await;
    let wrong_key = s.ws_path.split("?key=").next().unwrap().to_string() + "?key=nope&sample-rate=8000";
    let err = tokio_tungstenite::connect_async(format!("{}{}", s.ws_base, wrong_key)).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let bad_rate = s.ws_path.replace("sample-rate=8000", "sample-rate=11025");
    let err = tokio_tungstenite::connect_async(format!("{}{}", s.ws_base, bad_rate)).await.unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    let err = tokio_tungstenite::connect_async(format!("{}/api/telephony/ws/nosuch?key=x", s.ws_base)).await.unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    // An inactive number takes no stream, even when it was changed straight in the database
    // (an operator's SurrealQL): the node hears it through its live query, as `serve` runs it.
    tokio::spawn(server::numbers::cache::watch(s.state.clone()));
    server::db::rows::<Value>(&s.state.db, "UPDATE phone_number SET status = 'inactive' RETURN NONE", json!({})).await.unwrap();
    let mut refused = false;
    for _ in 0..100 {
        let tried = tokio_tungstenite::connect_async(format!("{}{}", s.ws_base, s.ws_path)).await;
        if tried.as_ref().is_err_and(|e| e.to_string().contains("403")) {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "the inactive number still takes streams");
    s.state.shutdown.begin();
}

#[tokio::test]
async fn many_streams_run_at_once_and_a_silent_one_does_not_block_the_others() {
    // Whole-call tests measure latency; the speech models must not run beside them.
    let _serial = common::voice_lock().await;
    // All 50 may overlap: room for them beyond the per-user cap (its own tests are elsewhere).
    let state = common::state().await;
    let s = setup_on(server::AppState { calls: server::slots::Slots::new(100, 60), ..state }).await;
    // One peer connects and then says nothing at all.
    let (_silent, _) = tokio_tungstenite::connect_async(format!("{}{}", s.ws_base, s.ws_path)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let url = format!("{}{}", s.ws_base, s.ws_path);
        tasks.push(tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            ws.send(start_frame(&format!("CAMANY{i}"), "8000")).await.unwrap();
            for _ in 0..10 {
                ws.send(media_frame(1600)).await.unwrap();
            }
            ws.send(Message::Text(r#"{"event":"stop","stop":{"reason":"callended"}}"#.into())).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for i in 0..50 {
        wait_for_status(&s.state, &format!("CAMANY{i}"), "completed").await;
    }
}
