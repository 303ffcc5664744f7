//! Turns across a reconnecting stream, and turns whose write fails: the transcript goes on
//! numbering after a reconnect, and a turn that cannot be stored is counted on the call.

use crate::common;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn start(sid: &str) -> Message {
    common::start_message(sid)
}

fn key(digit: &str) -> Message {
    Message::Text(json!({"event":"dtmf","dtmf":{"digit":digit,"duration":"100"}}).to_string().into())
}

fn stop() -> Message {
    Message::Text(r#"{"event":"stop","stop":{"reason":"callended"}}"#.into())
}

async fn turns(state: &server::AppState, sid: &str) -> Vec<Value> {
    server::db::rows(
        &state.db,
        "SELECT seq, role, kind, text FROM turn WHERE call = type::record('call', $k) ORDER BY seq",
        json!({ "k": format!("exotel_{sid}") }),
    )
    .await
    .unwrap()
}

/// Waits until `sid` has `n` keypad turns stored.
async fn keys_stored(state: &server::AppState, sid: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let t = turns(state, sid).await;
        if t.iter().filter(|t| t["kind"] == "dtmf").count() >= n {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{n} keypad turns never stored: {:?}", turns(state, sid).await);
}

async fn setup() -> (server::AppState, String) {
    let state = common::state().await;
    let user = common::user(&state, "turns@example.com").await;
    let agent =
        server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let base = common::serve(state.clone()).await.replace("http://", "ws://");
    (state, format!("{base}{}", number.websocket_url.trim_start_matches("ws://127.0.0.1:0")))
}

#[tokio::test]
async fn a_reconnected_stream_goes_on_numbering_and_does_not_greet_again() {
    let (state, url) = setup().await;
    let (mut first, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    first.send(start("CARECON")).await.unwrap();
    first.send(key("5")).await.unwrap();
    let before = keys_stored(&state, "CARECON", 1).await;
    // The provider's socket drops; it reconnects for the same call.
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut second, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    second.send(start("CARECON")).await.unwrap();
    second.send(key("6")).await.unwrap();
    let after = keys_stored(&state, "CARECON", 2).await;
    second.send(stop()).await.unwrap();

    let seqs: Vec<i64> = after.iter().map(|t| t["seq"].as_i64().unwrap()).collect();
    let mut unique = seqs.clone();
    unique.dedup();
    assert_eq!(seqs, unique, "turn numbers are unique: {after:?}");
    assert!(after.len() > before.len());
    let six = after.iter().find(|t| t["kind"] == "dtmf" && t["text"] == "6").expect("the second stream's key was stored");
    assert!(six["seq"].as_i64().unwrap() > before.iter().map(|t| t["seq"].as_i64().unwrap()).max().unwrap());
    assert!(after.iter().filter(|t| t["kind"] == "greeting").count() <= 1, "greeted once: {after:?}");
}

#[tokio::test]
async fn a_turn_that_cannot_be_stored_is_retried_then_counted_on_the_call() {
    let (state, url) = setup().await;
    // Every turn write fails from now on.
    server::db::rows::<Value>(&state.db, "DEFINE FIELD OVERWRITE text ON turn TYPE string ASSERT false", json!({})).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    ws.send(start("CALOST")).await.unwrap();
    ws.send(key("7")).await.unwrap();
    let mut lost = 0;
    for _ in 0..200 {
        let call: Value =
            server::db::row(&state.db, "SELECT lost_turns FROM ONLY call:exotel_CALOST", json!({})).await.unwrap().unwrap_or_default();
        lost = call["lost_turns"].as_i64().unwrap_or(0);
        if lost >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(lost >= 1, "a lost turn is visible on the call");
    assert!(turns(&state, "CALOST").await.is_empty());
    ws.send(stop()).await.unwrap();
}
