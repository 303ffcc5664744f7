//! A call's end reaches the webhook from the stream itself: an Exotel Voicebot stream over a
//! real socket, its turns stored by the conversation, then `stop`.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common;
use crate::common::webhooks::{Receiver, desk, settings, state_with, verify};

#[tokio::test]
async fn a_streamed_call_sends_its_end_with_the_turns_it_stored() {
    let state = state_with(settings(&[200])).await;
    let receiver = Receiver::start(&[]).await;
    let (_user, number, secret) = desk(&state, &receiver).await;
    let base = common::serve(state.clone()).await;
    let url = format!("{}{}", base.replace("http://", "ws://"), number.websocket_url.trim_start_matches("ws://127.0.0.1:0"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::Text(r#"{"event":"connected"}"#.into())).await.unwrap();
    ws.send(common::start_message("CASTREAM1")).await.unwrap();
    ws.send(Message::Text(json!({"event":"dtmf","stream_sid":"MZ1","dtmf":{"digit":"7","duration":"100"}}).to_string().into()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    ws.send(Message::Text(r#"{"event":"stop","stop":{"call_sid":"CASTREAM1","reason":"callended"}}"#.into())).await.unwrap();
    let hits = receiver.wait_for(1, 30).await;
    assert_eq!(hits.len(), 1, "the stream's end was sent");
    assert!(verify(&secret, &hits[0].signature, &hits[0].body));
    let body = hits[0].json();
    assert_eq!(body["call"]["id"], "exotel_CASTREAM1");
    assert_eq!(body["call"]["status"], "completed");
    assert_eq!(body["call"]["reason"], "callended");
    assert_eq!(body["agent"]["name"], "Desk");
    let transcript = body["transcript"].as_array().unwrap();
    assert!(transcript.iter().any(|t| t["role"] == "caller" && t["kind"] == "dtmf" && t["text"] == "7"), "{transcript:?}");
}
