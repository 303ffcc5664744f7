//! Keypad digits never reach the logs: callers type PINs and card numbers. A whole call with
//! keypad input runs on this test's thread (a current-thread runtime), with every event of the
//! server's own crates captured at TRACE; the log must not hold the digits.

use crate::common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "current_thread")]
async fn keypad_digits_never_reach_the_log() {
    let log = common::Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("info,server=trace,tower_http=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let state = common::state().await;
    let user = common::user(&state, "pin@example.com").await;
    let agent = domain::agent::AgentInput { name: "Bank".into(), ..Default::default() };
    let agent = server::agents::create(&state, &user.owner, agent).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let base = common::serve(state.clone()).await.replace("http://", "ws://");
    let url = format!("{base}{}", number.websocket_url.trim_start_matches("ws://127.0.0.1:0"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(common::start_message("CAPIN")).await.unwrap();
    // A PIN typed one key at a time, then a card number in one event (within the limits).
    for digit in ["7", "3", "1", "9"] {
        ws.send(Message::Text(json!({"event":"dtmf","dtmf":{"digit":digit,"duration":"100"}}).to_string().into())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    ws.send(Message::Text(json!({"event":"dtmf","dtmf":{"digit":"4929123412341234","duration":"100"}}).to_string().into())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    ws.send(Message::Text(r#"{"event":"stop","stop":{"reason":"callended"}}"#.into())).await.unwrap();
    while let Some(Ok(msg)) = ws.next().await {
        if matches!(msg, Message::Close(_)) {
            break;
        }
    }
    // The call and its keypad turns were stored (the transcript is the user's own data).
    let mut stored = Vec::new();
    for _ in 0..100 {
        stored =
            server::db::rows::<String>(&state.db, "SELECT VALUE text FROM turn WHERE kind = 'dtmf' ORDER BY seq", json!({})).await.unwrap();
        if stored.len() == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stored.last().map(String::as_str), Some("4929123412341234"), "{stored:?}");

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("stream started") && text.contains("keypad_digits=5"), "the call was logged:\n{text}");
    for secret in ["4929123412341234", "4929", "1234"] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
    for line in text.lines().filter(|l| l.contains("dtmf") || l.contains("digit") || l.contains("pressed")) {
        assert!(!line.contains("=\"7") && !line.contains(" 7 ") && !line.contains("pressed"), "a digit in: {line}");
    }
}
