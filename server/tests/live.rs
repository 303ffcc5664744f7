//! Live call events over server-sent events, from SurrealDB live queries: a user hears of
//! their own calls and turns as they happen, and never of another user's.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

/// Reads SSE events (`event:` + `data:`) from a streaming response for `wait`.
async fn events(res: reqwest::Response, wait: Duration) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut body = res.bytes_stream();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, body.next()).await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !name.is_empty() {
                out.push((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
    }
    out
}

async fn place_call(state: &server::AppState, owner: &server::users::CurrentUser, sid: &str) {
    let number = server::numbers::create(state, &owner.owner, &domain::phone_number::PhoneNumberInput {
        phone_number: format!("+9180474918{}", &sid[sid.len() - 2..]),
        provider: "other".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let (call, _) = server::db::calls::insert_or_get(
        &state.db,
        &server::db::calls::NewCall {
            owner_id: owner.owner.id(),
            phone_id: &number.id,
            phone_number: &number.phone_number,
            agent_id: None,
            provider: "exotel",
            session_id: sid,
            status: "ringing",
            caller: Some("+919876543210"),
            callee: None,
            direction: None,
            params_json: "{}",
            reason: None,
        },
        &state.clock.now_rfc3339(),
    )
    .await
    .unwrap();
    server::db::calls::set_status(&state.db, &call.id, "in_progress", None, None, None).await.unwrap();
    server::db::turns::insert(&state.db, &server::db::turns::NewTurn {
        call_key: call.id.clone(),
        owner_id: owner.owner.id().to_string(),
        seq: 1,
        role: "caller",
        kind: "speech",
        text: "What are your opening hours?".into(),
        started_at: state.clock.now_rfc3339(),
        ended_at: state.clock.now_rfc3339(),
        interrupted: false,
        timings: Default::default(),
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn each_user_hears_only_their_own_calls_live() {
    let (state, base) = common::live_server().await;
    let (ana, ana_token) = common::user_with_token(&state, "ana@example.com").await;
    let (_bo, bo_token) = common::user_with_token(&state, "bo@example.com").await;
    let c = reqwest::Client::new();
    let subscribe = |token: String| {
        let (c, base) = (c.clone(), base.clone());
        async move {
            let res = c.get(format!("{base}/api/calls/live")).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
            res
        }
    };
    let ana_stream = subscribe(ana_token).await;
    let bo_stream = subscribe(bo_token).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    place_call(&state, &ana, "CALIVE01").await;

    let (ana_events, bo_events) = tokio::join!(events(ana_stream, Duration::from_secs(2)), events(bo_stream, Duration::from_secs(2)));
    let names: Vec<&str> = ana_events.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"call") && names.contains(&"turn"), "{ana_events:?}");
    let turn = &ana_events.iter().find(|(n, _)| n == "turn").unwrap().1;
    assert_eq!((turn["callId"].as_str(), turn["seq"].as_i64(), turn["role"].as_str()), (Some("exotel_CALIVE01"), Some(1), Some("caller")));
    assert!(ana_events.iter().any(|(n, e)| n == "call" && e["status"] == "in_progress"), "{ana_events:?}");
    assert!(bo_events.is_empty(), "another user's calls leaked: {bo_events:?}");
}

#[tokio::test]
async fn live_events_need_a_signed_in_user() {
    let (_state, base) = common::live_server().await;
    let res = reqwest::get(format!("{base}/api/calls/live")).await.unwrap();
    assert_eq!(res.status(), 401);
}
